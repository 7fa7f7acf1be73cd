/// When and whether a failed delivery is tried again: exponential backoff with full jitter.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelayMillis: Int64
    public var maxDelayMillis: Int64
    /// Attempts in all, the first included.
    public var maxAttempts: Int

    public init(initialDelayMillis: Int64 = 1_000, maxDelayMillis: Int64 = 3_600_000, maxAttempts: Int = 12) {
        self.initialDelayMillis = initialDelayMillis
        self.maxDelayMillis = maxDelayMillis
        self.maxAttempts = maxAttempts
    }

    /// The upper bound of the delay before attempt `attempt + 1`, given `attempt` attempts made (≥ 1).
    public func ceiling(afterAttempt attempt: Int) -> Int64 {
        let shift = min(max(attempt - 1, 0), 40)
        let (v, overflow) = initialDelayMillis.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? maxDelayMillis : min(v, maxDelayMillis)
    }

    /// The delay before the next attempt: "full jitter", uniform in [0, ceiling], so a burst of failures (a
    /// destination that was down) comes back spread over the whole window instead of in synchronized waves.
    public func delay(afterAttempt attempt: Int, unitRandom: Double) -> Int64 {
        let c = ceiling(afterAttempt: attempt)
        let r = min(max(unitRandom, 0), 1)
        return Int64(Double(c) * r)
    }
}

/// What a delivery attempt's result means for the queue row.
public enum AttemptVerdict: Sendable, Equatable {
    case delivered
    /// Try again later (network error, timeout, or a status the destination's policy retries).
    case retry
    /// Do not retry: the destination refused the event.
    case reject
}
