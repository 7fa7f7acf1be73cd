import InletCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
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
    /// A body written piece by piece after the head (chunked), instead of `body`: the admin API's live tail.
    public var stream: ResponseStream?
    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], stream: ResponseStream? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }
}

/// A streamed response body (the console's live tail, a stream's server-sent events): `produce` writes chunks until
/// it returns (the response ends) or throws (the connection closes). Each `write` returns once its chunk was handed to
/// the socket, so a client that reads slowly slows the producer instead of growing a buffer: one chunk is in memory
/// per stream, whatever the reader's speed. A write after the client went away throws `ResponseStream.Closed`, and
/// the producer is cancelled when the connection closes.
public struct ResponseStream: Sendable {
    public typealias Write = @Sendable ([UInt8]) async throws -> Void
    public let produce: @Sendable (_ write: Write) async throws -> Void

    public init(_ produce: @escaping @Sendable (_ write: Write) async throws -> Void) { self.produce = produce }

    public struct Closed: Error {}
}

/// A small HTTP/1.1 server that hands each request to an async closure: the admin API, the metrics listener, the
/// development sink, and test destinations. Each listener gets the ingress's guards (`Limits`): bodies are buffered
/// whole, so without them one unauthenticated 200 MB POST grows the process by its size, and a half-sent head holds
/// a connection forever.
public final class ListenerServer: Sendable {
    public typealias Handler = @Sendable (SimpleRequest) async -> SimpleResponse
    /// Looks at a request's head (its `body` is empty) before any body is read; a response here is final and the body
    /// is never read. The admin API answers `401` here, so an unauthenticated client cannot make it buffer anything.
    public typealias HeadCheck = @Sendable (SimpleRequest) -> SimpleResponse?

    /// What one listener allows.
    public struct Limits: Sendable, Equatable {
        /// Larger bodies get `413` (before reading, when the length is declared) and the connection closes.
        public var maxBodyBytes: Int = 1 << 20
        /// A request's head must arrive within this from its first byte, and its body within this from its head;
        /// otherwise `408` and the connection closes.
        public var requestTimeout: TimeAmount = .seconds(30)
        /// A connection that sends nothing for this long is closed.
        public var idleTimeout: TimeAmount = .seconds(60)
        /// Open connections at most; more are closed at once.
        public var maxConnections: Int = 256

        public init(maxBodyBytes: Int = 1 << 20, requestTimeout: TimeAmount = .seconds(30), idleTimeout: TimeAmount = .seconds(60),
                    maxConnections: Int = 256) {
            self.maxBodyBytes = maxBodyBytes
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
        }
    }

