import Foundation
import InletConfig
import InletCore
import InletStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin API: JSON over HTTP on its own listener, bearer-token auth. Read-only views of sources (with which
/// secret label verifies how much), destinations (queue depth, circuit state) and stored events.
/// Never returns a secret's value: sources list labels and windows only.
struct AdminAPI: Sendable {
    let runtime: GatewayRuntime
    let store: any EventStore
    let storeThreads: NIOThreadPool
    let clock: any WallClock
    let circuitStates: @Sendable () -> [String: String]
    /// Wakes the delivery workers after rows were queued.
    let wake: @Sendable () -> Void

    func handle(_ request: SimpleRequest) async -> SimpleResponse {
        let path = String(request.uri.split(separator: "?", maxSplits: 1).first ?? "")
        switch (request.method, path) {
        case ("GET", "/healthz"): return json(200, ["status": "ok"])
        case ("GET", "/readyz"):
            let store = self.store
            do {
                _ = try await storeThreads.runIfActive { try store.counts() }
                return json(200, ["status": "ready"])
            } catch {
                return json(503, ["status": "unavailable", "reason": "store_unavailable"])
            }
        default: break
        }
        guard authorized(request) else {
            return SimpleResponse(status: 401, headers: [("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer")],
                                  body: Array(#"{"error":"unauthorized"}"#.utf8))
        }
        let parts = path.split(separator: "/").map(String.init)
        let query = Self.query(request.uri)
        do {
            switch (request.method, parts) {
            case ("GET", ["v1", "sources"]): return try await sources()
            case ("GET", ["v1", "destinations"]): return try await destinations()
            case ("GET", ["v1", "dead-letters"]): return try await deadLetters(query)
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
                let known = parts.first == "v1" && ["sources", "destinations", "dead-letters", "events"].contains(parts.dropFirst().first ?? "")
                return known ? json(405, ["error": "method_not_allowed"]) : json(404, ["error": "not_found"])
            }
        } catch {
            return json(503, ["error": "store_unavailable"])
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
        let filter = EventFilter(source: q("source"), eventType: q("type"), eventKey: q("event_key"),
                                 receivedFrom: q("since").flatMap(RFC3339.parse), receivedUntil: q("until").flatMap(RFC3339.parse),
                                 unroutedOnly: q("unrouted") == "true")
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
        for token in runtime.current.resolved.adminTokens where constantTimeEquals(Array(token.utf8), given) { ok = true }
        return ok
    }

    private func store<T: Sendable>(_ body: @escaping @Sendable (any EventStore) throws -> T) async throws -> T {
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
        let pending = try await store { try $0.pendingByDestination() }
        let circuits = circuitStates()
        let now = clock.now()
        let items: [[String: Any]] = runtime.current.resolved.destinations.sorted { $0.key < $1.key }.map { name, d in
            var item: [String: Any] = [
                "name": name, "url": d.config.url, "payload": d.config.payload.rawValue, "circuit": circuits[name] ?? "closed",
                "pending": pending[name]?.count ?? 0, "max_concurrency": d.config.maxConcurrency,
            ]
            if let oldest = pending[name]?.oldestCreatedAt { item["oldest_pending_age_seconds"] = max(0, (now - oldest) / 1000) }
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

    private func json(_ status: Int, _ object: [String: Any]) -> SimpleResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return SimpleResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }
}
