import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import NIOCore
import NIOHTTP1
import NIOPosix

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List and inspect stored events.", subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stored events, newest first.")
        @OptionGroup var access: AdminAccess
        @Option(help: "Only this source.") var source: String?
        @Option(help: "Only this event type.") var type: String?
        @Option(help: "pending, dead, delivered or unrouted.") var status: String?
        @Option(name: .customLong("event-key"), help: "The provider's event ID.") var eventKey: String?
        @Option(help: "Received at or after (RFC 3339).") var since: String?
        @Option(help: "Received before (RFC 3339).") var until: String?
        @Option(help: "At most this many (1-500).") var limit: Int = 50
        @Option(help: "Continue after this event ID (from the previous page).") var cursor: String?

        func run() async throws {
            let q = queryString([("source", source), ("type", type), ("status", status), ("event_key", eventKey), ("since", since),
                                 ("until", until), ("limit", String(limit)), ("cursor", cursor)])
            let reply = try await access.call(.GET, "/v1/events" + q)
            access.show(reply) { o in
                let events = o["events"] as? [[String: Any]] ?? []
                for e in events {
                    print("\(text(e["id"]))  \(text(e["received_at"]))  \(text(e["source"]))  \(text(e["type"]))  key \(text(e["event_key"]))  \(text(e["body_bytes"])) B\(e["unrouted"] as? Bool == true ? "  unrouted" : "")")
                }
                if events.isEmpty { print("no events") }
                if let next = o["next_cursor"] as? String { print("more: --cursor \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One stored event: metadata, the secret that verified it, deliveries and attempts.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Inlet event ID (evt_…).") var id: String
        @Flag(help: "Also print the raw body exactly as received.") var body = false

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/events/\(id)")
            access.show(reply) { e in
                print("id              \(text(e["id"]))")
                print("source          \(text(e["source"])) (\(text(e["provider"])))")
                print("event key       \(text(e["event_key"])) (\(text(e["key_origin"])))")
                print("type            \(text(e["type"]))")
                print("received        \(text(e["received_at"])) from \(text(e["client_address"] ?? e["peer"]))")
                if let t = e["provider_timestamp"] { print("provider time   \(text(t))") }
                print("verified by     \(text(e["verified_by"]))")
                print("duplicates      \(text(e["duplicates"]))")
                if e["unrouted"] as? Bool == true { print("routing         unrouted: no route matched (stored, replayable)") }
                print("request         \(text(e["method"])) \(text(e["path"]))\((e["query"] as? String).map { "?" + $0 } ?? "")  \(text(e["body_bytes"])) bytes")
                for h in e["headers"] as? [[String]] ?? [] where h.count == 2 { print("  \(h[0]): \(h[1])") }
                for d in e["deliveries"] as? [[String: Any]] ?? [] {
                    print("delivery \(text(d["id"])) → \(text(d["destination"])): \(text(d["state"])), \(text(d["attempts"])) attempt(s)\((d["last_error"] as? String).map { ", last error: " + $0 } ?? "")")
                    for a in d["attempt_log"] as? [[String: Any]] ?? [] {
                        print("  attempt \(text(a["attempt"])) at \(text(a["started_at"])) \(text(a["duration_ms"])) ms: \(text(a["status"] ?? a["error"]))\((a["next_attempt_at"] as? String).map { ", next at " + $0 } ?? "")")
                    }
                }
                if body, let b64 = e["body_base64"] as? String, let bytes = Base64.decode(b64) {
                    print("")
                    FileHandle.standardOutput.write(Data(bytes))
                    print("")
                }
            }
        }
    }
}
