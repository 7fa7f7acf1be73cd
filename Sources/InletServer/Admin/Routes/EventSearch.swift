import InletCore
import InletStore

/// The body condition of `GET /v1/events`: `body_pointer=/data/object/customer&body_value="cus_123"` keeps the events
/// whose JSON body holds that scalar at that RFC 6901 pointer. The store has no index on bodies, so the condition is
/// checked here, event by event, over the events the other filters select: it needs one of them (a time range, a
/// source, a type, a provider event ID or a status), and one request reads at most `scanBudget` events. A page that
/// stops on the budget still has a `next_cursor`, from where the next request scans on.
struct BodyCondition: Sendable, Equatable {
    static let scanBudget = 5_000
    static let maxPointerLength = 1_024
    static let maxValueLength = 1_024

    let pointer: JSONPointer
    let kind: JSONValueSlice.Kind
    /// Strings unescaped, numbers and booleans as written; empty for null.
    let text: String

    /// nil when neither parameter is given; a refusal when only one is, or either does not parse.
    static func parse(_ request: AdminRequest) throws -> BodyCondition? {
        let pointerText = request.query("body_pointer"), valueText = request.query("body_value")
        guard pointerText != nil || valueText != nil else { return nil }
        guard let pointerText, let valueText else {
            throw AdminAPI.Refusal(400, AdminAPI.ErrorBody("incomplete_body_condition", hint: "give both body_pointer and body_value",
                                                          parameter: pointerText == nil ? "body_pointer" : "body_value"))
        }
        guard pointerText.utf8.count <= maxPointerLength, pointerText.hasPrefix("/"), let pointer = JSONPointer(pointerText) else {
            throw AdminAPI.Refusal(400, AdminAPI.ErrorBody("invalid_body_pointer", hint: "an RFC 6901 pointer, e.g. /data/object/customer",
                                                          parameter: "body_pointer"))
        }
        let bytes = Array(valueText.utf8)
        guard bytes.count <= maxValueLength, JSONScanner.isValidDocument(bytes), let slice = try? JSONScanner.find(JSONPointer(tokens: []), in: bytes),
              slice.kind != .object, slice.kind != .array else {
            throw AdminAPI.Refusal(400, AdminAPI.ErrorBody("invalid_body_value", hint: #"a JSON string, number, true, false or null, e.g. "cus_123""#,
                                                          parameter: "body_value"))
        }
        return BodyCondition(pointer: pointer, kind: slice.kind, text: JSONScanner.scalarText(at: JSONPointer(tokens: []), in: bytes) ?? "")
    }

    func matches(_ body: [UInt8]) -> Bool {
        guard let found = try? JSONScanner.find(pointer, in: body), found.kind == kind else { return false }
        switch kind {
        case .null: return true
        case .number:
            guard let a = JSONScanner.scalarText(at: pointer, in: body).flatMap(Double.init), let b = Double(text) else { return false }
            return a == b
        default: return JSONScanner.scalarText(at: pointer, in: body) == text
        }
    }
}

extension AdminAPI {
    /// Events newest first before `cursor` that match `filter` and `condition`: pages of the store's list, each body
    /// checked, until `limit` match or `BodyCondition.scanBudget` were read. The cursor returned is the last event read
    /// when the scan stopped early (more may match), nil when the store has no more.
    func search(_ filter: EventFilter, _ condition: BodyCondition, before cursor: String?, limit: Int) async throws -> (events: [StoredEvent], next: String?) {
        var found: [StoredEvent] = [], scanned = 0, position = cursor
        while found.count < limit, scanned < BodyCondition.scanBudget {
            let before = position, page = min(200, BodyCondition.scanBudget - scanned)
            let rows = try await store { try $0.events(matching: filter, before: before, limit: page) }
            for e in rows {
                scanned += 1
                position = e.id
                if condition.matches(e.body) {
                    found.append(e)
                    if found.count == limit { break }
                }
            }
            if rows.count < page { return (found, found.count == limit && position != rows.last?.id ? position : nil) }
        }
        return (found, position)
    }
}
