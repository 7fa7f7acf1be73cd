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
        guard request.method == "GET" else { return json(405, ["error": "method_not_allowed"]) }
        let parts = path.split(separator: "/").map(String.init)
        do {
            switch parts {
            case ["v1", "sources"]: return try await sources()
            case ["v1", "destinations"]: return try await destinations()
            case let p where p.count == 3 && p[0] == "v1" && p[1] == "events": return try await event(p[2])
            case let p where p.count == 4 && p[0] == "v1" && p[1] == "events" && p[3] == "body": return try await body(p[2])
            default: return json(404, ["error": "not_found"])
            }
        } catch {
            return json(503, ["error": "store_unavailable"])
        }
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
