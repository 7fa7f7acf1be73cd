import InletCore
import InletStore

extension AdminAPI {
    /// `GET /v1/stats?window=1h&step=1m`: per source, stored / duplicate / refused per step, refusals by reason and ack
    /// latency; per destination, queue, dead letters, circuit, pause and attempts per step. The window ends at the
    /// end of the current 10-second slot, so steps line up with the gateway's counters.
    func stats(_ request: AdminRequest) async throws -> SimpleResponse {
        let window = try StatsDuration.parameter(request, "window", default: 3_600_000, range: 60_000...StatsDuration.maxWindow)
        let step = try StatsDuration.parameter(request, "step", default: 60_000, range: TrafficLog.slotMillis...StatsDuration.maxWindow)
        guard step % TrafficLog.slotMillis == 0 else {
            throw Refusal(400, ErrorBody("invalid_step", hint: "a multiple of 10s, e.g. 10s, 1m, 5m", parameter: "step"))
        }
        guard step <= window else { throw Refusal(400, ErrorBody("invalid_step", hint: "at most the window", parameter: "step")) }
        let steps = Int((window + step - 1) / step)
        guard steps <= StatsDuration.maxSteps else {
            throw Refusal(400, ErrorBody("too_many_steps", hint: "window / step is at most \(StatsDuration.maxSteps)", parameter: "step"))
        }
        let now = clock.now()
        let until = (TrafficLog.slot(now) + 1) * TrafficLog.slotMillis, from = until - Int64(steps) * step
        let (counts, pending, gauges, paused) = try await store { s in
            (try s.eventCounts(from: from, until: until, stepMillis: step), try s.pendingByDestination(), try s.queueGauges(now: now), try s.pausedDestinations())
        }
        func bucket(_ at: EpochMillis) -> Int? {
            guard at >= from, at < until else { return nil }
            return Int((at - from) / step)
        }
        let snapshot = runtime.current
        var names = snapshot.resolved.sources.map(\.name)
        let sourceSlots = traffic?.sources(from: from, until: until) ?? [:]
        for name in Set(counts.map(\.source)).union(sourceSlots.keys).sorted() where !names.contains(name) && name != "-" { names.append(name) }
        let sources = names.map { name -> SourceStats in
            var accepted = Array(repeating: 0, count: steps), duplicate = accepted, refused = accepted
            var reasons: [String: Int] = [:], latency = Array(repeating: 0, count: TrafficLog.latencyBoundsMillis.count)
            for c in counts where c.source == name && c.bucket >= 0 && c.bucket < steps { accepted[c.bucket] += c.count }
            for (at, slot) in sourceSlots[name] ?? [:] {
                guard let i = bucket(at) else { continue }
                duplicate[i] += slot.duplicate
                for (reason, n) in slot.refused {
                    refused[i] += n
                    reasons[reason, default: 0] += n
                }
                for (j, n) in (slot.latency ?? []).enumerated() { latency[j] += n }
            }
            return SourceStats(name: name, accepted: accepted, duplicate: duplicate, refused: refused,
                               totals: StatsTotals(accepted: accepted.reduce(0, +), duplicate: duplicate.reduce(0, +), refused: refused.reduce(0, +)),
                               refusalsByReason: reasons,
                               ackLatency: AckLatency(count: latency.reduce(0, +), p50Ms: TrafficLog.percentile(0.5, of: latency),
                                                      p99Ms: TrafficLog.percentile(0.99, of: latency)))
        }
        let destinationSlots = traffic?.destinations(from: from, until: until) ?? [:]
        let circuits = circuitStates()
        let destinations = snapshot.resolved.destinations.keys.sorted().map { name -> DestinationStats in
            var delivered = Array(repeating: 0, count: steps), failed = delivered
            for (at, slot) in destinationSlots[name] ?? [:] {
                guard let i = bucket(at) else { continue }
                delivered[i] += slot.delivered
                failed[i] += slot.retried + slot.dead
            }
            return DestinationStats(name: name, queueDepth: pending[name]?.count ?? 0,
                                    oldestDueAgeSeconds: gauges[name]?.oldestDueAt.map { max(0, (now - $0) / 1000) },
                                    deadLetters: gauges[name]?.dead ?? 0, circuit: circuits.map { $0[name] ?? "closed" } ?? "unknown",
                                    paused: paused.contains(name), delivered: delivered, failed: failed,
                                    deliveredPerMinute: Double(delivered.reduce(0, +)) * 60_000 / Double(until - from))
        }
        return .json(200, Stats(from: RFC3339.format(from), until: RFC3339.format(until), windowSeconds: (until - from) / 1000, stepSeconds: step / 1000,
                                steps: steps, liveCounters: traffic != nil, sources: sources, destinations: destinations))
    }
}

/// The `window` and `step` of `GET /v1/stats`: a whole number and a unit, `90s`, `5m`, `1h`, `7d`. At most six digits,
/// so no input overflows.
enum StatsDuration {
    static let maxWindow: EpochMillis = 7 * 86_400_000
    static let maxSteps = 1_440

    static func parse(_ text: String) -> EpochMillis? {
        guard let unit = text.last, text.count >= 2, text.count <= 7 else { return nil }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits) else { return nil }
        switch unit {
        case "s": return n * 1_000
        case "m": return n * 60_000
        case "h": return n * 3_600_000
        case "d": return n * 86_400_000
        default: return nil
        }
    }

    static func parameter(_ request: AdminRequest, _ name: String, default value: EpochMillis, range: ClosedRange<EpochMillis>) throws -> EpochMillis {
        guard let text = request.query(name) else { return value }
        guard let millis = parse(text) else {
            throw AdminAPI.Refusal(400, AdminAPI.ErrorBody("invalid_\(name)", hint: "a number and a unit (s, m, h, d), e.g. 1h", parameter: name))
        }
        guard range.contains(millis) else {
            throw AdminAPI.Refusal(400, AdminAPI.ErrorBody("invalid_\(name)", hint: "between \(range.lowerBound / 1000)s and \(range.upperBound / 86_400_000)d",
                                                          parameter: name))
        }
        return millis
    }
}
