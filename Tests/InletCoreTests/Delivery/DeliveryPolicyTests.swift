import InletCore
import Testing

@Suite("Routing")
struct RoutingTests {
    let body = Array(#"{"type":"invoice.paid","livemode":true,"data":{"object":{"currency":"usd","amount":2000,"tags":["a"]}}}"#.utf8)

    @Test func typePatterns() {
        #expect(TypePattern("*").matches(nil))
        #expect(TypePattern("invoice.paid").matches("invoice.paid"))
        #expect(!TypePattern("invoice.paid").matches("invoice.paid.x"))
        #expect(TypePattern("invoice.*").matches("invoice.payment.failed"))
        #expect(!TypePattern("invoice.*").matches("invoice"))
        #expect(!TypePattern("invoice.*").matches("invoices.x"))
        #expect(!TypePattern("invoice.*").matches(nil))
    }

    @Test func fieldConditions() {
        func cond(_ p: String, _ t: FieldCondition.Test) -> FieldCondition { FieldCondition(pointer: JSONPointer(p)!, test: t) }
        #expect(cond("/data/object/currency", .equals("usd")).holds(in: body))
        #expect(!cond("/data/object/currency", .equals("eur")).holds(in: body))
        #expect(cond("/data/object/amount", .equals("2000")).holds(in: body))
        #expect(cond("/livemode", .equals("true")).holds(in: body))
        #expect(cond("/data/object/currency", .oneOf(["eur", "usd"])).holds(in: body))
        #expect(cond("/data/object/tags", .exists(true)).holds(in: body))
        #expect(cond("/data/object/missing", .exists(false)).holds(in: body))
        #expect(!cond("/data/object/tags", .equals("a")).holds(in: body))  // arrays never equal a scalar
        #expect(!cond("/x", .equals("1")).holds(in: Array("not json".utf8)))
    }

    @Test func fanOutDeduplicatesAndKeepsOrder() {
        let routes = [
            Route(destination: "billing", types: [TypePattern("invoice.*")]),
            Route(destination: "audit"),
            Route(destination: "billing"),
            Route(destination: "eu", conditions: [FieldCondition(pointer: JSONPointer("/data/object/currency")!, test: .equals("eur"))]),
        ]
        #expect(routes.destinations(eventType: "invoice.paid", body: body) == ["billing", "audit"])
        #expect(routes.destinations(eventType: "customer.created", body: body) == ["audit", "billing"])
        #expect([Route(destination: "eu", types: [TypePattern("x")])].destinations(eventType: "y", body: body).isEmpty)
    }
}

@Suite("Delivery policy")
struct DeliveryPolicyTests {
    let policy = DeliveryPolicy(retry: RetryPolicy(initialDelayMillis: 1000, maxDelayMillis: 60_000, maxAttempts: 5), maxAgeMillis: 3_600_000)

    @Test func retryScheduleFollowsTheBackoffCeilings() {
        for attempt in 1...4 {
            let low = policy.next(attempt: attempt, status: 503, retryAfterMillis: nil, receivedAt: 0, now: 10_000, unitRandom: 0)
            let high = policy.next(attempt: attempt, status: 503, retryAfterMillis: nil, receivedAt: 0, now: 10_000, unitRandom: 1)
            let ceiling: Int64 = min(Int64(1000) << Int64(attempt - 1), 60_000)
            #expect(low == .retry(at: 10_000))
            #expect(high == .retry(at: 10_000 + ceiling))
        }
        #expect(policy.next(attempt: 5, status: 503, retryAfterMillis: nil, receivedAt: 0, now: 0, unitRandom: 0) == .dead(reason: "5 attempts made"))
    }

