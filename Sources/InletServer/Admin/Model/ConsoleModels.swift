extension AdminAPI {
    /// `GET /v1/quarantine/{id}/verdict`: what re-admitting the entry would do now, without doing it.
    public struct QuarantineVerdict: Codable, Sendable, Equatable {
        public var id: Int64
        /// `would_admit` (stored, or a duplicate if the event is already stored) or `rejected`.
        public var outcome: String
        /// Why it would still be refused.
        public var reason: String?
        /// Why it was refused when it arrived.
        public var originalReason: String

        enum CodingKeys: String, CodingKey {
            case id, outcome, reason
            case originalReason = "original_reason"
        }
    }

    /// `POST /v1/quarantine/readmit?dry_run=true`: how many entries match, and how many would pass now.
    public struct ReadmitDryRun: Codable, Sendable, Equatable {
        public var dryRun: Bool
        public var matched: Int
        public var wouldAdmit: Int
        public var rejected: Int

        enum CodingKeys: String, CodingKey {
            case matched, rejected
            case dryRun = "dry_run"
            case wouldAdmit = "would_admit"
        }
    }

    /// `POST /v1/dead-letters/redeliver?dry_run=true`: how many dead letters match.
    public struct RedeliverDryRun: Codable, Sendable, Equatable {
        public var dryRun: Bool
        public var matched: Int

        enum CodingKeys: String, CodingKey {
            case matched
            case dryRun = "dry_run"
        }
    }
}
