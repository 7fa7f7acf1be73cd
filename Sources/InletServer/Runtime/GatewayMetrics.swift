import CoreMetrics
import InletConfig
import Logging
import InletCore
import InletStore
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Verification and ingress telemetry, counted through swift-metrics. The factory is injected so the executable
/// picks the backend (Prometheus) and tests read their own registry.
///
/// Names: `inlet_requests_rejected_total{source,provider,reason}`, `inlet_events_accepted_total{source,provider}`,
/// `inlet_verifications_total{source,secret}`, `inlet_timestamp_skew_seconds{source}` (provider timestamp minus
/// receive time, both signs), `inlet_duplicates_total{source}`, `inlet_handshakes_total{provider}`,
/// `inlet_secret_expires_at_seconds{owner,secret}`, `inlet_secret_expiring{owner,secret}`,
/// `inlet_delivery_attempts_total{destination,outcome}`, `inlet_delivery_latency_seconds{destination}`,
/// `inlet_destination_circuit_open{destination}`, `inlet_ack_latency_seconds{source,outcome}` (arrival to 2xx, for
/// accepted and duplicate requests), `inlet_commit_batch_size` and `inlet_commit_duration_seconds`
/// (histograms, per group commit of the ingest writer), `inlet_queue_depth{destination}`,
/// `inlet_queue_oldest_due_age_seconds{destination}`, `inlet_dead_letters{destination}`, `inlet_destination_paused{destination}`,
/// `inlet_quarantine_entries`, `inlet_quarantined_total{source,reason}` and `inlet_quarantine_dropped_total{reason}`;
/// streams: `inlet_stream_length{stream}` (entries retained), `inlet_stream_last_sequence{stream}`,
/// `inlet_stream_group_lag_events{stream,group}`, `inlet_stream_group_lag_seconds{stream,group}` (age of the oldest
/// unacknowledged entry), `inlet_stream_group_missed_events{stream,group}` (removed by retention before the group
/// acknowledged them) and `inlet_stream_lease_expiries_total{stream,group}`.
public struct GatewayMetrics: Sendable {
    let factory: any MetricsFactory
    /// Handles by label and dimensions: creating one through the factory on every request costs a registry lookup
    /// with label sanitizing, measurable on the ingress path.
    private let counters = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
    private let recorders = NIOLockedValueBox<[String: CoreMetrics.Recorder]>([:])

    /// The ingress's per-source handles, by source and provider name.
    private let sources = NIOLockedValueBox<[String: SourceMetrics]>([:])

    /// The console's per-slot view of the same traffic (`GET /v1/stats`, the live tail's refusals); nil in tools
    /// that count nothing for a person to look at.
    let traffic: TrafficLog?

    public init(factory: any MetricsFactory, traffic: TrafficLog? = nil) {
        self.factory = factory
        self.traffic = traffic
    }

    /// The handles for one source's requests: resolved once per source (and cached by each connection), so the
    /// ingress increments counters without building label keys or taking the registry lock per request.
    func source(_ name: String, provider: String) -> SourceMetrics {
        let key = name + "\u{1F}" + provider
        return sources.withLockedValue { all in
            if let hit = all[key] { return hit }
            let made = SourceMetrics(source: name, provider: provider, metrics: self)
            all[key] = made
            return made
        }
    }

    fileprivate func counter(_ label: String, _ dims: [(String, String)]) -> CoreMetrics.Counter {
        let key = label + dims.map { "\u{1F}" + $0.1 }.joined()
        return counters.withLockedValue { c in
            if let hit = c[key] { return hit }
            let made = CoreMetrics.Counter(label: label, dimensions: dims, factory: factory)
            c[key] = made
            return made
        }
    }

    fileprivate func recorder(_ label: String, _ dims: [(String, String)]) -> CoreMetrics.Recorder {
        let key = label + dims.map { "\u{1F}" + $0.1 }.joined()
        return recorders.withLockedValue { c in
            if let hit = c[key] { return hit }
            let made = CoreMetrics.Recorder(label: label, dimensions: dims, aggregate: true, factory: factory)
            c[key] = made
            return made
        }
    }

    /// Skew buckets in seconds, both signs: providers' clocks run ahead as well as behind.
    public static let skewBuckets: [Double] = [-600, -300, -120, -60, -30, -10, -5, -1, 0, 1, 5, 10, 30, 60, 120, 300, 600]

