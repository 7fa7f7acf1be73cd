import AsyncHTTPClient
import InletConfig
import InletCore
import InletStore
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The whole gateway: ingress, group-commit writer, delivery workers and (optionally) the development sink,
/// run as one `ServiceGroup`. Graceful shutdown goes in reverse order of start: ingress stops accepting and
/// finishes its acks first, then delivery finishes attempts in flight, then the writers drain and exit.
public final class Gateway: Sendable {
    /// A group commit at least this long is logged (`slow commit`, with its batch size).
    static let slowCommitSeconds = 0.1

    public let runtime: LiveConfig
    public let ingress: IngressServer
    public let store: any EventStore
    /// This process's traffic in 10-second slots, for the console (`GET /v1/stats`, the live tail's refusals).
    public let traffic: TrafficLog
    private let serviceGroup: ServiceGroup
    private let client: HTTPClient
    /// Deliveries' own keep-alive client (certificate fetches and SNS confirmations use `client`).
    private let deliveryHTTP: DeliveryHTTPClient
    private let storeThreads: NIOThreadPool
    private let logger: Logger
    private let delivery: DeliveryService
    private let adminListener: HTTPListenerService?
    private let reloader: ConfigReloader?
    /// The Prometheus registry behind `/metrics`.
    public let metricsRegistry: PrometheusCollectorRegistry

