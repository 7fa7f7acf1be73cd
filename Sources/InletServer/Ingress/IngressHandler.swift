import InletCore
import NIOConcurrencyHelpers
import InletStore
import Logging
import NIOCore
import NIOHTTP1

/// The ingress protocol logic for one connection, as a value: it consumes request parts and the results of the work
/// it asked for (an admission decision, a fetched certificate, a commit), and returns what to do. Kept free of I/O so
/// every edge (404 before the body, 413 mid-stream, pipelined requests, a failed certificate fetch) is tested on its own,
/// like swift-nio's upgrade state machine.
struct IngressStateMachine {
    enum State {
        case idle
        case receiving(source: ResolvedSource, head: HTTPRequestHead, path: String, query: String?, body: ByteBuffer, receivedAt: EpochMillis)
        /// A response was already sent for this request; the rest of it is read and dropped.
        case discarding
        /// The request is complete and being admitted: decided, or waiting for its signing certificate.
        case admitting(IncomingRequest, ResolvedSource)
        /// Waiting for the store to commit; no further request is read until the response is written
        /// (the pipelining handler in front of us holds them back).
        case committing(IncomingRequest, ResolvedSource)
    }

    /// What the answer to the current request depends on besides its bytes, taken from its head.
    struct RequestContext {
        var keepAlive = true
        var version = HTTPVersion.http1_1
        /// A `HEAD` request's answer carries no body (its headers still say how long it would be).
        var isHEAD = false
        /// One snapshot per request: a reload mid-request never mixes two configs.
        var snapshot: ConfigSnapshot?
        var source: ResolvedSource?

        var sourceName: String { source?.name ?? "-" }
        var provider: String { source?.profile.name ?? "-" }
    }

    /// How a stored (or not stored) event is acknowledged.
    enum Acknowledgement: Equatable {
        case accepted(id: String)
        case duplicate(id: String)
        /// A split batch, every item stored or a duplicate: each item's event ID in the batch's order.
        case batch(ids: [String], accepted: Int, duplicates: Int)
        case failed(RejectionReason)
    }

    enum Action: Equatable {
        case none
        /// Answer now, before admission. `close`: the connection cannot be reused (body unread or oversized, or the
        /// client did not ask for keep-alive).
        case respond(status: HTTPResponseStatus, reason: RejectionReason, close: Bool, extraHeaders: [(String, String)])
        /// The request is complete: decide on it and report with `decided`.
        case admit(IncomingRequest, ResolvedSource)
        /// Fetch the signing certificate at this URL (off the event loop) and report with `certificateFetched`.
        case fetchCertificate(String)
        /// Admission refused the complete request: quarantine, count and answer it (the request is `pending`).
        case reject(RejectionReason, close: Bool)
        /// A verified provider handshake: answer it, store nothing.
        case handshake(HandshakeResponse, close: Bool)
        /// Store the admitted event and report with `committed`.
        case commit(AdmittedEvent)
        case acknowledge(Acknowledgement, close: Bool)
        /// Close without an answer (a framing error while an answer is still owed to an earlier request part).
        case close

        /// For tests, one `#expect` per step: headers compare in order; an admission compares the request's bytes
        /// and the source by name.
        static func == (a: Action, b: Action) -> Bool {
            switch (a, b) {
            case (.none, .none), (.close, .close): return true
            case let (.respond(s1, r1, c1, h1), .respond(s2, r2, c2, h2)):
                return s1 == s2 && r1 == r2 && c1 == c2 && h1.map { [$0.0, $0.1] } == h2.map { [$0.0, $0.1] }
            case let (.admit(q1, p1), .admit(q2, p2)):
                return p1.name == p2.name && q1.method == q2.method && q1.path == q2.path && q1.query == q2.query && q1.body == q2.body
                    && q1.headers == q2.headers && q1.receivedAt == q2.receivedAt
            case let (.fetchCertificate(u1), .fetchCertificate(u2)): return u1 == u2
            case let (.reject(r1, c1), .reject(r2, c2)): return r1 == r2 && c1 == c2
            case let (.handshake(h1, c1), .handshake(h2, c2)): return h1 == h2 && c1 == c2
            case let (.commit(e1), .commit(e2)): return e1 == e2
            case let (.acknowledge(k1, c1), .acknowledge(k2, c2)): return k1 == k2 && c1 == c2
            default: return false
            }
        }
    }

