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

struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rejected requests, kept for a while: list, inspect, re-admit (after fixing a secret or allowlist) or discard.",
        subcommands: [List.self, Show.self, Readmit.self, Discard.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Option(help: "Only this source.") var source: String?
        @Option(help: "Only this rejection reason, e.g. signature_mismatch.") var reason: String?
        @Option(help: "At most this many.") var limit: Int = 100
        @Option(help: "Continue after this entry ID.") var cursor: String?

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/quarantine" + queryString([("source", source), ("reason", reason), ("limit", String(limit)), ("cursor", cursor)]))
            access.show(reply) { o in
                let rows = o["quarantine"] as? [[String: Any]] ?? []
                for q in rows {
                    print("\(text(q["id"]))  \(text(q["received_at"]))  \(text(q["source"]))  \(text(q["reason"]))  from \(text(q["peer"]))  \(text(q["body_bytes"])) B  until \(text(q["expires_at"]))")
                }
                if rows.isEmpty { print("quarantine is empty") }
                if let next = o["next_cursor"] as? String { print("more: --cursor \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64
        @Flag(help: "Also print the raw body.") var body = false

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/quarantine/\(id)")
            access.show(reply) { q in
                print("entry      \(text(q["id"]))  \(text(q["source"])) (\(text(q["provider"])))")
                print("rejected   \(text(q["reason"])) at \(text(q["received_at"])) from \(text(q["peer"])); kept until \(text(q["expires_at"]))")
                print("request    \(text(q["method"])) \(text(q["path"]))\((q["query"] as? String).map { "?" + $0 } ?? "")  \(text(q["body_bytes"])) bytes")
                for h in q["headers"] as? [[String]] ?? [] where h.count == 2 { print("  \(h[0]): \(h[1])") }
                if body, let bytes = (q["body_base64"] as? String).flatMap(Base64.decode) {
                    print("")
                    FileHandle.standardOutput.write(Data(bytes))
                    print("")
                }
            }
        }
    }

    struct Readmit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify entries again against the current config (at their original arrival time) and admit those that pass.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64?
        @Flag(help: "Every entry (of --source / --reason if given), oldest first.") var all = false
        @Option(help: "With --all: only this source.") var source: String?
        @Option(help: "With --all: only this reason.") var reason: String?

        func validate() throws {
            if (id == nil) == !all { throw ValidationError("give an entry ID or --all") }
        }

        func run() async throws {
            func line(_ r: [String: Any]) -> String {
                "\(text(r["id"])): \(text(r["outcome"]))\((r["event_id"] as? String).map { " as " + $0 } ?? "")\((r["reason"] as? String).map { " (" + $0 + ")" } ?? "")"
            }
            if let id {
                let reply = try await access.call(.POST, "/v1/quarantine/\(id)/readmit")
                access.show(reply) { print(line($0)) }
            } else {
                let reply = try await access.call(.POST, "/v1/quarantine/readmit" + queryString([("source", source), ("reason", reason)]))
                access.show(reply) { o in
                    for r in o["results"] as? [[String: Any]] ?? [] { print(line(r)) }
                    print("accepted \(text(o["accepted"])), duplicate \(text(o["duplicate"])), still rejected \(text(o["rejected"]))")
                }
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64

        func run() async throws {
            let reply = try await access.call(.DELETE, "/v1/quarantine/\(id)")
            access.show(reply) { _ in print("quarantine entry \(id) discarded") }
        }
    }
}
