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
    /// The idempotency key is the body's SHA-256 rather than the provider's event ID. For profiles whose ID comes
    /// from an unsigned header and that sign no timestamp, a captured request re-sent with a fresh delivery header
    /// would otherwise be a new event; the provider's own retries send the same body, so they still deduplicate.
    public var dedupOnBodyHash = false
    /// AWS SNS: the topics this source accepts messages from. Checked before any certificate is fetched.
    public var topicARNs: [SNSTopicPattern] = []

    /// Every destination some route of this source may use.
    public var destinations: [String] {
        var out: [String] = []
        for r in routes where !out.contains(r.destination) { out.append(r.destination) }
        return out
    }

    public init(name: String, path: String, profile: ProviderProfile, keys: [VerificationKey], allowlist: IPAllowlist = .init(), maxBodyBytes: Int = 1 << 20, verification: VerificationOptions = .init(), destinations: [String] = [], routes: [Route] = []) {
        self.dedupOnBodyHash = profile.dedupOnBodyHash
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
    /// The scheme verifies with the signing certificate at this URL (already checked against the provider's
    /// hosts), and it is not at hand: fetch it, then `decide` again with `.key` (or `.unavailable`).
    case needsCertificate(String)
}

/// What the caller of `decide` holds of a request's signing certificate (SNS, PayPal).
public enum SigningCertificateState: Sendable, Equatable {
    case notFetched
    case key([UInt8])
    /// The fetch failed, or the certificate did not meet the scheme's requirement.
    case unavailable
}

extension SourcePolicy {
    /// Admission as one decision, certificate schemes included: ingress and quarantine re-admission both ask this.
    /// The checks that need no certificate (address, size, duplicate keys, SNS topic) come first, so a caller refused
    /// anyway never makes the gateway fetch the URL it chose; then `.needsCertificate(url)` until the caller brings
    /// the key.
    public func decide(_ request: IncomingRequest, now: EpochMillis, certificate: SigningCertificateState = .notFetched) -> AdmissionDecision {
        guard request.method == "POST", let located = certificateURL(in: request) else { return admit(request, now: now) }
        if let reason = screen(request) { return .reject(reason) }
        switch (located, certificate) {
        case (.failure(let failure), _): return admit(request, now: now, signingCertificateKey: nil, rejectWith: failure)
        case (.success(let url), .notFetched): return .needsCertificate(url)
        case (.success, .unavailable): return .reject(.certificateUnavailable)
        case (.success, .key(let key)): return admit(request, now: now, signingCertificateKey: key)
        }
    }

    /// Decides whether `request` may enter. Pure: the caller performs the decision.
    ///
    /// Order matters: the `screen` checks run first (the address is cheapest, and a refused caller learns nothing
    /// about signatures), then the signature, then freshness (inside `verify`), then ID extraction.
    public func admit(_ request: IncomingRequest, now: EpochMillis, signingCertificateKey: [UInt8]? = nil, rejectWith certificateFailure: VerificationFailure? = nil) -> AdmissionDecision {
        if let reason = screen(request) { return .reject(reason) }
        let client = clientAddress(of: request)
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
        let providerID = dedupOnBodyHash ? nil : profile.resolve(profile.event.idSources, in: request, signatureFields: [:])
        let eventType = profile.resolve(profile.event.typeSources, in: request, signatureFields: [:])
        return .admit(AdmittedEvent(
            eventKey: providerID ?? sha256Hex(request.body),
            keyOrigin: providerID == nil ? .bodyHash : .provider,
            eventType: eventType,
            secretLabel: keys.indices.contains(verified.keyIndex) ? keys[verified.keyIndex].label : (keySetURL == nil ? "certificate" : "jwks"),
            providerTimestamp: verified.timestamp,
            clientAddress: client,
            destinations: routes.destinations(eventType: eventType, body: request.body)
        ))
    }
}

extension SourcePolicy {
    /// The checks that need no signature and no certificate, in order: the client address, the body size, duplicate
    /// JSON keys and (SNS) the topic. The ingress runs them before it fetches a signing certificate, so a refused
    /// caller never makes the gateway fetch the URL it chose; `admit` runs them again, so the order holds everywhere.
    public func screen(_ request: IncomingRequest) -> RejectionReason? {
        guard allowlist.permits(clientAddress(of: request)) else { return .ipNotAllowed }
        if request.body.count > maxBodyBytes { return .bodyTooLarge }
        guard request.method != "GET" else { return nil }
        if readsJSONFields, JSONScanner.firstDuplicateKey(in: request.body) != nil { return .duplicateJSONKey }
        if profile.signatures.contains(where: { $0.algorithm == .awsSNS }) {
            // Before the certificate and the signature: a message AWS signed for someone else's topic verifies.
            guard let arn = JSONScanner.scalarText(at: JSONPointer(tokens: ["TopicArn"]), in: request.body),
                  topicARNs.contains(where: { $0.matches(arn) }) else { return .topicNotAllowed }
        }
        return nil
    }

