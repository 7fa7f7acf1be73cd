import InletCore
import Testing

@Suite("Destination gate")
struct DestinationGateTests {
    @Test func allowanceRespectsMaxConcurrencyAndTheGlobalRoom() {
        var g = DestinationGate(maxConcurrency: 8)
        #expect(g.allowance(now: 0, globalRoom: 100) == 8)
        #expect(g.allowance(now: 0, globalRoom: 3) == 3)
        #expect(g.allowance(now: 0, globalRoom: 0) == 0)
        #expect(g.allowance(now: 0, globalRoom: -5) == 0)
        g.started(8, now: 0)
        #expect(g.inFlight == 8)
        #expect(g.allowance(now: 0, globalRoom: 100) == 0)
        // A reload lowers the limit at once.
        g.maxConcurrency = 4
        #expect(g.allowance(now: 0, globalRoom: 100) == 0)
        for _ in 0..<6 { g.finished(success: true, now: 1) }
        #expect(g.inFlight == 2)
        #expect(g.allowance(now: 1, globalRoom: 100) == 2)
        #expect(g.allowance(now: 1, globalRoom: 1) == 1)
    }

    @Test func aFewFreeSlotsWaitBrieflyForABatch() {
        var g = DestinationGate(maxConcurrency: 8)
        g.started(8, now: 0)
        g.finished(success: true, now: 100)
        // One slot of eight is below a quarter: the claim waits for more.
        #expect(g.allowance(now: 100, globalRoom: 100) == 0)
        #expect(g.claimDeferredSince == 100)
        #expect(g.wakeAt(now: 100) == 100 + DestinationGate.claimBatchWaitMillis)
        #expect(g.allowance(now: 105, globalRoom: 100) == 0)
        #expect(g.claimDeferredSince == 100)  // the wait runs from its start, not from each look
        // A stuck destination still gets its last slots, after the wait.
        #expect(g.allowance(now: 110, globalRoom: 100) == 1)
        #expect(g.claimDeferredSince == nil && g.wakeAt(now: 110) == nil)
        // Enough free slots end a wait at once.
        #expect(g.allowance(now: 120, globalRoom: 100) == 0)
        g.finished(success: true, now: 121)
        #expect(g.allowance(now: 121, globalRoom: 100) == 2)
        #expect(g.claimDeferredSince == nil)
        // With nothing in flight there is nothing to wait for.
        var idle = DestinationGate(maxConcurrency: 8)
        #expect(idle.allowance(now: 0, globalRoom: 1) == 1)
        #expect(idle.claimDeferredSince == nil)
    }

    @Test func aRateLimitedDestinationDefersAndReportsWhenItEarnsAToken() {
        var g = DestinationGate(maxConcurrency: 16, bucket: TokenBucket(ratePerSecond: 10, burst: 2))
        #expect(g.wakeAt(now: 0) == nil)
        #expect(g.allowance(now: 0, globalRoom: 100) == 2)
        g.started(2, now: 0)
        #expect(g.allowance(now: 0, globalRoom: 100) == 0)
        #expect(g.wakeAt(now: 0) == 100)  // one token at 10 per second
        var early = g
        #expect(early.allowance(now: 99, globalRoom: 100) == 0)
        #expect(g.allowance(now: 100, globalRoom: 100) == 1)
        #expect(g.wakeAt(now: 100) == nil)
        g.finished(success: true, now: 150)
        g.finished(success: true, now: 150)
        #expect(g.allowance(now: 10_000, globalRoom: 100) == 2)  // never more than the burst
    }

