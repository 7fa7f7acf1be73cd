import InletCore
import InletStore

extension AdminAPI {
    /// `GET /v1/tail?seconds=&since=&after_refusal=`: newline-delimited JSON of new events (from the store) and
    /// refusals (this gateway's counters) as they happen, for `seconds` (default 300, at most 3600); then the response
    /// ends and a client reconnects with `since` (the last event's `received_at`) and `after_refusal` (the last
    /// refusal's `sequence`), dropping event IDs it has already shown.
    ///
    /// Read with `fetch` and a stream reader, which can send the `Authorization` header (`EventSource` cannot). The
    /// store is polled every half second from a receive-time watermark; each write waits for the client to take the
    /// previous one, so a slow reader delays its own tail instead of growing a buffer (one page of events is held at a
    /// time), and misses nothing: it reads on from its watermark when it catches up.
    func tail(_ request: AdminRequest) async throws -> SimpleResponse {
        let seconds = try Self.intParameter(request, "seconds", default: 300, range: 1...3600)
        var since: EpochMillis?
        if let text = request.query("since") {
            guard let t = RFC3339.parse(text) else {
                throw Refusal(400, ErrorBody("invalid_time", hint: "RFC 3339, e.g. 2026-11-23T00:00:00Z", parameter: "since"))
            }
            since = t
        }
        let afterRefusal = try request.query("after_refusal").map { text -> Int64 in
            guard text.count <= 18, let n = Int64(text), n >= 0 else { throw Refusal(400, ErrorBody("invalid_cursor", parameter: "after_refusal")) }
            return n
        }
        let tail = EventTail(api: self, start: since ?? clock.now(), afterRefusal: afterRefusal ?? traffic?.lastRefusalSequence ?? 0,
                             deadline: clock.now() + Int64(seconds) * 1000)
        return SimpleResponse(status: 200, headers: [("Content-Type", "application/x-ndjson"), ("Cache-Control", "no-store"),
                                                     ("X-Content-Type-Options", "nosniff")],
                              stream: ResponseStream { write in try await tail.run(write) })
    }

    /// An integer query parameter within `range`; anything else (not digits, too long, out of range) is `400
    /// invalid_<name>`.
    static func intParameter(_ request: AdminRequest, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.query(name) else { return value }
        guard text.count <= 9, let n = Int(text), range.contains(n) else {
            throw Refusal(400, ErrorBody("invalid_\(name)", hint: "a whole number from \(range.lowerBound) to \(range.upperBound)", parameter: name))
        }
        return n
    }
}

/// One client's live tail: what it has shown, and the loop that polls and writes.
struct EventTail: Sendable {
    static let pollMillis: Int64 = 500
    static let heartbeatMillis: Int64 = 10_000
    /// Events are read again this far behind the watermark: an event's receive time is stamped before its commit, so
    /// one committed a moment after a later-received one is still found. Already shown IDs are skipped.
    static let lookbackMillis: Int64 = 3_000
    static let pageSize = 200

    let api: AdminAPI
    let start: EpochMillis
    let afterRefusal: Int64
    let deadline: EpochMillis

    func run(_ write: ResponseStream.Write) async throws {
        let clock = api.clock
        func line(_ kind: String, event: AdminAPI.EventSummary? = nil, refusal: AdminAPI.TailRefusal? = nil) -> [UInt8] {
            AdminJSON.encode(AdminAPI.TailLine(kind: kind, at: RFC3339.format(clock.now()), event: event, refusal: refusal)) + [0x0A]
        }
        try await write(line("ready"))
        var watermark = start, shown: [String: EpochMillis] = [:], refusalCursor = afterRefusal, lastWrite = clock.now()
        while clock.now() < deadline {
            var out: [UInt8] = []
            // Events: pages in ID order from the watermark's lookback, skipping those shown.
            let from = max(start, watermark - Self.lookbackMillis)
            var after: String? = nil, emitted = 0
            while emitted < Self.pageSize {
                let cursor = after
                let page = try await api.store { try $0.events(matching: EventFilter(receivedFrom: from), after: cursor, limit: Self.pageSize) }
                for e in page where shown[e.id] == nil {
                    shown[e.id] = e.receivedAt
                    watermark = max(watermark, e.receivedAt)
                    out += line("event", event: AdminAPI.EventSummary(e))
                    emitted += 1
                }
                guard page.count == Self.pageSize, let last = page.last else { break }
                after = last.id
            }
            shown = shown.filter { $0.value >= watermark - Self.lookbackMillis }
            for r in api.traffic?.refusals(after: refusalCursor, limit: Self.pageSize) ?? [] {
                refusalCursor = r.sequence
                out += line("refusal", refusal: AdminAPI.TailRefusal(sequence: r.sequence, source: r.source, reason: r.reason,
                                                                     receivedAt: RFC3339.format(r.at)))
            }
            if out.isEmpty, clock.now() - lastWrite >= Self.heartbeatMillis { out = line("heartbeat") }
            if !out.isEmpty {
                try await write(out)
                lastWrite = clock.now()
            }
            if emitted < Self.pageSize { try await Task.sleep(nanoseconds: UInt64(Self.pollMillis) * 1_000_000) }
        }
    }
}