    func clientAddress(of request: IncomingRequest) -> IPAddress? {
        allowlist.clientAddress(peer: request.peer, forwardedFor: allowlist.trustedProxies.isEmpty ? [] : request.headers.all("X-Forwarded-For"))
    }

    /// Whether admission reads anything out of the body (an ID, type, signature, timestamp, signed field, route
    /// filter or handshake field): then the body must not repeat a key, or what the gateway reads and what the
    /// consumer reads may differ.
    public var readsJSONFields: Bool {
        func json(_ sources: [ValueSource]) -> Bool { sources.contains { if case .json = $0 { return true }; return false } }
        if json(profile.event.idSources) || json(profile.event.typeSources) || json(profile.signedIDSources) || json(profile.timestamp?.sources ?? []) {
            return true
        }
        for spec in profile.signatures {
            if json(spec.sources) || spec.algorithm.usesSigningCertificate { return true }
            if spec.signedContent.segments.contains(where: { if case .json = $0 { return true }; return false }) { return true }
        }
        if profile.handshakes.contains(where: { !$0.isGET }) { return true }
        return routes.contains { !$0.conditions.isEmpty }
    }

    /// Where the signing certificate of a certificate scheme (SNS, PayPal) is, checked against the provider's hosts
    /// (PayPal's sandbox hosts only for a `sandbox` source); nil for other schemes.
    /// JWT sources with a key set answer the key set's URL with the token's `kid` (`KeySetLocator`), after the token's
    /// `alg` passed: a token the profile refuses anyway (`alg: none`) never makes the gateway fetch.
    public func certificateURL(in request: IncomingRequest) -> Result<String, VerificationFailure>? {
        if let url = keySetURL { return keySetLocator(url, in: request) }
        return CertificateSchemes.certificateURL(for: profile, in: request, sandbox: verification.sandbox)
    }

    /// What the fetched certificate itself must satisfy (for a key set: that it is one).
    public var certificateRequirement: SigningCertificateRequirement {
        if keySetURL != nil { return SigningCertificateRequirement(keySet: true) }
        return CertificateSchemes.requirement(for: profile, sandbox: verification.sandbox)
    }

    /// The JWKS this source verifies JWTs with, if it uses one.
    public var keySetURL: String? { profile.keySetURL(sourceURL: verification.jwksURL) }

    func keySetLocator(_ url: String, in request: IncomingRequest) -> Result<String, VerificationFailure> {
        guard let spec = profile.signatures.first(where: { $0.algorithm == .jwt }),
              let value = spec.sources.lazy.compactMap({ ProviderProfile.value(of: $0, in: request) }).first else { return .failure(.missingSignature) }
        let token: CompactJWT
        switch CompactJWT.parse(CompactJWT.token(fromHeader: value)) {
        case .success(let t): token = t
        case .failure(let f): return .failure(f)
        }
        guard let alg = JWTAlgorithm(rawValue: token.algorithm), profile.jwt?.algorithms.contains(alg) == true, !alg.isHMAC else {
            return .failure(.jwtAlgorithmRefused)
        }
        if let kid = token.keyID, !KeySetLocator.isPlausible(kid) { return .failure(.signingKeyUnknown) }
        return .success(KeySetLocator(url: url, keyID: token.keyID).text)
    }
}

/// An entry of an SNS source's `topic_arns`: `arn:<partition>:sns:<region>:<account>:<topic>`, where the region or
/// the topic (whole segment only) may be `*`. The partition, the service and the account are always exact.
public struct SNSTopicPattern: Sendable, Equatable, CustomStringConvertible {
    let segments: [Substring]
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-cn", "aws-us-gov"].contains(parts[1]), parts[2] == "sns",
              parts[4].count == 12, parts[4].allSatisfy({ $0.isASCII && $0.isNumber }),
              !parts[3].isEmpty, !parts[5].isEmpty,
              parts[3] == "*" || parts[3].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }),
              parts[5] == "*" || parts[5].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
        else { return nil }
        segments = parts
        description = text
    }

    public func matches(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return false }
        for (n, (want, got)) in zip(segments, parts).enumerated() {
            if want == "*" && (n == 3 || n == 5) && !got.isEmpty { continue }
            if want != got { return false }
        }
        return true
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
