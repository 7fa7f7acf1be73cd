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

    /// The HTTP status sent with this reason.
    public var httpStatus: Int {
        switch self {
        case .unknownSource: return 404
        case .methodNotAllowed: return 405
        case .bodyTooLarge: return 413
        case .ipNotAllowed, .handshakeRefused: return 403
        case .missingSignature, .malformedSignature, .noSupportedSignature, .legacySignatureRefused,
             .signatureMismatch, .secretExpired, .missingTimestamp, .timestampOutsideTolerance, .certificateURLNotAllowed:
            return 401
        case .malformedTimestamp, .malformedRequest: return 400
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
        }
    }
}

/// A configured source, resolved and ready to admit requests: the unit the admission pipeline works on.
public struct SourcePolicy: Sendable {
    public var name: String
    public var path: String
    public var profile: ProviderProfile
    public var keys: [VerificationKey]
    public var allowlist: IPAllowlist
    public var maxBodyBytes: Int
    public var verification: VerificationOptions
    /// Where admitted events go. An event no route matches is stored and marked unrouted.
    public var routes: [Route]

    /// Every destination some route of this source may use.
    public var destinations: [String] {
        var out: [String] = []
        for r in routes where !out.contains(r.destination) { out.append(r.destination) }
        return out
    }

    public init(name: String, path: String, profile: ProviderProfile, keys: [VerificationKey], allowlist: IPAllowlist = .init(), maxBodyBytes: Int = 1 << 20, verification: VerificationOptions = .init(), destinations: [String] = [], routes: [Route] = []) {
        self.name = name
        self.path = path
        self.profile = profile
        self.keys = keys
        self.allowlist = allowlist
        self.maxBodyBytes = maxBodyBytes
        self.verification = verification
        self.routes = destinations.map { Route(destination: $0) } + routes
    }
}

/// What admission learned about an accepted request.
public struct AdmittedEvent: Sendable, Equatable {
    public enum KeyOrigin: String, Sendable { case provider, bodyHash = "body_sha256" }
    /// The idempotency key within the source: the provider's event ID, or the body's SHA-256.
    public var eventKey: String
    public var keyOrigin: KeyOrigin
    public var eventType: String?
    /// Label of the secret that verified the request.
    public var secretLabel: String
    public var providerTimestamp: EpochMillis?
    /// The client address after trusted-proxy resolution.
    public var clientAddress: IPAddress?
    /// The destinations whose routes matched (empty: unrouted).
    public var destinations: [String] = []
}

public enum AdmissionDecision: Sendable, Equatable {
    case admit(AdmittedEvent)
    case reject(RejectionReason)
    /// A verified provider handshake: answer it, store nothing.
    case handshake(HandshakeResponse)
}

extension SourcePolicy {
    /// Decides whether `request` may enter. Pure: the caller performs the decision.
    ///
    /// Order matters: the address check runs first (cheapest, and a refused caller learns nothing about
    /// signatures), then the signature, then freshness (inside `verify`), then ID extraction.
    public func admit(_ request: IncomingRequest, now: EpochMillis, signingCertificateKey: [UInt8]? = nil, rejectWith certificateFailure: VerificationFailure? = nil) -> AdmissionDecision {
        let client = allowlist.clientAddress(peer: request.peer, forwardedFor: allowlist.trustedProxies.isEmpty ? [] : request.headers.all("X-Forwarded-For"))
        guard allowlist.permits(client) else { return .reject(.ipNotAllowed) }
        if request.body.count > maxBodyBytes { return .reject(.bodyTooLarge) }
        if request.method == "GET" { return answerGET(request, now: now) }
        if let certificateFailure { return .reject(RejectionReason(certificateFailure)) }

        let verified: VerifiedSignature
        var options = verification
        options.signingCertificateKey = signingCertificateKey
        switch profile.verify(request, keys: keys, options: options, now: now) {
        case .success(let v): verified = v
        case .failure(let f): return .reject(RejectionReason(f))
        }
        for h in profile.handshakes where !h.isGET {
            let key = keys.indices.contains(verified.keyIndex) ? keys[verified.keyIndex] : VerificationKey(label: "certificate", keyBytes: [])
            if let answer = h.answer(verified: request, key: key, options: verification) { return .handshake(answer) }
        }
        let providerID = profile.resolve(profile.event.idSources, in: request, signatureFields: [:])
        let eventType = profile.resolve(profile.event.typeSources, in: request, signatureFields: [:])
        return .admit(AdmittedEvent(
            eventKey: providerID ?? sha256Hex(request.body),
            keyOrigin: providerID == nil ? .bodyHash : .provider,
            eventType: eventType,
            secretLabel: keys.indices.contains(verified.keyIndex) ? keys[verified.keyIndex].label : "certificate",
            providerTimestamp: verified.timestamp,
            clientAddress: client,
            destinations: routes.destinations(eventType: eventType, body: request.body)
        ))
    }
}

extension SourcePolicy {
    /// Whether this source answers GET (a provider's verification request).
    public var acceptsGET: Bool { profile.handshakes.contains { $0.isGET } }

    func answerGET(_ request: IncomingRequest, now: EpochMillis) -> AdmissionDecision {
        for h in profile.handshakes where h.isGET {
            switch h {
            case .metaVerifyToken:
                guard request.queryParameter("hub.mode") != nil || request.queryParameter("hub.challenge") != nil else { continue }
                guard request.queryParameter("hub.mode") == "subscribe", let challenge = request.queryParameter("hub.challenge"),
                      let expected = verification.verifyToken, let given = request.queryParameter("hub.verify_token"),
                      secretsEqual(expected, given)
                else { return .reject(.handshakeRefused) }
                return .handshake(HandshakeResponse(status: 200, contentType: "text/plain", body: Array(challenge.utf8)))
            case .oktaVerification:
                guard let challenge = request.headers.first("X-Okta-Verification-Challenge") else { continue }
                switch profile.verify(request, keys: keys, options: verification, now: now) {
                case .failure(let f): return .reject(RejectionReason(f))
                case .success: return .handshake(.json([("verification", challenge)]))
                }
            default: continue
            }
        }
        return .reject(.methodNotAllowed)
    }
}

extension RejectionReason {
    /// Whether a request refused for this reason is kept in quarantine: it arrived whole at a known source and failed
    /// a check an operator can fix (secret, allowlist, clock, certificate), so re-admitting it may later succeed.
    public var isQuarantinable: Bool {
        switch self {
        case .ipNotAllowed, .missingSignature, .malformedSignature, .noSupportedSignature, .legacySignatureRefused, .signatureMismatch,
             .secretExpired, .missingTimestamp, .malformedTimestamp, .timestampOutsideTolerance, .certificateURLNotAllowed,
             .certificateUnavailable, .sourceMisconfigured:
            return true
        case .unknownSource, .methodNotAllowed, .bodyTooLarge, .malformedRequest, .requestTimeout, .handshakeRefused, .storeUnavailable,
             .shuttingDown, .overCapacity:
            return false
        }
    }
}
