import Foundation

/// How a destination wants its events.
public enum PayloadMode: String, Sendable, CaseIterable {
    /// CloudEvents structured JSON (the provider's JSON body as `data`).
    case cloudevents
    /// CloudEvents binary mode: `ce-*` headers, the provider's body unchanged.
    case cloudeventsBinary = "cloudevents-binary"
    /// The provider's exact bytes and original headers, for services that verify with the provider's own SDK.
    case raw
}

/// Where a destination's ordering key comes from: events with the same key are delivered one at a time, in receive
/// order; a failing key holds back only itself.
public enum OrderingKey: Sendable, Equatable {
    case source
    case json(JSONPointer)

    public init?(_ text: String) {
        if text == "source" { self = .source; return }
        guard text.hasPrefix("json:"), let p = JSONPointer(String(text.dropFirst(5))) else { return nil }
        self = .json(p)
    }

    /// The key for an event; events without the field share the key `""` within their source.
    public func key(source: String, body: [UInt8]) -> String {
        switch self {
        case .source: return source
        case .json(let p): return source + "\u{1F}" + (JSONScanner.scalarText(at: p, in: body) ?? "")
        }
    }
}

/// Which HTTP statuses are worth retrying.
public struct RetryStatuses: Sendable, Equatable {
    public var statuses: Set<Int>

    /// Network errors and timeouts always retry; by default so do 408, 425, 429 and every 5xx.
    public static let `default` = RetryStatuses(statuses: Set([408, 425, 429]).union(500...599))

    public init(statuses: Set<Int>) { self.statuses = statuses }

    /// Parses entries such as `408`, `"429"` or `"5xx"`.
    public init?(_ entries: [String]) {
        var s = Set<Int>()
        for e in entries {
            if e.count == 3, e.hasSuffix("xx"), let d = Int(e.prefix(1)), (1...5).contains(d) {
                s.formUnion((d * 100)...(d * 100 + 99))
            } else if let n = Int(e), (100...599).contains(n) {
                s.insert(n)
            } else {
                return nil
            }
        }
        statuses = s
    }

    public func verdict(forStatus status: Int) -> AttemptVerdict {
        if (200..<300).contains(status) { return .delivered }
        return statuses.contains(status) ? .retry : .reject
    }
}

/// A destination's delivery policy, all of it pure: what the worker does after each attempt.
public struct DeliveryPolicy: Sendable, Equatable {
    public var retry: RetryPolicy
    public var retryStatuses: RetryStatuses
    /// Give up on an event this long after it was received, whatever the attempt count (Stripe keeps trying 3 days).
    public var maxAgeMillis: Int64

    public init(retry: RetryPolicy = RetryPolicy(), retryStatuses: RetryStatuses = .default, maxAgeMillis: Int64 = 3 * 86_400_000) {
        self.retry = retry
        self.retryStatuses = retryStatuses
        self.maxAgeMillis = maxAgeMillis
    }

    /// What becomes of a queue row after an attempt: decided here, recorded by the store (`DeliveryCompletion`).
    public enum Next: Sendable, Equatable {
        case delivered
        case retry(at: EpochMillis)
        case dead(reason: String)
    }

    /// The next step after attempt number `attempt` (1-based) of an event received at `receivedAt`.
    /// `status` is nil for a network error or timeout. `retryAfter` is the destination's `Retry-After`, honoured on
    /// 429 and 503 up to the policy's maximum delay.
    public func next(attempt: Int, status: Int?, retryAfterMillis: Int64?, receivedAt: EpochMillis, now: EpochMillis, unitRandom: Double) -> Next {
        let verdict = status.map(retryStatuses.verdict(forStatus:)) ?? .retry
        switch verdict {
        case .delivered: return .delivered
        case .reject: return .dead(reason: "status \(status ?? 0) is not retried")
        case .retry:
            if attempt >= retry.maxAttempts { return .dead(reason: "\(attempt) attempts made") }
            var delay = retry.delay(afterAttempt: attempt, unitRandom: unitRandom)
            if let ra = retryAfterMillis, let s = status, s == 429 || s == 503 {
                delay = min(max(ra, 0), retry.maxDelayMillis)
            }
            let at = now + delay
            // `receivedAt` comes from a stored row: compare without trapping whatever it holds.
            let (age, overflow) = at.subtractingReportingOverflow(receivedAt)
            if overflow || age > maxAgeMillis { return .dead(reason: "older than the maximum age") }
            return .retry(at: at)
        }
    }

    /// `Retry-After`: delta-seconds or an HTTP-date; nil when absent or unreadable.
    ///
    /// A destination's answer is outside input: any number of digits is accepted without trapping (a value whose
    /// milliseconds do not fit in 64 bits is `Int64.max`, which `next` clamps to the policy's maximum delay).
    public static func parseRetryAfter(_ value: String?, now: EpochMillis) -> Int64? {
        guard let v = value?.trimmingASCIIWhitespace(), !v.isEmpty else { return nil }
        if v.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            var seconds: Int64 = 0
            for c in v.utf8 {
                let (shifted, o1) = seconds.multipliedReportingOverflow(by: 10)
                let (sum, o2) = shifted.addingReportingOverflow(Int64(c - 48))
                if o1 || o2 { return .max }
                seconds = sum
            }
            let (millis, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? .max : millis
        }
        guard let at = HTTPDate.parse(v) else { return nil }
        let (delta, overflow) = at.subtractingReportingOverflow(now)
        return overflow ? (at > now ? .max : 0) : max(0, delta)
    }

