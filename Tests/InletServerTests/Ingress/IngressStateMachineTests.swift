import InletConfig
import InletCore
@testable import InletServer
import InletStore
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Foundation
import Prometheus
import Testing

@Suite("Ingress protocol logic")
struct IngressStateMachineTests {
    static let snapshot = try! resolvedSnapshot(destinationTOML("svc", url: "http://127.0.0.1:1/x") + stripeSource + "\nmax_body_bytes = 100\n")

    func head(_ method: HTTPMethod, _ uri: String, _ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    @Test func unknownPathIsAnswered404AndTheBodyDiscarded() {
        var m = IngressStateMachine()
        #expect(m.head(head(.POST, "/hooks/nope", [("Content-Length", "5")]), snapshot: Self.snapshot, now: 0)
                == .respond(status: .notFound, reason: .unknownSource, close: true, extraHeaders: []))
        var chunk = ByteBuffer(string: "hello")
        #expect(m.body(&chunk) == .none)  // discarded
        #expect(m.end(peer: nil) == .none)
        // Without a body the connection stays usable.
        #expect(m.head(head(.POST, "/x"), snapshot: Self.snapshot, now: 0) == .respond(status: .notFound, reason: .unknownSource, close: false, extraHeaders: []))
    }

    @Test func wrongMethodGets405WithAllow() {
        var m = IngressStateMachine()
        #expect(m.head(head(.PUT, "/hooks/stripe?x=1"), snapshot: Self.snapshot, now: 0)
                == .respond(status: .methodNotAllowed, reason: .methodNotAllowed, close: false, extraHeaders: [("Allow", "POST")]))
    }

    @Test func declaredOversizeIsRefusedBeforeAnyBodyByte() {
        var m = IngressStateMachine()
        #expect(m.head(head(.POST, "/hooks/stripe", [("Content-Length", "101")]), snapshot: Self.snapshot, now: 0)
                == .respond(status: .payloadTooLarge, reason: .bodyTooLarge, close: true, extraHeaders: []))
    }

    @Test func conflictingContentLengthsAreMalformed() {
        var m = IngressStateMachine()
        #expect(m.head(head(.POST, "/hooks/stripe", [("Content-Length", "5"), ("Content-Length", "6")]), snapshot: Self.snapshot, now: 0)
                == .respond(status: .badRequest, reason: .malformedRequest, close: true, extraHeaders: []))
    }

    /// The HTTP parser refuses these on the wire; the state machine must not rely on it (a signed length would
    /// slip under the size check, an over-long one must not trap).
    @Test(arguments: ["-1", "+5", "99999999999999999999999", "0x10", "5,6"])
    func contentLengthMustBeDigitsThatFit(_ value: String) {
        var m = IngressStateMachine()
        #expect(m.head(head(.POST, "/hooks/stripe", [("Content-Length", value)]), snapshot: Self.snapshot, now: 0)
                == .respond(status: .badRequest, reason: .malformedRequest, close: true, extraHeaders: []), "Content-Length '\(value)'")
    }

    @Test func streamedOversizeIsCutOffMidBody() {
        var m = IngressStateMachine()
        #expect(m.head(head(.POST, "/hooks/stripe", [("Transfer-Encoding", "chunked")]), snapshot: Self.snapshot, now: 0) == .none)
        var c1 = ByteBuffer(repeating: 1, count: 60)
        #expect(m.body(&c1) == .none)
        var c2 = ByteBuffer(repeating: 1, count: 41)
        #expect(m.body(&c2) == .respond(status: .payloadTooLarge, reason: .bodyTooLarge, close: true, extraHeaders: []))
    }

    @Test func completeRequestIsHandedToAdmissionWithExactBytesAndQuery() {
        var m = IngressStateMachine()
        _ = m.head(head(.POST, "/hooks/stripe?attempt=2", [("Content-Length", "6"), ("X-A", "1"), ("x-a", "2")]), snapshot: Self.snapshot, now: 42)
        var c1 = ByteBuffer(bytes: [0, 1, 2]), c2 = ByteBuffer(bytes: [0xFF, 0xFE, 0xFD])
        _ = m.body(&c1); _ = m.body(&c2)
        guard case .admit(let request, let source) = m.end(peer: IPAddress("::1")) else { Issue.record("not admitted"); return }
        #expect(source.name == "stripe")
        #expect(request.body == [0, 1, 2, 0xFF, 0xFE, 0xFD])
        #expect(request.path == "/hooks/stripe" && request.query == "attempt=2")
        #expect(request.headers.all("x-a") == ["1", "2"])
        #expect(request.receivedAt == 42)
        #expect(request.peer == IPAddress("::1"))
    }

    // MARK: the request's context and the async results as inputs

    static var stripe: ResolvedSource { snapshot.sourcesByPath["/hooks/stripe"]! }
    static let signedAt: Int64 = 1_767_225_600

    /// A complete, validly signed Stripe request through head/body/end; returns the machine and the request.
    func signedRequest(version: HTTPVersion = .http1_1, _ m: inout IngressStateMachine) -> IncomingRequest? {
        let body = Array(#"{"id":"evt_sm","type":"invoice.paid"}"#.utf8)
        let source = Self.stripe
        let signed = source.profile.sign(body: body, key: source.keys[0].keyBytes, timestampSeconds: Self.signedAt, id: "evt_sm")
        let h = HTTPRequestHead(version: version, method: .POST, uri: "/hooks/stripe", headers: HTTPHeaders([("Content-Length", "\(body.count)")] + signed))
        #expect(m.head(h, snapshot: Self.snapshot, now: Self.signedAt * 1000) == .none)
        #expect(m.request.source?.name == "stripe" && m.request.version == version)
        var chunk = ByteBuffer(bytes: body)
        #expect(m.body(&chunk) == .none)
        guard case .admit(let request, _) = m.end(peer: nil) else { Issue.record("not admitted"); return nil }
        return request
    }

    @Test func admittedEventIsCommittedThenAcknowledged() throws {
        var m = IngressStateMachine()
        let request = try #require(signedRequest(&m))
        let decision = Self.stripe.decide(request, now: request.receivedAt)
        guard case .admit(let event) = decision else { Issue.record("\(decision)"); return }
        #expect(m.decided(decision) == .commit(event))
        #expect(m.committed(.success(.accepted(id: "evt_1"))) == .acknowledge(.accepted(id: "evt_1"), close: false))
        m.responded()
        // The connection is ready for the next request.
        #expect(m.head(head(.POST, "/nope"), snapshot: Self.snapshot, now: 0) == .respond(status: .notFound, reason: .unknownSource, close: false, extraHeaders: []))
    }

    @Test func duplicateAndStoreFailureAreAcknowledgedByTheirOutcome() throws {
        var m = IngressStateMachine()
        let request = try #require(signedRequest(&m))
        _ = m.decided(Self.stripe.decide(request, now: request.receivedAt))
        #expect(m.committed(.success(.duplicate(id: "evt_0"))) == .acknowledge(.duplicate(id: "evt_0"), close: false))
        var n = IngressStateMachine()
        let again = try #require(signedRequest(&n))
        _ = n.decided(Self.stripe.decide(again, now: again.receivedAt))
        struct DiskFull: Error {}
        #expect(n.committed(.failure(DiskFull())) == .acknowledge(.failed(.storeUnavailable), close: false))
        var o = IngressStateMachine()
        let third = try #require(signedRequest(&o))
        _ = o.decided(Self.stripe.decide(third, now: third.receivedAt))
        #expect(o.committed(.failure(GroupCommitter<IngestRecord, IngestResult>.Stopped())) == .acknowledge(.failed(.shuttingDown), close: false))
    }

    /// HTTP/1.0 without keep-alive: every answer closes the connection.
    @Test func answersToAnHTTP10RequestClose() throws {
        var m = IngressStateMachine()
        let request = try #require(signedRequest(version: .http1_0, &m))
        _ = m.decided(Self.stripe.decide(request, now: request.receivedAt))
        #expect(m.committed(.success(.accepted(id: "evt_1"))) == .acknowledge(.accepted(id: "evt_1"), close: true))
        var n = IngressStateMachine()
        #expect(n.head(HTTPRequestHead(version: .http1_0, method: .PUT, uri: "/hooks/stripe"), snapshot: Self.snapshot, now: 0)
                == .respond(status: .methodNotAllowed, reason: .methodNotAllowed, close: true, extraHeaders: [("Allow", "POST")]))
    }

    @Test func refusedAdmissionIsRejectedWithTheRequestPending() {
        var m = IngressStateMachine()
        _ = m.head(head(.POST, "/hooks/stripe", [("Content-Length", "2")]), snapshot: Self.snapshot, now: 5)
        var c = ByteBuffer(string: "{}")
        _ = m.body(&c)
        _ = m.end(peer: nil)
        #expect(m.decided(.reject(.signatureMismatch)) == .reject(.signatureMismatch, close: false))
        #expect(m.pending?.1.name == "stripe")
        m.responded()
        #expect(m.pending == nil)
    }

    @Test func handshakeIsAnsweredAndNotCommitted() {
        var m = IngressStateMachine()
        _ = m.head(head(.POST, "/hooks/stripe"), snapshot: Self.snapshot, now: 5)
        _ = m.end(peer: nil)
        let answer = HandshakeResponse(status: 200, contentType: "text/plain", body: Array("challenge".utf8))
        #expect(m.decided(.handshake(answer)) == .handshake(answer, close: false))
        #expect(m.committed(.success(.accepted(id: "evt_x"))) == .none)  // nothing was committed
    }

    /// A certificate scheme: the machine asks for the certificate, then decides again with what the fetch gave.
    @Test func certificateFetchedIsDecidedAgain() {
        var m = IngressStateMachine()
        _ = m.head(head(.POST, "/hooks/stripe", [("Content-Length", "2")]), snapshot: Self.snapshot, now: 5)
        var c = ByteBuffer(string: "{}")
        _ = m.body(&c)
        guard case .admit(let request, let source) = m.end(peer: nil) else { Issue.record("not admitted"); return }
        #expect(m.decided(.needsCertificate("https://sns.us-east-1.amazonaws.com/cert.pem")) == .fetchCertificate("https://sns.us-east-1.amazonaws.com/cert.pem"))
        guard case .reject(let reason) = source.decide(request, now: 5, certificate: .unavailable) else { Issue.record("admitted unsigned"); return }
        #expect(m.certificateFetched(.unavailable) == .reject(reason, close: false))
    }

    @Test func slowBodyTimesOutOnlyWhileReceiving() {
        var m = IngressStateMachine()
        _ = m.head(head(.POST, "/hooks/stripe", [("Content-Length", "50")]), snapshot: Self.snapshot, now: 0)
        #expect(m.bodyTimedOut() == .respond(status: .requestTimeout, reason: .requestTimeout, close: true, extraHeaders: []))
        #expect(m.bodyTimedOut() == .none)  // already answered
        var n = IngressStateMachine()
        _ = n.head(head(.POST, "/hooks/stripe"), snapshot: Self.snapshot, now: 0)
        _ = n.end(peer: nil)
        #expect(n.bodyTimedOut() == .none)  // complete: being admitted, a late timer changes nothing
    }

    @Test func overBudgetChunkIsAnswered503() {
        var m = IngressStateMachine()
        _ = m.head(head(.POST, "/hooks/stripe", [("Content-Length", "50")]), snapshot: Self.snapshot, now: 0)
        #expect(m.overBudget() == .respond(status: .serviceUnavailable, reason: .overCapacity, close: true, extraHeaders: [("Retry-After", "1")]))
        var c = ByteBuffer(repeating: 1, count: 50)
        #expect(m.body(&c) == .none)  // dropped
    }

    @Test func parseErrorIsAnswered400UnlessAnAnswerIsOwed() {
        var m = IngressStateMachine()
        #expect(m.parseError() == .respond(status: .badRequest, reason: .malformedRequest, close: true, extraHeaders: []))
        var n = IngressStateMachine()
        _ = n.head(head(.POST, "/hooks/stripe"), snapshot: Self.snapshot, now: 0)
        _ = n.end(peer: nil)
        #expect(n.parseError() == .close)
    }
}