    @Test func whichStatusesRetry() {
        for s in [408, 425, 429, 500, 502, 599] {
            guard case .retry = policy.next(attempt: 1, status: s, retryAfterMillis: nil, receivedAt: 0, now: 0, unitRandom: 0) else { Issue.record("\(s)"); continue }
        }
        for s in [400, 401, 404, 410, 301] {
            #expect(policy.next(attempt: 1, status: s, retryAfterMillis: nil, receivedAt: 0, now: 0, unitRandom: 0) == .dead(reason: "status \(s) is not retried"))
        }
        guard case .retry = policy.next(attempt: 1, status: nil, retryAfterMillis: nil, receivedAt: 0, now: 0, unitRandom: 0) else { Issue.record("network error"); return }
        #expect(policy.next(attempt: 1, status: 204, retryAfterMillis: nil, receivedAt: 0, now: 0, unitRandom: 0) == .delivered)
        let custom = DeliveryPolicy(retryStatuses: RetryStatuses(["409", "5xx"])!)
        guard case .retry = custom.next(attempt: 1, status: 409, retryAfterMillis: nil, receivedAt: 0, now: 0, unitRandom: 0) else { Issue.record("409"); return }
        #expect(custom.next(attempt: 1, status: 429, retryAfterMillis: nil, receivedAt: 0, now: 0, unitRandom: 0) == .dead(reason: "status 429 is not retried"))
        #expect(RetryStatuses(["6xx"]) == nil && RetryStatuses(["abc"]) == nil)
    }

    @Test func retryAfterIsHonouredOn429And503WithinTheMaxDelay() {
        #expect(policy.next(attempt: 1, status: 429, retryAfterMillis: 30_000, receivedAt: 0, now: 1_000, unitRandom: 0) == .retry(at: 31_000))
        #expect(policy.next(attempt: 1, status: 503, retryAfterMillis: 900_000, receivedAt: 0, now: 1_000, unitRandom: 0) == .retry(at: 61_000))
        // Other statuses ignore it.
        #expect(policy.next(attempt: 1, status: 500, retryAfterMillis: 30_000, receivedAt: 0, now: 1_000, unitRandom: 1) == .retry(at: 2_000))
        #expect(DeliveryPolicy.parseRetryAfter("120", now: 0) == 120_000)
        #expect(DeliveryPolicy.parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now: 1_767_225_600_000) == 10_000)
        #expect(DeliveryPolicy.parseRetryAfter("soon", now: 0) == nil)
    }

    /// Hardening 1: a destination answering `503` with `Retry-After: 10000000000000000` trapped on `s * 1000` (and the
    /// row was claimed again after the restart, so the gateway crash-looped).
    @Test func hugeRetryAfterIsClampedNotATrap() {
        #expect(DeliveryPolicy.parseRetryAfter("10000000000000000", now: 0) == .max)
        #expect(DeliveryPolicy.parseRetryAfter("9223372036854775807", now: 0) == .max)
        #expect(DeliveryPolicy.parseRetryAfter(String(repeating: "9", count: 400), now: 0) == .max)
        #expect(DeliveryPolicy.parseRetryAfter("9223372036854775", now: 0) == 9_223_372_036_854_775_000)
        let huge = DeliveryPolicy.retryAfterMillis(status: 503, header: "10000000000000000", now: 1_000)
        // Clamped to the policy's maximum delay (60 s here).
        #expect(policy.next(attempt: 1, status: 503, retryAfterMillis: huge, receivedAt: 0, now: 1_000, unitRandom: 0) == .retry(at: 61_000))
        // Signs, fractions and junk are unreadable, not negative delays.
        #expect(DeliveryPolicy.parseRetryAfter("-5", now: 0) == nil)
        #expect(DeliveryPolicy.parseRetryAfter("1.5", now: 0) == nil)
        #expect(DeliveryPolicy.parseRetryAfter("+5", now: 0) == nil)
    }

    @Test func retryAfterIsReadOnlyOn429And503() {
        #expect(DeliveryPolicy.retryAfterMillis(status: 429, header: "7", now: 0) == 7_000)
        #expect(DeliveryPolicy.retryAfterMillis(status: 503, header: "7", now: 0) == 7_000)
        for status: Int? in [nil, 200, 301, 500, 502, 504] {
            #expect(DeliveryPolicy.retryAfterMillis(status: status, header: "7", now: 0) == nil)
        }
    }

