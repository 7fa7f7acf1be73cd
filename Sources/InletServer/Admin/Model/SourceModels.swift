extension AdminAPI {
    /// `GET /v1/sources`.
    public struct SourceList: Codable, Sendable, Equatable {
        public var sources: [Source]
    }

    /// A configured source: where it listens, what verifies it, where its events go.
    public struct Source: Codable, Sendable, Equatable {
        public var name: String
        /// Ingress path, e.g. `/hooks/demo`.
        public var path: String
        /// Provider profile name.
        public var provider: String
        public var destinations: [String]
        public var secrets: [SecretUsage]
    }

    /// A secret's label, window and use; never its value.
    public struct SecretUsage: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable {
            case active, expired
            case notYetValid = "not_yet_valid"
        }

        public var label: String
        public var state: State
        /// Requests it verified in the last 24 hours.
        public var verified24h: Int
        public var notBefore: String?
        public var expiresAt: String?
        public var lastVerifiedAt: String?
        /// Not expired yet, but expires within `[secrets] expiry_warning_days` (the console's warning).
        public var expiringSoon: Bool?

        enum CodingKeys: String, CodingKey {
            case label, state
            case verified24h = "verified_24h"
            case notBefore = "not_before"
            case expiresAt = "expires_at"
            case lastVerifiedAt = "last_verified_at"
            case expiringSoon = "expiring_soon"
        }
    }
}
