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
    static let snapshot: ConfigSnapshot = {
        let toml = """
        providers_dir = "\(Repo.root)/providers"
        [destinations.svc]
        url = "http://127.0.0.1:1/x"
        secrets = ["\(destinationSecret)"]
        [sources.stripe]
        provider = "stripe"
        secrets = ["\(stripeSecret)"]
        destinations = ["svc"]
        max_body_bytes = 100
        """
        return ConfigSnapshot(try! GatewayConfig.parse(toml, file: "/tmp/t.toml").resolve(environment: [:]))
    }()

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
}

@Suite("Ingress handler on an embedded channel")
struct IngressHandlerTests {
    @Test func pipelinedRejectionsAreAnsweredInOrderOverTheHTTPCodec() throws {
        let channel = EmbeddedChannel()
        let writer = GroupCommitter<IngestRecord, IngestResult>(name: "t", maxBatch: 1, commit: { _ in [] })
        let metrics = GatewayMetrics(factory: GatewayMetrics.prometheusFactory(registry: PrometheusCollectorRegistry()))
        let store = try SQLiteEventStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("inlet-embedded-\(UUID().uuidString).sqlite").path)
        var off = QuarantineSettings()
        off.enabled = false
        let quarantine = QuarantineWriter(store: store, settings: off, storeThreads: NIOThreadPool.singleton, logger: quietLogger, metrics: metrics)
        let context = IngressContext(runtime: LiveConfig(IngressStateMachineTests.snapshot.resolved), writer: writer, clock: SystemClock(),
                                     logger: quietLogger, counters: IngressCounters(),
                                     certificates: SigningCertificateCache(fetcher: NoCertificates(), clock: SystemClock()),
                                     metrics: metrics, quarantine: quarantine, requestTimeout: .seconds(30), followUpGET: { _ in 200 })
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandler(IngressHandler(context: context))
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
        #expect(context.counters.snapshot["signature_mismatch"] == 1)
        _ = try channel.finish()
    }
}

struct NoCertificates: CertificateFetcher {
    func fetchPEM(_ url: String) async throws -> String { throw SigningCertificateError.fetchFailed("no network in tests") }
}
