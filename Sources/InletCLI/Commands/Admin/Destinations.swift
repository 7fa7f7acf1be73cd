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

struct Destinations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Destinations: queue, dead letters, circuit; pause and resume delivery.",
                                                    subcommands: [List.self, Pause.self, Resume.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess

        func run() async throws {
            let reply = try await access.call(.GET, "/v1/destinations")
            access.show(reply) { o in
                for d in o["destinations"] as? [[String: Any]] ?? [] {
                    let oldest = d["oldest_due_age_seconds"].map { ", oldest due \(text($0)) s ago" } ?? ""
                    print("\(text(d["name"]))  \(text(d["url"]))  \(d["paused"] as? Bool == true ? "PAUSED  " : "")circuit \(text(d["circuit"]))  pending \(text(d["pending"]))\(oldest)  dead \(text(d["dead_letters"]))")
                }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop delivering to a destination; its queue keeps filling and waits. Survives restarts.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Destination name.") var name: String

        func run() async throws {
            let reply = try await access.call(.POST, "/v1/destinations/\(name)/pause")
            access.show(reply) { _ in print("\(name) paused: nothing is delivered to it until `inlet destinations resume \(name)`") }
        }
    }

    struct Resume: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Destination name.") var name: String

        func run() async throws {
            let reply = try await access.call(.POST, "/v1/destinations/\(name)/resume")
            access.show(reply) { _ in print("\(name) resumed") }
        }
    }
}
