import Foundation
import InletConfig
import InletCore
import InletStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin API: JSON over HTTP on its own listener, bearer-token auth. Sources (with which secret label verifies
/// how much), destinations (queue, circuit, pause), stored events, replay (one or in bulk), dead letters and the
/// quarantine. The `inlet` CLI runs this same handler in-process against the store, so the API and the CLI cannot
/// disagree. Never returns a secret's value: sources list labels and windows only. Described in `openapi/inlet-admin.yaml`.
public struct AdminAPI: Sendable {
    /// Every store role but the delivery queue's: the API reads and acts on events, dead letters, pauses and the
    /// quarantine, ingests what it re-admits, and checks readiness; it never claims or completes a delivery.
    public typealias Store = EventCatalog & QuarantineStore & IngestStore & StoreMaintenance

    let runtime: LiveConfig
    let store: any Store
    let storeThreads: NIOThreadPool
    let clock: any WallClock
    /// Circuit state per destination; nil when not known (the CLI, outside the gateway process).
    let circuitStates: @Sendable () -> [String: String]?
    /// Wakes the delivery workers after rows were queued.
    let wake: @Sendable () -> Void
    let certificates: SigningCertificateCache?
    /// False only for the CLI's in-process use, whose caller already holds the config and the store file.
    let requiresToken: Bool
    let readiness: ReadinessCache
    /// Whether ingest commits are failing now (see `IngestHealth`); never, for the CLI's in-process use.
    let ingestFailing: @Sendable (EpochMillis) -> Bool

    public init(runtime: LiveConfig, store: any Store, storeThreads: NIOThreadPool, clock: any WallClock,
                circuitStates: @escaping @Sendable () -> [String: String]? = { nil }, wake: @escaping @Sendable () -> Void = {},
                certificates: SigningCertificateCache? = nil, requiresToken: Bool = true,
                ingestFailing: @escaping @Sendable (EpochMillis) -> Bool = { _ in false }) {
        self.requiresToken = requiresToken
        self.ingestFailing = ingestFailing
        readiness = ReadinessCache(clock: clock)
        self.runtime = runtime
        self.store = store
        self.storeThreads = storeThreads
        self.clock = clock
        self.circuitStates = circuitStates
        self.wake = wake
        self.certificates = certificates
    }

    /// The admin listener's head check: a request without a valid token is answered `401` on its head, before any
    /// of its body is read or buffered. The probes stay open (orchestrators call them without a token).
    public func checkHead(_ request: SimpleRequest) -> SimpleResponse? {
        let path = request.uri.split(separator: "?", maxSplits: 1).first ?? ""
        guard requiresToken, path != "/healthz", path != "/readyz", !authorized(request) else { return nil }
        return Self.unauthorized
    }

    static let unauthorized = SimpleResponse(status: 401, headers: [("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer")],
                                             body: Array(#"{"error":"unauthorized"}"#.utf8))

    /// Bulk replays queue at most this many events per request.
    static let maxBulkReplay = 100_000

    public func handle(_ request: SimpleRequest) async -> SimpleResponse {
        let path = String(request.uri.split(separator: "?", maxSplits: 1).first ?? "")
        switch (request.method, path) {
        case (let m, "/healthz") where m != "GET", (let m, "/readyz") where m != "GET":
            return SimpleResponse(status: 405, headers: [("Content-Type", "application/json"), ("Allow", "GET")], body: Array(#"{"error":"method_not_allowed"}"#.utf8))
        case ("GET", "/healthz"): return json(200, ["status": "ok"])
        case ("GET", "/readyz"):
            let store = self.store, storeThreads = self.storeThreads, clock = self.clock, ingestFailing = self.ingestFailing
            let ready = await readiness.ready {
                let now = clock.now()
                guard !ingestFailing(now) else { return false }
                return (try? await storeThreads.runIfActive { try store.checkWritable(now: now) }) != nil
            }
            return ready ? json(200, ["status": "ready"]) : json(503, ["status": "unavailable", "reason": "store_unavailable"])
        default: break
        }
        guard !requiresToken || authorized(request) else { return Self.unauthorized }
        // Names and IDs in the path are percent-decoded (a destination's name may need encoding).
        let parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let query = Self.query(request.uri)
        do {
            switch (request.method, parts) {
            case ("GET", ["v1", "sources"]): return try await sources()
            case ("GET", ["v1", "destinations"]): return try await destinations()
            case ("POST", let p) where p.count == 4 && p[0] == "v1" && p[1] == "destinations" && (p[3] == "pause" || p[3] == "resume"):
                return try await pause(p[2], p[3] == "pause")
            case ("GET", ["v1", "dead-letters"]): return try await deadLetters(query)
            case ("POST", ["v1", "dead-letters", "redeliver"]):
                let destination = query.first { $0.0 == "destination" }?.1, source = query.first { $0.0 == "source" }?.1, now = clock.now()
                let n = try await store { try $0.redeliverDeadLetters(destination: destination, source: source, now: now) }
                if n > 0 { wake() }
                return json(200, ["redelivered": n])
            case ("POST", ["v1", "replays"]): return try await bulkReplay(request.body)
            case ("GET", ["v1", "quarantine"]): return try await listQuarantine(query)
            case ("POST", ["v1", "quarantine", "readmit"]): return try await readmitAll(query)
            case ("GET", let p) where p.count == 3 && p[0] == "v1" && p[1] == "quarantine":
                guard let id = Int64(p[2]), let e = try await store({ try $0.quarantined(id: id) }) else { return json(404, ["error": "not_found"]) }
                var item = quarantineItem(e)
                item["headers"] = e.headers.entries.map { [$0.name, $0.value] }
                item["body_base64"] = Base64.encode(e.body)
                if let q = e.query { item["query"] = q }
                return json(200, item)
            case ("DELETE", let p) where p.count == 3 && p[0] == "v1" && p[1] == "quarantine":
                guard let id = Int64(p[2]), try await store({ try $0.removeQuarantined(id: id) }) else { return json(404, ["error": "not_found"]) }
                return json(200, ["status": "discarded"])
            case ("POST", let p) where p.count == 4 && p[0] == "v1" && p[1] == "quarantine" && p[3] == "readmit":
                guard let id = Int64(p[2]), let e = try await store({ try $0.quarantined(id: id) }) else { return json(404, ["error": "not_found"]) }
                let outcome = try await readmitter.readmit(e)
                if case .accepted = outcome { wake() }
                return json(200, outcomeItem(id, outcome))
            case ("GET", ["v1", "events"]): return try await listEvents(query)
            case ("GET", let p) where p.count == 3 && p[0] == "v1" && p[1] == "events": return try await event(p[2])
            case ("GET", let p) where p.count == 4 && p[0] == "v1" && p[1] == "events" && p[3] == "body": return try await body(p[2])
            case ("POST", let p) where p.count == 4 && p[0] == "v1" && p[1] == "events" && p[3] == "replay":
                return try await replay(p[2], destinations: query.filter { $0.0 == "destination" }.map(\.1))
            case ("POST", let p) where p.count == 4 && p[0] == "v1" && p[1] == "dead-letters" && p[3] == "redeliver":
                guard let id = Int64(p[2]) else { return json(404, ["error": "not_found"]) }
                let now = clock.now()
                let requeued = try await store { try $0.redeliver(deliveryID: id, now: now) }
                if requeued { wake() }
                return requeued ? json(200, ["status": "queued"]) : json(404, ["error": "not_a_dead_letter"])
            case ("DELETE", let p) where p.count == 3 && p[0] == "v1" && p[1] == "dead-letters":
                guard let id = Int64(p[2]) else { return json(404, ["error": "not_found"]) }
                let discarded = try await store { try $0.discard(deliveryID: id) }
                return discarded ? json(200, ["status": "discarded"]) : json(404, ["error": "not_a_dead_letter"])
            default:
                // A known resource with the wrong method is 405; anything else 404.
                guard let allow = Self.allowedMethods(parts) else { return json(404, ["error": "not_found"]) }
                var response = json(405, ["error": "method_not_allowed"])
                response.headers.append(("Allow", allow))
                return response
            }
        } catch {
            return json(503, ["error": "store_unavailable"])
        }
    }

    /// The methods a known resource answers (for 405's `Allow`); nil for an unknown path.
    static func allowedMethods(_ p: [String]) -> String? {
        guard p.first == "v1", p.count >= 2 else { return nil }
        switch (p[1], p.count, p.last!) {
        case ("sources", 2, _), ("destinations", 2, _), ("events", 2, _), ("dead-letters", 2, _), ("quarantine", 2, _): return "GET"
        case ("events", 3, _), ("events", 4, "body"): return "GET"
        case ("replays", 2, _), ("events", 4, "replay"), ("destinations", 4, "pause"), ("destinations", 4, "resume"),
             ("dead-letters", 3, "redeliver"), ("dead-letters", 4, "redeliver"), ("quarantine", 3, "readmit"), ("quarantine", 4, "readmit"):
            return "POST"
        case ("dead-letters", 3, _): return "DELETE"
        case ("quarantine", 3, _): return "GET, DELETE"
        default: return nil
        }
    }

    static func query(_ uri: String) -> [(String, String)] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
        return q.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }

    /// Queues a stored event again: to the destinations its source's routes choose today, or to the named ones.
    /// The forwarded event is marked as a replay (`inletreplay`, `Inlet-Replay: true`).
    private func replay(_ id: String, destinations named: [String]) async throws -> SimpleResponse {
        guard let event = try await store({ try $0.event(id: id) }) else { return json(404, ["error": "not_found"]) }
        let snapshot = runtime.current
        var targets = named
        if targets.isEmpty {
            guard let source = snapshot.resolved.sources.first(where: { $0.name == event.source }) else {
                return json(422, ["error": "source_not_configured", "hint": "name destinations with ?destination="])
            }
            targets = source.routes.destinations(eventType: event.eventType, body: event.body)
        }
        if let unknown = targets.first(where: { snapshot.destination($0) == nil }) { return json(422, ["error": "unknown_destination", "destination": unknown]) }
        guard !targets.isEmpty else { return json(422, ["error": "no_destination", "hint": "no route matches; name destinations with ?destination="]) }
        let now = clock.now(), chosen = targets
        let ids = try await store { try $0.replay(eventID: id, destinations: chosen, now: now) } ?? []
        wake()
        return json(202, ["status": "queued", "destinations": targets, "delivery_ids": ids])
    }

    /// `GET /v1/events?source=&type=&event_key=&since=&until=&unrouted=true&limit=&cursor=`, newest first.
    private func listEvents(_ query: [(String, String)]) async throws -> SimpleResponse {
        func q(_ k: String) -> String? { query.first { $0.0 == k }?.1 }
        if let bad = ["since", "until"].first(where: { q($0) != nil && q($0).flatMap(RFC3339.parse) == nil }) {
            return json(400, ["error": "invalid_time", "parameter": bad, "hint": "RFC 3339, e.g. 2026-11-23T00:00:00Z"])
        }
        if let s = q("status"), EventStatus(rawValue: s) == nil {
            return json(400, ["error": "invalid_status", "hint": "one of " + EventStatus.allCases.map(\.rawValue).joined(separator: ", ")])
        }
        let filter = EventFilter(source: q("source"), eventType: q("type"), eventKey: q("event_key"),
                                 receivedFrom: q("since").flatMap(RFC3339.parse), receivedUntil: q("until").flatMap(RFC3339.parse),
                                 unroutedOnly: q("unrouted") == "true", status: q("status").flatMap(EventStatus.init(rawValue:)))
        let limit = min(max(q("limit").flatMap(Int.init) ?? 50, 1), 500)
        let cursor = q("cursor")
        let rows = try await store { try $0.events(matching: filter, before: cursor, limit: limit) }
        var out: [String: Any] = ["events": rows.map { e -> [String: Any] in
            var item: [String: Any] = ["id": e.id, "source": e.source, "provider": e.provider, "event_key": e.eventKey,
                                       "received_at": RFC3339.format(e.receivedAt), "duplicates": e.duplicates, "unrouted": e.unrouted,
                                       "body_bytes": e.body.count]
            if let t = e.eventType { item["type"] = t }
            if let l = e.secretLabel { item["verified_by"] = l }
            return item
        }]
        if rows.count == limit, let last = rows.last { out["next_cursor"] = last.id }
        return json(200, out)
    }

    private func pause(_ name: String, _ paused: Bool) async throws -> SimpleResponse {
        guard runtime.current.destination(name) != nil else { return json(404, ["error": "unknown_destination", "destination": name]) }
        let now = clock.now()
        try await store { try $0.setPaused(paused, destination: name, now: now) }
        if !paused { wake() }
        return json(200, ["name": name, "paused": paused])
    }

    /// `POST /v1/replays`: every stored event matching a filter, oldest first, to its routes (as configured now) or to
    /// named destinations. The rate is kept by making the i-th replay due at `now + i / rate`: the queue itself
    /// paces the replay, so it needs no job that could die halfway, and survives a restart.
    private func bulkReplay(_ body: [UInt8]) async throws -> SimpleResponse {
        let object: [String: Any]
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            object = [:]
        } else {
            guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                return json(400, ["error": "invalid_body", "hint": "a JSON object"])
            }
            object = o
        }
        let known: Set = ["source", "type", "event_key", "since", "until", "unrouted", "status", "destinations", "rate_per_second", "dry_run", "limit"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) { return json(400, ["error": "invalid_body", "parameter": unknown]) }
        func string(_ k: String) -> (String?, Bool) {
            guard let v = object[k], !(v is NSNull) else { return (nil, true) }
            guard let s = v as? String else { return (nil, false) }
            return (s, true)
        }
        var texts: [String: String] = [:]
        for k in ["source", "type", "event_key", "since", "until", "status"] {
            let (v, ok) = string(k)
            guard ok else { return json(400, ["error": "invalid_body", "parameter": k]) }
            texts[k] = v
        }
        for k in ["since", "until"] where texts[k] != nil && RFC3339.parse(texts[k]!) == nil {
            return json(400, ["error": "invalid_time", "parameter": k, "hint": "RFC 3339, e.g. 2026-11-23T00:00:00Z"])
        }
        if let s = texts["status"], EventStatus(rawValue: s) == nil { return json(400, ["error": "invalid_status"]) }
        func flag(_ k: String) -> Bool? { object[k] == nil ? false : object[k] as? Bool }
        guard let unrouted = flag("unrouted") else { return json(400, ["error": "invalid_body", "parameter": "unrouted"]) }
        guard let dryRun = flag("dry_run") else { return json(400, ["error": "invalid_body", "parameter": "dry_run"]) }
        var named: [String] = []
        if let d = object["destinations"] {
            guard let list = d as? [String] else { return json(400, ["error": "invalid_body", "parameter": "destinations"]) }
            named = list
        }
        var rate = 50.0
        if let r = object["rate_per_second"] {
            // At least 0.01/s: the schedule of 100,000 events then still ends within a few months.
            guard let n = r as? NSNumber, !(r is Bool), n.doubleValue >= 0.01, n.doubleValue <= 10_000 else {
                return json(400, ["error": "invalid_rate", "hint": "0.01 <= rate_per_second <= 10000"])
            }
            rate = n.doubleValue
        }
        var limit = Self.maxBulkReplay
        if let l = object["limit"] {
            guard let n = l as? Int, (1...Self.maxBulkReplay).contains(n) else { return json(400, ["error": "invalid_body", "parameter": "limit"]) }
            limit = n
        }
        let filter = EventFilter(source: texts["source"], eventType: texts["type"], eventKey: texts["event_key"],
                                 receivedFrom: texts["since"].flatMap(RFC3339.parse), receivedUntil: texts["until"].flatMap(RFC3339.parse),
                                 unroutedOnly: unrouted, status: texts["status"].flatMap(EventStatus.init(rawValue:)))
        // Replaying everything by accident would flood every destination: a filter is required.
        guard filter != EventFilter() else {
            return json(400, ["error": "filter_required", "hint": "set source, type, event_key, since, until, status or unrouted"])
        }
        let snapshot = runtime.current
        if let unknown = named.first(where: { snapshot.destination($0) == nil }) { return json(422, ["error": "unknown_destination", "destination": unknown]) }
        if dryRun {
            let matched = try await store { try $0.countEvents(matching: filter) }
            return json(200, ["dry_run": true, "matched": min(matched, limit)])
        }
        let start = clock.now()
        var matched = 0, queued = 0, skipped = 0, scheduled = 0, cursor: String? = nil, lastDue = start
        while matched < limit {
            let after = cursor, page = min(500, limit - matched)
            let events = try await store { try $0.events(matching: filter, after: after, limit: page) }
            guard let last = events.last else { break }
            cursor = last.id
            var items: [ReplayItem] = []
            for e in events {
                matched += 1
                var targets = named
                if targets.isEmpty, let source = snapshot.resolved.sources.first(where: { $0.name == e.source }) {
                    targets = source.routes.destinations(eventType: e.eventType, body: e.body).filter { snapshot.destination($0) != nil }
                }
                guard !targets.isEmpty else { skipped += 1; continue }
                lastDue = start + EpochMillis((Double(scheduled) * 1000 / rate).rounded(.down))
                scheduled += 1
                items.append(ReplayItem(eventID: e.id, destinations: targets, dueAt: lastDue))
            }
            let batch = items
            queued += try await store { try $0.queueReplays(batch, now: start) }
            if events.count < page { break }
        }
        if queued > 0 { wake() }
        return json(202, ["status": "queued", "matched": matched, "queued": queued, "skipped": skipped, "rate_per_second": rate,
                          "completes_at": RFC3339.format(lastDue)])
    }

    private func deadLetters(_ query: [(String, String)]) async throws -> SimpleResponse {
        let destination = query.first { $0.0 == "destination" }?.1
        let cursor = query.first { $0.0 == "cursor" }.flatMap { Int64($0.1) } ?? 0
        let limit = min(max(query.first { $0.0 == "limit" }.flatMap { Int($0.1) } ?? 100, 1), 1000)
        let rows = try await store { try $0.deadLetters(destination: destination, after: cursor, limit: limit) }
        var out: [String: Any] = ["dead_letters": rows.map { d -> [String: Any] in
            var item: [String: Any] = ["delivery_id": d.deliveryID, "event_id": d.eventID, "destination": d.destination, "source": d.source,
                                       "attempts": d.attempts, "dead_at": RFC3339.format(d.deadAt), "replay": d.isReplay]
            if let t = d.eventType { item["type"] = t }
            if let s = d.lastStatus { item["last_status"] = s }
            if let e = d.lastError { item["last_error"] = e }
            return item
        }]
        if rows.count == limit, let last = rows.last { out["next_cursor"] = String(last.deliveryID) }
        return json(200, out)
    }

    private func authorized(_ request: SimpleRequest) -> Bool {
        guard let header = request.headers.first(name: "Authorization"), header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst(7).utf8)
        var ok = false
        // Every token is compared (no early exit), by digest, so timing reveals neither which one nor its length.
        for token in runtime.current.resolved.adminTokens where secretsEqual(Array(token.utf8), given) { ok = true }
        return ok
    }

    private func store<T: Sendable>(_ body: @escaping @Sendable (any Store) throws -> T) async throws -> T {
        let store = self.store
        return try await storeThreads.runIfActive { try body(store) }
    }

    private func sources() async throws -> SimpleResponse {
        let now = clock.now()
        let usage = try await store { try $0.secretUsage(since: now - 86_400_000) }
        let snapshot = runtime.current
        let items: [[String: Any]] = snapshot.resolved.sources.map { s in
            [
                "name": s.name, "path": s.path, "provider": s.profile.name, "destinations": s.destinations,
                "secrets": s.keys.map { k -> [String: Any] in
                    let u = usage.first { $0.source == s.name && $0.secretLabel == k.label }
                    var entry: [String: Any] = [
                        "label": k.label,
                        "state": k.window.isActive(at: now) ? "active" : (k.window.hasExpired(at: now) ? "expired" : "not_yet_valid"),
                        "verified_24h": u?.verifiedSince ?? 0,
                    ]
                    if let nb = k.window.notBefore { entry["not_before"] = RFC3339.format(nb) }
                    if let ex = k.window.expiresAt { entry["expires_at"] = RFC3339.format(ex) }
                    if let last = u?.lastVerifiedAt { entry["last_verified_at"] = RFC3339.format(last) }
                    return entry
                },
            ]
        }
        return json(200, ["sources": items])
    }

    private func destinations() async throws -> SimpleResponse {
        let now = clock.now()
        let (pending, gauges, paused) = try await store { (try $0.pendingByDestination(), try $0.queueGauges(now: now), try $0.pausedDestinations()) }
        let circuits = circuitStates()
        let items: [[String: Any]] = runtime.current.resolved.destinations.sorted { $0.key < $1.key }.map { name, d in
            var item: [String: Any] = [
                "name": name, "url": d.config.url, "payload": d.config.payload.rawValue,
                "circuit": circuits.map { $0[name] ?? "closed" } ?? "unknown", "paused": paused.contains(name),
                "pending": pending[name]?.count ?? 0, "dead_letters": gauges[name]?.dead ?? 0, "max_concurrency": d.config.maxConcurrency,
            ]
            if let oldest = pending[name]?.oldestCreatedAt { item["oldest_pending_age_seconds"] = max(0, (now - oldest) / 1000) }
            if let due = gauges[name]?.oldestDueAt { item["oldest_due_age_seconds"] = max(0, (now - due) / 1000) }
            return item
        }
        return json(200, ["destinations": items])
    }

    private func event(_ id: String) async throws -> SimpleResponse {
        let found = try await store { s -> (StoredEvent, [(DeliveryRecord, [AttemptRecord])])? in
            guard let e = try s.event(id: id) else { return nil }
            return (e, try s.deliveries(eventID: id).map { ($0, try s.attempts(deliveryID: $0.id)) })
        }
        guard let (e, deliveries) = found else { return json(404, ["error": "not_found"]) }
        var item: [String: Any] = [
            "id": e.id, "source": e.source, "provider": e.provider, "event_key": e.eventKey, "key_origin": e.keyOrigin,
            "received_at": RFC3339.format(e.receivedAt), "duplicates": e.duplicates, "unrouted": e.unrouted,
            "method": e.method, "path": e.path, "headers": e.headers.entries.map { [$0.name, $0.value] },
            "body_base64": Base64.encode(e.body), "body_bytes": e.body.count,
        ]
        if let t = e.eventType { item["type"] = t }
        if let t = e.providerTimestamp { item["provider_timestamp"] = RFC3339.format(t) }
        if let l = e.secretLabel { item["verified_by"] = l }
        if let a = e.clientAddress { item["client_address"] = a }
        if let q = e.query { item["query"] = q }
        item["deliveries"] = deliveries.map { d, attempts -> [String: Any] in
            var di: [String: Any] = ["id": d.id, "destination": d.destination, "state": d.state.rawValue, "attempts": d.attempts]
            if let s = d.lastStatus { di["last_status"] = s }
            if let err = d.lastError { di["last_error"] = err }
            if d.state == .pending { di["next_attempt_at"] = RFC3339.format(d.nextAttemptAt) }
            di["attempt_log"] = attempts.map { a -> [String: Any] in
                var ai: [String: Any] = ["attempt": a.attempt, "started_at": RFC3339.format(a.startedAt), "duration_ms": a.durationMillis]
                if let s = a.statusCode { ai["status"] = s }
                if let err = a.error { ai["error"] = err }
                if let n = a.nextAttemptAt { ai["next_attempt_at"] = RFC3339.format(n) }
                if let snippet = a.responseSnippet { ai["response_snippet"] = String(decoding: snippet, as: UTF8.self) }
                return ai
            }
            return di
        }
        return json(200, item)
    }

    private func body(_ id: String) async throws -> SimpleResponse {
        guard let e = try await store({ try $0.event(id: id) }) else { return json(404, ["error": "not_found"]) }
        return SimpleResponse(status: 200, headers: [("Content-Type", e.contentType ?? "application/octet-stream")], body: e.body)
    }

    private var readmitter: Readmitter {
        Readmitter(runtime: runtime, store: store, storeThreads: storeThreads, clock: clock, certificates: certificates)
    }

    private func quarantineItem(_ e: QuarantineEntry) -> [String: Any] {
        var item: [String: Any] = ["id": e.id, "source": e.source, "provider": e.provider, "reason": e.reason,
                                   "received_at": RFC3339.format(e.receivedAt), "expires_at": RFC3339.format(e.expiresAt),
                                   "method": e.method, "path": e.path, "body_bytes": e.bodyBytes]
        if let p = e.peer { item["peer"] = p }
        return item
    }

    private func outcomeItem(_ id: Int64, _ outcome: ReadmitOutcome) -> [String: Any] {
        switch outcome {
        case .accepted(let eventID): return ["id": id, "outcome": "accepted", "event_id": eventID]
        case .duplicate(let eventID): return ["id": id, "outcome": "duplicate", "event_id": eventID]
        case .rejected(let reason): return ["id": id, "outcome": "rejected", "reason": reason]
        }
    }

    /// `GET /v1/quarantine?source=&reason=&limit=&cursor=`, newest first.
    private func listQuarantine(_ query: [(String, String)]) async throws -> SimpleResponse {
        func q(_ k: String) -> String? { query.first { $0.0 == k }?.1 }
        var cursor: Int64?
        if let c = q("cursor") {
            guard let n = Int64(c) else { return json(400, ["error": "invalid_cursor"]) }
            cursor = n
        }
        let limit = min(max(q("limit").flatMap(Int.init) ?? 100, 1), 1000)
        let filter = QuarantineFilter(source: q("source"), reason: q("reason")), before = cursor
        let rows = try await store { try $0.quarantined(matching: filter, before: before, limit: limit) }
        var out: [String: Any] = ["quarantine": rows.map(quarantineItem)]
        if rows.count == limit, let last = rows.last { out["next_cursor"] = String(last.id) }
        return json(200, out)
    }

    /// `POST /v1/quarantine/readmit?source=&reason=`: every matching entry, oldest first.
    private func readmitAll(_ query: [(String, String)]) async throws -> SimpleResponse {
        let filter = QuarantineFilter(source: query.first { $0.0 == "source" }?.1, reason: query.first { $0.0 == "reason" }?.1)
        var ids: [Int64] = [], cursor: Int64? = nil
        while true {
            let before = cursor
            let page = try await store { try $0.quarantined(matching: filter, before: before, limit: 1000) }
            ids += page.map(\.id)
            guard page.count == 1000, let last = page.last else { break }
            cursor = last.id
        }
        var results: [[String: Any]] = []
        var tally = ["accepted": 0, "duplicate": 0, "rejected": 0]
        let readmitter = self.readmitter
        for id in ids.reversed() {
            guard let e = try await store({ try $0.quarantined(id: id) }) else { continue }
            let item = outcomeItem(id, try await readmitter.readmit(e))
            tally[item["outcome"] as! String, default: 0] += 1
            results.append(item)
        }
        if tally["accepted", default: 0] > 0 { wake() }
        return json(200, ["accepted": tally["accepted"]!, "duplicate": tally["duplicate"]!, "rejected": tally["rejected"]!, "results": results])
    }

    private func json(_ status: Int, _ object: [String: Any]) -> SimpleResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return SimpleResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }
}
