import Foundation
import InletCore
import InletServer
import InletStore
import NIOCore
import NIOPosix
import Testing

@Suite("Hostile clients")
struct HostileClientTests {
    /// A head trickled in (slowloris) is bounded by the request timeout from its first byte, not by the idle timeout,
    /// which every byte would restart.
    @Test func aStalledHeadGets408() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url,
                                                serverExtra: "request_timeout_seconds = 1\nidle_timeout_seconds = 60")
        let started = ContinuousClock.now
        let response = try await rawExchange(port: gw.port, "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\nX-Slow: a") { $0.contains("}") }
        #expect(response.hasPrefix("HTTP/1.1 408") && response.contains(#""reason":"request_timeout""#))
        #expect(ContinuousClock.now - started < .seconds(30))
        // A keep-alive connection between requests is not a stalled head: a request after a pause still works.
        let body = stripeEvent("evt_after_slow_head")
        #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        try await gw.stop()
        await destination.stop()
    }

    /// Framing a front proxy might read differently (Content-Length with Transfer-Encoding, two lengths, broken
    /// chunking) is refused with 400 and a reason, the connection closes, and the hidden request is never stored.
    @Test(arguments: [
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "Content-Length: 4\r\nContent-Length: 40\r\n\r\n{}{}",
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ])
    func smugglingPatternsAreRefused(_ framing: String) async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let hidden = stripeEvent("evt_smuggled")
        let headers = stripeHeaders(body: hidden).map { "\($0.0): \($0.1)\r\n" }.joined()
        let smuggled = "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\n\(headers)Content-Length: \(hidden.utf8.count)\r\n\r\n\(hidden)"
        let response = try await rawExchange(port: gw.port, "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\n" + framing + smuggled) { $0.contains("}") }
        #expect(response.hasPrefix("HTTP/1.1 400"), "\(response)")
        #expect(response.contains(#""reason":"malformed_request""#) && response.lowercased().contains("connection: close"))
        #expect(try gw.gateway.store.countEvents(matching: EventFilter(source: "stripe")) == 0)
        try await gw.stop()
        await destination.stop()
    }

    /// Past `max_connections`, new connections are closed at once; a freed slot is usable again.
    @Test func connectionsBeyondTheCapAreClosed() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url, serverExtra: "max_connections = 3")
        func connect() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: gw.port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        }
        var held: [NIOAsyncChannel<ByteBuffer, ByteBuffer>] = []
        for _ in 0..<3 { held.append(try await connect()) }
        try await Task.sleep(for: .milliseconds(200))
        // The fourth is accepted by the kernel and closed by the gateway: reading it ends at once.
        let fourth = try await connect()
        let closedAtOnce = try await fourth.executeThenClose { inbound, _ in
            for try await _ in inbound {}
            return true
        }
        #expect(closedAtOnce)
        for c in held { try? await c.channel.close() }
        try await Task.sleep(for: .milliseconds(200))
        let body = stripeEvent("evt_after_cap")
        #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        try await gw.stop()
        await destination.stop()
    }
}
