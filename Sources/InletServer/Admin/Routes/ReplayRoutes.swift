import InletCore
import InletStore

extension AdminAPI {
    /// `POST /v1/events/{id}/replay?destination=`: queues a stored event again, to the destinations its source's
    /// routes choose today, or to the named ones. The forwarded event is marked as a replay (`inletreplay`,
    /// `Inlet-Replay: true`).
    func replayEvent(_ request: AdminRequest) async throws -> SimpleResponse {
        let id = request.parameter("id")
        guard let event = try await store({ try $0.event(id: id) }) else { throw Refusal.notFound }
        let snapshot = runtime.current
        var targets = request.queryAll("destination")
        if targets.isEmpty {
            guard let source = snapshot.resolved.sources.first(where: { $0.name == event.source }) else {
                throw Refusal(422, ErrorBody("source_not_configured", hint: "name destinations with ?destination="))
            }
            // Streams are not replayed into (their consumers rewind instead): only destinations.
            targets = source.routes.destinations(eventType: event.eventType, body: event.body).filter { !RouteTarget.isStream($0) }
        }
        if let unknown = targets.first(where: { snapshot.destination($0) == nil }) {
            throw Refusal(422, ErrorBody("unknown_destination", destination: unknown))
        }
        guard !targets.isEmpty else { throw Refusal(422, ErrorBody("no_destination", hint: "no route matches; name destinations with ?destination=")) }
        let now = clock.now(), chosen = targets
        let ids = try await store { try $0.replay(eventID: id, destinations: chosen, now: now) } ?? []
        wake()
        return .json(202, ReplayQueued(status: "queued", destinations: targets, deliveryIDs: ids))
    }

    /// `POST /v1/replays`: every stored event matching a filter, oldest first, to its routes (as configured now) or to
    /// named destinations. The rate is kept by making the i-th replay due at `now + i / rate`: the queue itself
    /// paces the replay, so it needs no job that could die halfway, and survives a restart.
    func bulkReplay(_ request: AdminRequest) async throws -> SimpleResponse {
        let asked = try Self.bulkReplayRequest(request.body)
        let rate = asked.ratePerSecond ?? 50, limit = asked.limit ?? BulkReplayRequest.maxLimit, named = asked.destinations ?? []
        let filter = EventFilter(source: asked.source, eventType: asked.type, eventKey: asked.eventKey,
                                 receivedFrom: asked.since.flatMap(RFC3339.parse), receivedUntil: asked.until.flatMap(RFC3339.parse),
                                 unroutedOnly: asked.unrouted ?? false, status: asked.status.flatMap(EventStatus.init(rawValue:)))
        // Replaying everything by accident would flood every destination: a filter is required.
        guard filter != EventFilter() else {
            throw Refusal(400, ErrorBody("filter_required", hint: "set source, type, event_key, since, until, status or unrouted"))
        }
        let snapshot = runtime.current
        if let unknown = named.first(where: { snapshot.destination($0) == nil }) { throw Refusal(422, ErrorBody("unknown_destination", destination: unknown)) }
        if asked.dryRun ?? false {
            let matched = try await store { try $0.countEvents(matching: filter) }
            return .json(200, BulkReplayDryRun(dryRun: true, matched: min(matched, limit)))
        }
        let start = clock.now()
        var matched = 0, queued = 0, skipped = 0, scheduled = 0, cursor: String? = nil, lastDue = start
        while matched < limit {
            let after = cursor, page = min(500, limit - matched)
            var items: [ReplayItem] = []
            let pageCount: Int
            func schedule(_ eventID: String, _ targets: [String]) {
                lastDue = start + EpochMillis((Double(scheduled) * 1000 / rate).rounded(.down))
                scheduled += 1
                items.append(ReplayItem(eventID: eventID, destinations: targets, dueAt: lastDue))
            }
            if !named.isEmpty {
                // Named destinations: the events' IDs are all it takes.
                let ids = try await store { try $0.eventIDs(matching: filter, after: after, limit: page) }
                guard let last = ids.last else { break }
                cursor = last
                pageCount = ids.count
                matched += ids.count
                for id in ids { schedule(id, named) }
            } else {
                let events = try await store { try $0.events(matching: filter, after: after, limit: page) }
                guard let last = events.last else { break }
                cursor = last.id
                pageCount = events.count
                for e in events {
                    matched += 1
                    var targets: [String] = []
                    if let source = snapshot.resolved.sources.first(where: { $0.name == e.source }) {
                        targets = source.routes.destinations(eventType: e.eventType, body: e.body).filter { snapshot.destination($0) != nil }
                    }
                    guard !targets.isEmpty else { skipped += 1; continue }
                    schedule(e.id, targets)
                }
            }
            let batch = items
            let added = try await store { try $0.queueReplays(batch, now: start) }
            queued += added
            // Delivery starts on the first page while the rest are queued.
            if added > 0 { wake() }
            if pageCount < page { break }
        }
        return .json(202, BulkReplayQueued(status: "queued", matched: matched, queued: queued, skipped: skipped, ratePerSecond: rate,
                                           completesAt: RFC3339.format(lastDue)))
    }

    /// The body of `POST /v1/replays`: empty (or only whitespace) is `{}`; anything else must be a JSON object that
    /// `BulkReplayRequest` accepts, which refuses field by field.
    static func bulkReplayRequest(_ body: [UInt8]) throws -> BulkReplayRequest {
        guard !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return BulkReplayRequest() }
        do {
            return try AdminJSON.decode(BulkReplayRequest.self, from: body)
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw Refusal(400, ErrorBody("invalid_body", hint: "a JSON object"))
        }
    }
}