    private(set) var state: State = .idle
    private(set) var request = RequestContext()

    /// The complete request being admitted or committed, and its source.
    var pending: (IncomingRequest, ResolvedSource)? {
        switch state {
        case .admitting(let r, let s), .committing(let r, let s): return (r, s)
        default: return nil
        }
    }

    mutating func head(_ head: HTTPRequestHead, snapshot: ConfigSnapshot, now: EpochMillis) -> Action {
        let (path, query) = Self.splitURI(head.uri)
        let source = snapshot.sourcesByPath[path]
        request = RequestContext(keepAlive: head.isKeepAlive, version: head.version, isHEAD: head.method == .HEAD, snapshot: snapshot, source: source)
        let expectsBody = head.headers.contains(name: "transfer-encoding") || (head.headers.first(name: "content-length").flatMap(Int.init) ?? 0) > 0
        guard let source else {
            return refuse(.notFound, .unknownSource, close: expectsBody)
        }
        guard source.accepts(method: head.method.rawValue) else {
            return refuse(.methodNotAllowed, .methodNotAllowed, close: expectsBody, extraHeaders: [("Allow", "POST")])
        }
        let lengths = head.headers[canonicalForm: "content-length"]
        // `Int(_:)` alone would take "+5" and "-1"; RFC 9110 allows digits only. Too many digits is nil, not a trap.
        let parsedLength = lengths.first.flatMap { text in text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } ? Int(text) : nil }
        if lengths.count > 1 || (lengths.count == 1 && parsedLength == nil) {
            return refuse(.badRequest, .malformedRequest, close: true)
        }
        let declared = parsedLength ?? 0
        if declared > source.maxBodyBytes {
            return refuse(.payloadTooLarge, .bodyTooLarge, close: true)
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.reserveCapacity(min(declared, source.maxBodyBytes))
        state = .receiving(source: source, head: head, path: path, query: query, body: buffer, receivedAt: now)
        return .none
    }

    /// An answer before the request is complete: what is left of it is dropped.
    private mutating func refuse(_ status: HTTPResponseStatus, _ reason: RejectionReason, close: Bool, extraHeaders: [(String, String)] = []) -> Action {
        state = .discarding
        return .respond(status: status, reason: reason, close: close || !request.keepAlive, extraHeaders: extraHeaders)
    }

    mutating func body(_ chunk: inout ByteBuffer) -> Action {
        guard case .receiving(let source, let head, let path, let query, var body, let at) = state else { return .none }
        if body.readableBytes + chunk.readableBytes > source.maxBodyBytes {
            return refuse(.payloadTooLarge, .bodyTooLarge, close: true)
        }
        state = .idle  // drop the reference so `body` is uniquely owned while appending
        body.writeBuffer(&chunk)
        state = .receiving(source: source, head: head, path: path, query: query, body: body, receivedAt: at)
        return .none
    }

    mutating func end(peer: IPAddress?) -> Action {
        switch state {
        case .receiving(let source, let head, let path, let query, var body, let at):
            var headers = HTTPHeaderList()
            for h in head.headers { headers.append(h.name, h.value) }
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            let request = IncomingRequest(method: head.method.rawValue, path: path, query: query, headers: headers, body: bytes, peer: peer, receivedAt: at)
            state = .admitting(request, source)
            return .admit(request, source)
        case .discarding, .idle:
            state = .idle
            return .none
        case .admitting, .committing:
            return .none
        }
    }

