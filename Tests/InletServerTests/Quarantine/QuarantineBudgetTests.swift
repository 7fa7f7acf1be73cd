@testable import InletServer
import Foundation
import InletConfig
import InletCore
import InletStore
import NIOPosix
import Prometheus
import Testing

/// Issue 18: junk must not flush the quarantine. Unsigned requests and refused addresses are not kept (by default),
/// each peer has a per-minute allowance, and quotas are per (source, reason): the genuine wrong-secret requests that
/// the mis-set-secret recovery re-admits survive a flood.
@Suite("Quarantine under a flood")
struct QuarantineBudgetTests {
    static let source = IngressStateMachineTests.snapshot.resolved.sources[0]

    func request(peer: String, at: EpochMillis, _ n: Int) -> IncomingRequest {
        IncomingRequest(method: "POST", path: "/hooks/stripe", query: nil, headers: HTTPHeaderList([("Stripe-Signature", "t=1,v1=\(n)")]),
                        body: Array("{\"n\":\(n)}".utf8), peer: IPAddress(peer), receivedAt: at)
    }

    @Test func genuineEntriesSurviveAFlood() async throws {
        let store = try SQLiteEventStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("inlet-qflood-\(UUID().uuidString).sqlite").path)
        let metrics = GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: PrometheusCollectorRegistry()))
        var settings = QuarantineSettings()
        settings.maxEntries = 1_000
        settings.maxEntriesPerSourceReason = 200
        let writer = QuarantineWriter(store: store, settings: settings, storeThreads: NIOThreadPool.singleton, logger: quietLogger, metrics: metrics)
        let t0: EpochMillis = 1_000_000
        // The provider signs with a secret the config does not hold yet: five genuine requests, refused.
        for i in 0..<5 { writer.keep(request(peer: "198.51.100.7", at: t0 + Int64(i), i), source: Self.source, reason: .signatureMismatch) }
        await writer.flush()
        // A scanner: 3,000 unsigned requests and 1,500 from a refused address (not kept by default) ...
        for i in 0..<1_500 { writer.keep(request(peer: "203.0.113.9", at: t0 + 10, i), source: Self.source, reason: .missingSignature) }
        await writer.flush()
        for i in 0..<1_500 { writer.keep(request(peer: "203.0.113.9", at: t0 + 10, i), source: Self.source, reason: .missingSignature) }
        await writer.flush()
        for i in 0..<1_500 { writer.keep(request(peer: "203.0.113.9", at: t0 + 10, i), source: Self.source, reason: .ipNotAllowed) }
        await writer.flush()
        // ... 1,500 forgeries from one address (60 a minute are kept) ...
        for i in 0..<1_500 { writer.keep(request(peer: "203.0.113.10", at: t0 + 20, i), source: Self.source, reason: .malformedSignature) }
        await writer.flush()
        // ... and stale replays from 150 addresses, 10 each (within each peer's allowance; the reason's quota bounds them).
        for p in 0..<150 {
            for i in 0..<10 { writer.keep(request(peer: "192.0.2.\(p)", at: t0 + 30, i), source: Self.source, reason: .timestampOutsideTolerance) }
        }
        await writer.flush()

        let genuine = try store.quarantined(matching: QuarantineFilter(reason: "signature_mismatch"), before: nil, limit: 100)
        #expect(genuine.count == 5, "the flood evicted the genuine entries")
        #expect(try store.quarantined(matching: QuarantineFilter(reason: "missing_signature"), before: nil, limit: 10).isEmpty)
        #expect(try store.quarantined(matching: QuarantineFilter(reason: "ip_not_allowed"), before: nil, limit: 10).isEmpty)
        #expect(try store.quarantined(matching: QuarantineFilter(reason: "malformed_signature"), before: nil, limit: 100).count == 60)
        #expect(try store.quarantined(matching: QuarantineFilter(reason: "timestamp_outside_tolerance"), before: nil, limit: 500).count == 200)
    }

    /// `skip_reasons` is configurable: with it empty, unsigned requests are kept again (within their quotas).
    @Test func skipReasonsCanBeEmptied() async throws {
        let store = try SQLiteEventStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("inlet-qskip-\(UUID().uuidString).sqlite").path)
        let metrics = GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: PrometheusCollectorRegistry()))
        var settings = QuarantineSettings()
        settings.skipReasons = []
        let writer = QuarantineWriter(store: store, settings: settings, storeThreads: NIOThreadPool.singleton, logger: quietLogger, metrics: metrics)
        writer.keep(request(peer: "198.51.100.7", at: 1_000, 1), source: Self.source, reason: .missingSignature)
        await writer.flush()
        #expect(try store.quarantineSize() == 1)
    }

    @Test func peerLimiterCountsPerWindowAndStaysBounded() {
        var limiter = PeerWindowLimiter(perWindow: 2, windowMillis: 60_000, maxPeers: 3)
        let answers = [limiter.admit("a", now: 0), limiter.admit("a", now: 1), limiter.admit("a", now: 2),
                       limiter.admit("b", now: 10), limiter.admit("c", now: 10),
                       limiter.admit("d", now: 20),  // three addresses live in their window: no room for a fourth
                       limiter.admit("a", now: 60_000),  // a new window
                       limiter.admit("d", now: 60_011)]  // b's and c's windows ended: room again
        #expect(answers == [true, true, false, true, true, false, true, true])
        #expect(limiter.trackedPeers <= 3)
    }
}
