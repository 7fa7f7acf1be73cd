import AsyncHTTPClient
import Foundation
import InletCore
import InletServer
import InletStore
import NIOConcurrencyHelpers
import Testing

@Suite("Two instances on one PostgreSQL store", .enabled(if: ProcessInfo.processInfo.environment["INLET_TEST_POSTGRES_URL"] != nil
                                                           || ProcessInfo.processInfo.environment["INLET_REQUIRE_POSTGRES"] == "1"))
struct SharedStoreTests {
    /// The same events arrive at both instances at once (a provider's retries land on either, behind a load
    /// balancer): each event ID is accepted exactly once across the two, and each is delivered exactly once, by
    /// whichever instance claimed it.
    @Test func twoInstancesAdmitEachEventOnceAndDeliverItOnce() async throws {
        let url = try #require(testPostgresURL())
        let deliveries = NIOLockedValueBox<[String: Int]>([:])
        let destination = try await TestDestination { request, _ in
            let key = JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: request.body) ?? "?"
            deliveries.withLockedValue { $0[key, default: 0] += 1 }
            return 204
        }
        let body = destinationTOML("svc", url: destination.url) + stripeSource
        let a = try await RunningGateway.start(configBody: body, postgresURL: url)
        let b = try await RunningGateway.start(configBody: body, postgresURL: url)
        let events = (0..<60).map { "evt_shared_\($0)" }
        let replies = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for key in events {
                let payload = stripeEvent(key)
                for gateway in [a, b, a] {
                    group.addTask { (key, try await post(gateway.baseURL + "/hooks/stripe", body: payload, headers: stripeHeaders(body: payload)).json["status"] ?? "?") }
                }
            }
            return try await group.reduce(into: [String: [String]]()) { $0[$1.0, default: []].append($1.1) }
        }
        for key in events {
            #expect(replies[key]?.sorted() == ["accepted", "duplicate", "duplicate"], "\(key): \(replies[key] ?? [])")
        }
        try await eventually("every event delivered") { deliveries.withLockedValue { $0.count } == events.count }
        try await Task.sleep(for: .milliseconds(500))
        #expect(deliveries.withLockedValue { $0.values.allSatisfy { $0 == 1 } }, "an event was delivered twice")
        #expect(try a.gateway.store.countEvents(matching: EventFilter(source: "stripe")) == events.count)
        #expect(try b.gateway.store.counts().delivered == events.count)
        try await a.stop()
        try await b.stop()
        await destination.stop()
    }
}