    /// - certificateFetcher: where SNS/PayPal signing certificates come from (default: HTTPS); tests inject one.
    /// - followUpGET: performs handshake follow-ups such as SNS subscription confirmation (default: HTTP GET).
    public init(resolved: ResolvedConfig, store: (any EventStore)? = nil, clock: any WallClock = SystemClock(), logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, signals: [UnixSignal] = [],
                certificateFetcher: (any CertificateFetcher)? = nil, followUpGET: (@Sendable (String) async throws -> Int)? = nil,
                metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                reload: (@Sendable () throws -> ResolvedConfig)? = nil) throws {
        let config = resolved.config
        let store = try store ?? StoreFactory.open(config, purpose: .gateway, logger: logger)
        self.store = store
        self.logger = logger
        // Secrets sources took from handshakes are in the store, not the config file.
        runtime = LiveConfig(resolved, handshakeKeys: HandshakeSecretKeeper.keys(from: try store.handshakeSecrets(), config: resolved, logger: logger))
        let doorbell = Doorbell()
        // The two group-commit writers each use one role: ingress's commits ingest, the workers' record attempts.
        let ingestStore: any IngestStore = store, queue: any DeliveryQueue = store
        // Both committers run this between batches (never inside one, so no ack waits for it); whichever writes more
        // keeps the WAL bounded. A checkpoint that fails leaves the WAL as it is; the next batch's upkeep tries again.
        let checkpointIfDue: @Sendable () -> Void = {
            do { try ingestStore.checkpointIfDue() } catch {
                logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
        let traffic = TrafficLog(clock: clock)
        self.traffic = traffic
        let metrics = GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: metricsRegistry), traffic: traffic)
        let ingestHealth = IngestHealth()
        let streamBell = StreamBell()
        let writer = GroupCommitter<IngestRecord, IngestResult>(
            name: "ingest", maxBatch: config.store.maxBatch,
            commit: { batch in
                do {
                    let results = try ingestStore.ingest(batch)
                    ingestHealth.committed()
                    // Committed: the streams' consumers may read these entries now (a long-poll answers at once).
                    if batch.contains(where: { !$0.streams.isEmpty }) { streamBell.ring(batch.lazy.flatMap(\.streams)) }
                    return results
                } catch {
                    ingestHealth.failed(at: clock.now())
                    throw error
                }
            },
            afterCommit: { _ in doorbell.ring(.ingestCommit) },
            observe: { size, seconds in
                metrics.commitBatch(size: size, seconds: seconds)
                // Every request in the batch waited this long for its ack: worth a line when it is an outlier.
                if seconds >= Self.slowCommitSeconds {
                    logger.warning("slow commit", metadata: ["batch": "\(size)", "duration_ms": "\(Int(seconds * 1000))"])
                }
            },
            betweenBatches: checkpointIfDue)
        let completions = GroupCommitter<DeliveryCompletion, Void>(
            name: "completions", maxBatch: 1024,
            commit: { batch in
                try queue.complete(batch, now: clock.now())
                return Array(repeating: (), count: batch.count)
            },
            // Delivery writes the WAL too (claims, attempts): while a backlog drains with no ingest, the WAL would
            // otherwise grow without a checkpoint, and every read slows with it (forwarding fell from 10.6k to 7.9k/s).
            betweenBatches: checkpointIfDue)
        self.metricsRegistry = metricsRegistry
        metrics.secretExpiries(resolved, now: clock.now())
        ConfigWarnings.log(resolved, logger: logger, now: clock.now())
        // Certificate and key-set fetches and SNS confirmations (deliveries have `DeliveryHTTPClient`): redirects are
        // not followed (see OutboundHTTP).
        client = OutboundHTTP.makeClient(eventLoopGroup: group, logger: logger) { clientConfig in
            clientConfig.timeout = .init(connect: .seconds(5), read: .seconds(60))
            clientConfig.connectionPool.retryConnectionEstablishment = false
        }
        storeThreads = NIOThreadPool(numberOfThreads: 2)
        storeThreads.start()
        let client = self.client
        let certificates = SigningCertificateCache(fetcher: certificateFetcher ?? HTTPCertificateFetcher(client: client), clock: clock)
        let get: @Sendable (String) async throws -> Int = followUpGET ?? { url in
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(15))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        }
        let tls = try config.server.tls.map(TLSContextBox.init)
        let quarantine = QuarantineWriter(store: store, settings: config.quarantine, storeThreads: storeThreads, logger: logger, metrics: metrics)
        ingress = IngressServer(host: config.server.host, port: config.server.port, idleTimeoutSeconds: config.server.idleTimeoutSeconds,
                                maxConnections: config.server.maxConnections, group: group,
                                context: IngressContext(runtime: runtime, writer: writer, clock: clock, logger: logger,
                                                        certificates: certificates, metrics: metrics, quarantine: quarantine, requestTimeout: .seconds(Int64(config.server.requestTimeoutSeconds)),
                                                        followUpGET: get,
                                                        handshakeSecrets: HandshakeSecretKeeper(store: store, runtime: runtime, storeThreads: storeThreads,
                                                                                                clock: clock, logger: logger),
                                                        budget: InFlightBudget(limit: config.server.maxInFlightBytes)),
                                tls: tls, tlsHandshakeTimeout: .seconds(Int64(config.server.tlsHandshakeTimeoutSeconds)))
        deliveryHTTP = DeliveryHTTPClient(group: group, snippetLimit: DeliveryService.responseSnippetLimit)
        delivery = DeliveryService(store: store, runtime: runtime, http: deliveryHTTP, clock: clock, settings: config.delivery, logger: logger,
                                       doorbell: doorbell, storeThreads: storeThreads, completions: completions, metrics: metrics)
        var services: [any Service] = []
        // The listeners beside ingress get its timeouts; their body limits fit what they are sent.
        let listenerLimits = ListenerServer.Limits(requestTimeout: .seconds(Int64(config.server.requestTimeoutSeconds)),
                                                     idleTimeout: .seconds(Int64(config.server.idleTimeoutSeconds)))
        if let sinkSettings = config.sink, let signer = resolved.sinkSigner {
            // The sink is sent CloudEvents of the largest body a source accepts, base64 in the worst case.
            var sinkLimits = listenerLimits
            sinkLimits.maxBodyBytes = max(sinkLimits.maxBodyBytes, (config.sources.map(\.maxBodyBytes).max() ?? 0) / 3 * 4 + (64 << 10))
            services.append(HTTPListenerService(name: "development sink", host: sinkSettings.host, port: sinkSettings.port, logger: logger, group: group,
                                                limits: sinkLimits, handler: DevelopmentSink.handler(signer: signer, logger: logger)))
        }
        let pruner = RetentionPruner(store: store, clock: clock, idempotencyDays: config.store.idempotencyRetentionDays,
                                     eventDays: config.store.eventRetentionDays, storeThreads: storeThreads, logger: logger,
                                     streams: store, streamRetentionHours: { [runtime] in runtime.current.resolved.streams.mapValues(\.config.retentionHours) })
        let gauges = StoreGaugesService(store: store, runtime: runtime, clock: clock, storeThreads: storeThreads, metrics: metrics, streams: store)
        var adminListener: HTTPListenerService?
        if let admin = config.admin {
            let api = AdminAPI(runtime: runtime, store: store, storeThreads: storeThreads, clock: clock,
                               circuitStates: { [delivery] in delivery.circuitStates() }, wake: { doorbell.ring() }, certificates: certificates,
                               ingestFailing: { ingestHealth.isFailing(now: $0) }, traffic: traffic, streamBell: streamBell,
                               streamObserver: .init(leaseExpired: { metrics.streamLeaseExpired(stream: $0, group: $1, count: $2) }))
            var adminLimits = listenerLimits
            adminLimits.maxBodyBytes = admin.maxBodyBytes
            adminLimits.maxConnections = admin.maxConnections
            let service = HTTPListenerService(name: "admin API", host: admin.host, port: admin.port, logger: logger, group: group,
                                              limits: adminLimits, headCheck: { api.checkHead($0) }, handler: { await api.handle($0) })
            adminListener = service
            services.append(service)
        }
        self.adminListener = adminListener
        if let listen = config.metricsListen {
            // Scrapes send no body.
            var metricsLimits = listenerLimits
            metricsLimits.maxBodyBytes = 1024
            services.append(HTTPListenerService(name: "metrics", host: listen.host, port: listen.port, logger: logger, group: group,
                                                limits: metricsLimits, handler: GatewayMetrics.exposition(registry: metricsRegistry)))
        }
        if let reload {
            // A reload re-reads the certificate too; a new config whose certificate does not load is refused whole.
            let reloader = ConfigReloader(runtime: runtime, logger: logger, load: {
                let next = try reload()
                if let tls, let settings = next.config.server.tls { try tls.reload(settings) }
                return next
            })
            self.reloader = reloader
            services.append(reloader)
        } else {
            self.reloader = nil
        }
        if let shared = store as? PostgresEventStore {
            services.append(QueueNotificationService(store: shared, wake: { doorbell.ring() }))
            // Another instance's appends wake this one's long-polls (which also recheck every second without it).
            if !config.streams.isEmpty { services.append(QueueNotificationService(store: shared, streams: true, wake: { streamBell.ringAll() })) }
        }
        // Ingress last: it stops first on shutdown, and the quarantine writer, started before it, outlives it.
        services += [writer, completions, quarantine, pruner, gauges, delivery, ingress]
        serviceGroup = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: signals,
            logger: logger))
    }

    /// Runs until graceful shutdown (a signal, or `shutdown()`).
    public func run() async throws {
        do {
            try await serviceGroup.run()
        } catch {
            try? await client.shutdown()
            deliveryHTTP.shutdown()
            try? await storeThreads.shutdownGracefully()
            throw error
        }
        deliveryHTTP.shutdown()
        try await client.shutdown()
        try await storeThreads.shutdownGracefully()
    }

    /// Re-reads the config now (what SIGHUP does). Fails, keeping the running config, when the new one is invalid.
    @discardableResult
    public func reload() -> Result<Void, Error> {
        guard let reloader else { return .failure(GatewayError.reloadNotConfigured) }
        return reloader.reload()
    }

    /// The admin API's bound port (useful with port 0), once it listens.
    public func adminPort() async throws -> Int {
        guard let adminListener else { throw GatewayError.adminDisabled }
        return try await adminListener.bound.value()
    }

    /// Each destination's circuit state (`closed`, `open`, `half_open`).
    public func circuitStates() -> [String: String] { delivery.circuitStates() }

    public func shutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }
}

