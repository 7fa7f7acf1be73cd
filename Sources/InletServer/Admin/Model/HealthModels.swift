extension AdminAPI {
    /// `/healthz` (`ok`) and `/readyz` (`ready`, or `unavailable` with a `reason`).
    public struct HealthStatus: Codable, Sendable, Equatable {
        public var status: String
        public var reason: String?
    }
}
