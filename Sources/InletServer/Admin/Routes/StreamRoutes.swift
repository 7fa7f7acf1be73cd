import Foundation
import InletConfig
import InletCore
import InletStore

/// Streams on the admin listener (the README's "Streams" section; `openapi/inlet-admin.yaml`). Consumers read with a
/// stream's own tokens (`AdminRoute.Access.consumer`); the management routes take admin tokens.
extension AdminAPI {
    /// The most a long-poll waits (`wait`), and the safety net under the bell: a long-poll also looks at the store this
    /// often, should a wake-up be missed (another instance's append while its NOTIFY connection reconnects).
    static let maxWaitSeconds = 60
    static let recheckInterval: Duration = .seconds(1)

    // MARK: Consumers

    /// `GET /v1/streams/{name}/events?group=&max=&wait=&start=&lease=&include=raw`: leases the group's next batch.
    func streamEvents(_ request: AdminRequest) async throws -> SimpleResponse {
        let stream = try configuredStream(request)
        let group = try groupParameter(request)
        let max = try intParameter(request, "max", default: min(100, stream.config.maxBatch), range: 1...stream.config.maxBatch, code: "max_out_of_range")
        let wait = try intParameter(request, "wait", default: 0, range: 0...Self.maxWaitSeconds, code: "wait_out_of_range")
        let leaseSeconds = try intParameter(request, "lease", default: stream.config.leaseSeconds, range: 1...3600, code: "lease_out_of_range")
        let startAtNow = try startParameter(request)
        let includeRaw: Bool
        switch request.query("include") {
        case nil, "": includeRaw = false
        case "raw": includeRaw = true
        default: throw Refusal(400, ErrorBody("invalid_include", hint: "include=raw or nothing", parameter: "include"))
        }
        let name = stream.config.name
        let lease = StreamLeaseRequest(stream: name, group: group, max: max, leaseMillis: Int64(leaseSeconds) * 1000, startAtNow: startAtNow)
        let batch = try await nextBatch(lease, waitingUpTo: .seconds(wait))
        return SimpleResponse(status: 200, headers: [("Content-Type", "application/json")],
                              body: Self.encodeBatch(batch, stream: name, group: group, includeRaw: includeRaw))
    }

    /// Leases a batch; when there is none, waits for the stream's bell (or the recheck interval) and tries again until
    /// `wait` has passed. The bell's generation is read before each look at the store, so an append committed while
    /// the store is read ends the wait at once.
    func nextBatch(_ lease: StreamLeaseRequest, waitingUpTo wait: Duration) async throws -> StreamBatch {
        let deadline = ContinuousClock.now + wait
        while true {
            let generation = streamBell.generation(lease.stream)
            let receipt = Self.makeReceipt(), now = clock.now()
            let batch = try await store { try $0.leaseBatch(lease, receipt: receipt, now: now) }
            if batch.expiredLeases > 0 { streamObserver.leaseExpired(lease.stream, lease.group, batch.expiredLeases) }
            let left = deadline - ContinuousClock.now
            if !batch.items.isEmpty || left <= .zero || Task.isCancelled { return batch }
            await streamBell.wait(lease.stream, since: generation, timeout: min(left, Self.recheckInterval))
        }
    }

