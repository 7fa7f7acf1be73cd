import Foundation
import InletCore
import InletServer
import NIOConcurrencyHelpers
import Testing

@Suite("Streams: two instances on one PostgreSQL store", .enabled(if: ProcessInfo.processInfo.environment["INLET_TEST_POSTGRES_URL"] != nil
                                                                   || ProcessInfo.processInfo.environment["INLET_REQUIRE_POSTGRES"] == "1"))
struct SharedStreamTests {
    /// Events ingested on both instances, one group read through both at once by several workers: each event is
    /// handed out once (no lease overlaps another), and a long-poll on one instance wakes for an event committed on
    /// the other.
    @Test func twoInstancesServeOneGroupOncePerLease() async throws {
        let url = try #require(testPostgresURL())
        let a = try await RunningGateway.start(configBody: StreamEndToEndTests.streamsTOML, postgresURL: url)
        let b = try await RunningGateway.start(configBody: StreamEndToEndTests.streamsTOML, postgresURL: url)
        let ingest = StreamEndToEndTests()
        for n in 0..<80 { _ = try await ingest.send(n % 2 == 0 ? a : b, "evt_pg_stream_\(n)") }
        let clients = [StreamClient(admin: "http://127.0.0.1:\(try await a.gateway.adminPort())"),
                       StreamClient(admin: "http://127.0.0.1:\(try await b.gateway.adminPort())")]
        let handedOut = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<6 {
                let client = clients[worker % 2]
                group.addTask {
                    var mine: [Int64] = []
                    while true {
                        let batch = try await client.events("group=pg&max=5")
                        guard let receipt = batch.receipt else { return mine }
                        mine += batch.sequences
                        #expect(try await client.ack("pg", receipt: receipt).status == 200)
                    }
                }
            }
            var all: [Int64] = []
            for try await s in group { all += s }
            return all
        }
        #expect(handedOut.count == 80, "an entry was handed out twice (or lost): \(handedOut.count)")
        #expect(Set(handedOut) == Set(1...80))

        // A long-poll on A answers for an event committed on B (LISTEN/NOTIFY, or the recheck).
        async let polled = clients[0].events("group=pg&wait=20")
        try await Task.sleep(for: .milliseconds(300))
        _ = try await ingest.send(b, "evt_pg_stream_late")
        #expect(try await polled.sequences == [81])
        try await a.stop()
        try await b.stop()
    }
}