    /// A Prometheus factory over `registry` with Inlet's histogram buckets.
    public static func prometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        f.valueHistogramBuckets["inlet_timestamp_skew_seconds"] = skewBuckets
        f.valueHistogramBuckets["inlet_delivery_latency_seconds"] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 3600, 86_400]
        f.valueHistogramBuckets["inlet_ack_latency_seconds"] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5]
        f.valueHistogramBuckets["inlet_commit_batch_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
        f.valueHistogramBuckets["inlet_commit_duration_seconds"] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5]
        return f
    }

    func rejected(source: String, provider: String, reason: RejectionReason) {
        counter("inlet_requests_rejected_total", [("source", source), ("provider", provider), ("reason", reason.rawValue)]).increment()
        traffic?.refused(source: source, reason: reason.rawValue)
    }

    func accepted(source: String, provider: String) {
        counter("inlet_events_accepted_total", [("source", source), ("provider", provider)]).increment()
    }

    func verified(source: String, secret: String) {
        counter("inlet_verifications_total", [("source", source), ("secret", secret)]).increment()
    }

    func skew(source: String, seconds: Double) {
        recorder("inlet_timestamp_skew_seconds", [("source", source)]).record(seconds)
    }

    /// Seconds from a request's arrival to its acknowledgement (the commit, fsync included), by outcome.
    func ackLatency(source: String, outcome: String, seconds: Double) {
        recorder("inlet_ack_latency_seconds", [("source", source), ("outcome", outcome)]).record(seconds)
    }

    func duplicate(source: String) {
        counter("inlet_duplicates_total", [("source", source)]).increment()
    }

    func handshake(provider: String) {
        counter("inlet_handshakes_total", [("provider", provider)]).increment()
    }

    func attempt(destination: String, outcome: String) {
        counter("inlet_delivery_attempts_total", [("destination", destination), ("outcome", outcome)]).increment()
        traffic?.attempt(destination: destination, outcome: outcome)
    }

    /// Seconds from receipt to successful delivery.
    func deliveryLatency(destination: String, seconds: Double) {
        recorder("inlet_delivery_latency_seconds", [("destination", destination)]).record(seconds)
    }

    /// One group commit of the ingest writer: how many requests, and how long the transaction (with its fsync) took.
    func commitBatch(size: Int, seconds: Double) {
        recorder("inlet_commit_batch_size", []).record(size)
        recorder("inlet_commit_duration_seconds", []).record(seconds)
    }

    /// A connection closed at once because the ingress was at `max_connections`.
    func connectionRefused() {
        counter("inlet_connections_refused_total", []).increment()
    }

    func quarantined(source: String, reason: String) {
        counter("inlet_quarantined_total", [("source", source), ("reason", reason)]).increment()
    }

    func quarantineDropped(reason: String) {
        counter("inlet_quarantine_dropped_total", [("reason", reason)]).increment()
    }

    /// The store-derived gauges: per configured destination its queue, and the quarantine's size.
    func storeGauges(_ gauges: [String: QueueGauge], destinations: [String], paused: Set<String>, quarantined: Int, now: EpochMillis) {
        for name in destinations {
            let g = gauges[name] ?? QueueGauge(pending: 0, oldestDueAt: nil, dead: 0)
            let dims = [("destination", name)]
            Gauge(label: "inlet_queue_depth", dimensions: dims, factory: factory).record(g.pending)
            Gauge(label: "inlet_queue_oldest_due_age_seconds", dimensions: dims, factory: factory)
                .record(g.oldestDueAt.map { Double(max(0, now - $0)) / 1000 } ?? 0)
            Gauge(label: "inlet_dead_letters", dimensions: dims, factory: factory).record(g.dead)
            Gauge(label: "inlet_destination_paused", dimensions: dims, factory: factory).record(paused.contains(name) ? 1 : 0)
        }
        Gauge(label: "inlet_quarantine_entries", dimensions: [], factory: factory).record(quarantined)
    }

    /// Entries served again because their lease ran out unacknowledged (a consumer died or was too slow).
    func streamLeaseExpired(stream: String, group: String, count: Int) {
        counter("inlet_stream_lease_expiries_total", [("stream", stream), ("group", group)]).increment(by: count)
    }

    /// Per configured stream its length, and per group its lag.
    func streamGauges(_ summaries: [StreamSummary], groups: [StreamGroupState], streams: [String], now: EpochMillis) {
        let byName = Dictionary(summaries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in streams {
            let dims = [("stream", name)]
            Gauge(label: "inlet_stream_length", dimensions: dims, factory: factory).record(byName[name]?.length ?? 0)
            Gauge(label: "inlet_stream_last_sequence", dimensions: dims, factory: factory).record(byName[name]?.lastSequence ?? 0)
        }
        for g in groups where streams.contains(g.stream) {
            let dims = [("stream", g.stream), ("group", g.group)]
            Gauge(label: "inlet_stream_group_lag_events", dimensions: dims, factory: factory).record(g.lagEvents)
            Gauge(label: "inlet_stream_group_lag_seconds", dimensions: dims, factory: factory)
                .record(g.oldestUnacknowledgedAt.map { Double(max(0, now - $0)) / 1000 } ?? 0)
            Gauge(label: "inlet_stream_group_missed_events", dimensions: dims, factory: factory).record(g.missedByRetention)
        }
    }

    func circuit(destination: String, open: Bool) {
        Gauge(label: "inlet_destination_circuit_open", dimensions: [("destination", destination)], factory: factory).record(open ? 1 : 0)
    }

    /// Publishes every secret's expiry time, and whether it falls within the warning horizon.
    func secretExpiries(_ resolved: ResolvedConfig, now: EpochMillis) {
        let warned = Set(resolved.expiryWarnings(now: now).map { "\($0.owner)|\($0.label)" })
        for e in resolved.secretExpiries(now: now) {
            let dims = [("owner", e.owner), ("secret", e.label)]
            Gauge(label: "inlet_secret_expires_at_seconds", dimensions: dims, factory: factory).record(Double(e.expiresAt / 1000))
            Gauge(label: "inlet_secret_expiring", dimensions: dims, factory: factory).record(warned.contains("\(e.owner)|\(e.label)") ? 1 : 0)
        }
    }
}

