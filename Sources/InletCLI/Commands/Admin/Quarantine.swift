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
            try access.show(reply, as: AdminAPI.QuarantineList.self) { list in
                for q in list.quarantine {
                    print("\(q.id)  \(q.receivedAt)  \(q.source)  \(q.reason)  from \(text(q.peer))  \(q.bodyBytes) B  until \(q.expiresAt)")
                }
                if list.quarantine.isEmpty { print("quarantine is empty") }
                if let next = list.nextCursor { print("more: --cursor \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64
        @Flag(help: "Also print the raw body.") var body = false

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/quarantine/\(id)")
            try access.show(reply, as: AdminAPI.QuarantineDetail.self) { q in
                print("entry      \(q.id)  \(q.source) (\(q.provider))")
                print("rejected   \(q.reason) at \(q.receivedAt) from \(text(q.peer)); kept until \(q.expiresAt)")
                print("request    \(q.method) \(q.path)\(q.query.map { "?" + $0 } ?? "")  \(q.bodyBytes) bytes")
                printHeaders(q.headers)
                if body { printRawBody(base64: q.bodyBase64) }
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
            func line(_ r: AdminAPI.ReadmitResult) -> String {
                "\(r.id): \(r.outcome.rawValue)\(r.eventID.map { " as " + $0 } ?? "")\(r.reason.map { " (" + $0 + ")" } ?? "")"
            }
            if let id {
                let reply = try await access.call(.POST, "/v1/quarantine/\(id)/readmit")
                try access.show(reply, as: AdminAPI.ReadmitResult.self) { print(line($0)) }
            } else {
                let reply = try await access.call(.POST, "/v1/quarantine/readmit" + queryString([("source", source), ("reason", reason)]))
                try access.show(reply, as: AdminAPI.ReadmitSummary.self) { summary in
                    for r in summary.results { print(line(r)) }
                    print("accepted \(summary.accepted), duplicate \(summary.duplicate), still rejected \(summary.rejected)")
                }
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Quarantine entry ID.") var id: Int64

        func run() async throws {
            let reply = try await access.call(.DELETE, "/v1/quarantine/\(id)")
            access.show(reply) { print("quarantine entry \(id) discarded") }
        }
    }
}