    private let channel: Channel
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: Channel) { self.channel = channel }

    public static func start(host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                             limits: Limits = Limits(), headCheck: HeadCheck? = nil, handler: @escaping Handler) async throws -> ListenerServer {
        let limiter = ConnectionLimiter(limit: limits.maxConnections)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard limiter.admit() else { return channel.close() }
                channel.closeFuture.whenComplete { _ in limiter.release() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(LingeringCloseHandler())
                    try sync.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
                    try sync.addHandler(RequestHeadTimeoutHandler(timeout: limits.requestTimeout, answer: #"{"error":"request_timeout"}"#) {})
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try sync.addHandler(SimpleHandler(handler: handler, headCheck: headCheck, limits: limits))
                }
            }
            .bind(host: host, port: port).get()
        return ListenerServer(channel: channel)
    }

    public func stop() async {
        try? await channel.close()
    }

    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

private final class SimpleHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let handler: ListenerServer.Handler
    let headCheck: ListenerServer.HeadCheck?
    let limits: ListenerServer.Limits
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    /// An answer went out before the body: the rest of the request is dropped.
    var discarding = false
    var requestEnded = true
    /// The handler is working on a request: an idle connection is then the server's doing, not the client's.
    var handling = false
    var bodyDeadline: Scheduled<Void>?

    init(handler: @escaping ListenerServer.Handler, headCheck: ListenerServer.HeadCheck?, limits: ListenerServer.Limits) {
        self.handler = handler
        self.headCheck = headCheck
        self.limits = limits
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            context.triggerUserOutboundEvent(RequestHeadTimeoutHandler.Progress.headReceived, promise: nil)
            head = h
            body = []
            discarding = false
            requestEnded = false
            // The head check (the token) first: an unauthenticated client learns nothing, not even the size limit.
            if let check = headCheck, let answer = check(SimpleRequest(method: h.method.rawValue, uri: h.uri, headers: h.headers)) {
                // Without a body to skip, the connection stays usable (a client retrying with its token reuses it).
                let expectsBody = h.headers.contains(name: "transfer-encoding") || (h.headers.first(name: "content-length").flatMap(Int.init) ?? 0) > 0
                answerEarly(context, answer, close: expectsBody || !h.isKeepAlive)
                return
            }
            let declared = h.headers.first(name: "content-length").flatMap(Int.init) ?? 0
            if declared > limits.maxBodyBytes {
                answerEarly(context, SimpleResponse.error(413, "body_too_large"))
                return
            }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            bodyDeadline = context.eventLoop.scheduleTask(in: limits.requestTimeout) {
                let (handler, context) = loopBound.value
                guard handler.head != nil, !handler.requestEnded else { return }
                handler.requestEnded = true  // a client this slow would hold a lingering close open too
                handler.answerEarly(context, SimpleResponse.error(408, "request_timeout"))
            }
        case .body(var b):
            guard !discarding, head != nil else { return }
            guard body.count + b.readableBytes <= limits.maxBodyBytes else {
                answerEarly(context, SimpleResponse.error(413, "body_too_large"))
                return
            }
            body += b.readBytes(length: b.readableBytes) ?? []
        case .end:
            requestEnded = true
            bodyDeadline?.cancel()
            bodyDeadline = nil
            if discarding {
                discarding = false
                return
            }
            guard let head else { return }
            self.head = nil
            let request = SimpleRequest(method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body)
            body = []
            let handler = self.handler
            let promise = context.eventLoop.makePromise(of: SimpleResponse.self)
            promise.completeWithTask { await handler(request) }
            let keepAlive = head.isKeepAlive
            let version = head.version
            handling = true
            promise.futureResult.assumeIsolated().whenSuccess { response in
                self.handling = false
                self.write(context, response, version: version, close: !keepAlive)
            }
        }
    }

    /// Answers before the request finished arriving, and closes: the rest of the body is never buffered (the lingering
    /// close in front drains it, so a client that writes its whole body first still reads this answer).
    private func answerEarly(_ context: ChannelHandlerContext, _ response: SimpleResponse, close: Bool = true) {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        let version = head?.version ?? .http1_1
        head = nil
        body = []
        discarding = true
        write(context, response, version: version, close: close)
    }

    private func write(_ context: ChannelHandlerContext, _ response: SimpleResponse, version: HTTPVersion, close: Bool) {
        if let stream = response.stream { return writeStream(context, response, stream, version: version, close: close) }
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        if close { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            if !requestEnded { context.triggerUserOutboundEvent(LingeringCloseHandler.Arm(), promise: nil) }
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.triggerUserOutboundEvent(RequestHeadTimeoutHandler.Progress.responseSent, promise: nil)
        }
    }

    /// The head, then the producer's chunks as they come (chunked encoding; HTTP/1.0 gets a close-delimited body),
    /// then the end. The connection counts as busy meanwhile, so the idle timeout does not cut a quiet stream.
    private func writeStream(_ context: ChannelHandlerContext, _ response: SimpleResponse, _ stream: ResponseStream, version: HTTPVersion, close: Bool) {
        var headers = HTTPHeaders(response.headers)
        headers.remove(name: "Content-Length")
        let chunked = version.major > 1 || (version.major == 1 && version.minor >= 1)
        let close = close || !chunked
        if close { headers.replaceOrAdd(name: "Connection", value: "close") }
        if chunked { headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked") }
        handling = true
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))),
                              promise: nil)
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: eventLoop)
        let write: ResponseStream.Write = { bytes in
            guard !bytes.isEmpty else { return }
            try await eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                let (handler, context) = bound.value
                guard context.channel.isActive else { return eventLoop.makeFailedFuture(ResponseStream.Closed()) }
                return context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))))
            }.get()
        }
        let finished = eventLoop.makePromise(of: Bool.self)
        let producer = Task {
            do {
                try await stream.produce(write)
                finished.succeed(true)
            } catch {
                finished.succeed(false)
            }
        }
        // A producer waiting for something to send (a long-poll bell, the next tail entry) learns at once that its
        // client left, instead of at its next write.
        context.channel.closeFuture.whenComplete { _ in producer.cancel() }
        finished.futureResult.assumeIsolated().whenSuccess { completed in
            self.handling = false
            guard context.channel.isActive else { return }
            guard completed else { return context.close(promise: nil) }
            let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
            if close {
                done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                context.triggerUserOutboundEvent(RequestHeadTimeoutHandler.Progress.responseSent, promise: nil)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // A long admin operation (a bulk re-admission) reads nothing from the client while it runs.
            if !handling { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

extension SimpleResponse {
    /// A JSON error answer (`{"error":"reason"}`), as the admin API gives them.
    static func error(_ status: Int, _ reason: String) -> SimpleResponse {
        SimpleResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(#"{"error":"\#(reason)"}"#.utf8))
    }
}
