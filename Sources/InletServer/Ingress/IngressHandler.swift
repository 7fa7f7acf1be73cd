import InletCore
import NIOConcurrencyHelpers
import InletStore
import Logging
import NIOCore
import NIOHTTP1

/// The ingress protocol logic for one connection, as a value: it consumes request parts and returns what to do.
/// Kept free of I/O so every edge (404 before the body, 413 mid-stream, pipelined requests) is tested on its own.
struct IngressStateMachine {
    enum State {
        case idle
        case receiving(source: ResolvedSource, head: HTTPRequestHead, path: String, query: String?, body: ByteBuffer, receivedAt: EpochMillis)
        /// A response was already sent for this request; the rest of it is read and dropped.
        case discarding
        /// Waiting for the store to commit; no further request is read until the response is written
        /// (the pipelining handler in front of us holds them back).
        case committing
    }

    enum Action: Equatable {
        case none
        /// Answer now. `close`: the connection cannot be reused (body unread or oversized).
        case respond(status: HTTPResponseStatus, reason: RejectionReason, close: Bool, extraHeaders: [(String, String)])
        case admit(IncomingRequest, ResolvedSource)

        /// For tests, one `#expect` per step: headers compare in order; an admission compares the request's bytes
        /// and the source by name.
        static func == (a: Action, b: Action) -> Bool {
            switch (a, b) {
            case (.none, .none): return true
            case let (.respond(s1, r1, c1, h1), .respond(s2, r2, c2, h2)):
                return s1 == s2 && r1 == r2 && c1 == c2 && h1.map { [$0.0, $0.1] } == h2.map { [$0.0, $0.1] }
            case let (.admit(q1, p1), .admit(q2, p2)):
                return p1.name == p2.name && q1.method == q2.method && q1.path == q2.path && q1.query == q2.query && q1.body == q2.body
                    && q1.headers == q2.headers && q1.receivedAt == q2.receivedAt
            default: return false
            }
        }
    }

    private(set) var state: State = .idle

    mutating func head(_ head: HTTPRequestHead, snapshot: ConfigSnapshot, now: EpochMillis) -> Action {
        let (path, query) = Self.splitURI(head.uri)
        let expectsBody = head.headers.contains(name: "transfer-encoding") || (head.headers.first(name: "content-length").flatMap(Int.init) ?? 0) > 0
        guard let source = snapshot.sourcesByPath[path] else {
            state = .discarding
            return .respond(status: .notFound, reason: .unknownSource, close: expectsBody, extraHeaders: [])
        }
        guard head.method == .POST || (head.method == .GET && source.acceptsGET) else {
            state = .discarding
            return .respond(status: .methodNotAllowed, reason: .methodNotAllowed, close: expectsBody, extraHeaders: [("Allow", "POST")])
        }
        let lengths = head.headers[canonicalForm: "content-length"]
        // `Int(_:)` alone would take "+5" and "-1"; RFC 9110 allows digits only. Too many digits is nil, not a trap.
        let parsedLength = lengths.first.flatMap { text in text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } ? Int(text) : nil }
        if lengths.count > 1 || (lengths.count == 1 && parsedLength == nil) {
            state = .discarding
            return .respond(status: .badRequest, reason: .malformedRequest, close: true, extraHeaders: [])
        }
        let declared = parsedLength ?? 0
        if declared > source.maxBodyBytes {
            state = .discarding
            return .respond(status: .payloadTooLarge, reason: .bodyTooLarge, close: true, extraHeaders: [])
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.reserveCapacity(min(declared, source.maxBodyBytes))
        state = .receiving(source: source, head: head, path: path, query: query, body: buffer, receivedAt: now)
        return .none
    }

    mutating func body(_ chunk: inout ByteBuffer) -> Action {
        guard case .receiving(let source, let head, let path, let query, var body, let at) = state else { return .none }
        if body.readableBytes + chunk.readableBytes > source.maxBodyBytes {
            state = .discarding
            return .respond(status: .payloadTooLarge, reason: .bodyTooLarge, close: true, extraHeaders: [])
        }
        state = .idle  // drop the reference so `body` is uniquely owned while appending
        body.writeBuffer(&chunk)
        state = .receiving(source: source, head: head, path: path, query: query, body: body, receivedAt: at)
        return .none
    }

    mutating func end(peer: IPAddress?) -> Action {
        switch state {
        case .receiving(let source, let head, let path, let query, var body, let at):
            state = .committing
            var headers = HTTPHeaderList()
            for h in head.headers { headers.append(h.name, h.value) }
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            let request = IncomingRequest(method: head.method.rawValue, path: path, query: query, headers: headers, body: bytes, peer: peer, receivedAt: at)
            return .admit(request, source)
        case .discarding, .idle, .committing:
            state = .idle
            return .none
        }
    }

