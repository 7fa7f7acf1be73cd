import InletCore
import InletStore

extension AdminAPI {
    /// `GET /v1/events?source=&type=&event_key=&since=&until=&status=&unrouted=true&body_pointer=&body_value=&limit=&cursor=`,
    /// newest first.
    func listEvents(_ request: AdminRequest) async throws -> SimpleResponse {
        if let bad = ["since", "until"].first(where: { request.query($0).map(RFC3339.parse) == .some(nil) }) {
            throw Refusal(400, ErrorBody("invalid_time", hint: "RFC 3339, e.g. 2026-11-23T00:00:00Z", parameter: bad))
        }
        if let s = request.query("status"), EventStatus(rawValue: s) == nil {
            throw Refusal(400, ErrorBody("invalid_status", hint: "one of " + EventStatus.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        let filter = EventFilter(source: request.query("source"), eventType: request.query("type"), eventKey: request.query("event_key"),
                                 receivedFrom: request.query("since").flatMap(RFC3339.parse), receivedUntil: request.query("until").flatMap(RFC3339.parse),
                                 unroutedOnly: request.query("unrouted") == "true", status: request.query("status").flatMap(EventStatus.init(rawValue:)))
        let limit = min(max(request.query("limit").flatMap(Int.init) ?? 50, 1), 500)
        let cursor = request.query("cursor")
        if let condition = try BodyCondition.parse(request) {
            // Every body is read: the other filters bound the scan (see BodyCondition).
            guard filter.source != nil || filter.eventType != nil || filter.eventKey != nil || filter.receivedFrom != nil || filter.status != nil
                || filter.unroutedOnly else {
                throw Refusal(400, ErrorBody("body_condition_needs_filter", hint: "add since (a time range), source, type, event_key or status"))
            }
            let (rows, next) = try await search(filter, condition, before: cursor, limit: limit)
            return .json(200, EventList(events: rows.map(EventSummary.init), nextCursor: next))
        }
        let rows = try await store { try $0.events(matching: filter, before: cursor, limit: limit) }
        return .json(200, EventList(events: rows.map(EventSummary.init), nextCursor: rows.count == limit ? rows.last?.id : nil))
    }

    /// `GET /v1/events/{id}`: the event, the request as received, and its deliveries with their attempts.
    func showEvent(_ request: AdminRequest) async throws -> SimpleResponse {
        let id = request.parameter("id")
        let found = try await store { s -> (StoredEvent, [(DeliveryRecord, [AttemptRecord])])? in
            guard let e = try s.event(id: id) else { return nil }
            return (e, try s.deliveries(eventID: id).map { ($0, try s.attempts(deliveryID: $0.id)) })
        }
        guard let (e, deliveries) = found else { throw Refusal.notFound }
        let detail = EventDetail(
            summary: EventSummary(e), keyOrigin: e.keyOrigin, providerTimestamp: e.providerTimestamp.map(RFC3339.format),
            clientAddress: e.clientAddress, method: e.method, path: e.path, query: e.query, headers: e.headers.entries.map { [$0.name, $0.value] },
            bodyBase64: Base64.encode(e.body),
            deliveries: deliveries.map { d, attempts in
                Delivery(id: d.id, destination: d.destination, state: d.state.rawValue, attempts: d.attempts, lastStatus: d.lastStatus,
                         lastError: d.lastError, nextAttemptAt: d.state == .pending ? RFC3339.format(d.nextAttemptAt) : nil,
                         attemptLog: attempts.map { a in
                             Attempt(attempt: a.attempt, startedAt: RFC3339.format(a.startedAt), durationMs: a.durationMillis, status: a.statusCode,
                                     error: a.error, nextAttemptAt: a.nextAttemptAt.map(RFC3339.format),
                                     responseSnippet: a.responseSnippet.map { String(decoding: $0, as: UTF8.self) })
                         })
            })
        return .json(200, detail)
    }

    /// `GET /v1/events/{id}/body`: the body exactly as received, with its content type.
    func eventBody(_ request: AdminRequest) async throws -> SimpleResponse {
        let id = request.parameter("id")
        guard let e = try await store({ try $0.event(id: id) }) else { throw Refusal.notFound }
        return SimpleResponse(status: 200, headers: [("Content-Type", e.contentType ?? "application/octet-stream")], body: e.body)
    }
}

extension AdminAPI.EventSummary {
    init(_ e: StoredEvent) {
        self.init(id: e.id, source: e.source, provider: e.provider, type: e.eventType, eventKey: e.eventKey, receivedAt: RFC3339.format(e.receivedAt),
                  duplicates: e.duplicates, unrouted: e.unrouted, bodyBytes: e.body.count, verifiedBy: e.secretLabel,
                  authenticity: e.authenticity, batchID: e.batchID, batchIndex: e.batchIndex)
    }
}
