extension AdminAPI {
    /// Every refusal's body: `{"error": "<code>"}`, with what helps a person fix the request. Never a secret.
    public struct ErrorBody: Codable, Sendable, Equatable {
        /// Machine-readable code, e.g. `not_found`, `invalid_time`.
        public var error: String
        /// What to do instead, for people.
        public var hint: String?
        /// The query parameter or body field at fault.
        public var parameter: String?
        /// The destination name at fault.
        public var destination: String?

        public init(_ error: String, hint: String? = nil, parameter: String? = nil, destination: String? = nil) {
            self.error = error
            self.hint = hint
            self.parameter = parameter
            self.destination = destination
        }
    }

    /// The answer of an action on one row: `{"status": "queued"}` or `{"status": "discarded"}`.
    public struct ActionStatus: Codable, Sendable, Equatable {
        public var status: String
    }
}
