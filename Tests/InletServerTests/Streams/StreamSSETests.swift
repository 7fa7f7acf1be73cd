import Foundation
import InletServer
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@Suite("Streams: server-sent events", .timeLimit(.minutes(1)))
struct StreamSSETests {
    static let config = StreamEndToEndTests.streamsTOML.replacingOccurrences(of: "lease_seconds = 30", with: "lease_seconds = 30\nsse_heartbeat_seconds = 1")

    func sseRequest(group: String, lastEventID: Int64? = nil) -> String {
        "GET /v1/streams/ledger/sse?group=\(group) HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer consumer-token\r\n"
            + (lastEventID.map { "Last-Event-ID: \($0)\r\n" } ?? "") + "\r\n"
    }

    /// `id:` is the sequence and `data:` the item; a reconnect with `Last-Event-ID` acknowledges up to it and resumes
    /// after it (what the first connection was sent past it comes again); an idle stream writes heartbeats.
    @Test func resumesWithLastEventIDAndSendsHeartbeats() async throws {
        let gw = try await RunningGateway.start(configBody: Self.config)
        let port = try await gw.gateway.adminPort()
        let ingest = StreamEndToEndTests()
        for n in 1...3 { _ = try await ingest.send(gw, "evt_sse_\(n)") }

        // (The body is chunked: each write is one chunk, framed by its size and CRLF.)
        let first = try await rawExchange(port: port, sseRequest(group: "s")) { $0.contains("id: 3\n") && $0.contains(": heartbeat") }
        #expect(first.hasPrefix("HTTP/1.1 200") && first.lowercased().contains("content-type: text/event-stream"))
        #expect(first.contains("id: 1\nevent: cloudevent\ndata: {\"sequence\":1,\"event\":{\"specversion\":\"1.0\""))
        #expect(first.contains("id: 2\n") && first.contains("evt_sse_2"))

        // The client processed up to 2: the reconnect commits 1…2 and sends 3 again, then heartbeats while idle.
        // The first connection's lease on 3 (30 s) ended with it: 3 comes at once, not after the lease.
        let reconnected = ContinuousClock.now
        let second = try await rawExchange(port: port, sseRequest(group: "s", lastEventID: 2)) { $0.contains("id: 3\n") && $0.contains(": heartbeat") }
        #expect(ContinuousClock.now - reconnected < .seconds(15), "the reconnect waited for the closed connection's lease")
        #expect(!second.contains("id: 1\n") && !second.contains("id: 2\n"))
        let admin = StreamClient(admin: "http://127.0.0.1:\(port)", token: "admin-token")
        let groups = try AdminJSON.decode(AdminAPI.StreamGroupList.self, from: try await admin.call(.GET, "/v1/streams/ledger/groups").body)
        #expect(groups.groups.first?.cursor == 3)

        // New events reach an open connection as they are committed.
        let live = Task { try await rawExchange(port: port, sseRequest(group: "live", lastEventID: 3)) { $0.contains("evt_sse_4") } }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await ingest.send(gw, "evt_sse_4")
        let text = try await live.value
        #expect(text.contains("evt_sse_4"))
        #expect(try await rawExchange(port: port, sseRequest(group: "s", lastEventID: -1)) { $0.contains("}") }.contains("invalid_last_event_id"))
        try await gw.stop()
    }

    /// A client that never reads: the producer's writes wait for the kernel, so it stops once the socket buffers are
    /// full, however much it has to send (before a write returns, its bytes have left the gateway's memory).
    @Test func slowReaderHoldsBackTheProducer() async throws {
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 256 << 10)
        let written = NIOLockedValueBox(0)
        let server = try await ListenerServer.start { _ in
            var response = SimpleResponse(status: 200, headers: [("Content-Type", "text/event-stream")])
            response.stream = ResponseStream { write in
                for _ in 0..<4_000 {  // 1 GB if nothing held it back
                    try await write(chunk)
                    written.withLockedValue { $0 += 1 }
                }
            }
            return response
        }
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 64 << 10)
            .connect(host: "127.0.0.1", port: server.port).get()
        try await client.writeAndFlush(ByteBuffer(string: "GET /sse HTTP/1.1\r\nHost: a\r\n\r\n"))
        // Unchecked, 3 s would carry gigabytes over loopback; held back, the kernel's buffers (a few MiB) are all it takes.
        try await Task.sleep(for: .seconds(3))
        let sent = written.withLockedValue { $0 }
        #expect(sent < 64, "\(sent) chunks of 256 KiB went out to a client that reads nothing")
        try await client.close()
        await server.stop()
    }
}
