import InletCore
import InletStore

extension AdminAPI {
    /// `POST /v1/events/{id}/replay`: the event is queued again to these destinations.
    public struct ReplayQueued: Codable, Sendable, Equatable {
        /// `queued`.
        public var status: String
        public var destinations: [String]
        public var deliveryIDs: [Int64]

        enum CodingKeys: String, CodingKey {
            case status, destinations
            case deliveryIDs = "delivery_ids"
        }
    }

    /// `POST /v1/replays`: which stored events to replay (at least one filter), where to, and how fast.
    ///
    /// Decoding is as strict as the API: an unknown field, a field of the wrong type (`null` is allowed for the text
    /// filters only), a time that is not RFC 3339, an unknown status, or a rate or limit out of range is refused with
    /// the refusal the API answers (`invalid_body` naming the field, `invalid_time`, `invalid_status`, `invalid_rate`),
    /// checked in that order.
    public struct BulkReplayRequest: Codable, Sendable, Equatable {
        public var source: String?
        public var type: String?
        public var eventKey: String?
        /// Received at or after (RFC 3339).
        public var since: String?
        /// Received before (RFC 3339).
        public var until: String?
        /// `pending`, `dead`, `delivered` or `unrouted`.
        public var status: String?
        public var unrouted: Bool?
        /// Replay to these instead of what the routes choose.
        public var destinations: [String]?
        /// 0.01…10,000; 50 when absent.
        public var ratePerSecond: Double?
        public var dryRun: Bool?
        /// 1…100,000 (the most one request queues).
        public var limit: Int?

        public static let maxLimit = 100_000

        public init(source: String? = nil, type: String? = nil, eventKey: String? = nil, since: String? = nil, until: String? = nil,
                    status: String? = nil, unrouted: Bool? = nil, destinations: [String]? = nil, ratePerSecond: Double? = nil,
                    dryRun: Bool? = nil, limit: Int? = nil) {
            self.source = source
            self.type = type
            self.eventKey = eventKey
            self.since = since
            self.until = until
            self.status = status
            self.unrouted = unrouted
            self.destinations = destinations
            self.ratePerSecond = ratePerSecond
            self.dryRun = dryRun
            self.limit = limit
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case source, type, since, until, status, unrouted, destinations, limit
            case eventKey = "event_key"
            case ratePerSecond = "rate_per_second"
            case dryRun = "dry_run"
        }

        /// Any field name, to find the ones that are not ours.
        private struct AnyKey: CodingKey {
            let stringValue: String
            init?(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        public init(from decoder: any Decoder) throws {
            let all = try decoder.container(keyedBy: AnyKey.self)
            if let unknown = all.allKeys.map(\.stringValue).sorted().first(where: { CodingKeys(stringValue: $0) == nil }) {
                throw Refusal.invalidBody(unknown)
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            /// A field that must have type `T` when present (`null` included, unless `nullable`).
            func field<T: Decodable>(_ key: CodingKeys, _ type: T.Type, nullable: Bool = false, refusing refusal: Refusal? = nil) throws -> T? {
                do {
                    return nullable ? try c.decodeIfPresent(type, forKey: key) : c.contains(key) ? try c.decode(type, forKey: key) : nil
                } catch {
                    throw refusal ?? Refusal.invalidBody(key.stringValue)
                }
            }
            let source = try field(.source, String.self, nullable: true), type = try field(.type, String.self, nullable: true)
            let eventKey = try field(.eventKey, String.self, nullable: true)
            let since = try field(.since, String.self, nullable: true), until = try field(.until, String.self, nullable: true)
            let status = try field(.status, String.self, nullable: true)
            for (key, text) in [(CodingKeys.since, since), (.until, until)] where text.map(RFC3339.parse) == .some(nil) {
                throw Refusal(400, ErrorBody("invalid_time", hint: "RFC 3339, e.g. 2026-11-23T00:00:00Z", parameter: key.stringValue))
            }
            if let status, EventStatus(rawValue: status) == nil { throw Refusal(400, ErrorBody("invalid_status")) }
            let unrouted = try field(.unrouted, Bool.self), dryRun = try field(.dryRun, Bool.self)
            let destinations = try field(.destinations, [String].self)
            // At least 0.01/s: the schedule of 100,000 events then still ends within a few months.
            let invalidRate = Refusal(400, ErrorBody("invalid_rate", hint: "0.01 <= rate_per_second <= 100000"))
            let rate = try field(.ratePerSecond, Double.self, refusing: invalidRate)
            if let rate, !(rate >= 0.01 && rate <= 100_000) { throw invalidRate }
            let limit = try field(.limit, Int.self)
            if let limit, !(1...Self.maxLimit).contains(limit) { throw Refusal.invalidBody(CodingKeys.limit.stringValue) }
            self.init(source: source, type: type, eventKey: eventKey, since: since, until: until, status: status, unrouted: unrouted,
                      destinations: destinations, ratePerSecond: rate, dryRun: dryRun, limit: limit)
        }
    }

    /// `POST /v1/replays` with `dry_run`: how many events the filter matches (at most the limit); nothing is queued.
    public struct BulkReplayDryRun: Codable, Sendable, Equatable {
        public var dryRun: Bool
        public var matched: Int

        enum CodingKeys: String, CodingKey {
            case matched
            case dryRun = "dry_run"
        }
    }

    /// `POST /v1/replays`: what was queued, at what rate, and when the last replay is due.
    public struct BulkReplayQueued: Codable, Sendable, Equatable {
        /// `queued`.
        public var status: String
        public var matched: Int
        public var queued: Int
        /// Matched events with no route or destination to replay to.
        public var skipped: Int
        public var ratePerSecond: Double
        public var completesAt: String

        enum CodingKeys: String, CodingKey {
            case status, matched, queued, skipped
            case ratePerSecond = "rate_per_second"
            case completesAt = "completes_at"
        }
    }
}

extension AdminAPI.Refusal {
    static func invalidBody(_ parameter: String) -> Self { Self(400, AdminAPI.ErrorBody("invalid_body", parameter: parameter)) }
}
