import Foundation
import InletCore
import ArgumentParser

/// The stored-event filter: what `inlet events` lists and `inlet replay` replays, as options and as the admin API's
/// query parameters.
struct EventFilterOptions: ParsableArguments {
    @Option(help: "Only this source.") var source: String?
    @Option(help: "Only this event type.") var type: String?
    @Option(help: "pending, dead, delivered or unrouted.") var status: String?
    @Option(name: .customLong("event-key"), help: "The provider's event ID.") var eventKey: String?
    @Option(help: "Received at or after (RFC 3339).") var since: String?
    @Option(help: "Received before (RFC 3339).") var until: String?

    /// No filter was given.
    var isEmpty: Bool { [source, type, status, eventKey, since, until].allSatisfy { $0 == nil } }

    /// As `GET /v1/events` takes them (absent ones are left out by `queryString`).
    var queryPairs: [(String, String?)] {
        [("source", source), ("type", type), ("status", status), ("event_key", eventKey), ("since", since), ("until", until)]
    }
}

/// Prints a stored request's headers, one a line: `events show` and `quarantine show`.
func printHeaders(_ headers: [[String]]) {
    for h in headers where h.count == 2 { print("  \(h[0]): \(h[1])") }
}

/// Writes a stored request's body as it was received, between blank lines (`--body`).
func printRawBody(base64: String) {
    guard let bytes = Base64.decode(base64) else { return }
    print("")
    FileHandle.standardOutput.write(Data(bytes))
    print("")
}
