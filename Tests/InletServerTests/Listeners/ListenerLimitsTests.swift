import Foundation
import InletServer
import NIOCore
import NIOPosix
import Testing

/// Issue 17: the admin, metrics and sink listeners get the ingress's guards. Each case here held memory or a
/// connection open before (a 200 MB unauthenticated POST grew the process by its size; half a head stayed open).
@Suite("Admin, metrics and sink listeners: limits")
struct ListenerLimitsTests {
    static let token = "admin-token-for-limits"

    func gateway(admin extra: String = "", server: String = "") async throws -> (RunningGateway, Int, TestDestination) {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: """
            [admin]
            listen = "127.0.0.1:0"
            tokens = ["\(Self.token)"]
            \(extra)

            \(stripeSource)
            """, destinationURL: destination.url, serverExtra: server)
        return (gw, try await gw.gateway.adminPort(), destination)
    }

    /// No token: `401` on the head, before the body is read. The client writes 2 MiB of a declared 200 MiB and then
    /// reads: it gets its answer without sending the rest (before, the listener waited to buffer all 200 MiB).
    @Test func unauthenticatedBodyIsRefusedOnItsHead() async throws {
        let (gw, admin, destination) = try await gateway()
        let head = "POST /v1/replays HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(200 << 20)\r\n\r\n"
        let outcome = await writeEverythingThenRead(port: admin, head: head, bodyBytes: 2 << 20, readTimeout: 5)
        #expect(outcome.status == 401, "\(outcome.received.prefix(200)) reset=\(outcome.reset)")
        #expect(outcome.received.contains(#"{"error":"unauthorized"}"#))
        #expect(!outcome.reset, "the client got a reset instead of reading its answer")
        try await gw.stop()
        await destination.stop()
    }

    /// A bodiless request answered `401` on its head keeps its connection: the next request on it (with the token)
    /// is served.
    @Test func unauthorizedBodilessRequestKeepsTheConnection() async throws {
        let (gw, admin, destination) = try await gateway()
        let requests = "GET /v1/sources HTTP/1.1\r\nHost: a\r\n\r\n"
            + "GET /v1/sources HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(Self.token)\r\n\r\n"
        let text = try await rawExchange(port: admin, requests) { $0.components(separatedBy: "HTTP/1.1 ").count > 2 && $0.hasSuffix("}") }
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["401", "200"], "\(text.prefix(300))")
        try await gw.stop()
        await destination.stop()
    }

    /// With a token, a body over `[admin] max_body_bytes` gets `413`, read by a client that writes it all first.
    @Test func oversizedBodyGets413() async throws {
        let (gw, admin, destination) = try await gateway(admin: "max_body_bytes = 65536")
        let head = "POST /v1/replays HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(Self.token)\r\nContent-Length: \(1 << 20)\r\n\r\n"
        let outcome = await writeEverythingThenRead(port: admin, head: head, bodyBytes: 1 << 20, readTimeout: 5)
        #expect(outcome.status == 413, "\(outcome.received.prefix(200)) reset=\(outcome.reset)")
        #expect(outcome.received.contains("body_too_large"))
        #expect(!outcome.reset, "the client got a reset instead of reading its answer")
        // A chunked body (no declared length) is cut off at the limit too.
        let chunked = "POST /v1/replays HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(Self.token)\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "10000\r\n" + String(repeating: "a", count: 0x10000) + "\r\n" + "10\r\n" + String(repeating: "a", count: 16) + "\r\n0\r\n\r\n"
        let cut = await writeEverythingThenRead(port: admin, head: chunked, bodyBytes: 0, readTimeout: 5)
        #expect(cut.status == 413, "\(cut.received.prefix(200))")
        try await gw.stop()
        await destination.stop()
    }

    /// The metrics listener takes no bodies to speak of (1 KiB): a larger one is refused before it is read.
    @Test func metricsListenerRefusesBodies() async throws {
        let destination = try await TestDestination()
        let port = try await freeLoopbackPort()
        let gw = try await RunningGateway.start(sourcesTOML: "[metrics]\nlisten = \"127.0.0.1:\(port)\"\n\n" + stripeSource, destinationURL: destination.url)
        try await waitUntilListening(port: port)
        let outcome = await writeEverythingThenRead(port: port, head: "POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n",
                                                    bodyBytes: 65536, readTimeout: 5)
        #expect(outcome.status == 413, "\(outcome.received.prefix(200))")
        try await gw.stop()
        await destination.stop()
    }

    /// Half a head is answered `408` and closed after the request timeout (before: open for as long as it trickled).
    @Test func halfAHeadIsClosedAfterTheRequestTimeout() async throws {
        let (gw, admin, destination) = try await gateway(server: "request_timeout_seconds = 1\nidle_timeout_seconds = 30")
        let started = ContinuousClock.now
        let outcome = await sendThenWaitForClose(port: admin, prefix: Array("GET /v1/sources HTTP/1.1\r\nHost: a\r\n".utf8), readTimeout: 6)
        #expect(outcome.closed, "still open after 6 s")
        #expect(outcome.status == 408)
        #expect(ContinuousClock.now - started < .seconds(5))
        try await gw.stop()
        await destination.stop()
    }

    /// Past `[admin] max_connections`, a new connection is closed at once; the open ones keep working.
    @Test func connectionsPastTheCapAreClosed() async throws {
        let (gw, admin, destination) = try await gateway(admin: "max_connections = 2", server: "idle_timeout_seconds = 30")
        async let first = sendThenWaitForClose(port: admin, prefix: Array("GET /v1/sources HTTP/1.1\r\n".utf8), readTimeout: 3)
        async let second = sendThenWaitForClose(port: admin, prefix: Array("GET /v1/sources HTTP/1.1\r\n".utf8), readTimeout: 3)
        try await Task.sleep(for: .milliseconds(300))
        let third = await sendThenWaitForClose(port: admin, prefix: Array("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n".utf8), readTimeout: 2)
        #expect(third.closed && third.status == nil, "the third connection was served: \(third.received.prefix(100))")
        let (a, b) = await (first, second)
        #expect(!a.closed && !b.closed)
        try await gw.stop()
        await destination.stop()
    }
}

/// A loopback port free at the time of asking (for listeners whose config needs a fixed port).
func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// The metrics and sink listeners start as services beside ingress: `RunningGateway.start` returning does not mean
/// they are bound yet (on a loaded machine the first connection could be refused).
func waitUntilListening(port: Int, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
            try? await channel.close()
            return
        }
        guard ContinuousClock.now < deadline else { throw ListenerNotUp(port: port) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

struct ListenerNotUp: Error { let port: Int }