    /// `POST /v1/streams/{name}/ack` with `{"group","receipt"}` or `{"group","sequences"}`.
    func acknowledgeStream(_ request: AdminRequest) async throws -> SimpleResponse {
        let stream = try configuredStream(request).config.name
        guard let body = try? AdminJSON.decode(StreamAckRequest.self, from: request.body) else {
            throw Refusal(400, ErrorBody("invalid_body", hint: #"{"group":"G","receipt":"R"} or {"group":"G","sequences":[17,18]}"#))
        }
        guard RouteTarget.isValidName(body.group) else { throw Refusal(400, ErrorBody("invalid_group", hint: "1-64 of A-Z a-z 0-9 . _ -", parameter: "group")) }
        let now = clock.now(), group = body.group
        do {
            let ack: StreamAck
            switch (body.receipt, body.sequences) {
            case (let receipt?, nil):
                ack = try await store { try $0.acknowledge(stream: stream, group: group, receipt: receipt, now: now) }
            case (nil, let sequences?):
                guard sequences.count <= 10_000 else { throw Refusal(400, ErrorBody("too_many_sequences", hint: "at most 10000 per call", parameter: "sequences")) }
                ack = try await store { try $0.acknowledge(stream: stream, group: group, sequences: sequences, now: now) }
            default:
                throw Refusal(400, ErrorBody("invalid_body", hint: "exactly one of receipt and sequences"))
            }
            return .json(200, StreamAckAnswer(acknowledged: ack.acknowledged, cursor: ack.cursor))
        } catch StreamStoreError.receiptExpired {
            throw Refusal(409, ErrorBody("receipt_expired", hint: "the lease ran out (or the receipt was acknowledged already): its events are served again"))
        } catch StreamStoreError.unknownGroup {
            throw Refusal(404, ErrorBody("unknown_group", parameter: "group"))
        }
    }

    /// `GET /v1/streams/{name}/sse?group=`: the group's items as server-sent events (`id:` = sequence). A
    /// `Last-Event-ID` acknowledges everything up to it and resumes after it. What one connection was sent is leased to
    /// it and never sent on it again; acknowledged by the next connection's `Last-Event-ID` (or `POST …/ack`), and given
    /// back to the group when the connection ends (or, if the end goes unnoticed, when its lease runs out).
    func streamSSE(_ request: AdminRequest) async throws -> SimpleResponse {
        let stream = try configuredStream(request)
        let group = try groupParameter(request)
        let startAtNow = try startParameter(request)
        let name = stream.config.name, leaseMillis = Int64(stream.config.leaseSeconds) * 1000
        var resumeAfter: Int64?
        if let header = request.headers.first(name: "Last-Event-ID"), !header.isEmpty {
            guard let sequence = Int64(header.trimmingCharacters(in: .whitespaces)), sequence >= 0 else {
                throw Refusal(400, ErrorBody("invalid_last_event_id", hint: "the id: of the last event received (a sequence)"))
            }
            let now = clock.now()
            _ = try await store { try $0.commitThrough(stream: name, group: group, sequence: sequence, startAtNow: startAtNow, now: now) }
            resumeAfter = sequence
        }
        let heartbeat = Duration.seconds(stream.config.sseHeartbeatSeconds)
        let batchSize = min(100, stream.config.maxBatch)
        var response = SimpleResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store"),
                                                            ("X-Accel-Buffering", "no")])
        let resumeFrom = resumeAfter
        response.stream = ResponseStream { [self] write in
            var after = resumeFrom
            // What this connection was sent and may still hold: given back when it ends (below).
            var held: [(receipt: String, expiresAt: EpochMillis)] = []
            do {
                // Tells the client how soon to reconnect, and opens the stream at once (proxies see bytes).
                try await write(Array("retry: 1000\n\n".utf8))
                var lastWrite = ContinuousClock.now
                while !Task.isCancelled {
                    let lease = StreamLeaseRequest(stream: name, group: group, max: batchSize, leaseMillis: leaseMillis, startAtNow: startAtNow, after: after)
                    let untilHeartbeat = heartbeat - (ContinuousClock.now - lastWrite)
                    let batch = try await self.nextBatch(lease, waitingUpTo: max(.zero, untilHeartbeat))
                    if let last = batch.items.last, let receipt = batch.receipt, let expires = batch.leaseExpiresAt {
                        let now = self.clock.now()
                        held.removeAll { $0.expiresAt <= now }
                        held.append((receipt, expires))
                        // One write per batch, awaited: a slow reader holds back the next batch, not the gateway's memory.
                        try await write(Self.encodeSSE(batch.items))
                        after = last.sequence
                        lastWrite = ContinuousClock.now
                    } else if ContinuousClock.now - lastWrite >= heartbeat {
                        try await write(Array(": heartbeat\n\n".utf8))
                        lastWrite = ContinuousClock.now
                    }
                }
            } catch {}
            // The connection ended: what it was sent and nobody acknowledged goes back to the group at once, so a
            // reconnect with `Last-Event-ID` gets the rest without waiting for the leases to run out.
            // (In a task of its own: this one is cancelled, and the store threads refuse work for a cancelled task.)
            let receipts = held.map(\.receipt), now = clock.now()
            await Task { _ = try? await self.store { try $0.releaseLeases(stream: name, group: group, receipts: receipts, now: now) } }.value
        }
        return response
    }

    // MARK: Management (admin tokens)

