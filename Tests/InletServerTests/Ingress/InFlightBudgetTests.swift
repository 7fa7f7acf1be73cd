@testable import InletServer
import Foundation
import InletConfig
import InletCore
import InletStore
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Prometheus
import Testing

/// Issue 19: one budget for request bytes in memory across all ingress connections; past it, `503 over_capacity`
/// with `Retry-After: 1`, and the bytes are given back once a request is answered.
@Suite("In-flight byte budget")
struct InFlightBudgetTests {
    @Test func reservesUpToTheLimitAndReleases() {
        let budget = InFlightBudget(limit: 100)
        #expect(budget.reserve(60) && budget.reserve(40))
        #expect(!budget.reserve(1))
        budget.release(40)
        #expect(budget.reserve(30) && budget.inUse == 90)
        budget.release(90)
        #expect(budget.inUse == 0)
    }

    /// On the ingress handler: a body that does not fit gets `503` and `Retry-After: 1`, and its bytes are released.
    @Test func overBudgetBodyIsAnswered503AndReleased() throws {
        let channel = EmbeddedChannel()
        let writer = GroupCommitter<IngestRecord, IngestResult>(name: "t", maxBatch: 1, commit: { _ in [] })
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: registry))
        let store = try SQLiteEventStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("inlet-budget-\(UUID().uuidString).sqlite").path)
        var off = QuarantineSettings()
        off.enabled = false
        let budget = InFlightBudget(limit: 50)
        let context = IngressContext(runtime: LiveConfig(IngressStateMachineTests.snapshot.resolved), writer: writer, clock: SystemClock(),
                                     logger: quietLogger,
                                     certificates: SigningCertificateCache(fetcher: NoCertificates(), clock: SystemClock()),
                                     metrics: metrics,
                                     quarantine: QuarantineWriter(store: store, settings: off, storeThreads: NIOThreadPool.singleton, logger: quietLogger, metrics: metrics),
                                     requestTimeout: .seconds(30), followUpGET: { _ in 200 }, budget: budget)
        try IngressServer.addHTTPHandlers(to: channel.pipeline.syncOperations, context: context)
        try channel.writeInbound(ByteBuffer(string: "POST /hooks/stripe HTTP/1.1\r\nHost: a\r\nContent-Length: 80\r\nStripe-Signature: t=1,v1=00\r\n\r\n"))
        try channel.writeInbound(ByteBuffer(string: String(repeating: "a", count: 40)))
        #expect(budget.inUse == 40)
        try channel.writeInbound(ByteBuffer(string: String(repeating: "a", count: 40)))
        var out = ""
        while let chunk = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: chunk) }
        #expect(out.hasPrefix("HTTP/1.1 503"))
        #expect(out.contains("Retry-After: 1"))
        #expect(out.contains(#"{"status":"rejected","reason":"over_capacity"}"#))
        #expect(budget.inUse == 0)
        #expect(registry.emitToString().contains(#"inlet_requests_rejected_total{source="stripe",provider="stripe",reason="over_capacity"} 1"#))
        _ = try? channel.finish()
    }

    /// End to end with `[server] max_in_flight_bytes`: a 2 MiB body over a 1 MiB budget gets `503 over_capacity` (read
    /// by a client that writes it all first), and the next request is served.
    @Test func gatewayAnswers503PastItsBudget() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource + "\nmax_body_bytes = 4194304\n", destinationURL: destination.url,
                                                serverExtra: "max_in_flight_bytes = 1048576")
        let head = "POST /hooks/stripe HTTP/1.1\r\nHost: a\r\nStripe-Signature: t=1,v1=00\r\nContent-Length: \(2 << 20)\r\n\r\n"
        let outcome = await writeEverythingThenRead(port: gw.port, head: head, bodyBytes: 2 << 20)
        #expect(outcome.status == 503, "\(outcome.received.prefix(200)) reset=\(outcome.reset)")
        #expect(outcome.received.contains("Retry-After: 1"))
        #expect(outcome.received.contains("over_capacity"))
        #expect(!outcome.reset, "the client got a reset instead of reading its answer")
        let body = stripeEvent("evt_after_budget")
        #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        try await gw.stop()
        await destination.stop()
    }
}
