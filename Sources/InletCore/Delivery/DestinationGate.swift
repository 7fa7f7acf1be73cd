/// One destination's pacing, all of it pure: how many deliveries may start now under its concurrency limit, its
/// token bucket and its circuit breaker, and when a worker with nothing to do should look at it again. The delivery
/// service keeps one gate per destination behind a lock and only performs what the gates decide.
///
/// Claims come in batches: refilling each slot as it frees would cost a store transaction per delivery. So while
/// deliveries are in flight, a claim for fewer than a quarter of the destination's slots waits (at most
/// `claimBatchWaitMillis`) for more to free up.
public struct DestinationGate: Sendable, Equatable {
    /// How long a claim for a few free slots may wait for more. Under load slots free every fraction of a
    /// millisecond, so claims come in batches (one store transaction each, not one per delivery); when the
    /// destination is stuck, its last slots are filled after this wait instead of never.
    public static let claimBatchWaitMillis: Int64 = 10

    /// Deliveries that may run at once. A `var` because a config reload changes it at once, while the breaker and the
    /// bucket keep their state.
    public var maxConcurrency: Int
    public private(set) var inFlight = 0
    public private(set) var breaker: CircuitBreaker
    public private(set) var bucket: TokenBucket?
    /// Since when a claim has waited for more free slots.
    public private(set) var claimDeferredSince: EpochMillis?

    public init(maxConcurrency: Int, breaker: CircuitBreaker = CircuitBreaker(), bucket: TokenBucket? = nil) {
        self.maxConcurrency = maxConcurrency
        self.breaker = breaker
        self.bucket = bucket
    }

    /// How many deliveries may start now, given `globalRoom` free slots gateway-wide. Asking moves time forward:
    /// an open circuit whose interval has passed turns half-open, the bucket refills, a deferral starts or ends.
    public mutating func allowance(now: EpochMillis, globalRoom: Int) -> Int {
        var room = min(maxConcurrency.subtractingSaturating(inFlight), globalRoom)
        if inFlight > 0 && room > 0 && room < max(1, maxConcurrency / 4) {
            if let since = claimDeferredSince, now.subtractingSaturating(since) >= Self.claimBatchWaitMillis {
                claimDeferredSince = nil
            } else {
                if claimDeferredSince == nil { claimDeferredSince = now }
                room = 0
            }
        } else {
            claimDeferredSince = nil
        }
        if let probe = breaker.allowance(now: now, inFlight: inFlight) { room = min(room, probe) }
        if var b = bucket { room = min(room, b.available(now: now)); bucket = b }
        return max(0, room)
    }

    /// `count` deliveries were claimed and start now: they hold slots and spend tokens.
    public mutating func started(_ count: Int, now: EpochMillis) {
        inFlight = inFlight.addingSaturating(count)
        bucket?.take(count, now: now)
    }

    /// One delivery ended and its slot is free. `success` is what the circuit learns: whether the destination
    /// answered as a healthy destination does; nil when the attempt never reached it (it was no longer configured).
    public mutating func finished(success: Bool?, now: EpochMillis) {
        inFlight = max(0, inFlight - 1)
        if let success { breaker.record(success: success, now: now) }
    }

    /// When this destination may next start a delivery that it cannot start now: its circuit's probe time, the end
    /// of a claim deferral, or its next token. Nil when nothing here is waiting on time.
    public func wakeAt(now: EpochMillis) -> EpochMillis? {
        var at: EpochMillis?
        func earliest(_ t: EpochMillis) { at = min(at ?? t, t) }
        if let reopens = breaker.reopensAt { earliest(reopens) }
        if let since = claimDeferredSince { earliest(since.addingSaturating(Self.claimBatchWaitMillis)) }
        if let b = bucket, b.millisUntilNextToken() > 0 { earliest(now.addingSaturating(b.millisUntilNextToken())) }
        return at
    }
}

extension FixedWidthInteger {
    /// `self + other`, pinned to the type's bounds instead of trapping: times here may come from stored rows or
    /// clocks no one checked.
    func addingSaturating(_ other: Self) -> Self {
        let (v, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : v
    }

    func subtractingSaturating(_ other: Self) -> Self {
        let (v, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : v
    }

    func multipliedSaturating(by other: Self) -> Self {
        let (v, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : v
    }
}
