import InletCore
import InletStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The webhook ingress: an HTTP/1.1 server on SwiftNIO. On graceful shutdown it stops accepting, lets every
/// request in progress finish its commit and ack, then closes its connections.
public final class IngressServer: Service, Sendable {
    private let host: String
    private let port: Int
    private let idleTimeout: TimeAmount
    private let group: any EventLoopGroup
    private let context: IngressContext
    private let tls: TLSContextBox?
    private let bound = BoundPort()
    private let limiter: ConnectionLimiter
    private let tlsHandshakeTimeout: TimeAmount

    init(host: String, port: Int, idleTimeoutSeconds: Int, maxConnections: Int = 10_000, group: any EventLoopGroup, context: IngressContext,
         tls: TLSContextBox? = nil, tlsHandshakeTimeout: TimeAmount = .seconds(10)) {
        self.tls = tls
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        limiter = ConnectionLimiter(limit: ConnectionLimiter.capForProcess(configured: maxConnections))
        self.host = host
        self.port = port
        self.idleTimeout = .seconds(Int64(idleTimeoutSeconds))
        self.group = group
        self.context = context
    }

    /// The port actually bound (useful with port 0); waits until the server listens.
    public func listeningPort() async throws -> Int { try await bound.value() }

    public func run() async throws {
        let quiesce = ServerQuiescingHelper(group: group)
        let context = self.context
        let idleTimeout = self.idleTimeout
        let tls = self.tls
        let limiter = self.limiter
        let handshakeTimeout = self.tlsHandshakeTimeout
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    guard limiter.admit() else {
                        context.metrics.connectionRefused()
                        return channel.close()
                    }
                    channel.closeFuture.whenComplete { _ in limiter.release() }
                    return channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if let tls {
                            try sync.addHandler(NIOSSLServerHandler(context: tls.current))
                            try sync.addHandler(TLSHandshakeDeadlineHandler(timeout: handshakeTimeout))
                        }
                        try sync.addHandler(LingeringCloseHandler())
                        // One timer per connection for the head deadline, the body deadline and the idle timeout.
                        try sync.addHandler(RequestHeadTimeoutHandler(timeout: context.requestTimeout, bodyTimeout: context.requestTimeout,
                                                                      idleTimeout: idleTimeout) {
                            context.metrics.rejected(source: "-", provider: "-", reason: .requestTimeout)
                        })
                        try IngressServer.addHTTPHandlers(to: sync, context: context)
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            bound.fail(error)
            throw error
        }
        let actualPort = channel.localAddress?.port ?? port
        bound.set(actualPort)
        context.logger.notice("ingress listening", metadata: ["address": "\(host):\(actualPort)", "max_connections": "\(limiter.limit)"])

        let fullyShutdown = group.next().makePromise(of: Void.self)
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
            // The listening socket closed (quiescing started): wait for open connections to drain.
            try? await fullyShutdown.futureResult.get()
        } onGracefulShutdown: {
            quiesce.initiateShutdown(promise: fullyShutdown)
        }
        context.logger.notice("ingress stopped")
    }
}

extension IngressServer {
    /// The HTTP/1.1 part of an ingress connection's pipeline: NIO's request decoder and pipelining handler, the
    /// pre-encoded response writer in place of NIO's response encoder, and the ingress handler. No NIO error handler:
    /// protocol errors are answered by `IngressHandler` (with a JSON reason).
    static func addHTTPHandlers(to sync: ChannelPipeline.SynchronousOperations, context: IngressContext) throws {
        try sync.addHandler(PreEncodedResponseEncoder())
        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try sync.addHandler(HTTPServerPipelineHandler())
        try sync.addHandler(IngressHandler(context: context))
    }
}

/// A listener's port, known once it is bound; callers wait for it.
final class BoundPort: Sendable {
    private let state = NIOLockedValueBox<(result: Result<Int, Error>?, waiters: [CheckedContinuation<Int, Error>])>((nil, []))

    func value() async throws -> Int {
        try await withCheckedThrowingContinuation { c in
            let known = state.withLockedValue { s -> Result<Int, Error>? in
                if let r = s.result { return r }
                s.waiters.append(c)
                return nil
            }
            if let known { c.resume(with: known) }
        }
    }

    func set(_ port: Int) { complete(.success(port)) }
    func fail(_ error: Error) { complete(.failure(error)) }

    private func complete(_ r: Result<Int, Error>) {
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Int, Error>] in
            s.result = r
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(with: r) }
    }
}
