/// Stable, machine-readable reasons a request is refused. The raw value is the `reason` in the response body
/// and in metrics; never rename one.
public enum RejectionReason: String, Sendable, CaseIterable, Error {
    case unknownSource = "unknown_source"
    case methodNotAllowed = "method_not_allowed"
    case bodyTooLarge = "body_too_large"
    case ipNotAllowed = "ip_not_allowed"
    case missingSignature = "missing_signature"
    case malformedSignature = "malformed_signature"
    case noSupportedSignature = "no_supported_signature"
    case legacySignatureRefused = "legacy_signature_refused"
    case signatureMismatch = "signature_mismatch"
    case secretExpired = "secret_expired"
    case missingTimestamp = "missing_timestamp"
    case malformedTimestamp = "malformed_timestamp"
    case timestampOutsideTolerance = "timestamp_outside_tolerance"
    case malformedRequest = "malformed_request"
    case requestTimeout = "request_timeout"
    case handshakeRefused = "handshake_refused"
    case certificateURLNotAllowed = "certificate_url_not_allowed"
    case certificateUnavailable = "certificate_unavailable"
    case sourceMisconfigured = "source_misconfigured"
    case storeUnavailable = "store_unavailable"
    case shuttingDown = "shutting_down"
    /// The gateway holds as many request bytes in memory as `[server] max_in_flight_bytes` allows.
    case overCapacity = "over_capacity"
    /// An object in the body repeats a key: parsers disagree on which value wins (see `JSONScanner.firstDuplicateKey`).
    case duplicateJSONKey = "duplicate_json_key"
    /// An AWS SNS message from a topic the source does not list in `topic_arns`.
    case topicNotAllowed = "topic_not_allowed"
    /// A JWT whose `alg` the profile does not accept (`none` included), or with a critical extension.
    case jwtAlgorithmRefused = "jwt_algorithm_refused"
    /// A JWT claim the profile checks (`iss`, `aud`, `sub`, a required one) is missing or wrong.
    case jwtClaimInvalid = "jwt_claim_invalid"
    /// The signed body-hash claim does not match the body received.
    case bodyHashMismatch = "body_hash_mismatch"
    /// The provider's key set has no key with the token's `kid`, even after a refresh.
    case signingKeyUnknown = "signing_key_unknown"

    /// The answer's JSON body, the same wherever a refusal is written (the ingress handler, the head-timeout guard
    /// below the HTTP codec): `{"status":"rejected","reason":"<code>"}`.
    public var answerBody: String { #"{"status":"rejected","reason":""# + rawValue + #""}"# }

    /// The HTTP status sent with this reason.
    public var httpStatus: Int {
        switch self {
        case .unknownSource: return 404
        case .methodNotAllowed: return 405
        case .bodyTooLarge: return 413
        case .ipNotAllowed, .handshakeRefused, .topicNotAllowed: return 403
        case .missingSignature, .malformedSignature, .noSupportedSignature, .legacySignatureRefused,
             .signatureMismatch, .secretExpired, .missingTimestamp, .timestampOutsideTolerance, .certificateURLNotAllowed,
             .jwtAlgorithmRefused, .jwtClaimInvalid, .bodyHashMismatch, .signingKeyUnknown:
            return 401
        case .malformedTimestamp, .malformedRequest, .duplicateJSONKey: return 400
        case .requestTimeout: return 408
        // 5xx: the provider must retry; nothing was stored.
        case .sourceMisconfigured: return 500
        case .storeUnavailable, .shuttingDown, .certificateUnavailable, .overCapacity: return 503
        }
    }

    public init(_ failure: VerificationFailure) {
        switch failure {
        case .missingSignature: self = .missingSignature
        case .malformedSignature: self = .malformedSignature
        case .noSupportedSignature: self = .noSupportedSignature
        case .legacySignatureRefused: self = .legacySignatureRefused
        case .signatureMismatch: self = .signatureMismatch
        case .missingTimestamp: self = .missingTimestamp
        case .malformedTimestamp: self = .malformedTimestamp
        case .timestampOutsideTolerance: self = .timestampOutsideTolerance
        case .publicURLNotConfigured: self = .sourceMisconfigured
        case .certificateURLNotAllowed: self = .certificateURLNotAllowed
        case .certificateUnavailable: self = .certificateUnavailable
        case .secretExpired: self = .secretExpired
        case .jwtAlgorithmRefused: self = .jwtAlgorithmRefused
        case .jwtClaimInvalid: self = .jwtClaimInvalid
        case .bodyHashMismatch: self = .bodyHashMismatch
        case .signingKeyUnknown: self = .signingKeyUnknown
        }
    }
}

extension RejectionReason {
    /// Whether a request refused for this reason is kept in quarantine: it arrived whole at a known source and failed
    /// a check an operator can fix (secret, allowlist, clock, certificate), so re-admitting it may later succeed.
    public var isQuarantinable: Bool {
        switch self {
        case .ipNotAllowed, .missingSignature, .malformedSignature, .noSupportedSignature, .legacySignatureRefused, .signatureMismatch,
             .secretExpired, .missingTimestamp, .malformedTimestamp, .timestampOutsideTolerance, .certificateURLNotAllowed,
             .certificateUnavailable, .sourceMisconfigured, .topicNotAllowed, .jwtAlgorithmRefused, .jwtClaimInvalid, .bodyHashMismatch,
             .signingKeyUnknown:
            return true
        // A body with a repeated key is refused for what it is, not for a setting an operator could change.
        case .unknownSource, .methodNotAllowed, .bodyTooLarge, .malformedRequest, .requestTimeout, .handshakeRefused, .storeUnavailable,
             .shuttingDown, .overCapacity, .duplicateJSONKey:
            return false
        }
    }
}
