import InletCore
import InletStore

/// Endpoints the console needs beside the CLI's: the forwarded CloudEvent, a quarantine entry's verdict, and the
/// dry runs of the bulk actions (`dry_run=true`, answered here for the routes in DeadLetterRoutes/QuarantineRoutes).
extension AdminAPI {
    /// `GET /v1/events/{id}/cloudevent`: the structured-mode CloudEvent document the first attempt forwards (the body
    /// of a `cloudevents` destination; `cloudevents-binary` and `raw` destinations send the body as received).
    func cloudEvent(_ request: AdminRequest) async throws -> SimpleResponse {
        let id = request.parameter("id")
        guard let event = try await store({ try $0.event(id: id) }) else { throw Refusal.notFound }
        return SimpleResponse(status: 200, headers: [("Content-Type", "application/cloudevents+json; charset=utf-8")],
                              body: event.outbound.cloudEvent(attempt: 1, isReplay: false).encodeJSON())
    }

    /// `GET /v1/quarantine/{id}/verdict`: the entry verified again against the config running now, nothing stored.
    func quarantineVerdict(_ request: AdminRequest) async throws -> SimpleResponse {
        guard let id = Int64(request.parameter("id")), let entry = try await store({ try $0.quarantined(id: id) }) else { throw Refusal.notFound }
        switch await readmitter.verdict(entry) {
        case .admit: return .json(200, QuarantineVerdict(id: id, outcome: "would_admit", reason: nil, originalReason: entry.reason))
        case .rejected(let reason): return .json(200, QuarantineVerdict(id: id, outcome: "rejected", reason: reason, originalReason: entry.reason))
        }
    }

    /// `dry_run=true|false`; anything else is `400 invalid_dry_run`.
    static func dryRun(_ request: AdminRequest) throws -> Bool {
        switch request.query("dry_run") {
        case nil, "false": return false
        case "true": return true
        default: throw Refusal(400, ErrorBody("invalid_dry_run", hint: "true or false", parameter: "dry_run"))
        }
    }

    /// The dead letters `POST /v1/dead-letters/redeliver` would queue again, counted page by page.
    func countDeadLetters(destination: String?, source: String?) async throws -> Int {
        var matched = 0, cursor: Int64 = 0
        while true {
            let after = cursor
            let page = try await store { try $0.deadLetters(destination: destination, after: after, limit: 1000) }
            matched += page.count(where: { source == nil || $0.source == source })
            guard page.count == 1000, let last = page.last else { return matched }
            cursor = last.deliveryID
        }
    }

    /// What `POST /v1/quarantine/readmit` would do to `ids`: each verified, nothing stored.
    func readmitDryRun(_ ids: [Int64]) async throws -> ReadmitDryRun {
        var wouldAdmit = 0, rejected = 0
        for id in ids {
            guard let entry = try await store({ try $0.quarantined(id: id) }) else { continue }
            if case .admit = await readmitter.verdict(entry) { wouldAdmit += 1 } else { rejected += 1 }
        }
        return ReadmitDryRun(dryRun: true, matched: wouldAdmit + rejected, wouldAdmit: wouldAdmit, rejected: rejected)
    }
}