    /// The request is being answered before it finished (timeout); drop what was buffered.
    mutating func abandon() { state = .discarding }

    /// The response for the current request was written.
    mutating func responded() {
        if case .committing = state { state = .idle }
    }

    static func splitURI(_ uri: String) -> (String, String?) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, nil) }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }
}

/// Glue between NIO and the admission pipeline: performs the state machine's actions.
final class IngressHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var machine = IngressStateMachine()
    private var keepAlive = true
    private var version = HTTPVersion.http1_1
    private var peer: IPAddress?
    private var bodyDeadline: Scheduled<Void>?
    private var requestSnapshot: ConfigSnapshot?
    private var currentSourceName: String?
    private var currentProvider: String?
    /// Bytes of the current request taken from the shared in-flight budget; given back once it is answered.
    private var reserved = 0
    /// Whether the current request's end arrived: an answer before it closes the connection with a lingering close.
    private var requestEnded = true
    private let context: IngressContext

    init(context: IngressContext) { self.context = context }

    func channelActive(context ctx: ChannelHandlerContext) {
        peer = ctx.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        ctx.fireChannelActive()
    }

    func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            ctx.triggerUserOutboundEvent(RequestHeadTimeoutHandler.Progress.headReceived, promise: nil)
            requestEnded = false
            keepAlive = head.isKeepAlive
            version = head.version
            // One snapshot per request: a reload mid-request never mixes two configs.
            let snapshot = context.runtime.current
            requestSnapshot = snapshot
            let source = snapshot.sourcesByPath[IngressStateMachine.splitURI(head.uri).0]
            currentSourceName = source?.name
            currentProvider = source?.profile.name
            perform(machine.head(head, snapshot: snapshot, now: context.clock.now()), ctx)
            if case .receiving = machine.state { armBodyDeadline(ctx) }
        case .body(var chunk):
            if case .receiving = machine.state {
                guard context.budget.reserve(chunk.readableBytes) else {
                    bodyDeadline?.cancel()
                    bodyDeadline = nil
                    machine.abandon()
                    perform(.respond(status: .serviceUnavailable, reason: .overCapacity, close: true, extraHeaders: [("Retry-After", "1")]), ctx)
                    return
                }
                reserved += chunk.readableBytes
            }
            perform(machine.body(&chunk), ctx)
        case .end:
            requestEnded = true
            bodyDeadline?.cancel()
            bodyDeadline = nil
            perform(machine.end(peer: peer), ctx)
        }
    }

    /// A body that does not finish arriving within the request timeout (a slow or stalled client) gets 408 and the
    /// connection is closed, so trickled bodies cannot hold buffers and connections open indefinitely.
    private func armBodyDeadline(_ ctx: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        bodyDeadline = ctx.eventLoop.scheduleTask(in: context.requestTimeout) {
            let (handler, ctx) = loopBound.value
            guard case .receiving = handler.machine.state else { return }
            handler.machine.abandon()
            handler.requestEnded = true  // a client this slow would hold a lingering close open too
            handler.perform(.respond(status: .requestTimeout, reason: .requestTimeout, close: true, extraHeaders: []), ctx)
        }
    }

    func channelInactive(context ctx: ChannelHandlerContext) {
        bodyDeadline?.cancel()
        // A request waiting for its commit still holds its bytes (in the commit queue): its answer releases them.
        if case .committing = machine.state {} else { releaseBudget() }
        ctx.fireChannelInactive()
    }

    private func perform(_ action: IngressStateMachine.Action, _ ctx: ChannelHandlerContext) {
        switch action {
        case .none: return
        case .respond(let status, let reason, let close, let extra):
            context.recordRejection(reason)
            context.metrics.rejected(source: currentSourceName ?? "-", provider: currentProvider ?? "-", reason: reason)
            context.logger.info("request", metadata: [
                "source": "\(currentSourceName ?? "-")", "status": "\(status.code)", "outcome": "rejected", "reason": "\(reason.rawValue)",
                "peer": "\(peer?.description ?? "-")",
            ])
            write(ctx, status: status, body: reason.answerBody, close: close || !keepAlive, extraHeaders: extra)
        case .admit(let request, let source):
            admit(request, source, ctx)
        }
    }

    private func admit(_ request: IncomingRequest, _ source: ResolvedSource, _ ctx: ChannelHandlerContext) {
        // Certificate schemes (SNS, PayPal) verify with a key fetched off the event loop on a cache miss.
        let decision = source.decide(request, now: request.receivedAt)
        guard case .needsCertificate(let url) = decision else {
            decide(decision, request, source, ctx)
            return
        }
        if let key = context.certificates.cachedKey(for: url, requirement: source.certificateRequirement) {
            decide(source.decide(request, now: request.receivedAt, certificate: .key(key)), request, source, ctx)
            return
        }
        let promise = ctx.eventLoop.makePromise(of: [UInt8].self)
        let certificates = context.certificates
        let requirement = source.certificateRequirement
        promise.completeWithTask { try await certificates.publicKey(for: url, requirement: requirement) }
        let logger = context.logger
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let key):
                self.decide(source.decide(request, now: request.receivedAt, certificate: .key(key)), request, source, ctx)
            case .failure(let error):
                logger.warning("signing certificate unavailable", metadata: ["source": "\(source.name)", "url": "\(url)", "error": "\(error)"])
                self.decide(source.decide(request, now: request.receivedAt, certificate: .unavailable), request, source, ctx)
            }
        }
    }

    private func decide(_ decision: AdmissionDecision, _ request: IncomingRequest, _ source: ResolvedSource, _ ctx: ChannelHandlerContext) {
        switch decision {
        case .needsCertificate:
            // `admit` fetches before it decides; reaching here would be a bug: refuse rather than store unverified.
            decide(.reject(.certificateUnavailable), request, source, ctx)
        case .reject(let reason):
            context.quarantine.keep(request, source: source, reason: reason)
            context.recordRejection(reason)
            context.metrics.rejected(source: source.name, provider: source.profile.name, reason: reason)
            logRequest(source: source.name, status: reason.httpStatus, outcome: "rejected", request: request, extra: ["reason": "\(reason.rawValue)"])
            write(ctx, status: HTTPResponseStatus(statusCode: reason.httpStatus), body: reason.answerBody, close: !keepAlive)
            machine.responded()
        case .handshake(let answer):
            context.counters.countHandshake()
            context.metrics.handshake(provider: source.profile.name)
            logRequest(source: source.name, status: answer.status, outcome: "handshake", request: request, extra: ["provider": "\(source.profile.name)"])
            if let url = answer.followUpGET { context.followUp(url, source: source.name) }
            var headers: [(String, String)] = []
            if let ct = answer.contentType { headers.append(("Content-Type", ct)) }
            write(ctx, status: HTTPResponseStatus(statusCode: answer.status), body: answer.body, close: !keepAlive, headers: headers)
            machine.responded()
        case .admit(let admitted):
            context.metrics.verified(source: source.name, secret: admitted.secretLabel)
            if let t = admitted.providerTimestamp { context.metrics.skew(source: source.name, seconds: Double(t - request.receivedAt) / 1000) }
            let snapshot = requestSnapshot ?? context.runtime.current
            let record = IngestRecord.admitted(admitted, request: request, source: source, snapshot: snapshot, receivedAt: request.receivedAt)
            let promise = ctx.eventLoop.makePromise(of: IngestResult.self)
            context.writer.submit(record, waiter: .promise(promise))
            let keepAlive = self.keepAlive
            let logger = context.logger
            promise.futureResult.assumeIsolated().whenComplete { result in
                let status: HTTPResponseStatus
                let body: String
                var acked: String?
                switch result {
                case .success(.accepted(let id)):
                    acked = "accepted"
                    self.context.metrics.accepted(source: source.name, provider: source.profile.name)
                    status = .ok
                    body = #"{"status":"accepted","id":"\#(id)"}"#
                    self.logRequest(source: source.name, status: 200, outcome: "accepted", request: request,
                                    extra: ["event_id": "\(id)", "event_key": "\(admitted.eventKey)", "secret_label": "\(admitted.secretLabel)"])
                case .success(.duplicate(let id)):
                    acked = "duplicate"
                    self.context.metrics.duplicate(source: source.name)
                    status = .ok
                    body = #"{"status":"duplicate","id":"\#(id)"}"#
                    self.logRequest(source: source.name, status: 200, outcome: "duplicate", request: request,
                                    extra: ["event_id": "\(id)", "event_key": "\(admitted.eventKey)", "secret_label": "\(admitted.secretLabel)"])
                case .failure(let error):
                    let reason: RejectionReason = error is GroupCommitter<IngestRecord, IngestResult>.Stopped ? .shuttingDown : .storeUnavailable
                    self.context.recordRejection(reason)
                    self.context.metrics.rejected(source: source.name, provider: source.profile.name, reason: reason)
                    logger.error("event not stored", metadata: ["source": "\(source.name)", "reason": "\(reason.rawValue)", "error": "\(error)"])
                    status = HTTPResponseStatus(statusCode: reason.httpStatus)
                    body = reason.answerBody
                }
                if let acked {
                    self.context.metrics.ackLatency(source: source.name, outcome: acked, seconds: Double(self.context.clock.now() - request.receivedAt) / 1000)
                }
                self.write(ctx, status: status, body: body, close: !keepAlive)
                self.machine.responded()
            }
        }
    }

    /// One line per request. `event_id` is the correlation ID: the same value travels to destinations as
    /// `webhook-id` and `Inlet-Event-Id`, and appears on every attempt's log line. Never a body or a secret.
    private func logRequest(source: String, status: Int, outcome: String, request: IncomingRequest, extra: Logger.Metadata) {
        var meta: Logger.Metadata = [
            "source": "\(source)", "status": "\(status)", "outcome": "\(outcome)", "bytes": "\(request.body.count)",
            "peer": "\(request.peer?.description ?? "-")", "duration_ms": "\(context.clock.now() - request.receivedAt)",
        ]
        meta.merge(extra) { $1 }
        context.logger.info("request", metadata: meta)
    }

    private func write(_ ctx: ChannelHandlerContext, status: HTTPResponseStatus, body: String, close: Bool, extraHeaders: [(String, String)] = []) {
        write(ctx, status: status, body: Array(body.utf8), close: close, headers: [("Content-Type", "application/json")] + extraHeaders)
    }

    private func releaseBudget() {
        context.budget.release(reserved)
        reserved = 0
    }

    private func write(_ ctx: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8], close: Bool, headers extra: [(String, String)]) {
        releaseBudget()
        var headers = HTTPHeaders()
        headers.reserveCapacity(3 + extra.count)
        for (n, v) in extra { headers.add(name: n, value: v) }
        headers.add(name: "Content-Length", value: String(body.count))
        if close { headers.add(name: "Connection", value: "close") }
        ctx.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            ctx.write(wrapOutboundOut(.body(.byteBuffer(ctx.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        if close {
            // Answered before the request ended (413, 404 on a POST, 503): linger so the client reads the answer.
            if !requestEnded { ctx.triggerUserOutboundEvent(LingeringCloseHandler.Arm(), promise: nil) }
            ctx.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in ctx.close(promise: nil) }
        } else {
            ctx.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            ctx.triggerUserOutboundEvent(RequestHeadTimeoutHandler.Progress.responseSent, promise: nil)
        }
    }

    func userInboundEventTriggered(context ctx: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { ctx.close(promise: nil); return }
        ctx.fireUserInboundEventTriggered(event)
    }

    /// A request the HTTP parser refuses (smuggling patterns such as Content-Length with Transfer-Encoding, bad
    /// chunking, oversized or broken heads) gets `400 malformed_request` and the connection closes: after a framing
    /// error nothing later on it can be trusted. While a commit is pending, or once the connection is closing, the
    /// answer is skipped and the connection just closes.
    func errorCaught(context ctx: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError, ctx.channel.isActive else { ctx.close(promise: nil); return }
        switch machine.state {
        case .committing:
            ctx.close(promise: nil)
        case .idle, .receiving, .discarding:
            bodyDeadline?.cancel()
            bodyDeadline = nil
            machine.abandon()
            keepAlive = false
            requestEnded = true  // after a framing error nothing more is read: close at once, no lingering
            perform(.respond(status: .badRequest, reason: .malformedRequest, close: true, extraHeaders: []), ctx)
        }
    }
}

/// What every ingress connection shares.
struct IngressContext: Sendable {
    let runtime: LiveConfig
    let writer: GroupCommitter<IngestRecord, IngestResult>
    let clock: any WallClock
    let logger: Logger
    let counters: IngressCounters
    let certificates: SigningCertificateCache
    let metrics: GatewayMetrics
    let quarantine: QuarantineWriter
    /// How long a request's body may take to arrive.
    let requestTimeout: TimeAmount
    /// Performs a handshake's follow-up GET (SNS subscription confirmation).
    let followUpGET: @Sendable (String) async throws -> Int
    /// Request bytes in memory across all connections (`[server] max_in_flight_bytes`).
    var budget = InFlightBudget(limit: 256 << 20)

    func recordRejection(_ reason: RejectionReason) { counters.count(reason) }

    func followUp(_ url: String, source: String) {
        let logger = self.logger, get = followUpGET
        Task {
            do {
                let status = try await get(url)
                logger.notice("handshake follow-up done", metadata: ["source": "\(source)", "url": "\(url)", "status": "\(status)"])
            } catch {
                logger.error("handshake follow-up failed", metadata: ["source": "\(source)", "url": "\(url)", "error": "\(error)"])
            }
        }
    }
}

/// Counts of outcomes by reason, for tests and (later) metrics.
public final class IngressCounters: Sendable {
    private let box = NIOLockedValueBox([String: Int]())
    public init() {}
    func count(_ reason: RejectionReason) { box.withLockedValue { $0[reason.rawValue, default: 0] += 1 } }
    func countHandshake() { box.withLockedValue { $0["handshake", default: 0] += 1 } }
    public var snapshot: [String: Int] { box.withLockedValue { $0 } }
}