    /// The admission decision for the request `admit` handed out.
    mutating func decided(_ decision: AdmissionDecision) -> Action {
        guard case .admitting(let request, let source) = state else { return .none }
        let close = !self.request.keepAlive
        switch decision {
        case .needsCertificate(let url): return .fetchCertificate(url)
        case .reject(let reason): return .reject(reason, close: close)
        case .handshake(let answer): return .handshake(answer, close: close)
        case .admit(let admitted):
            state = .committing(request, source)
            return .commit(admitted)
        }
    }

    /// The signing certificate the last `fetchCertificate` asked for: its key, or `.unavailable`.
    mutating func certificateFetched(_ certificate: SigningCertificateState) -> Action {
        guard case .admitting(let request, let source) = state else { return .none }
        let decision = source.decide(request, now: request.receivedAt, certificate: certificate)
        // With the certificate at hand, asking for it again would be a bug: refuse rather than store unverified.
        if case .needsCertificate = decision { return decided(.reject(.certificateUnavailable)) }
        return decided(decision)
    }

    /// The store's answer for the event `commit` handed out.
    mutating func committed(_ result: Result<IngestResult, Error>) -> Action {
        guard case .committing = state else { return .none }
        let close = !request.keepAlive
        switch result {
        case .success(.accepted(let id)): return .acknowledge(.accepted(id: id), close: close)
        case .success(.duplicate(let id)): return .acknowledge(.duplicate(id: id), close: close)
        case .failure(let error):
            let reason: RejectionReason = error is GroupCommitter<IngestRecord, IngestResult>.Stopped ? .shuttingDown : .storeUnavailable
            return .acknowledge(.failed(reason), close: close)
        }
    }

    /// The store's answers for a split batch's items (`commit` handed out one event with items): a batch is
    /// acknowledged when every item is stored or a duplicate; any failure answers the whole request with it, and the
    /// provider's retry stores the rest (items already stored are duplicates then).
    mutating func committedBatch(_ results: [Result<IngestResult, Error>]) -> Action {
        guard case .committing = state else { return .none }
        let close = !request.keepAlive
        var ids: [String] = [], accepted = 0, duplicates = 0
        for result in results {
            switch result {
            case .success(.accepted(let id)): ids.append(id); accepted += 1
            case .success(.duplicate(let id)): ids.append(id); duplicates += 1
            case .failure(let error):
                let reason: RejectionReason = error is GroupCommitter<IngestRecord, IngestResult>.Stopped ? .shuttingDown : .storeUnavailable
                return .acknowledge(.failed(reason), close: close)
            }
        }
        return .acknowledge(.batch(ids: ids, accepted: accepted, duplicates: duplicates), close: close)
    }

    /// The body did not finish arriving in time.
    mutating func bodyTimedOut() -> Action {
        guard case .receiving = state else { return .none }
        return refuse(.requestTimeout, .requestTimeout, close: true)
    }

    /// The next body chunk does not fit the shared in-flight budget.
    mutating func overBudget() -> Action {
        guard case .receiving = state else { return .none }
        return refuse(.serviceUnavailable, .overCapacity, close: true, extraHeaders: [("Retry-After", "1")])
    }

    /// The HTTP parser refused the bytes: nothing later on the connection can be trusted.
    mutating func parseError() -> Action {
        request.keepAlive = false
        switch state {
        case .admitting, .committing: return .close
        case .idle, .receiving, .discarding: return refuse(.badRequest, .malformedRequest, close: true)
        }
    }

    /// The request is being answered before it finished (timeout); drop what was buffered.
    mutating func abandon() { state = .discarding }

    /// The response for the current request was written.
    mutating func responded() {
        switch state {
        case .admitting, .committing: state = .idle
        default: break
        }
    }

    static func splitURI(_ uri: String) -> (String, String?) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, nil) }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }
}

