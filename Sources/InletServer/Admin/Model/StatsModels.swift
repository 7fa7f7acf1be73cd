extension AdminAPI {
    /// `GET /v1/stats`: a window of traffic in equal steps, per source and per destination. Series hold one number per
    /// step, oldest first; step `i` covers `[from + i·step, from + (i+1)·step)`.
    public struct Stats: Codable, Sendable, Equatable {
        public var from: String
        public var until: String
        public var windowSeconds: Int64
        public var stepSeconds: Int64
        public var steps: Int
        /// Whether the gateway's own counters (duplicates, refusals, ack latency, attempts) are included: they live in
        /// the gateway process, so the CLI's in-process view has only what the store keeps.
        public var liveCounters: Bool
        public var sources: [SourceStats]
        public var destinations: [DestinationStats]

        enum CodingKeys: String, CodingKey {
            case from, until, steps, sources, destinations
            case windowSeconds = "window_seconds"
            case stepSeconds = "step_seconds"
            case liveCounters = "live_counters"
        }
    }

    public struct SourceStats: Codable, Sendable, Equatable {
        public var name: String
        /// Stored events per step (from the store: every instance, and history from before a restart).
        public var accepted: [Int]
        /// Retried events answered `duplicate`, per step (this gateway process).
        public var duplicate: [Int]
        /// Refused requests per step, every reason (this gateway process).
        public var refused: [Int]
        public var totals: StatsTotals
        /// Refusals in the window by reason code.
        public var refusalsByReason: [String: Int]
        public var ackLatency: AckLatency

        enum CodingKeys: String, CodingKey {
            case name, accepted, duplicate, refused, totals
            case refusalsByReason = "refusals_by_reason"
            case ackLatency = "ack_latency"
        }
    }

    public struct StatsTotals: Codable, Sendable, Equatable {
        public var accepted: Int
        public var duplicate: Int
        public var refused: Int
    }

    /// Arrival to `200` for accepted and duplicate requests in the window. Percentiles are the upper bound of their
    /// histogram bucket (0.25 ms … 10 s); absent when nothing was timed.
    public struct AckLatency: Codable, Sendable, Equatable {
        public var count: Int
        public var p50Ms: Double?
        public var p99Ms: Double?

        enum CodingKeys: String, CodingKey {
            case count
            case p50Ms = "p50_ms"
            case p99Ms = "p99_ms"
        }
    }

    public struct DestinationStats: Codable, Sendable, Equatable {
        public var name: String
        /// Deliveries waiting (due or backing off).
        public var queueDepth: Int
        /// How long the longest-waiting due delivery has waited for a worker; absent while none is due.
        public var oldestDueAgeSeconds: Int64?
        public var deadLetters: Int
        /// `closed`, `open`, `half_open`, or `unknown` outside the gateway process.
        public var circuit: String
        public var paused: Bool
        /// Successful attempts per step (this gateway process).
        public var delivered: [Int]
        /// Failed attempts per step, retried or dead-lettered (this gateway process).
        public var failed: [Int]
        /// Successful deliveries per minute, over the window.
        public var deliveredPerMinute: Double

        enum CodingKeys: String, CodingKey {
            case name, circuit, paused, delivered, failed
            case queueDepth = "queue_depth"
            case oldestDueAgeSeconds = "oldest_due_age_seconds"
            case deadLetters = "dead_letters"
            case deliveredPerMinute = "delivered_per_minute"
        }
    }

    /// One line of `GET /v1/tail` (newline-delimited JSON): `ready` first, then `event`, `refusal` and `heartbeat`
    /// lines as they happen.
    public struct TailLine: Codable, Sendable, Equatable {
        /// `ready`, `event`, `refusal` or `heartbeat`.
        public var kind: String
        /// When the line was written.
        public var at: String
        public var event: EventSummary?
        public var refusal: TailRefusal?
    }

    /// A refused request, as the tail shows it. `sequence` resumes a tail (`after_refusal`).
    public struct TailRefusal: Codable, Sendable, Equatable {
        public var sequence: Int64
        public var source: String
        public var reason: String
        public var receivedAt: String

        enum CodingKeys: String, CodingKey {
            case sequence, source, reason
            case receivedAt = "received_at"
        }
    }
}