    /// The `Retry-After` worth reading for an answer with `status`: only 429 and 503 give it meaning (RFC 9110), so
    /// on any other status the header is not even parsed.
    public static func retryAfterMillis(status: Int?, header: String?, now: EpochMillis) -> Int64? {
        guard status == 429 || status == 503 else { return nil }
        return parseRetryAfter(header, now: now)
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only HTTP-date form senders should use. Parsed byte by byte:
/// fixed widths, digits only, so no field of a hostile date can overflow.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func parse(_ text: String) -> EpochMillis? {
        // "Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes exactly.
        let b = Array(text.utf8)
        guard b.count == 29, b[3] == 44, b[4] == 32, b[7] == 32, b[11] == 32, b[16] == 32, b[19] == 58, b[22] == 58, b[25] == 32,
              b[26] == 71, b[27] == 77, b[28] == 84 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        let monthName = String(decoding: b[8..<11], as: UTF8.self)
        guard let day = num(5, 2), let month = months.firstIndex(of: monthName), let year = num(12, 4),
              let h = num(17, 2), let m = num(20, 2), let s = num(23, 2),
              (1...31).contains(day), h < 24, m < 60, s < 61 else { return nil }
        let days = RFC3339.daysFromCivil(Int64(year), month + 1, day)
        return (days * 86400 + Int64(h * 3600 + m * 60 + s)) * 1000
    }
}

/// Per-destination circuit breaker: after `failureThreshold` consecutive failures the destination is paused; after
/// the open interval one probe is let through; success closes the circuit, failure reopens it for twice as long (up
/// to `maxOpenMillis`). While open, the destination's queue is not claimed, so no attempts are burnt.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: EpochMillis, interval: Int64)
        case halfOpen(interval: Int64)
    }

    public var failureThreshold: Int
    public var openMillis: Int64
    public var maxOpenMillis: Int64
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(failureThreshold: Int = 10, openMillis: Int64 = 5_000, maxOpenMillis: Int64 = 300_000) {
        self.failureThreshold = failureThreshold
        self.openMillis = openMillis
        self.maxOpenMillis = maxOpenMillis
    }

    /// How many deliveries may start now: unlimited (nil) when closed, one probe when the open interval has passed.
    public mutating func allowance(now: EpochMillis, inFlight: Int) -> Int? {
        switch state {
        case .closed: return nil
        case .open(let until, let interval):
            guard now >= until else { return 0 }
            state = .halfOpen(interval: interval)
            return inFlight == 0 ? 1 : 0
        case .halfOpen:
            return inFlight == 0 ? 1 : 0
        }
    }

    public mutating func record(success: Bool, now: EpochMillis) {
        switch (state, success) {
        case (_, true): state = .closed(consecutiveFailures: 0)
        case (.closed(let n), false):
            let failures = n.addingSaturating(1)
            state = failures >= failureThreshold ? .open(until: now.addingSaturating(openMillis), interval: openMillis) : .closed(consecutiveFailures: failures)
        case (.halfOpen(let interval), false), (.open(_, let interval), false):
            let next = min(interval.multipliedSaturating(by: 2), maxOpenMillis)
            state = .open(until: now.addingSaturating(next), interval: next)
        }
    }

    /// The state without its counters and times: what operators see.
    public enum Phase: Sendable, Equatable, CaseIterable {
        case closed
        case open
        case halfOpen
    }

    public var phase: Phase {
        switch state {
        case .closed: return .closed
        case .open: return .open
        case .halfOpen: return .halfOpen
        }
    }

    /// When an open circuit next lets a probe through.
    public var reopensAt: EpochMillis? { if case .open(let until, _) = state { return until }; return nil }
}

/// A token bucket: `ratePerSecond` sustained, bursts up to `burst`.
public struct TokenBucket: Sendable, Equatable {
    public var ratePerSecond: Double
    public var burst: Double
    private var tokens: Double
    private var last: EpochMillis?

    public init(ratePerSecond: Double, burst: Double? = nil) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst ?? ratePerSecond)
        tokens = self.burst
    }

    public mutating func refill(now: EpochMillis) {
        if let last { tokens = min(burst, tokens + Double(max(0, now.subtractingSaturating(last))) / 1000 * ratePerSecond) }
        last = now
    }

    /// Whole tokens available now.
    public mutating func available(now: EpochMillis) -> Int {
        refill(now: now)
        // Clamped before converting: `Int(_:)` traps on a Double outside Int's range.
        return Int(min(max(tokens, 0), Double(Int32.max)))
    }

    public mutating func take(_ n: Int, now: EpochMillis) {
        refill(now: now)
        tokens -= Double(n)
    }

    /// Milliseconds until the next whole token.
    public func millisUntilNextToken() -> Int64 {
        guard tokens < 1 else { return 0 }
        let millis = ((1 - tokens) / ratePerSecond * 1000).rounded(.up)
        return millis.isFinite && millis < 86_400_000 ? Int64(millis) : 86_400_000
    }
}
