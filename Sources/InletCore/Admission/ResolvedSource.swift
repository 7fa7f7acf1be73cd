/// A configured source, resolved and ready to admit requests: the unit the admission pipeline works on.
public struct ResolvedSource: Sendable {
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
    /// False when the source opts out of verification (`verify_signatures = false`): every request that passes the
    /// address, size and JSON checks is admitted, and its events say so (`Authenticity.unverified`, or
    /// `sender_authenticated` when an address allowlist is all that admitted it).
    public var verifiesSignatures = true
    /// The source takes a secret a handshake hands over (Asana's `X-Hook-Secret`), while it has none
    /// (`accept_handshake_secret = true`).
    public var acceptsHandshakeSecret = false
    /// The receiver's credentials for the provider's key API (`key_fetch_client_id`, `key_fetch_secret`), for
    /// profiles with `[key_fetch]`. Never printed.
    public var keyFetchCredentials = KeyFetchCredentials(clientID: nil, secret: nil)
    /// The key API's host this source uses (`key_host`, one of the profile's pinned hosts), when not the default.
    public var keyFetchHost: String?

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

extension ResolvedSource {
    /// The checks that need no signature and no certificate, in order: the client address, the body size, duplicate
    /// JSON keys and (SNS) the topic. The ingress runs them before it fetches a signing certificate, so a refused
    /// caller never makes the gateway fetch the URL it chose; `admit` runs them again, so the order holds everywhere.
    public func screen(_ request: IncomingRequest) -> RejectionReason? {
        guard allowlist.permits(clientAddress(of: request)) else { return .ipNotAllowed }
        if request.body.count > maxBodyBytes { return .bodyTooLarge }
        guard request.method == "POST" else { return nil }
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
        if !profile.handshakes.isEmpty || profile.handshakeRules.contains(where: { $0.method == "POST" }) || profile.split != nil { return true }
        return routes.contains { !$0.conditions.isEmpty }
    }

    /// Where the signing certificate of a certificate scheme (SNS, PayPal) is, checked against the provider's hosts
    /// (PayPal's sandbox hosts only for a `sandbox` source); nil for other schemes.
    /// JWT sources with a key set answer the key set's URL with the token's `kid` (`KeySetLocator`), after the token's
    /// `alg` passed: a token the profile refuses anyway (`alg: none`) never makes the gateway fetch.
    public func certificateURL(in request: IncomingRequest) -> Result<String, VerificationFailure>? {
        if let spec = profile.keyFetch { return keyFetchLocator(spec, in: request) }
        if let url = keySetURL { return keySetLocator(url, in: request) }
        return CertificateSchemes.certificateURL(for: profile, in: request, sandbox: verification.sandbox)
    }

    /// What the fetched certificate itself must satisfy (for a key set: that it is one).
    public var certificateRequirement: SigningCertificateRequirement {
        if let plan = keyFetchPlan { return SigningCertificateRequirement(keyFetch: plan) }
        if keySetURL != nil { return SigningCertificateRequirement(keySet: true) }
        return CertificateSchemes.requirement(for: profile, sandbox: verification.sandbox)
    }

    /// The JWKS this source verifies JWTs with, if it uses one.
    public var keySetURL: String? { profile.keySetURL(sourceURL: verification.jwksURL) }

    /// What the server runs to fetch this source's keys by id, for profiles with `[key_fetch]`.
    public var keyFetchPlan: KeyFetchPlan? {
        guard let spec = profile.keyFetch else { return nil }
        return KeyFetchPlan(source: name, spec: spec, host: keyFetchHost, credentials: keyFetchCredentials,
                            forJWT: profile.signatures.contains { $0.algorithm == .jwt })
    }

    /// The key a request names, as the key API's URL with `#kid=` (`KeySetLocator`): read from the request, checked
    /// (`KeyFetchSpec.isSafeKeyID`) and only then put into a URL. A request without a signature, with a JWT whose
    /// `alg` the profile refuses, or naming an id that is not plain text never makes the gateway fetch.
    func keyFetchLocator(_ spec: KeyFetchSpec, in request: IncomingRequest) -> Result<String, VerificationFailure> {
        guard let sig = profile.signatures.first(where: { !$0.legacy }) ?? profile.signatures.first,
              let value = sig.sources.lazy.compactMap({ ProviderProfile.value(of: $0, in: request) }).first else { return .failure(.missingSignature) }
        let kid: String?
        switch spec.keyID {
        case .jwtHeader:
            let token: CompactJWT
            switch CompactJWT.parse(CompactJWT.token(fromHeader: value)) {
            case .success(let t): token = t
            case .failure(let f): return .failure(f)
            }
            guard let alg = JWTAlgorithm(rawValue: token.algorithm), profile.jwt?.algorithms.contains(alg) == true, !alg.isHMAC else {
                return .failure(.jwtAlgorithmRefused)
            }
            kid = token.keyID
        case .value(let source):
            var fields = SignatureFields()
            if case .signatureField = source {
                switch SignatureHeaderParser.parse(value, format: sig.format) {
                case .success(let parsed): fields = parsed.fields
                case .failure(let f): return .failure(f)
                }
            }
            kid = ProviderProfile.value(of: source, in: request, signatureFields: fields)
        }
        guard let kid, !kid.isEmpty else { return .failure(.malformedSignature) }
        guard KeyFetchSpec.isSafeKeyID(kid) else { return .failure(.signingKeyUnknown) }
        return .success(KeySetLocator(url: spec.keyURL(kid: kid, host: keyFetchHost), keyID: kid).text)
    }

    func keySetLocator(_ url: String, in request: IncomingRequest) -> Result<String, VerificationFailure> {
        guard let spec = profile.signatures.first(where: { $0.algorithm == .jwt }),
              let (source, value) = spec.sources.lazy.compactMap({ s in ProviderProfile.value(of: s, in: request).map { (s, $0) } }).first else {
            return .failure(.missingSignature)
        }
        let token: CompactJWT
        switch CompactJWT.parse(CompactJWT.token(fromHeader: value), maxLength: source == .body ? CompactJWT.maxBodyLength : CompactJWT.maxLength) {
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

extension ResolvedSource {
    /// Whether this source takes requests with `method`: POST always, others when a handshake answers them.
    public func accepts(method: String) -> Bool {
        method == "POST" || profile.handshakeRules.contains { $0.method == method }
    }

    /// Whether this source answers GET (a provider's verification request).
    public var acceptsGET: Bool { accepts(method: "GET") }
}
