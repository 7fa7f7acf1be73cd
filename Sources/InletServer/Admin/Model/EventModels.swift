extension AdminAPI {
    /// `GET /v1/events`, newest first; `nextCursor` when there may be more.
    public struct EventList: Codable, Sendable, Equatable {
        public var events: [EventSummary]
        public var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case events
            case nextCursor = "next_cursor"
        }
    }

    /// A stored event as listed.
    public struct EventSummary: Codable, Sendable, Equatable {
        public var id: String
        public var source: String
        public var provider: String
        /// Event type, when the provider profile finds one.
        public var type: String?
        /// The provider's event ID (or the body's hash, see `EventDetail.keyOrigin`).
        public var eventKey: String
        public var receivedAt: String
        /// Copies received after the first.
        public var duplicates: Int
        /// No route sent it anywhere.
        public var unrouted: Bool
        public var bodyBytes: Int
        /// Label of the secret that verified it.
        public var verifiedBy: String?
        /// What verification established: `body_signed`, `sender_authenticated` or `unverified`; absent for events
        /// stored before it was recorded.
        public var authenticity: String?
        /// An item of a split batch: the stored request it came in, and its position there.
        public var batchID: String?
        public var batchIndex: Int?

        enum CodingKeys: String, CodingKey {
            case id, source, provider, type, duplicates, unrouted, authenticity
            case batchID = "batch_id"
            case batchIndex = "batch_index"
            case eventKey = "event_key"
            case receivedAt = "received_at"
            case bodyBytes = "body_bytes"
            case verifiedBy = "verified_by"
        }
    }

    /// `GET /v1/events/{id}`: the summary's fields, the request as received, and every delivery with its attempts.
    /// On the wire the summary's fields sit beside the others (one flat object); here they are `summary`, also
    /// readable directly (`detail.eventKey`).
    @dynamicMemberLookup
    public struct EventDetail: Codable, Sendable, Equatable {
        public var summary: EventSummary
        /// `provider` or `body_sha256`.
        public var keyOrigin: String
        public var providerTimestamp: String?
        public var clientAddress: String?
        public var method: String
        public var path: String
        public var query: String?
        /// Request headers in arrival order, as `[name, value]` pairs.
        public var headers: [[String]]
        public var bodyBase64: String
        public var deliveries: [Delivery]

        public subscript<T>(dynamicMember field: KeyPath<EventSummary, T>) -> T { summary[keyPath: field] }

        enum CodingKeys: String, CodingKey {
            case method, path, query, headers, deliveries
            case keyOrigin = "key_origin"
            case providerTimestamp = "provider_timestamp"
            case clientAddress = "client_address"
            case bodyBase64 = "body_base64"
        }

        init(summary: EventSummary, keyOrigin: String, providerTimestamp: String?, clientAddress: String?, method: String, path: String,
             query: String?, headers: [[String]], bodyBase64: String, deliveries: [Delivery]) {
            self.summary = summary
            self.keyOrigin = keyOrigin
            self.providerTimestamp = providerTimestamp
            self.clientAddress = clientAddress
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.bodyBase64 = bodyBase64
            self.deliveries = deliveries
        }

        public init(from decoder: any Decoder) throws {
            summary = try EventSummary(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            keyOrigin = try c.decode(String.self, forKey: .keyOrigin)
            providerTimestamp = try c.decodeIfPresent(String.self, forKey: .providerTimestamp)
            clientAddress = try c.decodeIfPresent(String.self, forKey: .clientAddress)
            method = try c.decode(String.self, forKey: .method)
            path = try c.decode(String.self, forKey: .path)
            query = try c.decodeIfPresent(String.self, forKey: .query)
            headers = try c.decode([[String]].self, forKey: .headers)
            bodyBase64 = try c.decode(String.self, forKey: .bodyBase64)
            deliveries = try c.decode([Delivery].self, forKey: .deliveries)
        }

        public func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(keyOrigin, forKey: .keyOrigin)
            try c.encodeIfPresent(providerTimestamp, forKey: .providerTimestamp)
            try c.encodeIfPresent(clientAddress, forKey: .clientAddress)
            try c.encode(method, forKey: .method)
            try c.encode(path, forKey: .path)
            try c.encodeIfPresent(query, forKey: .query)
            try c.encode(headers, forKey: .headers)
            try c.encode(bodyBase64, forKey: .bodyBase64)
            try c.encode(deliveries, forKey: .deliveries)
        }
    }

    /// One delivery of an event to one destination.
    public struct Delivery: Codable, Sendable, Equatable {
        public var id: Int64
        public var destination: String
        /// `pending`, `delivered` or `dead`.
        public var state: String
        public var attempts: Int
        public var lastStatus: Int?
        public var lastError: String?
        /// While pending.
        public var nextAttemptAt: String?
        public var attemptLog: [Attempt]

        enum CodingKeys: String, CodingKey {
            case id, destination, state, attempts
            case lastStatus = "last_status"
            case lastError = "last_error"
            case nextAttemptAt = "next_attempt_at"
            case attemptLog = "attempt_log"
        }
    }

    /// One attempt of a delivery.
    public struct Attempt: Codable, Sendable, Equatable {
        public var attempt: Int
        public var startedAt: String
        public var durationMs: Int64
        /// HTTP status, when the destination answered.
        public var status: Int?
        public var error: String?
        public var nextAttemptAt: String?
        /// Start of the destination's answer.
        public var responseSnippet: String?

        enum CodingKeys: String, CodingKey {
            case attempt, status, error
            case startedAt = "started_at"
            case durationMs = "duration_ms"
            case nextAttemptAt = "next_attempt_at"
            case responseSnippet = "response_snippet"
        }
    }
}