    @Test func httpDatesAreParsedStrictly() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777_000)
        // A date in the past means "now".
        #expect(DeliveryPolicy.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: 1_767_225_600_000) == 0)
        for bad in ["Sun, 06 Nov 99999 08:49:37 GMT", "Sun, -6 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                    "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
                    "Sun, 99999999999999999999 Nov 1994 08:49:37 GMT", ""] {
            #expect(HTTPDate.parse(bad) == nil, "\(bad)")
        }
    }

    /// Stored rows are outside input too: a receive time or attempt count no one wrote must not trap the policy.
    @Test func extremeStoredValuesDoNotTrap() {
        #expect(policy.next(attempt: 1, status: 500, retryAfterMillis: nil, receivedAt: .min, now: 1_000, unitRandom: 0) == .dead(reason: "older than the maximum age"))
        #expect(policy.next(attempt: Int.max, status: 500, retryAfterMillis: nil, receivedAt: 0, now: 1_000, unitRandom: 1) == .dead(reason: "\(Int.max) attempts made"))
        var bucket = TokenBucket(ratePerSecond: 0.001)
        bucket.take(Int(Int32.max), now: 0)
        #expect(bucket.available(now: 0) == 0)
        #expect(bucket.millisUntilNextToken() == 86_400_000)
    }

    @Test func eventsOlderThanTheMaxAgeAreDeadLettered() {
        #expect(policy.next(attempt: 1, status: 500, retryAfterMillis: nil, receivedAt: 0, now: 3_599_500, unitRandom: 1) == .dead(reason: "older than the maximum age"))
        #expect(policy.next(attempt: 1, status: 500, retryAfterMillis: nil, receivedAt: 0, now: 3_599_500, unitRandom: 0) == .retry(at: 3_599_500))
    }

    @Test func circuitOpensProbesAndCloses() {
        var b = CircuitBreaker(failureThreshold: 3, openMillis: 1000, maxOpenMillis: 4000)
        #expect(b.allowance(now: 0, inFlight: 0) == nil)
        b.record(success: false, now: 0); b.record(success: false, now: 0)
        #expect(b.phase == .closed)
        b.record(success: false, now: 10)
        #expect(b.phase == .open && b.reopensAt == 1010)
        #expect(b.allowance(now: 500, inFlight: 0) == 0)  // paused: nothing is claimed
        #expect(b.allowance(now: 1010, inFlight: 0) == 1)  // one probe
        #expect(b.allowance(now: 1011, inFlight: 1) == 0)
        b.record(success: false, now: 1100)  // probe failed: reopen for twice as long
        #expect(b.reopensAt == 3100)
        _ = b.allowance(now: 3100, inFlight: 0)
        b.record(success: false, now: 3200)
        _ = b.allowance(now: 7200, inFlight: 0)
        b.record(success: false, now: 7200)
        #expect(b.reopensAt == 11_200)  // capped at maxOpenMillis
        #expect(b.allowance(now: 11_200, inFlight: 0) == 1)
        b.record(success: true, now: 11_300)
        #expect(b.phase == .closed && b.allowance(now: 11_300, inFlight: 5) == nil)
    }

    @Test func tokenBucketPacesDeliveries() {
        var t = TokenBucket(ratePerSecond: 10, burst: 2)
        #expect(t.available(now: 0) == 2)
        t.take(2, now: 0)
        #expect(t.available(now: 50) == 0)
        #expect(t.millisUntilNextToken() == 50)
        #expect(t.available(now: 100) == 1)
        #expect(t.available(now: 10_000) == 2)  // never more than the burst
    }

    @Test func orderingKeys() {
        let body = Array(#"{"data":{"object":{"id":"sub_1"}}}"#.utf8)
        #expect(OrderingKey("source")?.key(source: "stripe", body: body) == "stripe")
        #expect(OrderingKey("json:/data/object/id")?.key(source: "stripe", body: body) == "stripe\u{1F}sub_1")
        #expect(OrderingKey("data.object.id") == nil)
    }
}