    @Test func anOpenBreakerAllowsNothingUntilItsProbeTimeThenOneProbe() {
        var g = DestinationGate(maxConcurrency: 4, breaker: CircuitBreaker(failureThreshold: 2, openMillis: 1000, maxOpenMillis: 4000))
        g.started(2, now: 0)
        g.finished(success: false, now: 5)
        #expect(g.breaker.phase == .closed)
        g.finished(success: false, now: 5)
        #expect(g.breaker.phase == .open && g.inFlight == 0)
        #expect(g.allowance(now: 500, globalRoom: 100) == 0)
        #expect(g.wakeAt(now: 500) == 1005)
        #expect(g.allowance(now: 1005, globalRoom: 100) == 1)
        #expect(g.breaker.phase == .halfOpen)
        #expect(g.allowance(now: 1005, globalRoom: 0) == 0)  // the probe still needs a global slot
        g.started(1, now: 1005)
        #expect(g.allowance(now: 1006, globalRoom: 100) == 0)  // one probe at a time
        #expect(g.wakeAt(now: 1006) == nil)  // the probe's end rings, not the clock
    }

    @Test func finishedClosesOrReopensTheCircuit() {
        var g = DestinationGate(maxConcurrency: 4, breaker: CircuitBreaker(failureThreshold: 1, openMillis: 1000, maxOpenMillis: 4000))
        g.started(1, now: 0)
        g.finished(success: false, now: 0)
        #expect(g.breaker.reopensAt == 1000)
        #expect(g.allowance(now: 1000, globalRoom: 100) == 1)
        g.started(1, now: 1000)
        g.finished(success: false, now: 1100)  // the probe failed: open for twice as long
        #expect(g.breaker.phase == .open && g.breaker.reopensAt == 3100 && g.inFlight == 0)
        #expect(g.allowance(now: 3099, globalRoom: 100) == 0)
        #expect(g.allowance(now: 3100, globalRoom: 100) == 1)
        g.started(1, now: 3100)
        g.finished(success: true, now: 3200)  // the probe succeeded: closed, every slot open again
        #expect(g.breaker.phase == .closed && g.inFlight == 0)
        #expect(g.allowance(now: 3200, globalRoom: 100) == 4)
    }

    @Test func anAttemptThatNeverReachedTheDestinationOnlyFreesItsSlot() {
        var g = DestinationGate(maxConcurrency: 4, breaker: CircuitBreaker(failureThreshold: 1))
        g.started(1, now: 0)
        g.finished(success: nil, now: 0)
        #expect(g.inFlight == 0 && g.breaker.phase == .closed)
        g.finished(success: nil, now: 0)  // an unmatched finish does not go below zero
        #expect(g.inFlight == 0)
    }

    /// Times come from clocks and stored rows no one checked: no sum or difference of them may trap.
    @Test func extremeTimesDoNotTrap() {
        let times: [EpochMillis] = [.min, .min + 1, -1, 0, 1, .max - 1, .max]
        for first in times {
            for second in times {
                var g = DestinationGate(maxConcurrency: 4,
                                        breaker: CircuitBreaker(failureThreshold: 1, openMillis: .max / 2 + 1, maxOpenMillis: .max),
                                        bucket: TokenBucket(ratePerSecond: 0.001, burst: 3))
                _ = g.allowance(now: first, globalRoom: 4)
                g.started(3, now: first)
                g.finished(success: true, now: first)
                _ = g.allowance(now: second, globalRoom: 4)  // may start a claim deferral at `second`
                _ = g.wakeAt(now: second)
                g.finished(success: false, now: second)
                _ = g.wakeAt(now: first)
                _ = g.allowance(now: first, globalRoom: 4)
                g.finished(success: false, now: first)  // reopens for twice the (already huge) interval
                _ = g.wakeAt(now: second)
                #expect(g.allowance(now: second, globalRoom: 4) >= 0)
            }
        }
        var g = DestinationGate(maxConcurrency: 4, breaker: CircuitBreaker(failureThreshold: 1, openMillis: 1000))
        g.started(1, now: .max)
        g.finished(success: false, now: .max)
        #expect(g.breaker.reopensAt == .max && g.wakeAt(now: .max) == .max)
        #expect(g.allowance(now: .max, globalRoom: 4) == 1)
        var crowded = DestinationGate(maxConcurrency: .max)
        crowded.started(.max, now: 0)
        crowded.started(.max, now: 0)
        #expect(crowded.inFlight == .max && crowded.allowance(now: 0, globalRoom: .max) == 0)
    }
}
