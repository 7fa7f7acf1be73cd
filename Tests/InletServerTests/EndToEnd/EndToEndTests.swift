import Foundation
import InletCore
import InletServer
import InletStore
import NIOCore
import NIOHTTP1
import Testing

@Suite("Gateway end to end on loopback")
struct EndToEndTests {
    @Test func validEventIsStoredAckedAndDeliveredOnceWithAVerifiableSignature() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let body = stripeEvent("evt_valid_1")
        let reply = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        #expect(reply.status == 200)
        #expect(reply.json["status"] == "accepted")
        let id = try #require(reply.json["id"])

        // Acked only after commit: the raw request is already in the store, byte for byte.
        let stored = try #require(try gw.gateway.store.event(id: id))
        #expect(stored.body == Array(body.utf8))
        #expect(stored.eventKey == "evt_valid_1")
        #expect(stored.headers.first("stripe-signature") != nil)

        try await destination.waitForRequests(1)
        let forwarded = destination.requests[0]
        let signer = try StandardWebhooksSigner(secrets: [destinationSecret])
        #expect(signer.verify(id: forwarded.headers.first(name: "webhook-id") ?? "", timestamp: forwarded.headers.first(name: "webhook-timestamp") ?? "",
                              signatureHeader: forwarded.headers.first(name: "webhook-signature") ?? "", body: forwarded.body, now: SystemClock().now()))
        #expect(forwarded.headers.first(name: "webhook-id") == id)
        #expect(forwarded.headers.first(name: "content-type") == CloudEvent.jsonContentType)
        // CloudEvents envelope with the provider's bytes spliced in as `data`.
        let envelope = String(decoding: forwarded.body, as: UTF8.self)
        #expect(envelope.hasPrefix(#"{"specversion":"1.0","id":"\#(id)","source":"/sources/stripe","type":"invoice.paid","#))
        #expect(envelope.hasSuffix(#""data":\#(body)}"#))
        try await gw.stop()
        #expect(try gw.gateway.store.counts() == StoreCounts(events: 1, pending: 0, delivered: 1, dead: 0))
        #expect(destination.requests.count == 1)
        await destination.stop()
    }

    @Test func duplicateIsAcknowledgedButNotForwardedAgain() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let body = stripeEvent("evt_dup")
        let first = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        try await destination.waitForRequests(1)
        // A provider retry: same event, fresh signature and timestamp.
        let second = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body, timestamp: Int64(Date().timeIntervalSince1970) - 5))
        #expect(second.status == 200)
        #expect(second.json["status"] == "duplicate")
        #expect(second.json["id"] == first.json["id"])
        // A later, distinct event is delivered; by then a wrongly re-queued duplicate would have been too.
        let other = stripeEvent("evt_after_dup")
        _ = try await post(gw.baseURL + "/hooks/stripe", body: other, headers: stripeHeaders(body: other))
        try await destination.waitForRequests(2)
        try await gw.stop()
        #expect(destination.requests.count == 2)
        #expect(try gw.gateway.store.event(id: first.json["id"]!)?.duplicates == 1)
        await destination.stop()
    }

    @Test func fiftyConcurrentCopiesMakeExactlyOneDelivery() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let body = stripeEvent("evt_storm")
        let headers = stripeHeaders(body: body)
        let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
            for _ in 0..<50 { group.addTask { try await post(gw.baseURL + "/hooks/stripe", body: body, headers: headers) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 200 })
        #expect(replies.filter { $0.json["status"] == "accepted" }.count == 1)
        #expect(replies.filter { $0.json["status"] == "duplicate" }.count == 49)
        #expect(Set(replies.compactMap { $0.json["id"] }).count == 1)
        try await destination.waitForRequests(1)
        try await gw.stop()
        #expect(destination.requests.count == 1)
        #expect(try gw.gateway.store.counts().events == 1)
        await destination.stop()
    }

    @Test func forgedRequestsAreRejectedWithTheirReasonAndNothingIsStored() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let url = gw.baseURL + "/hooks/stripe"
        let body = stripeEvent("evt_forged")
        let now = Int64(Date().timeIntervalSince1970)

        let tampered = try await post(url, body: body.replacingOccurrences(of: "2000", with: "9000"), headers: stripeHeaders(body: body))
        #expect(tampered.status == 401)
        #expect(tampered.json == ["status": "rejected", "reason": "signature_mismatch"])

        let wrongSecret = try await post(url, body: body, headers: stripeHeaders(body: body, secret: "whsec_other"))
        #expect(wrongSecret.json["reason"] == "signature_mismatch")

        let stale = try await post(url, body: body, headers: stripeHeaders(body: body, timestamp: now - 301))
        #expect(stale.status == 401)
        #expect(stale.json["reason"] == "timestamp_outside_tolerance")

        let future = try await post(url, body: body, headers: stripeHeaders(body: body, timestamp: now + 3_700))
        #expect(future.json["reason"] == "timestamp_outside_tolerance")

        let unsigned = try await post(url, body: body, headers: [("Content-Type", "application/json")])
        #expect(unsigned.status == 401)
        #expect(unsigned.json["reason"] == "missing_signature")

        let garbage = try await post(url, body: body, headers: [("Stripe-Signature", "complete garbage")])
        #expect(garbage.json["reason"] == "malformed_signature")

        try await gw.stop()
        #expect(try gw.gateway.store.counts().events == 0)
        #expect(destination.requests.isEmpty)
        await destination.stop()
    }

    @Test func routingAndLimitsAnswerWithSpecificCodes() async throws {
        let destination = try await TestDestination()
        let sources = stripeSource + """

        max_body_bytes = 2048

        [sources.internal]
        provider = "github"
        secrets = ["gh-secret"]
        destinations = ["svc"]
        allow_ips = ["10.0.0.0/8"]
        """
        let gw = try await RunningGateway.start(sourcesTOML: sources, destinationURL: destination.url)

        let unknown = try await post(gw.baseURL + "/hooks/nope", body: "{}", headers: [])
        #expect(unknown.status == 404)
        #expect(unknown.json["reason"] == "unknown_source")

        let get = try await post(gw.baseURL + "/hooks/stripe", body: "", headers: [], method: .GET)
        #expect(get.status == 405)
        #expect(get.json["reason"] == "method_not_allowed")

        let big = String(repeating: "x", count: 4096)
        let tooLarge = try await post(gw.baseURL + "/hooks/stripe", body: big, headers: stripeHeaders(body: big))
        #expect(tooLarge.status == 413)
        #expect(tooLarge.json["reason"] == "body_too_large")

        let body = #"{"zen":"hi"}"#
        let sig = "sha256=" + Hex.string(hmac(Array("gh-secret".utf8), Array(body.utf8)))
        let refused = try await post(gw.baseURL + "/hooks/internal", body: body, headers: [("X-Hub-Signature-256", sig), ("X-GitHub-Delivery", "d-1")])
        #expect(refused.status == 403)
        #expect(refused.json["reason"] == "ip_not_allowed")

        try await gw.stop()
        #expect(try gw.gateway.store.counts().events == 0)
        await destination.stop()
    }

    @Test func chunkedBodyOverTheLimitIsCutOffWith413() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource + "\nmax_body_bytes = 1000\n", destinationURL: destination.url)
        let chunk = String(repeating: "a", count: 600)
        let request = "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n"
        let response = try await rawExchange(port: gw.port, request) { $0.contains("}") }
        #expect(response.hasPrefix("HTTP/1.1 413"))
        #expect(response.contains(#""reason":"body_too_large""#))
        #expect(response.lowercased().contains("connection: close"))
        try await gw.stop()
        await destination.stop()
    }

    @Test func aStalledBodyGets408AndTheConnectionCloses() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url, serverExtra: "request_timeout_seconds = 1")
        let started = ContinuousClock.now
        // Declares 100 bytes, sends 10, then stalls.
        let response = try await rawExchange(port: gw.port, "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789") { $0.contains("}") }
        #expect(response.hasPrefix("HTTP/1.1 408"))
        #expect(response.contains(#""reason":"request_timeout""#))
        #expect(ContinuousClock.now - started < .seconds(10))
        // Valid traffic is unaffected.
        let body = stripeEvent("evt_after_stall")
        #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        try await gw.stop()
        await destination.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrderOnOneConnection() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        var payload = ""
        for n in 0..<3 {
            let body = stripeEvent("evt_pipe_\(n)")
            let headers = stripeHeaders(body: body).map { "\($0.0): \($0.1)\r\n" }.joined()
            payload += "POST /hooks/stripe HTTP/1.1\r\nHost: x\r\n\(headers)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        payload += "GET /hooks/stripe HTTP/1.1\r\nHost: x\r\n\r\n"
        let text = try await rawExchange(port: gw.port, payload) { $0.components(separatedBy: "HTTP/1.1 ").count - 1 >= 4 && $0.hasSuffix("}") }
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["200", "200", "200", "405"])
        try await destination.waitForRequests(3)
        let keys = Set(try destination.requests.map { try #require(JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: $0.body)) })
        #expect(keys == ["evt_pipe_0", "evt_pipe_1", "evt_pipe_2"])
        try await gw.stop()
        await destination.stop()
    }

    @Test func destinationDownThenUpIsDeliveredAfterRetries() async throws {
        let destination = try await TestDestination { _, n in n <= 2 ? 503 : 200 }
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let body = stripeEvent("evt_retry")
        let reply = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        #expect(reply.status == 200)
        try await destination.waitForRequests(3)
        try await gw.stop()
        let deliveries = try gw.gateway.store.deliveries(eventID: reply.json["id"]!)
        #expect(deliveries.map(\.state) == [.delivered])
        #expect(deliveries[0].attempts == 3)
        let attempts = try gw.gateway.store.attempts(deliveryID: deliveries[0].id)
        #expect(attempts.map(\.statusCode) == [503, 503, 200])
        #expect(attempts[0].nextAttemptAt != nil)
        // Each attempt is signed afresh and says which attempt it is.
        #expect(destination.requests.map { $0.headers.first(name: "Inlet-Attempt") } == ["1", "2", "3"])
        await destination.stop()
    }

    @Test func unreachableDestinationIsRetriedThenDeadLettered() async throws {
        let destination = try await TestDestination()
        let deadURL = destination.url
        await destination.stop()  // nothing listens there any more
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: deadURL, destinationExtra: "max_attempts = 3", destinationTimeoutSeconds: 1)
        let body = stripeEvent("evt_dead")
        let reply = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        #expect(reply.status == 200)
        let id = try #require(reply.json["id"])
        let deadline = ContinuousClock.now + .seconds(15)
        while try gw.gateway.store.deliveries(eventID: id).first?.state != .dead, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await gw.stop()
        let delivery = try #require(try gw.gateway.store.deliveries(eventID: id).first)
        #expect(delivery.state == .dead)
        #expect(delivery.attempts == 3)
        #expect(delivery.lastError?.isEmpty == false)
    }

    @Test func rowsInFlightWhenTheProcessDiedAreDeliveredAfterRestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-crash-\(UUID().uuidString)/inlet.sqlite").path
        // A previous gateway admitted the event and a worker claimed it, then the process died mid-delivery:
        // the row is leased for ten minutes and no completion was ever written.
        let eventID: String
        do {
            let store = try SQLiteEventStore(path: path)
            let body = Array(stripeEvent("evt_inflight").utf8)
            let r = IngestRecord(id: InletEventID.make(millis: SystemClock().now()), source: "stripe", provider: "stripe", eventKey: "evt_inflight",
                                 keyOrigin: .provider, eventType: "invoice.paid", receivedAt: SystemClock().now(), providerTimestamp: nil, peer: "127.0.0.1",
                                 clientAddress: "127.0.0.1", method: "POST", path: "/hooks/stripe", query: nil,
                                 headers: HTTPHeaderList([("Content-Type", "application/json")]), body: body, secretLabel: "secret-1", destinations: ["svc"])
            eventID = r.id
            _ = try store.ingest([r])
            #expect(try store.claimDue(now: SystemClock().now(), limit: 10, leaseMillis: 600_000).count == 1)
        }
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url, storePath: path)
        try await destination.waitForRequests(1)
        try await gw.stop()
        #expect(destination.requests[0].headers.first(name: "webhook-id") == eventID)
        #expect(try gw.gateway.store.deliveries(eventID: eventID).first?.state == .delivered)
        await destination.stop()
    }

    @Test func gracefulShutdownFinishesAcksInFlight() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
            for n in 0..<20 {
                let body = stripeEvent("evt_shutdown_\(n)")
                // A request that reaches a closed listener fails to connect: the provider would retry it.
                group.addTask { (try? await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body), timeout: 2)) ?? Reply(status: -1, body: "") }
            }
            let first = try await group.next()!
            await gw.gateway.shutdown()
            var all = [first]
            for try await r in group { all.append(r) }
            return all
        }
        try await gw.task.value
        // Every request got a definite answer, and every 200 is in the store.
        let accepted = replies.filter { $0.status == 200 }.compactMap { $0.json["id"] }
        for id in accepted { #expect(try gw.gateway.store.event(id: id) != nil) }
        #expect(replies.allSatisfy { [200, 503, -1].contains($0.status) })
        #expect(!accepted.isEmpty)
        await destination.stop()
    }
}
