extension AdminAPI {
    /// `POST /v1/streams/{name}/ack`: a batch's receipt, or sequences (exactly one of the two).
    public struct StreamAckRequest: Codable, Sendable, Equatable {
        public var group: String
        public var receipt: String?
        public var sequences: [Int64]?

        public init(group: String, receipt: String? = nil, sequences: [Int64]? = nil) {
            self.group = group
            self.receipt = receipt
            self.sequences = sequences
        }
    }

    /// The answer to an acknowledgement: how many sequences it acknowledged, and the group's cursor (its lowest
    /// unacknowledged sequence) after it.
    public struct StreamAckAnswer: Codable, Sendable, Equatable {
        public var acknowledged: Int
        public var cursor: Int64
    }

    /// `GET /v1/streams`.
    public struct StreamList: Codable, Sendable, Equatable {
        public var streams: [StreamInfo]
    }

    /// A configured stream: what it holds, and its groups.
    public struct StreamInfo: Codable, Sendable, Equatable {
        public var name: String
        /// Entries retained now.
        public var length: Int
        /// The newest sequence appended (0: none yet).
        public var lastSequence: Int64
        public var firstSequence: Int64?
        public var oldestAppendedAt: String?
        public var retentionHours: Int
        public var leaseSeconds: Int
        public var groups: [StreamGroup]

        enum CodingKeys: String, CodingKey {
            case name, length, groups
            case lastSequence = "last_sequence"
            case firstSequence = "first_sequence"
            case oldestAppendedAt = "oldest_appended_at"
            case retentionHours = "retention_hours"
            case leaseSeconds = "lease_seconds"
        }
    }

    /// `GET /v1/streams/{name}/groups`.
    public struct StreamGroupList: Codable, Sendable, Equatable {
        public var stream: String
        public var groups: [StreamGroup]
    }

    /// A consumer group: its cursor and how far behind it is.
    public struct StreamGroup: Codable, Sendable, Equatable {
        public var group: String
        /// The lowest sequence not acknowledged yet.
        public var cursor: Int64
        /// Retained entries not acknowledged yet.
        public var lagEvents: Int
        /// Age of the oldest of those (0 when there is none).
        public var lagSeconds: Int64
        /// Entries leased to consumers now.
        public var leased: Int
        /// True when retention removed entries before this group acknowledged them (`missed_by_retention` of them).
        public var behindRetention: Bool
        public var missedByRetention: Int64
        public var createdAt: String
        public var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case group, cursor, leased
            case lagEvents = "lag_events"
            case lagSeconds = "lag_seconds"
            case behindRetention = "behind_retention"
            case missedByRetention = "missed_by_retention"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }

    /// `POST /v1/streams/{name}/groups/{group}/rewind`: a sequence or an RFC 3339 time (exactly one).
    public struct StreamRewindRequest: Codable, Sendable, Equatable {
        public var sequence: Int64?
        public var time: String?

        public init(sequence: Int64? = nil, time: String? = nil) {
            self.sequence = sequence
            self.time = time
        }
    }

    /// The group's cursor after a rewind: the next sequence it is served.
    public struct StreamRewindAnswer: Codable, Sendable, Equatable {
        public var stream: String
        public var group: String
        public var cursor: Int64
    }
}