/// One ingress source's metric handles. Each is made on its first use (through `GatewayMetrics`'s cache, so it is
/// the same series as one made there), never at config load: a series appears in `/metrics` once it has counted,
/// as before. After that a request costs one uncontended lock and a stored reference per handle.
final class SourceMetrics: Sendable {
    let source: String
    let provider: String
    private let metrics: GatewayMetrics

    private struct Handles {
        var accepted: CoreMetrics.Counter?
        var duplicates: CoreMetrics.Counter?
        var handshakes: CoreMetrics.Counter?
        var skew: CoreMetrics.Recorder?
        var ackAccepted: CoreMetrics.Recorder?
        var ackDuplicate: CoreMetrics.Recorder?
        var verified: [(String, CoreMetrics.Counter)] = []
        var rejected: [RejectionReason: CoreMetrics.Counter] = [:]
    }
    private let handles = NIOLockedValueBox(Handles())

    fileprivate init(source: String, provider: String, metrics: GatewayMetrics) {
        self.source = source
        self.provider = provider
        self.metrics = metrics
    }

    private func handle<H>(_ path: WritableKeyPath<Handles, H?>, _ make: () -> H) -> H {
        handles.withLockedValue { h in
            if let hit = h[keyPath: path] { return hit }
            let made = make()
            h[keyPath: path] = made
            return made
        }
    }

    func accepted() {
        handle(\.accepted) { metrics.counter("inlet_events_accepted_total", [("source", source), ("provider", provider)]) }.increment()
    }

    func duplicate() {
        handle(\.duplicates) { metrics.counter("inlet_duplicates_total", [("source", source)]) }.increment()
    }

    func handshake() {
        handle(\.handshakes) { metrics.counter("inlet_handshakes_total", [("provider", provider)]) }.increment()
    }

    func skew(seconds: Double) {
        handle(\.skew) { metrics.recorder("inlet_timestamp_skew_seconds", [("source", source)]) }.record(seconds)
    }

    /// Also counts the ack in the console's traffic log: one call per acknowledged request, accepted or duplicate.
    func ackLatency(duplicate: Bool, seconds: Double) {
        metrics.traffic?.acked(source: source, duplicate: duplicate, seconds: seconds)
        if duplicate {
            handle(\.ackDuplicate) { metrics.recorder("inlet_ack_latency_seconds", [("source", source), ("outcome", "duplicate")]) }.record(seconds)
        } else {
            handle(\.ackAccepted) { metrics.recorder("inlet_ack_latency_seconds", [("source", source), ("outcome", "accepted")]) }.record(seconds)
        }
    }

    func verified(secret: String) {
        let counter = handles.withLockedValue { h -> CoreMetrics.Counter in
            for (label, c) in h.verified where label == secret { return c }
            let made = metrics.counter("inlet_verifications_total", [("source", source), ("secret", secret)])
            h.verified.append((secret, made))
            return made
        }
        counter.increment()
    }

    func rejected(_ reason: RejectionReason) {
        metrics.traffic?.refused(source: source, reason: reason.rawValue)
        let counter = handles.withLockedValue { h -> CoreMetrics.Counter in
            if let hit = h.rejected[reason] { return hit }
            let made = metrics.counter("inlet_requests_rejected_total", [("source", source), ("provider", provider), ("reason", reason.rawValue)])
            h.rejected[reason] = made
            return made
        }
        counter.increment()
    }
}

extension GatewayMetrics {
    /// `GET /metrics` in the Prometheus text format; anything else is 404.
    static func exposition(registry: PrometheusCollectorRegistry) -> ListenerServer.Handler {
        return { request in
            guard request.method == "GET", request.uri.split(separator: "?").first == "/metrics" else {
                return SimpleResponse(status: 404, headers: [("Content-Type", "text/plain")], body: Array("not found\n".utf8))
            }
            return SimpleResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: registry.emitToBuffer())
        }
    }
}
