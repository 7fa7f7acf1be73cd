import InletCore
import InletStore

extension AdminAPI {
    /// `GET /v1/dead-letters?destination=&limit=&cursor=`, oldest first.
    func listDeadLetters(_ request: AdminRequest) async throws -> SimpleResponse {
        let destination = request.query("destination")
        let cursor = request.query("cursor").flatMap { Int64($0) } ?? 0
        let limit = min(max(request.query("limit").flatMap { Int($0) } ?? 100, 1), 1000)
        let rows = try await store { try $0.deadLetters(destination: destination, after: cursor, limit: limit) }
        let deadLetters = rows.map { d in
            DeadLetter(deliveryID: d.deliveryID, eventID: d.eventID, destination: d.destination, source: d.source, type: d.eventType,
                       attempts: d.attempts, deadAt: RFC3339.format(d.deadAt), replay: d.isReplay, lastStatus: d.lastStatus, lastError: d.lastError)
        }
        return .json(200, DeadLetterList(deadLetters: deadLetters, nextCursor: rows.count == limit ? rows.last.map { String($0.deliveryID) } : nil))
    }

    /// `POST /v1/dead-letters/redeliver?destination=&source=&dry_run=`: every matching dead letter, with fresh attempts;
    /// with `dry_run=true`, only counted.
    func redeliverDeadLetters(_ request: AdminRequest) async throws -> SimpleResponse {
        let destination = request.query("destination"), source = request.query("source"), now = clock.now()
        if try Self.dryRun(request) {
            return .json(200, RedeliverDryRun(dryRun: true, matched: try await countDeadLetters(destination: destination, source: source)))
        }
        let n = try await store { try $0.redeliverDeadLetters(destination: destination, source: source, now: now) }
        if n > 0 { wake() }
        return .json(200, RedeliveredCount(redelivered: n))
    }

    /// `POST /v1/dead-letters/{id}/redeliver`: one dead letter, with fresh attempts.
    func redeliverDeadLetter(_ request: AdminRequest) async throws -> SimpleResponse {
        guard let id = Int64(request.parameter("id")) else { throw Refusal.notFound }
        let now = clock.now()
        guard try await store({ try $0.redeliver(deliveryID: id, now: now) }) else { throw Refusal.notADeadLetter }
        wake()
        return .json(200, ActionStatus(status: "queued"))
    }

    /// `DELETE /v1/dead-letters/{id}`: the delivery is dropped; the event stays stored and replayable.
    func discardDeadLetter(_ request: AdminRequest) async throws -> SimpleResponse {
        guard let id = Int64(request.parameter("id")) else { throw Refusal.notFound }
        guard try await store({ try $0.discard(deliveryID: id) }) else { throw Refusal.notADeadLetter }
        return .json(200, ActionStatus(status: "discarded"))
    }
}
