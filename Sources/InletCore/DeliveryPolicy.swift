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
            if at - receivedAt > maxAgeMillis { return .dead(reason: "older than the maximum age") }
            return .retry(at: at)
        }
    }

    /// `Retry-After`: delta-seconds or an HTTP-date; nil when absent or unreadable.
    public static func parseRetryAfter(_ value: String?, now: EpochMillis) -> Int64? {
        guard let v = value?.trimmingASCIIWhitespace(), !v.isEmpty else { return nil }
        if v.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let s = Int64(v) { return s * 1000 }
        return HTTPDate.parse(v).map { max(0, $0 - now) }
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only HTTP-date form senders should use.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func parse(_ text: String) -> EpochMillis? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let hms = parts[4].split(separator: ":")
        guard hms.count == 3, let h = Int(hms[0]), let m = Int(hms[1]), let s = Int(hms[2]) else { return nil }
        let iso = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month + 1, day, h, m, s)
        return RFC3339.parse(iso)
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
            state = n + 1 >= failureThreshold ? .open(until: now + openMillis, interval: openMillis) : .closed(consecutiveFailures: n + 1)
        case (.halfOpen(let interval), false), (.open(_, let interval), false):
            let next = min(interval * 2, maxOpenMillis)
            state = .open(until: now + next, interval: next)
        }
    }

    public var name: String {
        switch state {
        case .closed: return "closed"
        case .open: return "open"
        case .halfOpen: return "half_open"
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
        if let last { tokens = min(burst, tokens + Double(max(0, now - last)) / 1000 * ratePerSecond) }
        last = now
    }

    /// Whole tokens available now.
    public mutating func available(now: EpochMillis) -> Int {
        refill(now: now)
        return Int(tokens)
    }

    public mutating func take(_ n: Int, now: EpochMillis) {
        refill(now: now)
        tokens -= Double(n)
    }

    /// Milliseconds until the next whole token.
    public func millisUntilNextToken() -> Int64 {
        tokens >= 1 ? 0 : Int64(((1 - tokens) / ratePerSecond * 1000).rounded(.up))
    }
}