/// Glue between NIO and the admission pipeline: performs the state machine's actions and feeds it their results.
final class IngressHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var machine = IngressStateMachine()
    private var peer: IPAddress?
    /// Bytes of the current request taken from the shared in-flight budget; given back once it is answered.
    private var reserved = 0
    /// Whether the current request's end arrived: an answer before it closes the connection with a lingering close.
    private var requestEnded = true
    /// The metric handles of the source this connection last posted to (a connection rarely changes source).
    private var sourceMetrics: SourceMetrics?
    /// The admitted event waiting for its commit, for the acknowledgement's log line.
    private var committedEvent: AdmittedEvent?
    private let context: IngressContext
    init(context: IngressContext) { self.context = context }

    /// Whether `info` lines are logged: the per-request line's metadata is built only then (at `warning`, building
    /// and dropping it cost ~7 µs per request).
    private var logsRequests: Bool { context.logger.logLevel <= .info }

    func channelActive(context ctx: ChannelHandlerContext) {
        peer = ctx.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        ctx.fireChannelActive()
    }

    func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            ctx.triggerUserOutboundEvent(RequestHeadTimeoutHandler.Progress.headReceived, promise: nil)
            requestEnded = false
            perform(machine.head(head, snapshot: context.runtime.current, now: context.clock.now()), ctx)
        case .body(var chunk):
            if case .receiving = machine.state {
                guard context.budget.reserve(chunk.readableBytes) else {
                    perform(machine.overBudget(), ctx)
                    return
                }
                reserved += chunk.readableBytes
            }
            perform(machine.body(&chunk), ctx)
        case .end:
            requestEnded = true
            perform(machine.end(peer: peer), ctx)
        }
    }

    func channelInactive(context ctx: ChannelHandlerContext) {
        // A request being admitted or committed still holds its bytes (in the commit queue): its answer releases them.
        if machine.pending == nil { releaseBudget() }
        ctx.fireChannelInactive()
    }

    private func metrics(for source: ResolvedSource) -> SourceMetrics {
        if let m = sourceMetrics, m.source == source.name, m.provider == source.profile.name { return m }
        let m = context.metrics.source(source.name, provider: source.profile.name)
        sourceMetrics = m
        return m
    }

    private func countRejection(_ reason: RejectionReason, source: ResolvedSource? = nil) {
        if let source = source ?? machine.request.source {
            metrics(for: source).rejected(reason)
        } else {
            context.metrics.rejected(source: "-", provider: "-", reason: reason)
        }
    }

    private func perform(_ action: IngressStateMachine.Action, _ ctx: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .respond(let status, let reason, let close, let extra):
            countRejection(reason)
            if logsRequests {
                context.logger.info("request", metadata: [
                    "source": "\(machine.request.sourceName)", "status": "\(status.code)", "outcome": "rejected", "reason": "\(reason.rawValue)",
                    "peer": "\(peer?.description ?? "-")",
                ])
            }
            write(ctx, machine.request, status: status, json: reason.answerBody, close: close, extraHeaders: extra)
        case .admit(let request, let source):
            perform(machine.decided(source.decide(request, now: request.receivedAt)), ctx)
        case .fetchCertificate(let url):
            fetchCertificate(url, ctx)
        // The machine is told the request was answered before the answer is written: writing the end releases the
        // next pipelined request, which the pipelining handler delivers during that write, into an idle machine.
        case .reject(let reason, let close):
            guard let (request, source) = machine.pending else { return }
            let answering = machine.request
            machine.responded()
            context.quarantine.keep(request, source: source, reason: reason)
            countRejection(reason, source: source)
            if logsRequests {
                logRequest(source: source.name, status: reason.httpStatus, outcome: "rejected", request: request, extra: ["reason": "\(reason.rawValue)"])
            }
            write(ctx, answering, status: HTTPResponseStatus(statusCode: reason.httpStatus), json: reason.answerBody, close: close)
        case .handshake(var answer, let close) where answer.establishedSecret != nil:
            // A secret the handshake hands over: the answer goes out only once it is stored (the provider signs with it
            // from then on); a source that took one already, or a store that fails, refuses.
            guard let (request, source) = machine.pending else { return }
            let secret = answer.establishedSecret!
            answer.establishedSecret = nil
            let promise = ctx.eventLoop.makePromise(of: Bool.self)
            let keeper = context.handshakeSecrets, logger = context.logger
            promise.completeWithTask { try await keeper?.establish(secret, source: source, peer: request.peer) ?? false }
            promise.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case .success(true): self.perform(.handshake(answer, close: close), ctx)
                case .success(false): self.perform(.reject(.handshakeRefused, close: close), ctx)
                case .failure(let error):
                    logger.error("handshake secret not stored", metadata: ["source": "\(source.name)", "error": "\(error)"])
                    self.perform(.reject(.storeUnavailable, close: close), ctx)
                }
            }
        case .handshake(let answer, let close):
            guard let (request, source) = machine.pending else { return }
            let answering = machine.request
            machine.responded()
            metrics(for: source).handshake()
            if logsRequests {
                logRequest(source: source.name, status: answer.status, outcome: "handshake", request: request, extra: ["provider": "\(source.profile.name)"])
            }
            if let url = answer.followUpGET { context.followUp(url, source: source.name) }
            write(ctx, answering, status: HTTPResponseStatus(statusCode: answer.status), contentType: answer.contentType, body: answer.body, close: close,
                  extraHeaders: answer.headers)
        case .commit(let admitted):
            guard let (request, source) = machine.pending else { return }
            commit(admitted, request, source, ctx)
        case .acknowledge(let ack, let close):
            guard let (request, source) = machine.pending else { return }
            let answering = machine.request
            let event = committedEvent
            committedEvent = nil
            machine.responded()
            acknowledge(ack, close: close, request, source, event, answering, ctx)
        case .close:
            ctx.close(promise: nil)
        }
    }

    /// Certificate schemes (SNS, PayPal) verify with a key fetched off the event loop on a cache miss.
    private func fetchCertificate(_ url: String, _ ctx: ChannelHandlerContext) {
        guard let (_, source) = machine.pending else { return }
        if let key = context.certificates.cachedKey(for: url, requirement: source.certificateRequirement) {
            perform(machine.certificateFetched(.key(key)), ctx)
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
                self.perform(self.machine.certificateFetched(.key(key)), ctx)
            case .failure(let error):
                logger.warning("signing certificate unavailable", metadata: ["source": "\(source.name)", "url": "\(url)", "error": "\(error)"])
                self.perform(self.machine.certificateFetched(.unavailable), ctx)
            }
        }
    }

    private func commit(_ admitted: AdmittedEvent, _ request: IncomingRequest, _ source: ResolvedSource, _ ctx: ChannelHandlerContext) {
        let m = metrics(for: source)
        if let label = admitted.secretLabel { m.verified(secret: label) }
        if let t = admitted.providerTimestamp { m.skew(seconds: Double(t - request.receivedAt) / 1000) }
        let snapshot = machine.request.snapshot ?? context.runtime.current
        committedEvent = admitted
        if !admitted.items.isEmpty {
            // A split batch: one record per item through the same writer; the answer waits for all of them.
            let records = IngestRecord.admittedAll(admitted, request: request, source: source, snapshot: snapshot, receivedAt: request.receivedAt)
            let futures = records.map { record -> EventLoopFuture<IngestResult> in
                let promise = ctx.eventLoop.makePromise(of: IngestResult.self)
                context.writer.submit(record, waiter: .promise(promise))
                return promise.futureResult
            }
            let logger = context.logger
            EventLoopFuture.whenAllComplete(futures, on: ctx.eventLoop).assumeIsolated().whenSuccess { results in
                let action = self.machine.committedBatch(results)
                if case .acknowledge(.failed(let reason), _) = action {
                    logger.error("batch not stored whole", metadata: ["source": "\(source.name)", "reason": "\(reason.rawValue)", "items": "\(records.count)"])
                }
                self.perform(action, ctx)
            }
            return
        }
        let record = IngestRecord.admitted(admitted, request: request, source: source, snapshot: snapshot, receivedAt: request.receivedAt)
        let promise = ctx.eventLoop.makePromise(of: IngestResult.self)
        context.writer.submit(record, waiter: .promise(promise))
        let logger = context.logger
        promise.futureResult.assumeIsolated().whenComplete { result in
            let action = self.machine.committed(result)
            if case .failure(let error) = result, case .acknowledge(.failed(let reason), _) = action {
                logger.error("event not stored", metadata: ["source": "\(source.name)", "reason": "\(reason.rawValue)", "error": "\(error)"])
            }
            self.perform(action, ctx)
        }
    }

    private func acknowledge(_ ack: IngressStateMachine.Acknowledgement, close: Bool, _ request: IncomingRequest, _ source: ResolvedSource,
                             _ admitted: AdmittedEvent?, _ answering: IngressStateMachine.RequestContext, _ ctx: ChannelHandlerContext) {
        let m = metrics(for: source)
        switch ack {
        case .accepted(let id), .duplicate(let id):
            let duplicate: Bool
            if case .duplicate = ack { duplicate = true } else { duplicate = false }
            if duplicate { m.duplicate() } else { m.accepted() }
            m.ackLatency(duplicate: duplicate, seconds: Double(context.clock.now() - request.receivedAt) / 1000)
            if logsRequests, let admitted {
                logRequest(source: source.name, status: 200, outcome: duplicate ? "duplicate" : "accepted", request: request,
                           extra: ["event_id": "\(id)", "event_key": "\(admitted.eventKey)", "secret_label": "\(admitted.secretLabel ?? "-")", "authenticity": "\(admitted.authenticity.rawValue)"])
            }
            if let ack = source.profile.ackBody {
                // The provider retries until it reads exactly this (Alipay's `success`); the event ID moves to a header.
                write(ctx, answering, status: .ok, contentType: "text/plain", body: Array(ack.utf8), close: close, extraHeaders: [("Inlet-Event-Id", "\(id)")])
                return
            }
            let body = (duplicate ? #"{"status":"duplicate","id":""# : #"{"status":"accepted","id":""#) + id + #""}"#
            write(ctx, answering, status: .ok, json: body, close: close)
        case .batch(let ids, let accepted, let duplicates):
            for _ in 0..<accepted { m.accepted() }
            for _ in 0..<duplicates { m.duplicate() }
            m.ackLatency(duplicate: accepted == 0, seconds: Double(context.clock.now() - request.receivedAt) / 1000)
            if logsRequests, let admitted {
                logRequest(source: source.name, status: 200, outcome: accepted > 0 ? "accepted" : "duplicate", request: request,
                           extra: ["items": "\(ids.count)", "accepted": "\(accepted)", "duplicates": "\(duplicates)",
                                   "secret_label": "\(admitted.secretLabel ?? "-")", "authenticity": "\(admitted.authenticity.rawValue)"])
            }
            // `id` is the first item's, for clients that read one; `ids` has every item's, in the batch's order.
            let status = accepted > 0 ? "accepted" : "duplicate"
            let quoted = ids.map { "\"" + $0 + "\"" }.joined(separator: ",")
            let body = "{\"status\":\"\(status)\",\"id\":\"\(ids.first ?? "")\",\"accepted\":\(accepted),\"duplicates\":\(duplicates),\"ids\":[\(quoted)]}"
            write(ctx, answering, status: .ok, json: body, close: close)
        case .failed(let reason):
            m.rejected(reason)
            write(ctx, answering, status: HTTPResponseStatus(statusCode: reason.httpStatus), json: reason.answerBody, close: close)
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

    private func releaseBudget() {
        context.budget.release(reserved)
        reserved = 0
    }

    private func write(_ ctx: ChannelHandlerContext, _ request: IngressStateMachine.RequestContext, status: HTTPResponseStatus, json: String,
                       close: Bool, extraHeaders: [(String, String)] = []) {
        var json = json
        json.withUTF8 { body in
            write(ctx, request, status: status, contentType: "application/json", body: body, close: close, extraHeaders: extraHeaders)
        }
    }

    /// The whole answer (status line, headers, body) is encoded here into one buffer and written once; the
    /// `PreEncodedResponseEncoder` in front of the socket passes it through (the head written before it carries no
    /// headers: it is there for the pipelining handler's bookkeeping).
    /// `request`: the answered request's context, taken before the machine moved on.
    private func write(_ ctx: ChannelHandlerContext, _ request: IngressStateMachine.RequestContext, status: HTTPResponseStatus,
                       contentType: String?, body: some Collection<UInt8>, close: Bool, extraHeaders: [(String, String)] = []) {
        releaseBudget()
        let bytes = IngressResponse.encode(version: request.version, status: status, contentType: contentType, extraHeaders: extraHeaders,
                                           body: body, close: close, omitBody: request.isHEAD, allocator: ctx.channel.allocator)
        ctx.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status))), promise: nil)
        ctx.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        if close {
            // Answered before the request ended (413, 404 on a POST, 503): linger so the client reads the answer.
            if !requestEnded { ctx.triggerUserOutboundEvent(LingeringCloseHandler.Arm(), promise: nil) }
            ctx.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in ctx.close(promise: nil) }
        } else {
            // Before the end: the next pipelined request's head arrives during that write and starts its own clock.
            ctx.triggerUserOutboundEvent(RequestHeadTimeoutHandler.Progress.responseSent, promise: nil)
            ctx.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func userInboundEventTriggered(context ctx: ChannelHandlerContext, event: Any) {
        if event is RequestHeadTimeoutHandler.BodyTimedOut {
            // A body that does not finish arriving within the request timeout (a slow or stalled client) gets 408 and
            // the connection is closed, so trickled bodies cannot hold buffers and connections open indefinitely.
            let action = machine.bodyTimedOut()
            if action != .none { requestEnded = true }  // a client this slow would hold a lingering close open too
            perform(action, ctx)
            return
        }
        if event is IdleStateHandler.IdleStateEvent { ctx.close(promise: nil); return }
        ctx.fireUserInboundEventTriggered(event)
    }

    /// A request the HTTP parser refuses (smuggling patterns such as Content-Length with Transfer-Encoding, bad
    /// chunking, oversized or broken heads) gets `400 malformed_request` and the connection closes: after a framing
    /// error nothing later on it can be trusted. While a commit is pending, or once the connection is closing, the
    /// answer is skipped and the connection just closes.
    func errorCaught(context ctx: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError, ctx.channel.isActive else { ctx.close(promise: nil); return }
        let action = machine.parseError()
        requestEnded = true  // after a framing error nothing more is read: close at once, no lingering
        perform(action, ctx)
    }
}

