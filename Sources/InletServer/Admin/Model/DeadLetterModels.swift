extension AdminAPI {
    /// `GET /v1/dead-letters`, oldest first; `nextCursor` when there may be more.
    public struct DeadLetterList: Codable, Sendable, Equatable {
        public var deadLetters: [DeadLetter]
        public var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case deadLetters = "dead_letters"
            case nextCursor = "next_cursor"
        }
    }

    /// A delivery that gave up and waits for an operator.
    public struct DeadLetter: Codable, Sendable, Equatable {
        public var deliveryID: Int64
        public var eventID: String
        public var destination: String
        public var source: String
        public var type: String?
        public var attempts: Int
        public var deadAt: String
        /// The delivery came from a replay.
        public var replay: Bool
        public var lastStatus: Int?
        public var lastError: String?

        enum CodingKeys: String, CodingKey {
            case destination, source, type, attempts, replay
            case deliveryID = "delivery_id"
            case eventID = "event_id"
            case deadAt = "dead_at"
            case lastStatus = "last_status"
            case lastError = "last_error"
        }
    }

    /// `POST /v1/dead-letters/redeliver`: how many were queued again.
    public struct RedeliveredCount: Codable, Sendable, Equatable {
        public var redelivered: Int
    }
}
