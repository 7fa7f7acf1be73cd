import Foundation
import InletCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Where deliveries go: the parts of a destination URL the client needs, parsed once per URL.
struct DeliveryOrigin: Hashable, Sendable {
    var secure: Bool
    var host: String
    var port: Int
    /// The request target: path and query, as given (already percent-encoded in the config).
    var target: String
    /// The `Host` header value: the host, with the port when it is not the scheme's default.
    var hostHeader: String

    init?(url: String) {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = u.host, !host.isEmpty else { return nil }
        secure = scheme == "https"
        let defaultPort = secure ? 443 : 80
        port = u.port ?? defaultPort
        guard (1...65535).contains(port) else { return nil }
        self.host = host
        var target = u.path.isEmpty ? "/" : u.path
        // `URL.path` decodes percent escapes; the percent-encoded form is what goes on the wire.
        if let c = URLComponents(string: url) { target = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath }
        if let q = u.query { target += "?" + q }
        self.target = target
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }
}

/// The delivery engine's HTTP/1.1 client: keep-alive connections per origin, each request written as one buffer
/// (head and body together), the answer read only as far as the attempt log needs (status, `Retry-After`, the first
/// KiB of the body). It exists because AsyncHTTPClient's general path (a task, async body streaming and tracing spans
/// per request) cost more CPU per delivery than everything else in forwarding together (benchmarks/load/RESULTS.md).
/// Redirects are answers, never followed (see `OutboundHTTP`); no proxies, no HTTP/2.
final class DeliveryHTTPClient: Sendable {
    struct Answer: Sendable, Equatable {
        var status: Int
        var retryAfter: String?
        var snippet: [UInt8]
        /// Set when the connection closed before the body ended: the answer is judged by its status, and this goes
        /// to the attempt log.
        var brokenOff: String? = nil
    }

    enum Failure: Error, Equatable, CustomStringConvertible {
        case timeout
        case connectFailed(String)
        case closedBeforeAnswer
        case malformedAnswer(String)
        case invalidURL

        var description: String {
            switch self {
            case .timeout: return "timeout"
            case .connectFailed(let why): return "connect_failed: \(why)"
            case .closedBeforeAnswer: return "connection closed before an answer"
            case .malformedAnswer(let why): return "malformed answer: \(why)"
            case .invalidURL: return "invalid destination URL"
            }
        }
    }

    private let group: any EventLoopGroup
    /// Made on the first `https` destination: loading the system's trust roots costs tens of milliseconds.
    private let tls = NIOLockedValueBox<NIOSSLContext?>(nil)
    private let snippetLimit: Int
    private let connectTimeout: TimeAmount
    /// Idle keep-alive connections per origin, most recently used last.
    private let idle = NIOLockedValueBox<[DeliveryOrigin: [Channel]]>([:])
    private let origins = NIOLockedValueBox<[String: DeliveryOrigin]>([:])
    /// Idle connections kept per origin; more are closed when they come back.
    private let maxIdlePerOrigin: Int

    init(group: any EventLoopGroup, snippetLimit: Int, connectTimeout: TimeAmount = .seconds(5), maxIdlePerOrigin: Int = 256) {
        self.group = group
        self.snippetLimit = snippetLimit
        self.connectTimeout = connectTimeout
        self.maxIdlePerOrigin = maxIdlePerOrigin
    }

    private func tlsContext() throws -> NIOSSLContext {
        try tls.withLockedValue { context in
            if let context { return context }
            let made = try NIOSSLContext(configuration: .makeClientConfiguration())
            context = made
            return made
        }
    }

    func origin(for url: String) -> DeliveryOrigin? {
        if let o = origins.withLockedValue({ $0[url] }) { return o }
        guard let o = DeliveryOrigin(url: url) else { return nil }
        origins.withLockedValue { cache in
            if cache.count > 4096 { cache.removeAll() }  // bounded: URLs come from the config, but reloads add new ones
            cache[url] = o
        }
        return o
    }