/// A `ListenerServer` run as a service of the gateway: the development sink and the metrics listener.
final class HTTPListenerService: Service, Sendable {
    let name: String, host: String, port: Int, logger: Logger, group: any EventLoopGroup
    let handler: ListenerServer.Handler
    let limits: ListenerServer.Limits
    let headCheck: ListenerServer.HeadCheck?
    let bound = BoundPort()

    init(name: String, host: String, port: Int, logger: Logger, group: any EventLoopGroup, limits: ListenerServer.Limits = .init(),
         headCheck: ListenerServer.HeadCheck? = nil, handler: @escaping ListenerServer.Handler) {
        self.limits = limits
        self.headCheck = headCheck
        self.name = name
        self.host = host
        self.port = port
        self.logger = logger
        self.group = group
        self.handler = handler
    }

    func run() async throws {
        let server: ListenerServer
        do { server = try await ListenerServer.start(host: host, port: port, group: group, limits: limits, headCheck: headCheck, handler: handler) } catch {
            bound.fail(error)
            throw error
        }
        bound.set(server.port)
        logger.notice("\(name) listening", metadata: ["address": "\(host):\(server.port)"])
        await withGracefulShutdownHandler {
            try? await server.closeFuture.get()
        } onGracefulShutdown: {
            Task { await server.stop() }
        }
    }
}