/// An ingress answer as bytes, exactly as NIO's `HTTPResponseEncoder` wrote it before (same header order and
/// spelling): status line, `Content-Type`, extra headers, `Content-Length`, `Connection: close` when closing, body.
enum IngressResponse {
    static func encode(version: HTTPVersion, status: HTTPResponseStatus, contentType: String?, extraHeaders: [(String, String)],
                       body: some Collection<UInt8>, close: Bool, omitBody: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: 160 + body.count)
        if version.major == 1 && version.minor == 1 {
            out.writeStaticString("HTTP/1.1 ")
        } else if version.major == 1 && version.minor == 0 {
            out.writeStaticString("HTTP/1.0 ")
        } else {
            out.writeString("HTTP/\(version.major).\(version.minor) ")
        }
        out.writeString(String(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
        if let contentType {
            out.writeStaticString("Content-Type: ")
            out.writeString(contentType)
            out.writeStaticString("\r\n")
        }
        for (name, value) in extraHeaders {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        // As the encoder did: 1xx, 204 and 304 answers carry neither a length nor a body.
        let mayHaveBody = status.mayHaveResponseBody
        if mayHaveBody {
            out.writeStaticString("Content-Length: ")
            out.writeString(String(body.count))
            out.writeStaticString("\r\n")
        }
        if close { out.writeStaticString("Connection: close\r\n") }
        out.writeStaticString("\r\n")
        if mayHaveBody && !omitBody { out.writeBytes(body) }
        return out
    }
}

/// The ingress pipeline's response encoder, in place of NIO's `HTTPResponseEncoder`: `IngressHandler` writes each
/// answer as a head without headers, one pre-encoded buffer (`IngressResponse`) and an end. The head is there for the
/// pipelining handler (which adds `connection: close` to it while the server quiesces: then the buffer gets that
/// header too); the buffer is written once, with the end's promise.
final class PreEncodedResponseEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    private var closeAdded = false
    private var pending: ByteBuffer?
    private var pendingPromise: EventLoopPromise<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            closeAdded = head.headers.contains(name: "connection")
            promise?.succeed(())
        case .body(.byteBuffer(let bytes)):
            let bytes = closeAdded ? Self.addingConnectionClose(to: bytes) : bytes
            if var held = pending {
                var b = bytes
                held.writeBuffer(&b)
                pending = held
            } else {
                pending = bytes
            }
            if let promise {
                if let p = pendingPromise { p.futureResult.cascade(to: promise) } else { pendingPromise = promise }
            }
        case .body(.fileRegion(let region)):
            flushPending(context, promise: nil)
            context.write(wrapOutboundOut(.fileRegion(region)), promise: promise)
        case .end:
            flushPending(context, promise: promise)
        }
    }

    private func flushPending(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let held = pending ?? context.channel.allocator.buffer(capacity: 0)
        pending = nil
        let bodyPromise = pendingPromise
        pendingPromise = nil
        if let bodyPromise, let promise { promise.futureResult.cascade(to: bodyPromise) }
        context.write(wrapOutboundOut(.byteBuffer(held)), promise: promise ?? bodyPromise)
    }

    /// While quiescing: the answer's head gets `Connection: close` unless it already says so.
    static func addingConnectionClose(to bytes: ByteBuffer) -> ByteBuffer {
        let text = String(buffer: bytes)
        guard let end = text.range(of: "\r\n\r\n") else { return bytes }
        let head = text[..<end.lowerBound]
        if head.lowercased().contains("\r\nconnection: close") { return bytes }
        return ByteBuffer(string: String(head) + "\r\nConnection: close" + String(text[end.lowerBound...]))
    }
}

/// What every ingress connection shares.
struct IngressContext: Sendable {
    let runtime: LiveConfig
    let writer: GroupCommitter<IngestRecord, IngestResult>
    let clock: any WallClock
    let logger: Logger
    let certificates: SigningCertificateCache
    let metrics: GatewayMetrics
    let quarantine: QuarantineWriter
    /// How long a request's body may take to arrive.
    let requestTimeout: TimeAmount
    /// Performs a handshake's follow-up GET (SNS subscription confirmation).
    let followUpGET: @Sendable (String) async throws -> Int
    /// Stores a secret a handshake hands over (Asana), when admission let it through; without one such a handshake
    /// is refused.
    var handshakeSecrets: HandshakeSecretKeeper? = nil
    /// Request bytes in memory across all connections (`[server] max_in_flight_bytes`).
    var budget = InFlightBudget(limit: 256 << 20)

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
