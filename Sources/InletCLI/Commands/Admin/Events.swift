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
        @OptionGroup var filter: EventFilterOptions
        @Option(help: "At most this many (1-500).") var limit: Int = 50
        @Option(help: "Continue after this event ID (from the previous page).") var cursor: String?

        func run() async throws {
            let q = queryString(filter.queryPairs + [("limit", String(limit)), ("cursor", cursor)])
            let reply = try await access.call(.GET, "/v1/events" + q)
            try access.show(reply, as: AdminAPI.EventList.self) { list in
                for e in list.events {
                    print("\(e.id)  \(e.receivedAt)  \(e.source)  \(text(e.type))  key \(e.eventKey)  \(e.bodyBytes) B\(e.unrouted ? "  unrouted" : "")")
                }
                if list.events.isEmpty { print("no events") }
                if let next = list.nextCursor { print("more: --cursor \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One stored event: metadata, the secret that verified it, deliveries and attempts.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Inlet event ID (evt_…).") var id: String
        @Flag(help: "Also print the raw body exactly as received.") var body = false

        /// The recorded authenticity with what it means, so an operator reading one event knows what to trust.
        static func authenticityText(_ value: String?) -> String {
            switch value {
            case "body_signed"?: return "body_signed (a signature covers the exact body bytes)"
            case "sender_authenticated"?: return "sender_authenticated (the sender proved its credential; the body is not signed)"
            case "unverified"?: return "unverified (the source does not verify signatures)"
            case let other?: return other
            case nil: return "- (not recorded: stored before authenticity was)"
            }
        }

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/events/\(id)")
            try access.show(reply, as: AdminAPI.EventDetail.self) { e in
                print("id              \(e.id)")
                print("source          \(e.source) (\(e.provider))")
                print("event key       \(e.eventKey) (\(e.keyOrigin))")
                print("type            \(text(e.type))")
                print("received        \(e.receivedAt) from \(text(e.clientAddress))")
                if let t = e.providerTimestamp { print("provider time   \(t)") }
                print("verified by     \(text(e.verifiedBy))")
                print("authenticity    \(Self.authenticityText(e.authenticity))")
                print("duplicates      \(e.duplicates)")
                if e.unrouted { print("routing         unrouted: no route matched (stored, replayable)") }
                print("request         \(e.method) \(e.path)\(e.query.map { "?" + $0 } ?? "")  \(e.bodyBytes) bytes")
                printHeaders(e.headers)
                for d in e.deliveries {
                    print("delivery \(d.id) → \(d.destination): \(d.state), \(d.attempts) attempt(s)\(d.lastError.map { ", last error: " + $0 } ?? "")")
                    for a in d.attemptLog {
                        print("  attempt \(a.attempt) at \(a.startedAt) \(a.durationMs) ms: \(text(a.status.map(String.init) ?? a.error))\(a.nextAttemptAt.map { ", next at " + $0 } ?? "")")
                    }
                }
                if body { printRawBody(base64: e.bodyBase64) }
            }
        }
    }
}