/// Retention: forgets idempotency keys last seen, and stored events received, longer ago than their windows (an event
/// only once all its deliveries finished). Small batches with pauses, so the deletes never hold the write lock long
/// enough to delay an ingest commit.
final class RetentionPruner: Service, Sendable {
    /// Stream retention runs against this (nil: none).
    let streams: (any StreamStore)?
    let store: any StoreMaintenance, clock: any WallClock, idempotencyDays: Int, eventDays: Int, storeThreads: NIOThreadPool, logger: Logger
    /// Each configured stream's `retention_hours`, read at each pass (a reload may change them).
    let streamRetentionHours: @Sendable () -> [String: Int]
    static let batch = 500

    init(store: any StoreMaintenance, clock: any WallClock, idempotencyDays: Int, eventDays: Int, storeThreads: NIOThreadPool, logger: Logger,
         streams: (any StreamStore)? = nil, streamRetentionHours: @escaping @Sendable () -> [String: Int] = { [:] }) {
        self.streams = streams
        self.streamRetentionHours = streamRetentionHours
        self.store = store
        self.clock = clock
        self.idempotencyDays = idempotencyDays
        self.eventDays = eventDays
        self.storeThreads = storeThreads
        self.logger = logger
    }

    func run() async throws {
        try await PeriodicService(every: .seconds(600)) {
            let (keys, events, quarantined, streamEntries) = await self.pruneOnce()
            if keys + events + quarantined + streamEntries > 0 {
                self.logger.info("retention", metadata: ["idempotency_keys": "\(keys)", "events": "\(events)", "quarantine": "\(quarantined)",
                                                         "stream_entries": "\(streamEntries)"])
            }
        }.run()
    }

    /// One retention pass: everything past its window now, each kind drained batch by batch; returns how many went.
    func pruneOnce() async -> (idempotencyKeys: Int, events: Int, quarantined: Int, streamEntries: Int) {
        // Stream entries first: an event a stream holds is kept until its entry goes.
        let now = clock.now()
        let cutoffs = streamRetentionHours().mapValues { now - Int64($0) * 3_600_000 }
        var streamEntries = 0
        if let streams, !cutoffs.isEmpty {
            while !Task.isShuttingDownGracefully {
                let n = (try? await storeThreads.runIfActive { try streams.pruneStreams(appendedBefore: cutoffs, limit: Self.batch) }) ?? 0
                streamEntries += n
                if n < Self.batch { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let keys = await drain { store, cutoff in try store.pruneIdempotencyKeys(lastSeenBefore: cutoff, limit: Self.batch) }(idempotencyDays)
        let events = await drain { store, cutoff in try store.pruneEvents(receivedBefore: cutoff, limit: Self.batch) }(eventDays)
        let quarantined = await drain { store, now in try store.pruneQuarantine(expiredBy: now, limit: Self.batch) }(0)
        return (keys, events, quarantined, streamEntries)
    }

    /// Deletes in batches until a batch comes back short; returns the total.
    private func drain(_ step: @escaping @Sendable (any StoreMaintenance, EpochMillis) throws -> Int) -> (Int) async -> Int {
        return { days in
            let store = self.store
            let cutoff = self.clock.now() - Int64(days) * 86_400_000
            var removed = 0
            while !Task.isShuttingDownGracefully {
                let n = (try? await self.storeThreads.runIfActive { try step(store, cutoff) }) ?? 0
                removed += n
                if n < Self.batch { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return removed
        }
    }
}

public enum GatewayError: Error, CustomStringConvertible {
    case adminDisabled
    case reloadNotConfigured
    public var description: String {
        switch self {
        case .adminDisabled: return "the admin API is not enabled ([admin] listen)"
        case .reloadNotConfigured: return "this gateway was started without a config file to reload"
        }
    }
}
