@testable import InletServer
import Foundation
import Testing

/// Issue 23: after an early final answer the connection is half-closed and drained (nginx's lingering close), so a
/// client that writes its whole body before reading gets the answer instead of a connection reset.
@Suite("Lingering close")
struct LingeringCloseTests {
    @Test func stateMachineDrainsWithinItsByteBudget() {
        var m = LingeringCloseState(maxBytes: 100)
        #expect(m.close() == .passThrough)  // not armed: an ordinary close
        m = LingeringCloseState(maxBytes: 100)
        #expect(m.read(10) == .passThrough)
        m.arm()
        #expect(m.close() == .halfCloseAndDrain)
        #expect(m.read(60) == .drop)
        #expect(m.read(39) == .drop)
        #expect(m.read(1) == .closeNow)  // the byte budget is spent
        #expect(m.state == .closed)
    }

    @Test func timeOrASecondCloseEndsTheLinger() {
        var m = LingeringCloseState(maxBytes: 100)
        m.arm()
        #expect(m.close() == .halfCloseAndDrain)
        #expect(m.expire() == .closeNow)
        var n = LingeringCloseState(maxBytes: 100)
        n.arm()
        _ = n.close()
        #expect(n.close() == .closeNow)
        #expect(n.expire() == .drop)
    }

    /// A declared body over the source's limit: `413 body_too_large` at once. The client sends its 3 MiB anyway and
    /// only then reads; before, the gateway closed with the body unread and the client got a reset.
    @Test func early413IsReadByAClientThatWritesEverythingFirst() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let body = stripeEvent("evt_linger")
        var headers = ""
        for (n, v) in stripeHeaders(body: body) { headers += "\(n): \(v)\r\n" }
        let head = "POST /hooks/stripe HTTP/1.1\r\nHost: a\r\n\(headers)Content-Length: \(3 << 20)\r\n\r\n"
        let outcome = await writeEverythingThenRead(port: gw.port, head: head, bodyBytes: 3 << 20)
        #expect(!outcome.reset, "connection reset after \(outcome.bytesWritten) bytes written")
        #expect(outcome.status == 413, "\(outcome.received.prefix(200))")
        #expect(outcome.received.contains(#""reason":"body_too_large""#))
        #expect(outcome.bytesWritten >= 3 << 20)
        // Nothing past the limit was kept, and the gateway still serves.
        let ok = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        #expect(ok.status == 200)
        try await gw.stop()
        await destination.stop()
    }

    /// The drain is bounded: a client that keeps sending is cut off after the byte budget (8 MiB), not read forever.
    @Test func drainStopsAtItsByteBudget() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let head = "POST /hooks/stripe HTTP/1.1\r\nHost: a\r\nContent-Length: \(1 << 30)\r\n\r\n"
        let outcome = await writeEverythingThenRead(port: gw.port, head: head, bodyBytes: 64 << 20, readTimeout: 2)
        #expect(outcome.bytesWritten < 32 << 20, "the gateway read \(outcome.bytesWritten) bytes of an answered request")
        try await gw.stop()
        await destination.stop()
    }
}