    /// Sends one request: `headers` must not hold `Host`, `Content-Length`, `Connection` or `Transfer-Encoding` (the
    /// client writes those). A request sent on a reused connection that the peer had closed (no byte of an answer
    /// arrived) is sent once more on a new connection: idle keep-alive connections may be closed at any time.
    func send(url: String, headers: HTTPHeaderList, body: [UInt8], timeout: TimeAmount) async throws -> Answer {
        guard let origin = origin(for: url) else { throw Failure.invalidURL }
        var request = ByteBuffer()
        request.reserveCapacity(256 + body.count + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        request.writeString("POST \(origin.target) HTTP/1.1\r\nHost: \(origin.hostHeader)\r\nContent-Length: \(body.count)\r\n")
        for (name, value) in headers where Self.isSafeHeader(name: name, value: value) {
            request.writeString(name); request.writeStaticString(": "); request.writeString(value); request.writeStaticString("\r\n")
        }
        request.writeStaticString("\r\n")
        request.writeBytes(body)
        let deadline = NIODeadline.now() + timeout
        if let reused = takeIdle(origin) {
            do {
                return try await exchange(on: reused, origin: origin, request: request, deadline: deadline)
            } catch Failure.closedBeforeAnswer {
                // The peer closed the idle connection while we were writing to it: try once on a fresh one.
            }
        }
        let channel = try await connect(origin, deadline: deadline)
        return try await exchange(on: channel, origin: origin, request: request, deadline: deadline)
    }

    /// Closes every idle connection.
    func shutdown() {
        let all = idle.withLockedValue { idle -> [Channel] in
            defer { idle.removeAll() }
            return idle.values.flatMap { $0 }
        }
        for c in all { c.close(promise: nil) }
    }

    /// Header names and values are the config's and the stored event's; a CR or LF would split the request, and the
    /// connection's own headers are the client's to write.
    static func isSafeHeader(name: String, value: String) -> Bool {
        !name.isEmpty && !HTTPHeaderList.connectionLevel.contains(name.lowercased()) && !name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 58 || $0 == 32 })
            && !value.utf8.contains(where: { $0 == 13 || $0 == 10 })
    }

    private func takeIdle(_ origin: DeliveryOrigin) -> Channel? {
        idle.withLockedValue { idle -> Channel? in
            while var list = idle[origin], let c = list.popLast() {
                idle[origin] = list.isEmpty ? nil : list
                if c.isActive { return c }
                c.close(promise: nil)
            }
            return nil
        }
    }

    private func giveBack(_ channel: Channel, origin: DeliveryOrigin) {
        let keep = idle.withLockedValue { idle -> Bool in
            guard channel.isActive, idle[origin, default: []].count < maxIdlePerOrigin else { return false }
            idle[origin, default: []].append(channel)
            return true
        }
        if !keep { channel.close(promise: nil) }
    }

    private func connect(_ origin: DeliveryOrigin, deadline: NIODeadline) async throws -> Channel {
        let tls: NIOSSLContext?
        do { tls = origin.secure ? try tlsContext() : nil } catch { throw Failure.connectFailed("TLS: \(error)") }
        let remaining = deadline - .now()
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(min(connectTimeout, max(remaining, .milliseconds(1))))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // An IP literal is not a valid SNI name.
                        let sni = (try? SocketAddress(ipAddress: origin.host, port: 0)) == nil ? origin.host : nil
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: sni))
                    }
                    try channel.pipeline.syncOperations.addHandler(PreEncodedRequestWriter())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(DeliveryAnswerHandler())
                }
            }
        do {
            return try await bootstrap.connect(host: origin.host, port: origin.port).get()
        } catch let e as ChannelError where e == .connectTimeout(min(connectTimeout, max(remaining, .milliseconds(1)))) {
            throw Failure.timeout
        } catch let e as NIOConnectionError {
            throw Failure.connectFailed(e.connectionErrors.first.map { "\($0.error)" } ?? "\(e)")
        } catch {
            if case ChannelError.connectTimeout = error { throw Failure.timeout }
            throw Failure.connectFailed("\(error)")
        }
    }

    private func exchange(on channel: Channel, origin: DeliveryOrigin, request: ByteBuffer, deadline: NIODeadline) async throws -> Answer {
        let promise = channel.eventLoop.makePromise(of: DeliveryAnswerHandler.Result.self)
        let limit = snippetLimit
        channel.eventLoop.execute {
            guard let handler = try? channel.pipeline.syncOperations.handler(type: DeliveryAnswerHandler.self) else {
                promise.fail(Failure.closedBeforeAnswer)
                return
            }
            handler.expect(promise, snippetLimit: limit, deadline: deadline, context: channel)
            // The response decoder expects an answer only to a request it saw written (as typed parts): it sees a head,
            // and the pre-encoded bytes pass under it to the socket.
            channel.write(HTTPClientRequestPart.head(PreEncodedRequestWriter.head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(request)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        let result = try await promise.futureResult.get()
        if result.reusable { giveBack(channel, origin: origin) } else { channel.close(promise: nil) }
        return result.answer
    }
}

/// Reads one answer per request on a delivery connection: the status, `Retry-After`, and the body up to the snippet
/// limit. An answer longer than that (or one that never ends) completes the exchange at the limit, and the connection
/// is closed rather than drained. Runs on the channel's event loop only.
final class DeliveryAnswerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    struct Result: Sendable {
        var answer: DeliveryHTTPClient.Answer
        var reusable: Bool
    }

    private var promise: EventLoopPromise<Result>?
    private var answer = DeliveryHTTPClient.Answer(status: 0, retryAfter: nil, snippet: [])
    private var keepAlive = true
    private var sawHead = false
    private var snippetLimit = 0
    private var timer: Scheduled<Void>?

    /// Called on the event loop before the request is written.
    func expect(_ promise: EventLoopPromise<Result>, snippetLimit: Int, deadline: NIODeadline, context channel: Channel) {
        self.promise = promise
        self.snippetLimit = snippetLimit
        answer = .init(status: 0, retryAfter: nil, snippet: [])
        sawHead = false
        keepAlive = true
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            bound.value.finish(.failure(DeliveryHTTPClient.Failure.timeout))
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else {
            // Bytes nobody asked for (an answer after a timeout, or junk): the connection cannot be trusted for the next one.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
            if head.status.code < 200 { return }
            sawHead = true
            answer.status = Int(head.status.code)
            answer.retryAfter = head.headers.first(name: "Retry-After")
            keepAlive = head.isKeepAlive
        case .body(var chunk):
            let take = min(chunk.readableBytes, snippetLimit - answer.snippet.count)
            if take > 0, let bytes = chunk.readBytes(length: take) { answer.snippet += bytes }
            if answer.snippet.count >= snippetLimit && chunk.readableBytes > 0 {
                // More than the attempt log keeps: judge by what arrived and drop the connection instead of draining it.
                finish(.success(Result(answer: answer, reusable: false)))
                context.close(promise: nil)
            }
        case .end:
            guard sawHead else { return }
            finish(.success(Result(answer: answer, reusable: keepAlive)))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if sawHead {
            // The head arrived and the body broke off (a reset, or EOF before its length): judged by its status.
            answer.brokenOff = "\(error)"
            finish(.success(Result(answer: answer, reusable: false)))
        } else if let e = error as? HTTPParserError {
            finish(.failure(DeliveryHTTPClient.Failure.malformedAnswer("\(e)")))
        } else {
            // A reset before any answer: on a reused connection the peer had closed it, and the client tries once more.
            finish(.failure(DeliveryHTTPClient.Failure.closedBeforeAnswer))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closed mid-answer: an answer whose body broke off is still judged by its status.
        if sawHead {
            answer.brokenOff = "connection closed before the answer's body ended"
            finish(.success(Result(answer: answer, reusable: false)))
        } else { finish(.failure(DeliveryHTTPClient.Failure.closedBeforeAnswer)) }
        context.fireChannelInactive()
    }

    private func finish(_ result: Swift.Result<Result, Error>) {
        guard let p = promise else { return }
        promise = nil
        timer?.cancel()
        timer = nil
        p.completeWith(result)
    }
}

/// Below the response decoder: a request arrives as a stand-in head (for the decoder's bookkeeping), the whole request
/// already encoded as one body buffer, and an end. Only the buffer reaches the socket.
final class PreEncodedRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    /// Every delivery is a POST with a body: the decoder reads its answer as it would any POST's.
    static let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head, .end: promise?.succeed(())
        case .body(let body): context.write(wrapOutboundOut(body), promise: promise)
        }
    }
}
