import CoreMetrics
import InletConfig
import Logging
import InletCore
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// Verification and ingress telemetry, counted through swift-metrics. The factory is injected so the executable
/// picks the backend (Prometheus) and tests read their own registry.
///
/// Names: `inlet_requests_rejected_total{source,provider,reason}`, `inlet_events_accepted_total{source,provider}`,
/// `inlet_verifications_total{source,secret}`, `inlet_timestamp_skew_seconds{source}` (provider timestamp minus
/// receive time, both signs), `inlet_duplicates_total{source}`, `inlet_handshakes_total{provider}`,
/// `inlet_secret_expires_at_seconds{owner,secret}` and `inlet_secret_expiring{owner,secret}`.
public struct GatewayMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) { self.factory = factory }

    /// Skew buckets in seconds, both signs: providers' clocks run ahead as well as behind.
    public static let skewBuckets: [Double] = [-600, -300, -120, -60, -30, -10, -5, -1, 0, 1, 5, 10, 30, 60, 120, 300, 600]

    /// A Prometheus factory over `registry` with Inlet's histogram buckets.
    public static func prometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        f.valueHistogramBuckets["inlet_timestamp_skew_seconds"] = skewBuckets
        return f
    }

    func rejected(source: String, provider: String, reason: RejectionReason) {
        Counter(label: "inlet_requests_rejected_total", dimensions: [("source", source), ("provider", provider), ("reason", reason.rawValue)], factory: factory).increment()
    }

    func accepted(source: String, provider: String) {
        Counter(label: "inlet_events_accepted_total", dimensions: [("source", source), ("provider", provider)], factory: factory).increment()
    }

    func verified(source: String, secret: String) {
        Counter(label: "inlet_verifications_total", dimensions: [("source", source), ("secret", secret)], factory: factory).increment()
    }

    func skew(source: String, seconds: Double) {
        Recorder(label: "inlet_timestamp_skew_seconds", dimensions: [("source", source)], aggregate: true, factory: factory).record(seconds)
    }

    func duplicate(source: String) {
        Counter(label: "inlet_duplicates_total", dimensions: [("source", source)], factory: factory).increment()
    }

    func handshake(provider: String) {
        Counter(label: "inlet_handshakes_total", dimensions: [("provider", provider)], factory: factory).increment()
    }

    /// Publishes every secret's expiry time, and whether it falls within the warning horizon.
    func secretExpiries(_ resolved: ResolvedGateway, now: EpochMillis) {
        let warned = Set(resolved.expiryWarnings(now: now).map { "\($0.owner)|\($0.label)" })
        for e in resolved.secretExpiries(now: now) {
            let dims = [("owner", e.owner), ("secret", e.label)]
            Gauge(label: "inlet_secret_expires_at_seconds", dimensions: dims, factory: factory).record(Double(e.expiresAt / 1000))
            Gauge(label: "inlet_secret_expiring", dimensions: dims, factory: factory).record(warned.contains("\(e.owner)|\(e.label)") ? 1 : 0)
        }
    }
}

/// Serves `GET /metrics` (Prometheus text format) on its own listener.
final class MetricsService: Service, Sendable {
    let host: String, port: Int, registry: PrometheusCollectorRegistry, group: any EventLoopGroup
    let logger: Logger

    init(host: String, port: Int, registry: PrometheusCollectorRegistry, group: any EventLoopGroup, logger: Logger) {
        self.host = host
        self.port = port
        self.registry = registry
        self.group = group
        self.logger = logger
    }

    func run() async throws {
        let registry = self.registry
        let server = try await SimpleHTTPServer.start(host: host, port: port, group: group) { request in
            guard request.method == "GET", request.uri.split(separator: "?").first == "/metrics" else {
                return SimpleResponse(status: 404, headers: [("Content-Type", "text/plain")], body: Array("not found\n".utf8))
            }
            return SimpleResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: registry.emitToBuffer())
        }
        logger.notice("metrics listening", metadata: ["address": "\(host):\(server.port)"])
        await withGracefulShutdownHandler {
            try? await server.closeFuture.get()
        } onGracefulShutdown: {
            Task { await server.stop() }
        }
    }
}
