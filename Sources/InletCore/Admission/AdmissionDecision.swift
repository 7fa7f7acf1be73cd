/// What admission decides for one request; the caller (ingress, quarantine re-admission) performs it.
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

extension ResolvedSource {
    /// Admission as one decision, certificate schemes included: ingress and quarantine re-admission both ask this.
    /// The checks that need no certificate (address, size, duplicate keys, SNS topic) come first, so a caller refused
    /// anyway never makes the gateway fetch the URL it chose; then `.needsCertificate(url)` until the caller brings
    /// the key.
    public func decide(_ request: IncomingRequest, now: EpochMillis, certificate: SigningCertificateState = .notFetched) -> AdmissionDecision {
        guard request.method == "POST", verifiesSignatures, let located = certificateURL(in: request) else { return admit(request, now: now) }
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
        if request.method != "POST" { return answerWithoutBody(request, now: now) }
        if let certificateFailure { return .reject(RejectionReason(certificateFailure)) }
        // Handshakes the provider cannot sign (Asana's first POST, Graph's validationToken) come before any signature
        // is looked for; their answers are echoes, or need the secret to compute.
        for rule in profile.handshakeRules where rule.verification != .signature && rule.applies(to: request, options: verification) {
            return handshake(rule, request, key: firstActiveKey(at: now))
        }
        guard verifiesSignatures else {
            for rule in profile.handshakeRules where rule.applies(to: request, options: verification) { return handshake(rule, request, key: nil) }
            return admitUnverified(request, client: client)
        }

        let verified: VerificationKeyMatch
        var options = verification
        options.signingCertificateKey = signingCertificateKey
        switch profile.verify(request, keys: keys, options: options, now: now) {
        case .success(let v): verified = VerificationKeyMatch(v, keys: keys)
        case .failure(let f): return .reject(RejectionReason(f))
        }
        for rule in profile.handshakeRules where rule.verification == .signature && rule.applies(to: request, options: verification) {
            return handshake(rule, request, key: verified.key)
        }
        for h in profile.handshakes {
            if let answer = h.answer(verified: request, options: verification) { return .handshake(answer) }
        }
        let providerID = dedupOnBodyHash ? nil : profile.resolve(profile.event.idSources, in: request, signatureFields: [:])
        let eventType = profile.resolve(profile.event.typeSources, in: request, signatureFields: [:])
        return .admit(AdmittedEvent(
            eventKey: providerID ?? sha256Hex(request.body),
            keyOrigin: providerID == nil ? .bodyHash : .provider,
            eventType: eventType,
            secretLabel: verified.key?.label ?? (profile.keyFetch != nil ? "fetched-key" : keySetURL == nil ? "certificate" : "jwks"),
            authenticity: verified.signature.bindsBody ? .bodySigned : .senderAuthenticated,
            providerTimestamp: verified.signature.timestamp,
            clientAddress: client,
            destinations: routes.destinations(eventType: eventType, body: request.body),
            items: splitItems(request, requestType: eventType)
        ))
    }

    /// A source that opts out of verification: no signature, no handshake that needs a key; the event records that
    /// only the address allowlist (if any) vouched for it.
    func admitUnverified(_ request: IncomingRequest, client: IPAddress?) -> AdmissionDecision {
        let providerID = dedupOnBodyHash ? nil : profile.resolve(profile.event.idSources, in: request, signatureFields: [:])
        let eventType = profile.resolve(profile.event.typeSources, in: request, signatureFields: [:])
        return .admit(AdmittedEvent(
            eventKey: providerID ?? sha256Hex(request.body),
            keyOrigin: providerID == nil ? .bodyHash : .provider,
            eventType: eventType,
            secretLabel: nil,
            authenticity: allowlist.isOpen ? .unverified : .senderAuthenticated,
            providerTimestamp: nil,
            clientAddress: client,
            destinations: routes.destinations(eventType: eventType, body: request.body),
            items: splitItems(request, requestType: eventType)
        ))
    }

    /// GET, HEAD and OPTIONS: only handshakes answer them (Meta's hub.challenge, Trello's HEAD, Event Grid's OPTIONS).
    func answerWithoutBody(_ request: IncomingRequest, now: EpochMillis) -> AdmissionDecision {
        for rule in profile.handshakeRules where rule.applies(to: request, options: verification) {
            guard rule.verification == .signature, verifiesSignatures else { return handshake(rule, request, key: firstActiveKey(at: now)) }
            // Okta's GET carries the shared Authorization like its events.
            switch profile.verify(request, keys: keys, options: verification, now: now) {
            case .failure(let f): return .reject(RejectionReason(f))
            case .success(let v): return handshake(rule, request, key: VerificationKeyMatch(v, keys: keys).key)
            }
        }
        return .reject(.methodNotAllowed)
    }

    /// A rule's answer, or `handshake_refused`. A secret the handshake hands over is taken only by a source that opts
    /// in (`accept_handshake_secret`) and has no secret yet; the server stores it, once, before answering.
    func handshake(_ rule: HandshakeRule, _ request: IncomingRequest, key: VerificationKey?) -> AdmissionDecision {
        guard let answer = rule.answer(request, options: verification, key: key) else { return .reject(.handshakeRefused) }
        if answer.establishedSecret != nil, !acceptsHandshakeSecret || !keys.isEmpty { return .reject(.handshakeRefused) }
        return .handshake(answer)
    }

    /// The key an answer to an unsigned handshake is computed with (X's CRC, LinkedIn's challenge): the first
    /// secret active now.
    func firstActiveKey(at now: EpochMillis) -> VerificationKey? {
        keys.first { $0.window.isActive(at: now) }
    }
}

/// A verification and the configured key it matched (none for certificate and key-set schemes).
struct VerificationKeyMatch {
    let signature: VerifiedSignature
    let key: VerificationKey?

    init(_ signature: VerifiedSignature, keys: [VerificationKey]) {
        self.signature = signature
        key = keys.indices.contains(signature.keyIndex) ? keys[signature.keyIndex] : nil
    }
}

extension ResolvedSource {
    /// The items of a split batch: each element of the profile's array, with its ID and type read inside it and its
    /// routes matched against its own bytes. Empty (the request is one event) without `split`, when the body has no
    /// array there, an empty one, or more than `SplitSpec.maxItems` items.
    func splitItems(_ request: IncomingRequest, requestType: String?) -> [AdmittedItem] {
        guard let split = profile.split,
              let elements = try? JSONScanner.arrayElements(at: split.pointer, in: request.body, limit: SplitSpec.maxItems),
              !elements.isEmpty else { return [] }
        return elements.map { e in
            var item = request
            item.body = Array(request.body[e.range])
            let id = dedupOnBodyHash ? nil : profile.resolve(split.idSources, in: item, signatureFields: [:])
            let type = profile.resolve(split.typeSources, in: item, signatureFields: [:]) ?? requestType
            return AdmittedItem(eventKey: id ?? sha256Hex(item.body), keyOrigin: id == nil ? .bodyHash : .provider, eventType: type,
                                destinations: routes.destinations(eventType: type, body: item.body), range: e.range)
        }
    }
}
