import AsyncHTTPClient
import Foundation
import InletCore
import InletServer
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Whatever the gateway or the CLI sends (a stored request to `replay --to`, a delivery, a fetch of an address list or
/// certificate) is never re-sent to where a redirect points: AsyncHTTPClient's default would follow it, with the
/// original headers and body, across origins and from https to http.
@Suite("Outbound HTTP never follows redirects")
struct RedirectTests {
    /// A server that answers every request with a redirect to `location`, counting what it got.
    static func redirector(to location: String) async throws -> (ListenerServer, NIOLockedValueBox<Int>) {
        let hits = NIOLockedValueBox(0)
        let server = try await ListenerServer.start { _ in
            hits.withLockedValue { $0 += 1 }
            return SimpleResponse(status: 307, headers: [("Location", location)])
        }
        return (server, hits)
    }

    @Test func outboundClientsAnswerWithTheRedirectItself() async throws {
        let elsewhere = try await TestDestination()
        let (redirector, hits) = try await Self.redirector(to: elsewhere.url)
        let own = OutboundHTTP.makeClient()
        // A caller's tuning cannot turn following back on.
        let tuned = OutboundHTTP.makeClient { $0.redirectConfiguration = .follow(max: 5, allowCycles: false) }
        for client in [own, tuned, OutboundHTTP.shared] {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(redirector.port)/hooks")
            request.method = .POST
            request.headers.add(name: "X-Gitlab-Token", value: "would-leak")
            request.body = .bytes(ByteBuffer(string: #"{"stored":"payload"}"#))
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 16)
            #expect(response.status.code == 307)
        }
        #expect(hits.withLockedValue { $0 } == 3)
        #expect(elsewhere.requests.isEmpty)
        try await own.shutdown()
        try await tuned.shutdown()
        await redirector.stop()
        await elsewhere.stop()
    }

    /// A destination that redirects gets its answer recorded (a 3xx is not retried: the delivery is dead-lettered), and
    /// the event goes nowhere else.
    @Test func deliveriesAreNotRedirected() async throws {
        let elsewhere = try await TestDestination()
        let (redirector, hits) = try await Self.redirector(to: elsewhere.url)
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: "http://127.0.0.1:\(redirector.port)/events") + stripeSource)
        let body = stripeEvent("evt_redirected")
        #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).json["status"] == "accepted")
        try await eventually("a dead letter") { try !gw.gateway.store.deadLetters(destination: "svc", after: 0, limit: 10).isEmpty }
        let dead = try gw.gateway.store.deadLetters(destination: "svc", after: 0, limit: 10)
        #expect(dead.count == 1 && dead.first?.lastStatus == 307)
        #expect(hits.withLockedValue { $0 } == 1)
        #expect(elsewhere.requests.isEmpty)
        try await gw.stop()
        await redirector.stop()
        await elsewhere.stop()
    }
}
