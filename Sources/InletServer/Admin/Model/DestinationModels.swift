extension AdminAPI {
    /// `GET /v1/destinations`, by name.
    public struct DestinationList: Codable, Sendable, Equatable {
        public var destinations: [Destination]
    }

    /// A destination's queue, circuit and pause.
    public struct Destination: Codable, Sendable, Equatable {
        public var name: String
        public var url: String
        /// `cloudevents`, `cloudevents-binary` or `raw`.
        public var payload: String
        /// `closed`, `open`, `half_open`; `unknown` where no delivery workers run (the CLI's in-process view).
        public var circuit: String
        public var paused: Bool
        /// Deliveries waiting.
        public var pending: Int
        /// Deliveries that gave up and wait for an operator.
        public var deadLetters: Int
        public var maxConcurrency: Int
        /// Present while deliveries wait.
        public var oldestPendingAgeSeconds: Int64?
        /// How long the longest-waiting due delivery has waited for a worker; present while one does.
        public var oldestDueAgeSeconds: Int64?

        enum CodingKeys: String, CodingKey {
            case name, url, payload, circuit, paused, pending
            case deadLetters = "dead_letters"
            case maxConcurrency = "max_concurrency"
            case oldestPendingAgeSeconds = "oldest_pending_age_seconds"
            case oldestDueAgeSeconds = "oldest_due_age_seconds"
        }
    }

    /// `POST /v1/destinations/{name}/pause` and `…/resume`: the pause state after the call.
    public struct PauseState: Codable, Sendable, Equatable {
        public var name: String
        public var paused: Bool
    }
}