@Suite("Pre-encoded ingress answers")
struct IngressResponseTests {
    func text(_ b: ByteBuffer) -> String { String(buffer: b) }

    @Test func answerIsEncodedAsNIOsEncoderDid() {
        let b = IngressResponse.encode(version: .http1_1, status: .methodNotAllowed, contentType: "application/json", extraHeaders: [("Allow", "POST")],
                                       body: Array("{}".utf8), close: false, omitBody: false, allocator: ByteBufferAllocator())
        #expect(text(b) == "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nAllow: POST\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test func closingHTTP10AnswerSaysSo() {
        let b = IngressResponse.encode(version: .http1_0, status: .ok, contentType: "application/json", extraHeaders: [],
                                       body: Array("{}".utf8), close: true, omitBody: false, allocator: ByteBufferAllocator())
        #expect(text(b) == "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    }

    /// A `HEAD` request's answer keeps its length but not its body; a 204 has neither.
    @Test func headAnswersAndNoContentCarryNoBody() {
        let head = IngressResponse.encode(version: .http1_1, status: .methodNotAllowed, contentType: "application/json", extraHeaders: [],
                                          body: Array("{}".utf8), close: false, omitBody: true, allocator: ByteBufferAllocator())
        #expect(text(head) == "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")
        let empty = IngressResponse.encode(version: .http1_1, status: .noContent, contentType: nil, extraHeaders: [],
                                           body: [UInt8](), close: false, omitBody: false, allocator: ByteBufferAllocator())
        #expect(text(empty) == "HTTP/1.1 204 No Content\r\n\r\n")
    }

    /// While the server quiesces the pipelining handler marks the head `connection: close`; the bytes follow.
    @Test func quiescingAddsConnectionClose() {
        let open = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        #expect(String(buffer: PreEncodedResponseEncoder.addingConnectionClose(to: open)) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        let closing = ByteBuffer(string: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        #expect(PreEncodedResponseEncoder.addingConnectionClose(to: closing) == closing)
    }
}

@Suite("Ingress handler on an embedded channel")
struct IngressHandlerTests {
    @Test func pipelinedRejectionsAreAnsweredInOrderOverTheHTTPCodec() throws {
        let channel = EmbeddedChannel()
        let writer = GroupCommitter<IngestRecord, IngestResult>(name: "t", maxBatch: 1, commit: { _ in [] })
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: registry))
        let store = try SQLiteEventStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("inlet-embedded-\(UUID().uuidString).sqlite").path)
        var off = QuarantineSettings()
        off.enabled = false
        let quarantine = QuarantineWriter(store: store, settings: off, storeThreads: NIOThreadPool.singleton, logger: quietLogger, metrics: metrics)
        let context = IngressContext(runtime: LiveConfig(IngressStateMachineTests.snapshot.resolved), writer: writer, clock: SystemClock(),
                                     logger: quietLogger,
                                     certificates: SigningCertificateCache(fetcher: NoCertificates(), clock: SystemClock()),
                                     metrics: metrics, quarantine: quarantine, requestTimeout: .seconds(30), followUpGET: { _ in 200 })
        try IngressServer.addHTTPHandlers(to: channel.pipeline.syncOperations, context: context)
        let body = #"{"id":"evt_x"}"#  // under the source's 100-byte limit
        let requests = "GET /hooks/stripe HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /hooks/stripe HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.utf8.count)\r\nStripe-Signature: t=1,v1=00\r\n\r\n\(body)"
            + "POST /nope HTTP/1.1\r\nHost: a\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: requests))
        var out = ""
        while let chunk = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: chunk) }
        let statuses = out.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["405", "401", "404"])
        #expect(out.contains(#"{"status":"rejected","reason":"signature_mismatch"}"#))
        #expect(registry.emitToString().contains(#"inlet_requests_rejected_total{source="stripe",provider="stripe",reason="signature_mismatch"} 1"#))
        _ = try channel.finish()
    }
}

struct NoCertificates: CertificateFetcher {
    func fetchPEM(_ url: String) async throws -> String { throw SigningCertificateError.fetchFailed("no network in tests") }
}
