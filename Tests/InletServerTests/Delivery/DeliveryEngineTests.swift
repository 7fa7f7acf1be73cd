import Foundation
import InletCore
import InletServer
import InletStore
import NIOConcurrencyHelpers
import Testing

@Suite("Delivery engine end to end")
struct DeliveryEngineTests {
    @Test func routesFilterByTypeAndFieldAndUnroutedEventsAreKept() async throws {
        let billing = try await TestDestination(), eu = try await TestDestination(), audit = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: destinationTOML("billing", url: billing.url) + destinationTOML("eu", url: eu.url)
            + destinationTOML("audit", url: audit.url) + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]

            [[sources.stripe.routes]]
            destination = "billing"
            types = ["invoice.*"]

            [[sources.stripe.routes]]
            destination = "eu"
            where = [{ pointer = "/data/object/currency", in = ["eur", "chf"] }]

            [[sources.stripe.routes]]
            destination = "audit"
            types = ["customer.created"]
            where = [{ pointer = "/livemode", equals = true }]
            """)
        func send(_ id: String, type: String, currency: String, livemode: Bool) async throws -> String {
            let body = #"{"id":"\#(id)","type":"\#(type)","livemode":\#(livemode),"data":{"object":{"currency":"\#(currency)"}}}"#
            return try #require(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).json["id"])
        }
        _ = try await send("e1", type: "invoice.paid", currency: "usd", livemode: false)          // billing
        _ = try await send("e2", type: "invoice.paid", currency: "eur", livemode: false)          // billing + eu
        _ = try await send("e3", type: "customer.created", currency: "chf", livemode: true)       // eu + audit
        let unrouted = try await send("e4", type: "customer.created", currency: "usd", livemode: false)  // nothing
        try await billing.waitForRequests(2)
        try await eu.waitForRequests(2)
        try await audit.waitForRequests(1)
        try await gw.stop()
        func keys(_ d: TestDestination) -> [String] { d.requests.compactMap { JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: $0.body) }.sorted() }
        #expect(keys(billing) == ["e1", "e2"])
        #expect(keys(eu) == ["e2", "e3"])
        #expect(keys(audit) == ["e3"])
        let stored = try #require(try gw.gateway.store.event(id: unrouted))
        #expect(stored.unrouted)
        #expect(try gw.gateway.store.deliveries(eventID: unrouted).isEmpty)
        for d in [billing, eu, audit] { await d.stop() }
    }

    @Test func aFailingDestinationDoesNotHoldBackTheOthers() async throws {
        let ok1 = try await TestDestination(), ok2 = try await TestDestination()
        let failing = try await TestDestination { _, _ in 503 }
        let gw = try await RunningGateway.start(configBody: destinationTOML("a", url: ok1.url) + destinationTOML("b", url: ok2.url)
            + destinationTOML("broken", url: failing.url, "max_attempts = 100") + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["a", "broken", "b"]
            """)
        for n in 0..<5 {
            let body = stripeEvent("evt_fan_\(n)")
            #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        }
        try await ok1.waitForRequests(5)
        try await ok2.waitForRequests(5)
        try await failing.waitForRequests(5)
        try await gw.stop()
        let counts = try gw.gateway.store.counts()
        #expect(counts.delivered == 10)
        #expect(counts.pending == 5)  // the broken destination's rows wait for their retries
        for d in [ok1, ok2, failing] { await d.stop() }
    }

    @Test func retryAfterIsHonouredAndRecorded() async throws {
        let destination = try await TestDestination { r, n in
            n == 1 ? 429 : 204
        }
        // The first answer carries Retry-After: 1 (second), honoured within max_backoff_ms.
        let withHeader = try await RetryAfterDestination(retryAfter: "1")
        let gw = try await RunningGateway.start(configBody: destinationTOML("slow", url: withHeader.url, "max_backoff_ms = 5000") + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["slow"]
            """)
        let body = stripeEvent("evt_retry_after")
        let id = try #require(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).json["id"])
        try await eventually("delivery after Retry-After") { try gw.gateway.store.deliveries(eventID: id).first?.state == .delivered }
        try await gw.stop()
        let delivery = try #require(try gw.gateway.store.deliveries(eventID: id).first)
        let attempts = try gw.gateway.store.attempts(deliveryID: delivery.id)
        #expect(attempts.map(\.statusCode) == [429, 204])
        let planned = try #require(attempts[0].nextAttemptAt) - attempts[0].startedAt - attempts[0].durationMillis
        #expect(planned >= 900 && planned <= 1100, "Retry-After: 1 planned \(planned) ms")
        #expect(attempts[1].startedAt >= attempts[0].nextAttemptAt!)
        await withHeader.stop()
        await destination.stop()
    }

    @Test func circuitOpensOnRepeatedFailuresThenCloses() async throws {
        let healthy = NIOLockedValueBox(false)
        let destination = try await TestDestination { _, _ in healthy.withLockedValue { $0 } ? 204 : 500 }
        let gw = try await RunningGateway.start(configBody: destinationTOML("flaky", url: destination.url,
            "max_attempts = 1000\ncircuit_failure_threshold = 3\ncircuit_open_ms = 2000\ncircuit_max_open_ms = 4000") + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["flaky"]
            """)
        for n in 0..<3 {
            let body = stripeEvent("evt_cb_\(n)")
            _ = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        }
        try await destination.waitForRequests(3)
        try await eventually("circuit open") { gw.gateway.circuitStates()["flaky"] == "open" }
        // While open, the queue waits. Attempts already in flight when it opened land first (give them 200 ms);
        // after that, for 500 ms, well inside the 2 s open interval, no attempt is made.
        try await Task.sleep(for: .milliseconds(200))
        let before = destination.requests.count
        try await Task.sleep(for: .milliseconds(500))
        #expect(destination.requests.count == before)
        healthy.withLockedValue { $0 = true }
        try await eventually("all delivered after recovery") { try gw.gateway.store.counts().delivered == 3 }
        #expect(gw.gateway.circuitStates()["flaky"] == "closed")
        try await gw.stop()
        await destination.stop()
    }

    @Test func orderedDestinationKeepsPerKeyOrderWhileAFailingKeyWaitsAlone() async throws {
        let order = NIOLockedValueBox<[String: [Int]]>([:])
        let destination = try await TestDestination { request, _ in
            let key = JSONScanner.scalarText(at: JSONPointer("/data/data/object/id")!, in: request.body) ?? "?"
            if key == "sub_bad" { return 500 }
            let seq = Int(JSONScanner.scalarText(at: JSONPointer("/data/seq")!, in: request.body) ?? "-1")!
            order.withLockedValue { $0[key, default: []].append(seq) }
            return 204
        }
        let gw = try await RunningGateway.start(configBody: destinationTOML("ordered", url: destination.url,
            "ordering = \"json:/data/object/id\"\nmax_attempts = 1000\ncircuit_failure_threshold = 10000\nmax_concurrency = 16") + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["ordered"]
            """)
        let perKey = 1000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in ["sub_a", "sub_b", "sub_bad"] {
                group.addTask {
                    for seq in 0..<(key == "sub_bad" ? 3 : perKey) {
                        let body = #"{"id":"evt_\#(key)_\#(seq)","type":"customer.subscription.updated","seq":\#(seq),"data":{"object":{"id":"\#(key)"}}}"#
                        let reply = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
                        guard reply.status == 200 else { throw TimedOut(what: "ack \(reply.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await eventually(timeout: .seconds(60), "every good key delivered") {
            order.withLockedValue { o in ["sub_a", "sub_b"].allSatisfy { o[$0]?.count == perKey } }
        }
        try await gw.stop()
        let o = order.withLockedValue { $0 }
        for key in ["sub_a", "sub_b"] { #expect(o[key] == Array(0..<perKey), "\(key) out of order") }
        // The failing key's first event is retried; its later events wait behind it, never overtaking.
        let badRows = try gw.gateway.store.counts()
        #expect(badRows.pending == 3)
        await destination.stop()
    }

    @Test func payloadModesCarryTheSignatureOverWhatIsSent() async throws {
        let binary = try await TestDestination(), raw = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: destinationTOML("binary", url: binary.url, "payload = \"cloudevents-binary\"")
            + destinationTOML("raw", url: raw.url, "payload = \"raw\"") + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["binary", "raw"]
            """)
        let body = stripeEvent("evt_modes")
        let headers = stripeHeaders(body: body)
        let id = try #require(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: headers).json["id"])
        try await binary.waitForRequests(1)
        try await raw.waitForRequests(1)
        try await gw.stop()
        let signer = try StandardWebhooksSigner(secrets: [destinationSecret])
        for r in [binary.requests[0], raw.requests[0]] {
            #expect(r.body == Array(body.utf8))  // the provider's bytes, unchanged
            #expect(signer.verify(id: r.headers.first(name: "webhook-id")!, timestamp: r.headers.first(name: "webhook-timestamp")!,
                                  signatureHeader: r.headers.first(name: "webhook-signature")!, body: r.body, now: SystemClock().now()))
            #expect(r.headers.first(name: "Inlet-Event-Id") == id)
        }
        let b = binary.requests[0].headers
        #expect(b.first(name: "ce-id") == id && b.first(name: "ce-type") == "invoice.paid" && b.first(name: "ce-specversion") == "1.0")
        #expect(b.first(name: "ce-source") == "/sources/stripe" && b.first(name: "content-type") == "application/json")
        // Raw mode: the provider's own headers, so the service can verify with Stripe's SDK.
        let stripeSig = try #require(raw.requests[0].headers.first(name: "Stripe-Signature"))
        let profile = try #require(gw.gateway.runtime.current.resolved.profiles["stripe"])
        let replayed = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList([("Stripe-Signature", stripeSig)]), body: raw.requests[0].body,
                                       peer: nil, receivedAt: SystemClock().now())
        #expect(throws: Never.self) { try profile.verify(replayed, keys: [VerificationKey(label: "s", keyBytes: Array(stripeSecret.utf8))], now: SystemClock().now()).get() }
        await binary.stop(); await raw.stop()
    }

    @Test func aHangingDestinationDoesNotDelayIngressAcks() async throws {
        let release = NIOLockedValueBox(false)
        let hanging = try await TestDestination { _, _ in
            while !release.withLockedValue({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
            return 204
        }
        let gw = try await RunningGateway.start(configBody: destinationTOML("hang", url: hanging.url, "timeout_seconds = 30") + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["hang"]
            """)
        var slowest = Duration.zero
        for n in 0..<100 {
            let body = stripeEvent("evt_hang_\(n)")
            let started = ContinuousClock.now
            #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
            slowest = max(slowest, ContinuousClock.now - started)
        }
        try await hanging.waitForRequests(16)  // its concurrency limit is held by hanging requests
        // Acks do not wait for the stuck delivery slots: an ack that did would take the destination's 30 s timeout.
        // The bound is far below that and leaves room for a loaded test machine (ack latency is the benchmarks').
        #expect(slowest < .seconds(5), "slowest ack \(slowest)")
        release.withLockedValue { $0 = true }
        try await eventually("drained after release") { try gw.gateway.store.counts().delivered == 100 }
        try await gw.stop()
        await hanging.stop()
    }
}

/// A destination that answers 429 with `Retry-After` first, then 204.
final class RetryAfterDestination: Sendable {
    let server: ListenerServer
    var url: String { "http://127.0.0.1:\(server.port)/events" }

    init(retryAfter: String) async throws {
        let calls = NIOLockedValueBox(0)
        server = try await ListenerServer.start { _ in
            let n = calls.withLockedValue { $0 += 1; return $0 }
            return n == 1 ? SimpleResponse(status: 429, headers: [("Retry-After", retryAfter)]) : SimpleResponse(status: 204)
        }
    }

    func stop() async { await server.stop() }
}
