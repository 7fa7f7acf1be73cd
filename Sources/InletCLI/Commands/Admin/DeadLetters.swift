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

struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dead-letters", abstract: "List, redeliver or discard dead letters.",
                                                    subcommands: [List.self, Redeliver.self, Discard.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Option(help: "Only this destination.") var destination: String?
        @Option(help: "At most this many.") var limit: Int = 100
        @Option(help: "Continue after this delivery ID.") var cursor: String?

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/dead-letters" + queryString([("destination", destination), ("limit", String(limit)), ("cursor", cursor)]))
            try access.show(reply, as: AdminAPI.DeadLetterList.self) { list in
                for d in list.deadLetters {
                    print("\(d.deliveryID)  \(d.eventID)  \(d.source) → \(d.destination)  \(text(d.type))  \(d.attempts) attempt(s)  last: \(text(d.lastStatus.map(String.init) ?? d.lastError))  at \(d.deadAt)")
                }
                if list.deadLetters.isEmpty { print("no dead letters") }
                if let next = list.nextCursor { print("more: --cursor \(next)") }
            }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dead letter again with fresh attempts; or, with --all, every one matching the filters.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Delivery ID (from `inlet dead-letters`).") var deliveryID: Int64?
        @Flag(help: "Every dead letter (of --destination / --source if given).") var all = false
        @Option(help: "With --all: only this destination.") var destination: String?
        @Option(help: "With --all: only events of this source.") var source: String?

        func validate() throws {
            if (deliveryID == nil) == !all { throw ValidationError("give a delivery ID or --all") }
        }

        func run() async throws {
            if let deliveryID {
                let reply = try await access.call(.POST, "/v1/dead-letters/\(deliveryID)/redeliver")
                access.show(reply) { print("delivery \(deliveryID) queued again with fresh attempts") }
            } else {
                let reply = try await access.call(.POST, "/v1/dead-letters/redeliver" + queryString([("destination", destination), ("source", source)]))
                try access.show(reply, as: AdminAPI.RedeliveredCount.self) { print("\($0.redelivered) dead letter(s) queued again with fresh attempts") }
            }
        }
    }

    struct Discard: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Delivery ID (from `inlet dead-letters`).") var deliveryID: Int64

        func run() async throws {
            let reply = try await access.call(.DELETE, "/v1/dead-letters/\(deliveryID)")
            access.show(reply) { print("dead letter \(deliveryID) discarded (the event stays stored and replayable)") }
        }
    }
}
