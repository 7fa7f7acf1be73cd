extension AdminAPI {
    /// `GET /v1/quarantine`, newest first; `nextCursor` when there may be more.
    public struct QuarantineList: Codable, Sendable, Equatable {
        public var quarantine: [QuarantineItem]
        public var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case quarantine
            case nextCursor = "next_cursor"
        }
    }

    /// A rejected request, kept for a while.
    public struct QuarantineItem: Codable, Sendable, Equatable {
        public var id: Int64
        public var source: String
        public var provider: String
        /// Why admission rejected it.
        public var reason: String
        public var receivedAt: String
        public var expiresAt: String
        public var method: String
        public var path: String
        public var bodyBytes: Int
        public var peer: String?

        enum CodingKeys: String, CodingKey {
            case id, source, provider, reason, method, path, peer
            case receivedAt = "received_at"
            case expiresAt = "expires_at"
            case bodyBytes = "body_bytes"
        }
    }

    /// `GET /v1/quarantine/{id}`: the item's fields and the request as received. On the wire one flat object; here
    /// the item is `item`, also readable directly (`detail.reason`).
    @dynamicMemberLookup
    public struct QuarantineDetail: Codable, Sendable, Equatable {
        public var item: QuarantineItem
        /// Request headers in arrival order, as `[name, value]` pairs.
        public var headers: [[String]]
        public var query: String?
        public var bodyBase64: String

        public subscript<T>(dynamicMember field: KeyPath<QuarantineItem, T>) -> T { item[keyPath: field] }

        enum CodingKeys: String, CodingKey {
            case headers, query
            case bodyBase64 = "body_base64"
        }

        init(item: QuarantineItem, headers: [[String]], query: String?, bodyBase64: String) {
            self.item = item
            self.headers = headers
            self.query = query
            self.bodyBase64 = bodyBase64
        }

        public init(from decoder: any Decoder) throws {
            item = try QuarantineItem(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            headers = try c.decode([[String]].self, forKey: .headers)
            query = try c.decodeIfPresent(String.self, forKey: .query)
            bodyBase64 = try c.decode(String.self, forKey: .bodyBase64)
        }

        public func encode(to encoder: any Encoder) throws {
            try item.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(headers, forKey: .headers)
            try c.encodeIfPresent(query, forKey: .query)
            try c.encode(bodyBase64, forKey: .bodyBase64)
        }
    }

    /// What re-admitting one entry did.
    public struct ReadmitResult: Codable, Sendable, Equatable {
        public enum Outcome: String, Codable, Sendable {
            case accepted, duplicate, rejected
        }

        public var id: Int64
        public var outcome: Outcome
        /// The stored event, when accepted or a duplicate.
        public var eventID: String?
        /// Why admission rejected it again.
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case id, outcome, reason
            case eventID = "event_id"
        }
    }

    /// `POST /v1/quarantine/readmit`: the tally and each entry's result, oldest first.
    public struct ReadmitSummary: Codable, Sendable, Equatable {
        public var accepted: Int
        public var duplicate: Int
        public var rejected: Int
        public var results: [ReadmitResult]
    }
}
