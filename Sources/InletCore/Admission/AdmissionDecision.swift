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
