import InletCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A whole request, buffered: for the development sink and for test destinations, never for ingress.
public struct SimpleRequest: Sendable {
    public var method: String
    public var uri: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, uri: String, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }
}

public struct SimpleResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A small HTTP/1.1 server that hands each request to an async closure. Used by `inlet sink` and by tests
/// as a real loopback destination.
public final class SimpleHTTPServer: Sendable {
    public typealias Handler = @Sendable (SimpleRequest) async -> SimpleResponse
    private let channel: Channel
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: Channel) { self.channel = channel }

    public static func start(host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, handler: @escaping Handler) async throws -> SimpleHTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(SimpleHandler(handler: handler))
                }
            }
            .bind(host: host, port: port).get()
        return SimpleHTTPServer(channel: channel)
    }

    public func stop() async {
        try? await channel.close()
    }

    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

private final class SimpleHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let handler: SimpleHTTPServer.Handler
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(handler: @escaping SimpleHTTPServer.Handler) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h; body = []
        case .body(var b): body += b.readBytes(length: b.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = SimpleRequest(method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body)
            let handler = self.handler
            let promise = context.eventLoop.makePromise(of: SimpleResponse.self)
            promise.completeWithTask { await handler(request) }
            let keepAlive = head.isKeepAlive
            let version = head.version
            promise.futureResult.assumeIsolated().whenSuccess { response in
                var headers = HTTPHeaders(response.headers)
                headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
                if !response.body.isEmpty {
                    context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
                }
                let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
                if !keepAlive { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
            }
            self.head = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

/// The development sink: verifies the Standard Webhooks signature of each forwarded event and logs it.
/// What a newcomer's own service would do, in a few lines.
public enum DevelopmentSink {
    /// - quiet: log only failures (for load tests, where a line per event would cost more than the delivery).
    public static func handler(signer: StandardWebhooksSigner, logger: Logger, clock: any WallClock = SystemClock(), quiet: Bool = false) -> SimpleHTTPServer.Handler {
        return { request in
            let id = request.headers.first(name: "webhook-id") ?? ""
            let ts = request.headers.first(name: "webhook-timestamp") ?? ""
            let sig = request.headers.first(name: "webhook-signature") ?? ""
            guard signer.verify(id: id, timestamp: ts, signatureHeader: sig, body: request.body, now: clock.now()) else {
                logger.warning("sink: signature check failed", metadata: ["webhook_id": "\(id)"])
                return SimpleResponse(status: 401, headers: [("Content-Type", "application/json")], body: Array(#"{"error":"invalid signature"}"#.utf8))
            }
            if quiet { return SimpleResponse(status: 204) }
            let type = JSONScanner.scalarText(at: JSONPointer(tokens: ["type"]), in: request.body) ?? "?"
            let source = JSONScanner.scalarText(at: JSONPointer(tokens: ["source"]), in: request.body) ?? "?"
            logger.notice("sink: event received, signature verified", metadata: [
                "webhook_id": "\(id)", "type": "\(type)", "source": "\(source)", "bytes": "\(request.body.count)",
                "attempt": "\(request.headers.first(name: "Inlet-Attempt") ?? "?")",
            ])
            return SimpleResponse(status: 204)
        }
    }
}
