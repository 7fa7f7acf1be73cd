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
            try access.show(reply, as: AdminAPI.DestinationList.self) { list in
                for d in list.destinations {
                    let oldest = d.oldestDueAgeSeconds.map { ", oldest due \($0) s ago" } ?? ""
                    print("\(d.name)  \(d.url)  \(d.paused ? "PAUSED  " : "")circuit \(d.circuit)  pending \(d.pending)\(oldest)  dead \(d.deadLetters)")
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
            access.show(reply) { print("\(name) paused: nothing is delivered to it until `inlet destinations resume \(name)`") }
        }
    }

    struct Resume: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Destination name.") var name: String

        func run() async throws {
            let reply = try await access.call(.POST, "/v1/destinations/\(name)/resume")
            access.show(reply) { print("\(name) resumed") }
        }
    }
}
