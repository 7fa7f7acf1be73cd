import AsyncHTTPClient
import InletConfig
import InletCore
import InletStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The whole gateway: ingress, group-commit writer, delivery workers and (optionally) the development sink,
/// run as one `ServiceGroup`. Graceful shutdown goes in reverse order of start: ingress stops accepting and
/// finishes its acks first, then delivery finishes attempts in flight, then the writers drain and exit.
public final class Gateway: Sendable {
    public let runtime: GatewayRuntime
    public let ingress: IngressServer
    public let store: any EventStore
    public let counters = IngressCounters()
    private let serviceGroup: ServiceGroup
    private let client: HTTPClient
    private let storeThreads: NIOThreadPool
    private let sink: SinkService?
    private let logger: Logger

    public init(resolved: ResolvedGateway, store: (any EventStore)? = nil, clock: any WallClock = SystemClock(), logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, signals: [UnixSignal] = []) throws {
        let config = resolved.config
        let store = try store ?? SQLiteEventStore(path: config.storePath, durability: config.store.durability == .fsync ? .fsync : .relaxed)
        self.store = store
        self.logger = logger
        runtime = GatewayRuntime(resolved)
        let doorbell = Doorbell()
        let writer = GroupCommitter<IngestRecord, IngestResult>(
            name: "ingest", maxBatch: config.store.maxBatch,
            commit: { try store.ingest($0) },
            afterCommit: { _ in doorbell.ring() })
        let completions = GroupCommitter<DeliveryCompletion, Void>(
            name: "completions", maxBatch: 1024,
            commit: { batch in
                try store.complete(batch, now: clock.now())
                return Array(repeating: (), count: batch.count)
            })
        var clientConfig = HTTPClient.Configuration()
        clientConfig.redirectConfiguration = .disallow
        clientConfig.timeout = .init(connect: .seconds(5), read: .seconds(60))
        clientConfig.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, config.delivery.concurrency))
        client = HTTPClient(eventLoopGroup: group, configuration: clientConfig, backgroundActivityLogger: logger)
        storeThreads = NIOThreadPool(numberOfThreads: 2)
        storeThreads.start()
        ingress = IngressServer(host: config.server.host, port: config.server.port, idleTimeoutSeconds: config.server.idleTimeoutSeconds, group: group,
                                context: IngressContext(runtime: runtime, writer: writer, clock: clock, logger: logger, counters: counters))
        let delivery = DeliveryService(store: store, runtime: runtime, client: client, clock: clock, settings: config.delivery, logger: logger,
                                       doorbell: doorbell, storeThreads: storeThreads, completions: completions)
        var services: [any Service] = []
        if let sinkSettings = config.sink, let signer = resolved.sinkSigner {
            let s = SinkService(host: sinkSettings.host, port: sinkSettings.port, signer: signer, logger: logger, group: group)
            sink = s
            services.append(s)
        } else {
            sink = nil
        }
        services += [writer, completions, delivery, ingress]
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
            try? await storeThreads.shutdownGracefully()
            throw error
        }
        try await client.shutdown()
        try await storeThreads.shutdownGracefully()
    }

    public func shutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }
}

/// Runs the development sink as a service of the gateway.
final class SinkService: Service, Sendable {
    let host: String, port: Int, signer: StandardWebhooksSigner, logger: Logger, group: any EventLoopGroup
    init(host: String, port: Int, signer: StandardWebhooksSigner, logger: Logger, group: any EventLoopGroup) {
        self.host = host
        self.port = port
        self.signer = signer
        self.logger = logger
        self.group = group
    }

    func run() async throws {
        let server = try await SimpleHTTPServer.start(host: host, port: port, group: group, handler: DevelopmentSink.handler(signer: signer, logger: logger))
        logger.notice("development sink listening", metadata: ["address": "\(host):\(server.port)"])
        await withGracefulShutdownHandler {
            try? await server.closeFuture.get()
        } onGracefulShutdown: {
            Task { await server.stop() }
        }
    }
}
