import InletCore
import InletStore

extension AdminAPI {
    /// `GET /v1/quarantine?source=&reason=&limit=&cursor=`, newest first.
    func listQuarantine(_ request: AdminRequest) async throws -> SimpleResponse {
        var cursor: Int64?
        if let c = request.query("cursor") {
            guard let n = Int64(c) else { throw Refusal(400, ErrorBody("invalid_cursor")) }
            cursor = n
        }
        let limit = min(max(request.query("limit").flatMap(Int.init) ?? 100, 1), 1000)
        let filter = QuarantineFilter(source: request.query("source"), reason: request.query("reason")), before = cursor
        let rows = try await store { try $0.quarantined(matching: filter, before: before, limit: limit) }
        return .json(200, QuarantineList(quarantine: rows.map(QuarantineItem.init), nextCursor: rows.count == limit ? rows.last.map { String($0.id) } : nil))
    }

    /// `GET /v1/quarantine/{id}`: the entry and the request as received.
    func showQuarantined(_ request: AdminRequest) async throws -> SimpleResponse {
        let e = try await quarantined(request)
        return .json(200, QuarantineDetail(item: QuarantineItem(e), headers: e.headers.entries.map { [$0.name, $0.value] }, query: e.query,
                                           bodyBase64: Base64.encode(e.body)))
    }

    /// `DELETE /v1/quarantine/{id}`.
    func discardQuarantined(_ request: AdminRequest) async throws -> SimpleResponse {
        guard let id = Int64(request.parameter("id")), try await store({ try $0.removeQuarantined(id: id) }) else { throw Refusal.notFound }
        return .json(200, ActionStatus(status: "discarded"))
    }

    /// `POST /v1/quarantine/{id}/readmit`: verified again against the current config, at its original arrival time.
    func readmitQuarantined(_ request: AdminRequest) async throws -> SimpleResponse {
        let e = try await quarantined(request)
        let outcome = try await readmitter.readmit(e)
        if case .accepted = outcome { wake() }
        return .json(200, ReadmitResult(e.id, outcome))
    }

    /// `POST /v1/quarantine/readmit?source=&reason=&dry_run=`: every matching entry, oldest first; with `dry_run=true`,
    /// only counted and verified.
    func readmitAllQuarantined(_ request: AdminRequest) async throws -> SimpleResponse {
        let dryRun = try Self.dryRun(request)
        let filter = QuarantineFilter(source: request.query("source"), reason: request.query("reason"))
        var ids: [Int64] = [], cursor: Int64? = nil
        while true {
            let before = cursor
            let page = try await store { try $0.quarantined(matching: filter, before: before, limit: 1000) }
            ids += page.map(\.id)
            guard page.count == 1000, let last = page.last else { break }
            cursor = last.id
        }
        if dryRun { return .json(200, try await readmitDryRun(ids.reversed())) }
        var results: [ReadmitResult] = []
        let readmitter = self.readmitter
        for id in ids.reversed() {
            guard let e = try await store({ try $0.quarantined(id: id) }) else { continue }
            results.append(ReadmitResult(id, try await readmitter.readmit(e)))
        }
        func count(_ outcome: ReadmitResult.Outcome) -> Int { results.count(where: { $0.outcome == outcome }) }
        if count(.accepted) > 0 { wake() }
        return .json(200, ReadmitSummary(accepted: count(.accepted), duplicate: count(.duplicate), rejected: count(.rejected), results: results))
    }

    private func quarantined(_ request: AdminRequest) async throws -> QuarantineEntry {
        guard let id = Int64(request.parameter("id")), let e = try await store({ try $0.quarantined(id: id) }) else { throw Refusal.notFound }
        return e
    }

    var readmitter: Readmitter {
        Readmitter(runtime: runtime, store: store, storeThreads: storeThreads, clock: clock, certificates: certificates)
    }
}

extension AdminAPI.QuarantineItem {
    init(_ e: QuarantineEntry) {
        self.init(id: e.id, source: e.source, provider: e.provider, reason: e.reason, receivedAt: RFC3339.format(e.receivedAt),
                  expiresAt: RFC3339.format(e.expiresAt), method: e.method, path: e.path, bodyBytes: e.bodyBytes, peer: e.peer)
    }
}

extension AdminAPI.ReadmitResult {
    init(_ id: Int64, _ outcome: ReadmitOutcome) {
        switch outcome {
        case .accepted(let eventID): self.init(id: id, outcome: .accepted, eventID: eventID)
        case .duplicate(let eventID): self.init(id: id, outcome: .duplicate, eventID: eventID)
        case .rejected(let reason): self.init(id: id, outcome: .rejected, reason: reason)
        }
    }
}
