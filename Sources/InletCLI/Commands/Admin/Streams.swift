import ArgumentParser
import Foundation
import InletCore
import InletServer

struct Streams: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Streams: length and consumer groups with their lag; rewind or delete a group.",
                                                    subcommands: [List.self, Rewind.self, DeleteGroup.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        @OptionGroup var access: AdminAccess
        @Argument(help: "Only this stream: its groups (all streams when omitted).") var stream: String?

        func validate() throws { try Streams.checkNames(stream.map { [("stream", $0)] } ?? []) }

        func run() async throws {
            if let stream {
                let reply = try await access.call(.GET, "/v1/streams/\(stream)/groups")
                try access.show(reply, as: AdminAPI.StreamGroupList.self) { list in
                    print(list.stream)
                    if list.groups.isEmpty { print("  no groups yet (a group is made by its first read)") }
                    for g in list.groups { print(Streams.line(g)) }
                }
                return
            }
            let reply = try await access.call(.GET, "/v1/streams")
            try access.show(reply, as: AdminAPI.StreamList.self) { list in
                if list.streams.isEmpty { print("no streams configured ([streams.NAME])") }
                for s in list.streams {
                    print("\(s.name)  length \(s.length)  last sequence \(s.lastSequence)  retention \(s.retentionHours) h")
                    for g in s.groups { print(Streams.line(g)) }
                }
            }
        }
    }

    static func line(_ g: AdminAPI.StreamGroup) -> String {
        let behind = g.behindRetention ? "  BEHIND RETENTION (missed \(g.missedByRetention))" : ""
        return "  group \(g.group)  cursor \(g.cursor)  lag \(g.lagEvents) events / \(g.lagSeconds) s  leased \(g.leased)\(behind)"
    }

    /// Stream and group names go into the request path: checked here with the server's own rule, so a typo with a `/`
    /// or `?` is refused by name instead of reaching another route.
    static func checkNames(_ names: [(String, String)]) throws {
        for (what, name) in names where !RouteTarget.isValidName(name) {
            throw ValidationError("\(what) '\(name)': 1-64 characters of A-Z a-z 0-9 . _ -")
        }
    }

    struct Rewind: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve a group again from a sequence or a time (its leases are dropped).")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Stream name.") var stream: String
        @Argument(help: "Group name.") var group: String
        @Option(help: "The sequence served next.") var sequence: Int64?
        @Option(help: "The first entry appended at or after this time (RFC 3339) is served next.") var time: String?

        func validate() throws {
            try Streams.checkNames([("stream", stream), ("group", group)])
            guard (sequence == nil) != (time == nil) else { throw ValidationError("give exactly one of --sequence and --time") }
        }

        func run() async throws {
            let body = AdminJSON.encode(AdminAPI.StreamRewindRequest(sequence: sequence, time: time))
            let reply = try await access.call(.POST, "/v1/streams/\(stream)/groups/\(group)/rewind", body: body)
            try access.show(reply, as: AdminAPI.StreamRewindAnswer.self) { print("\($0.stream)/\($0.group): next sequence \($0.cursor)") }
        }
    }

    struct DeleteGroup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-group", abstract: "Forget a group's cursor and leases.")
        @OptionGroup var access: AdminAccess
        @Argument(help: "Stream name.") var stream: String
        @Argument(help: "Group name.") var group: String

        func validate() throws { try Streams.checkNames([("stream", stream), ("group", group)]) }

        func run() async throws {
            let reply = try await access.call(.DELETE, "/v1/streams/\(stream)/groups/\(group)")
            access.show(reply) { print("\(stream)/\(group) deleted") }
        }
    }
}