    /// `GET /v1/streams`: every configured stream with its length and groups.
    func listStreams(_: AdminRequest) async throws -> SimpleResponse {
        let now = clock.now()
        let (summaries, groups) = try await store { (try $0.streamSummaries(), try $0.streamGroups(stream: nil, now: now)) }
        let byName = Dictionary(summaries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let streams = runtime.current.resolved.streams.values.sorted { $0.config.name < $1.config.name }.map { s -> StreamInfo in
            let summary = byName[s.config.name]
            return StreamInfo(name: s.config.name, length: summary?.length ?? 0, lastSequence: summary?.lastSequence ?? 0,
                              firstSequence: summary?.firstSequence, oldestAppendedAt: summary?.oldestAppendedAt.map(RFC3339.format),
                              retentionHours: s.config.retentionHours, leaseSeconds: s.config.leaseSeconds,
                              groups: groups.filter { $0.stream == s.config.name }.map { Self.groupAnswer($0, now: now) })
        }
        return .json(200, StreamList(streams: streams))
    }

    /// `GET /v1/streams/{name}/groups`.
    func listStreamGroups(_ request: AdminRequest) async throws -> SimpleResponse {
        let name = try configuredStream(request).config.name, now = clock.now()
        let groups = try await store { try $0.streamGroups(stream: name, now: now) }
        return .json(200, StreamGroupList(stream: name, groups: groups.map { Self.groupAnswer($0, now: now) }))
    }

    /// `POST /v1/streams/{name}/groups/{group}/rewind` with `{"sequence":N}` or `{"time":"RFC3339"}`.
    func rewindStreamGroup(_ request: AdminRequest) async throws -> SimpleResponse {
        let name = try configuredStream(request).config.name, group = request.parameter("group")
        guard let body = try? AdminJSON.decode(StreamRewindRequest.self, from: request.body) else {
            throw Refusal(400, ErrorBody("invalid_body", hint: #"{"sequence":17} or {"time":"2026-12-01T00:00:00Z"}"#))
        }
        let position: StreamPosition
        switch (body.sequence, body.time) {
        case (let s?, nil):
            guard s >= 1 else { throw Refusal(400, ErrorBody("invalid_sequence", hint: "sequences start at 1", parameter: "sequence")) }
            position = .sequence(s)
        case (nil, let t?):
            guard let ms = RFC3339.parse(t) else { throw Refusal(400, ErrorBody("invalid_time", hint: "RFC 3339, e.g. 2026-12-01T00:00:00Z", parameter: "time")) }
            position = .time(ms)
        default:
            throw Refusal(400, ErrorBody("invalid_body", hint: "exactly one of sequence and time"))
        }
        let now = clock.now()
        guard let cursor = try await store({ try $0.rewindGroup(stream: name, group: group, to: position, now: now) }) else {
            throw Refusal(404, ErrorBody("unknown_group", parameter: "group"))
        }
        streamBell.ring([name])
        return .json(200, StreamRewindAnswer(stream: name, group: group, cursor: cursor))
    }

    /// `DELETE /v1/streams/{name}/groups/{group}`: forgets the group's cursor and leases (its next read creates it anew).
    func deleteStreamGroup(_ request: AdminRequest) async throws -> SimpleResponse {
        let name = try configuredStream(request).config.name, group = request.parameter("group")
        guard try await store({ try $0.deleteGroup(stream: name, group: group) }) else { throw Refusal(404, ErrorBody("unknown_group", parameter: "group")) }
        return .json(200, ActionStatus(status: "deleted"))
    }

    // MARK: Parameters

    private func configuredStream(_ request: AdminRequest) throws -> ResolvedStream {
        guard let stream = runtime.current.resolved.streams[request.parameter("name")] else {
            throw Refusal(404, ErrorBody("unknown_stream", hint: "streams are configured as [streams.NAME]"))
        }
        return stream
    }

    private func groupParameter(_ request: AdminRequest) throws -> String {
        guard let group = request.query("group"), !group.isEmpty else {
            throw Refusal(400, ErrorBody("missing_group", hint: "name the consumer group: ?group=NAME", parameter: "group"))
        }
        guard RouteTarget.isValidName(group) else { throw Refusal(400, ErrorBody("invalid_group", hint: "1-64 of A-Z a-z 0-9 . _ -", parameter: "group")) }
        return group
    }

    private func startParameter(_ request: AdminRequest) throws -> Bool {
        switch request.query("start") {
        case nil, "", "oldest": return false
        case "now": return true
        default: throw Refusal(400, ErrorBody("invalid_start", hint: "oldest or now", parameter: "start"))
        }
    }

    private func intParameter(_ request: AdminRequest, _ name: String, default value: Int, range: ClosedRange<Int>, code: String) throws -> Int {
        guard let text = request.query(name) else { return value }
        // Int(_:) refuses what does not fit, so no input overflows.
        guard let n = Int(text), range.contains(n) else {
            throw Refusal(400, ErrorBody(code, hint: "\(name) is \(range.lowerBound)…\(range.upperBound)", parameter: name))
        }
        return n
    }

    static func groupAnswer(_ g: StreamGroupState, now: EpochMillis) -> StreamGroup {
        StreamGroup(group: g.group, cursor: g.cursor, lagEvents: g.lagEvents, lagSeconds: g.oldestUnacknowledgedAt.map { max(0, (now - $0) / 1000) } ?? 0,
                    leased: g.leased, behindRetention: g.missedByRetention > 0, missedByRetention: g.missedByRetention,
                    createdAt: RFC3339.format(g.createdAt), updatedAt: RFC3339.format(g.updatedAt))
    }

    // MARK: Encoding

    /// An opaque lease receipt: 128 random bits, hex.
    static func makeReceipt() -> String {
        var rng = SystemRandomNumberGenerator()
        let a = rng.next() as UInt64, b = rng.next() as UInt64
        return "r" + String(a, radix: 16).leftPadded(16) + String(b, radix: 16).leftPadded(16)
    }

    /// The item a consumer gets: the CloudEvent push delivery sends (its `data` spliced byte for byte), and the
    /// sequence.
    static func cloudEvent(_ item: StreamItem) -> [UInt8] {
        let e = item.event
        return CloudEvent(id: e.id, source: "/sources/\(e.source)", type: e.eventType ?? "\(e.provider).webhook", time: e.receivedAt, body: e.body,
                          bodyContentType: e.contentType, extensions: [("inletprovider", e.provider), ("inleteventkey", e.eventKey)]).encodeJSON()
    }

    static func encodeItem(_ item: StreamItem, includeRaw: Bool, into out: inout [UInt8]) {
        out += Array(#"{"sequence":\#(item.sequence),"event":"#.utf8)
        out += cloudEvent(item)
        if includeRaw {
            let e = item.event
            out += Array(#","raw":{"method":"#.utf8); JSONString.append(e.method, to: &out)
            out += Array(#","path":"#.utf8); JSONString.append(e.path, to: &out)
            if let q = e.query { out += Array(#","query":"#.utf8); JSONString.append(q, to: &out) }
            out += Array(#","headers":["#.utf8)
            for (n, h) in e.headers.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "[")); JSONString.append(h.name, to: &out); out.append(UInt8(ascii: ","))
                JSONString.append(h.value, to: &out); out.append(UInt8(ascii: "]"))
            }
            out += Array(#"],"body_base64":"#.utf8); JSONString.append(Base64.encode(e.body), to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }

    static func encodeBatch(_ batch: StreamBatch, stream: String, group: String, includeRaw: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + batch.items.reduce(0) { $0 + $1.event.body.count * (includeRaw ? 3 : 1) + 400 })
        out += Array(#"{"stream":"#.utf8); JSONString.append(stream, to: &out)
        out += Array(#","group":"#.utf8); JSONString.append(group, to: &out)
        out += Array(#","receipt":"#.utf8)
        if let r = batch.receipt { JSONString.append(r, to: &out) } else { out += Array("null".utf8) }
        out += Array(#","lease_expires_at":"#.utf8)
        if let at = batch.leaseExpiresAt { JSONString.append(RFC3339.format(at), to: &out) } else { out += Array("null".utf8) }
        out += Array(#","events":["#.utf8)
        for (n, item) in batch.items.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            encodeItem(item, includeRaw: includeRaw, into: &out)
        }
        out += Array("]}".utf8)
        return out
    }

    /// `id:`, `event: cloudevent` and the item JSON as `data:` lines: a body's own line breaks (JSON whitespace) start
    /// a new `data:` line, which the client joins back with a newline.
    static func encodeSSE(_ items: [StreamItem]) -> [UInt8] {
        var out: [UInt8] = []
        var json: [UInt8] = []
        for item in items {
            json.removeAll(keepingCapacity: true)
            encodeItem(item, includeRaw: false, into: &json)
            out += Array("id: \(item.sequence)\nevent: cloudevent\ndata: ".utf8)
            var previousCR = false
            for b in json {
                if b == UInt8(ascii: "\n") && previousCR { previousCR = false; continue }
                previousCR = b == UInt8(ascii: "\r")
                if b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") { out += Array("\ndata: ".utf8) } else { out.append(b) }
            }
            out += Array("\n\n".utf8)
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
