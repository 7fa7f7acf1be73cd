import InletCore
import NIOConcurrencyHelpers

/// What this gateway process did in the last 24 hours, in 10-second slots: the numbers behind `GET /v1/stats` and the
/// live tail that the store does not keep (duplicates, refusals by reason, ack latency, delivery attempts, the last
/// refusals). Fed through `GatewayMetrics` beside the Prometheus counters; in memory only, so a restart starts it empty,
/// and each instance of a shared store sees its own traffic.
///
/// Memory is bounded: slots older than 24 hours are dropped (sparse: a quiet source costs nothing), and the refusal
/// ring keeps the last `recentRefusalCapacity`.
public final class TrafficLog: Sendable {
    public static let slotMillis: EpochMillis = 10_000
    public static let retainedSlots: EpochMillis = 8_640
    public static let recentRefusalCapacity = 512
    /// Upper bounds of the ack-latency histogram, in milliseconds; a percentile is reported as the bound of its bucket.
    public static let latencyBoundsMillis: [Double] = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750,
                                                       1000, 2000, 5000, 10_000, .infinity]

    public struct SourceSlot: Sendable, Equatable {
        public var accepted = 0
        public var duplicate = 0
        public var refused: [String: Int] = [:]
        /// Counts per `latencyBoundsMillis` bucket; nil until an ack was timed in the slot.
        public var latency: [Int]?
    }

    public struct DestinationSlot: Sendable, Equatable {
        public var delivered = 0
        public var retried = 0
        public var dead = 0
    }

    /// One refused request, as the live tail shows it.
    public struct Refusal: Sendable, Equatable {
        /// Increases by one per refusal: the tail's cursor.
        public var sequence: Int64
        public var at: EpochMillis
        public var source: String
        public var reason: String
    }

    struct State {
        var sources: [String: [EpochMillis: SourceSlot]] = [:]
        var destinations: [String: [EpochMillis: DestinationSlot]] = [:]
        var prunedAt: EpochMillis = 0
        var refusals: [Refusal] = []
        var nextSequence: Int64 = 1
    }

    let clock: any WallClock
    private let state = NIOLockedValueBox(State())

    public init(clock: any WallClock) { self.clock = clock }

    static func slot(_ at: EpochMillis) -> EpochMillis { at >= 0 ? at / slotMillis : (at - slotMillis + 1) / slotMillis }


    func refused(source: String, reason: String) {
        let now = clock.now()
        state.withLockedValue { s in
            Self.update(&s.sources, source, at: now) { $0.refused[reason, default: 0] += 1 }
            if s.refusals.count >= Self.recentRefusalCapacity { s.refusals.removeFirst(s.refusals.count - Self.recentRefusalCapacity + 1) }
            s.refusals.append(Refusal(sequence: s.nextSequence, at: now, source: source, reason: reason))
            s.nextSequence += 1
            Self.prune(&s, now: now)
        }
    }

    /// One acknowledged request: stored (`duplicate` false) or a duplicate, and its arrival-to-ack time. One lock per
    /// ack, taken on the ingress's event loop after the answer's bytes are decided.
    func acked(source: String, duplicate: Bool, seconds: Double) {
        let millis = seconds * 1000
        let bucket = Self.latencyBoundsMillis.firstIndex { millis <= $0 } ?? Self.latencyBoundsMillis.count - 1
        updateSource(source) { slot in
            if duplicate { slot.duplicate += 1 } else { slot.accepted += 1 }
            if slot.latency == nil { slot.latency = Array(repeating: 0, count: Self.latencyBoundsMillis.count) }
            slot.latency![bucket] += 1
        }
    }

    /// `outcome` as the delivery workers count it: `delivered`, `retry` or `dead`.
    func attempt(destination: String, outcome: String) {
        let now = clock.now()
        state.withLockedValue { s in
            Self.update(&s.destinations, destination, at: now) { slot in
                switch outcome {
                case "delivered": slot.delivered += 1
                case "dead": slot.dead += 1
                default: slot.retried += 1
                }
            }
            Self.prune(&s, now: now)
        }
    }

    private func updateSource(_ source: String, _ change: (inout SourceSlot) -> Void) {
        let now = clock.now()
        state.withLockedValue { s in
            Self.update(&s.sources, source, at: now, change)
            Self.prune(&s, now: now)
        }
    }

    private static func update<Slot>(_ table: inout [String: [EpochMillis: Slot]], _ name: String, at now: EpochMillis, _ change: (inout Slot) -> Void)
        where Slot: DefaultInitializable {
        change(&table[name, default: [:]][slot(now), default: Slot()])
    }

    /// Drops slots past the retention, at most once a minute (each pass walks every kept slot).
    private static func prune(_ s: inout State, now: EpochMillis) {
        let current = slot(now)
        guard current - s.prunedAt >= 6 else { return }
        s.prunedAt = current
        let oldest = current - retainedSlots
        for name in s.sources.keys { s.sources[name] = s.sources[name]?.filter { $0.key > oldest } }
        for name in s.destinations.keys { s.destinations[name] = s.destinations[name]?.filter { $0.key > oldest } }
    }

    /// The slots in `[from, until)`, by name, keyed by slot start time.
    public func sources(from: EpochMillis, until: EpochMillis) -> [String: [EpochMillis: SourceSlot]] {
        let (first, last) = (Self.slot(from), Self.slot(until - 1))
        return state.withLockedValue { s in
            s.sources.mapValues { slots in
                Dictionary(uniqueKeysWithValues: slots.filter { $0.key >= first && $0.key <= last }.map { ($0.key * Self.slotMillis, $0.value) })
            }
        }
    }

    public func destinations(from: EpochMillis, until: EpochMillis) -> [String: [EpochMillis: DestinationSlot]] {
        let (first, last) = (Self.slot(from), Self.slot(until - 1))
        return state.withLockedValue { s in
            s.destinations.mapValues { slots in
                Dictionary(uniqueKeysWithValues: slots.filter { $0.key >= first && $0.key <= last }.map { ($0.key * Self.slotMillis, $0.value) })
            }
        }
    }

    /// Refusals with a sequence above `after`, oldest first, at most `limit`.
    public func refusals(after: Int64, limit: Int) -> [Refusal] {
        state.withLockedValue { s in Array(s.refusals.lazy.filter { $0.sequence > after }.prefix(limit)) }
    }

    /// The sequence of the newest refusal (0 before the first): where a tail that starts now begins.
    public var lastRefusalSequence: Int64 { state.withLockedValue { $0.nextSequence - 1 } }

    /// The `p`-quantile (0…1) of a latency histogram, as its bucket's upper bound in milliseconds; nil when empty.
    /// The last bucket has no bound: it reports the largest finite one.
    public static func percentile(_ p: Double, of histogram: [Int]) -> Double? {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((p * Double(total)).rounded(.up)))
        var seen = 0
        for (i, n) in histogram.enumerated() {
            seen += n
            if seen >= rank { return latencyBoundsMillis[i].isFinite ? latencyBoundsMillis[i] : latencyBoundsMillis[latencyBoundsMillis.count - 2] }
        }
        return nil
    }
}

protocol DefaultInitializable { init() }
extension TrafficLog.SourceSlot: DefaultInitializable {}
extension TrafficLog.DestinationSlot: DefaultInitializable {}
