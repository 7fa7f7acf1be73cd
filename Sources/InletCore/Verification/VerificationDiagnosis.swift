import Foundation

/// Why a refused request did not verify, found by trying the documented variants one layer at a time (the answer of
/// `inlet providers explain`). Every trial runs the real admission decision on a changed copy of the request or the
/// source, so the diagnosis can never disagree with what the gateway does. It reports layers and labels only: no
/// secret, key or computed signature appears in it.
public struct VerificationDiagnosis: Sendable, Equatable {
    public enum Layer: String, Sendable, Equatable {
        /// The request is admitted now, as it is (the config or a secret changed since it was refused).
        case passes
        /// Refused before any signature check: the address, size, a duplicate JSON key, the SNS topic.
        case notSignature = "not_signature"
        /// The header (or field) the profile reads the signature or timestamp from is not in the request.
        case headerMissing = "header_missing"
        /// The signature is right; the signed timestamp is outside the tolerance.
        case timestampWindow = "timestamp_window"
        /// The signature is right when the timestamp is read in the other unit (seconds, milliseconds).
        case timestampUnit = "timestamp_unit"
        /// A configured secret matches when its text is decoded differently (UTF-8, base64, hex, trimmed).
        case secretDecoding = "secret_decoding"
        /// The signature matches when its own encoding is read differently (hex case, base64url).
        case encoding
        /// The signature matches slightly different body bytes: something changed the body on its way.
        case bodyReserialized = "body_reserialized"
        /// The signature matches another public URL than the configured one.
        case publicURL = "public_url"
        /// No variant tried makes any configured secret match: the secret is not the one the provider signs with.
        case secretUnknown = "secret_unknown"
        /// The scheme verifies with a key the provider publishes (certificate, key set): only re-admission can tell.
        case unsupported
    }

    public var layer: Layer
    /// What admission answers today, as it is: `admitted` or the rejection reason.
    public var outcomeNow: String
    /// One or two sentences for the operator.
    public var finding: String
    /// The variants tried, in order, for the record.
    public var tried: [String]
}

public enum VerificationDiagnostics {
    /// A configured secret as written in the config (after `env:`/`file:` resolution): the variants decode it.
    public struct Secret: Sendable {
        public var label: String
        public var text: String
        public var window: SecretWindow

        public init(label: String, text: String, window: SecretWindow = SecretWindow()) {
            self.label = label
            self.text = text
            self.window = window
        }
    }

    /// A tolerance that takes any timestamp of the last or next ten years: the signature is then judged alone.
    static let anyTime: Int64 = 10 * 366 * 86_400

    public static func explain(_ request: IncomingRequest, source: ResolvedSource, secrets: [Secret], now: EpochMillis) -> VerificationDiagnosis {
        var tried: [String] = []
        func result(_ layer: VerificationDiagnosis.Layer, _ outcome: String, _ finding: String) -> VerificationDiagnosis {
            VerificationDiagnosis(layer: layer, outcomeNow: outcome, finding: finding, tried: tried)
        }

        let today = outcome(source.decide(request, now: now))
        if case .admitted(let label) = today {
            return result(.passes, "admitted", "The request verifies today as it is\(label.map { " (secret '\($0)')" } ?? ""): re-admit it.")
        }
        guard case .refused(let reason) = today else {
            return result(.unsupported, "certificate", "This scheme verifies with the provider's signing certificate; re-admission fetches it and decides.")
        }
        let atReceipt = outcome(source.decide(request, now: request.receivedAt))
        if case .admitted = atReceipt {
            return result(.timestampWindow, reason.rawValue,
                          "It verified when it was received and is now outside the timestamp tolerance: re-admission accepts it (it verifies at its receive time).")
        }
        if [.ipNotAllowed, .bodyTooLarge, .duplicateJSONKey, .topicNotAllowed, .methodNotAllowed, .malformedRequest].contains(reason) {
            return result(.notSignature, reason.rawValue, "Refused before any signature check: \(reason.rawValue).")
        }
        if source.profile.signatures.contains(where: { $0.algorithm.usesPublicKey || $0.algorithm.usesSigningCertificate || $0.algorithm == .jwt }) {
            return result(.unsupported, reason.rawValue,
                          "The \(source.profile.name) scheme verifies with a public key: variants of a shared secret do not apply. Refused as \(reason.rawValue).")
        }

        // Header present?
        if reason == .missingSignature || reason == .missingTimestamp {
            let wanted = reason == .missingSignature ? source.profile.signatures.flatMap(\.sources) : source.profile.timestamp?.sources ?? []
            let names = wanted.compactMap { if case .header(let n) = $0 { return n }; return nil }
            let present = request.headers.entries.map(\.name)
            let lookalikes = present.filter { n in
                let l = n.lowercased()
                return l.contains("signature") || l.contains("hmac") || l.contains("timestamp") || l.hasSuffix("-sig")
            }
            let what = reason == .missingSignature ? "signature" : "timestamp"
            var finding = "The profile reads the \(what) from \(names.isEmpty ? wanted.map(\.description).joined(separator: ", ") : names.joined(separator: " or ")), which the request does not carry."
            if !lookalikes.isEmpty { finding += " It carries \(lookalikes.joined(separator: ", ")): is the source's provider profile the right one?" }
            return result(.headerMissing, reason.rawValue, finding)
        }

        // The signature alone: any timestamp of the decade passes.
        var relaxed = source
        relaxed.verification.toleranceSeconds = anyTime
        relaxed.profile.timestamp?.futureToleranceSeconds = anyTime
        tried.append("timestamp tolerance ignored")
        if case .admitted(let label) = outcome(relaxed.decide(request, now: request.receivedAt)) {
            let tolerance = source.verification.toleranceSeconds ?? source.profile.timestamp?.toleranceSeconds ?? 0
            return result(.timestampWindow, reason.rawValue,
                          "The signature is right (secret '\(label ?? "-")'); the signed timestamp is more than \(tolerance) s from the receive time: a sender's clock off, or a delayed retry or replay.")
        }
        if let unit = relaxed.profile.timestamp?.unit, unit != .rfc3339 {
            var flipped = relaxed
            flipped.profile.timestamp?.unit = unit == .seconds ? .milliseconds : .seconds
            tried.append("timestamp read in \(flipped.profile.timestamp!.unit.rawValue)")
            if case .admitted = outcome(flipped.decide(request, now: request.receivedAt)) {
                return result(.timestampUnit, reason.rawValue,
                              "The signature is right when the timestamp is read in \(flipped.profile.timestamp!.unit.rawValue); the profile reads \(unit.rawValue).")
            }
        }

        // Each secret's text, decoded every other way.
        for secret in secrets {
            for (name, encoding, text) in secretVariants(secret.text, profileEncoding: source.profile.secretEncoding) {
                guard let bytes = encoding.decode(text) else { continue }
                var keyed = relaxed
                keyed.keys = [VerificationKey(label: secret.label, keyBytes: bytes)]
                tried.append("secret '\(secret.label)' \(name)")
                if case .admitted = outcome(keyed.decide(request, now: request.receivedAt)) {
                    return result(.secretDecoding, reason.rawValue,
                                  "The signature matches secret '\(secret.label)' \(name) (the profile reads secrets as \(describe(source.profile.secretEncoding))): check how the secret was copied into the config.")
                }
            }
        }

        // The received signature's own encoding.
        for (name, changed) in signatureEncodingVariants(request, profile: source.profile) {
            tried.append("signature \(name)")
            if case .admitted = outcome(relaxed.decide(changed, now: request.receivedAt)) {
                return result(.encoding, reason.rawValue, "The signature matches when it is read \(name): the sender encodes it differently from the profile.")
            }
        }

        // The body as it may have been before something between the provider and Inlet changed it.
        for (name, body) in bodyVariants(request.body) {
            var changed = request
            changed.body = body
            tried.append("body \(name)")
            if case .admitted = outcome(relaxed.decide(changed, now: request.receivedAt)) {
                return result(.bodyReserialized, reason.rawValue,
                              "The signature matches the body \(name): something between the provider and Inlet (a proxy, a framework) changed the bytes. Inlet must receive them untouched.")
            }
        }

        // Another public URL, for schemes that sign it.
        for url in urlVariants(source.verification.publicURL, request: request) {
            var moved = relaxed
            moved.verification.publicURL = url
            tried.append("public URL \(url)")
            if case .admitted = outcome(moved.decide(request, now: request.receivedAt)) {
                return result(.publicURL, reason.rawValue, "The signature matches the URL \(url): set the source's public_url to it (the provider signs the URL it calls).")
            }
        }

        return result(.secretUnknown, reason.rawValue,
                      "No configured secret, read any of the ways tried, signs these bytes: the provider signs with another secret (rotated, or another environment's: test and live differ).")
    }

    // MARK: - Variants

    private enum Outcome {
        case admitted(secret: String?)
        case refused(RejectionReason)
        case certificate
    }

    private static func outcome(_ decision: AdmissionDecision) -> Outcome {
        switch decision {
        case .admit(let event): return .admitted(secret: event.secretLabel)
        case .handshake: return .admitted(secret: nil)
        case .reject(let reason): return .refused(reason)
        case .needsCertificate: return .certificate
        }
    }

    static func describe(_ encoding: SecretEncoding) -> String {
        switch encoding {
        case .utf8: return "UTF-8 text"
        case .base64(let prefix) where prefix.isEmpty: return "base64"
        case .base64(let prefix): return "base64 after '\(prefix)'"
        case .hex: return "hex"
        case .pem: return "a PEM public key"
        case .keyPair(let digest): return "KEY_ID:SECRET" + (digest.map { " (the key: \($0.rawValue) of SECRET)" } ?? "")
        }
    }

    /// (how it was read, the encoding, the text) for every reading but the profile's own.
    static func secretVariants(_ text: String, profileEncoding: SecretEncoding) -> [(String, SecretEncoding, String)] {
        var out: [(String, SecretEncoding, String)] = []
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed != text { out.append(("with surrounding whitespace removed", profileEncoding, trimmed)) }
        let readings: [(String, SecretEncoding)] = [
            ("read as UTF-8 text", .utf8), ("read as base64", .base64(stripPrefix: "")), ("read as base64 after 'whsec_'", .base64(stripPrefix: "whsec_")),
            ("read as hex", .hex),
        ]
        for (name, encoding) in readings where encoding != profileEncoding {
            out.append((name, encoding, trimmed))
        }
        // Prefixes some dashboards show before the secret proper.
        for prefix in ["whsec_", "whsk_", "sk_", "sha256="] where trimmed.hasPrefix(prefix) && profileEncoding != .base64(stripPrefix: prefix) {
            out.append(("without its '\(prefix)' prefix", profileEncoding, String(trimmed.dropFirst(prefix.count))))
        }
        return out
    }

    /// The request with each signature header's value re-encoded.
    static func signatureEncodingVariants(_ request: IncomingRequest, profile: ProviderProfile) -> [(String, IncomingRequest)] {
        // Headers only: a `signature:` field lives inside one of them, and a transform of the whole value reaches it.
        let names = Set(profile.signatures.flatMap(\.sources).compactMap { source -> String? in
            if case .header(let n) = source { return n.lowercased() }
            return nil
        })
        let transforms: [(String, (String) -> String)] = [
            ("as lower-case hex", { $0.lowercased() }),
            ("as upper-case hex", { $0.uppercased() }),
            ("as base64url", { v in
                var s = v.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                while s.utf8.count % 4 != 0 { s += "=" }
                return s
            }),
            ("as standard base64", { v in
                v.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            }),
        ]
        var out: [(String, IncomingRequest)] = []
        for (name, transform) in transforms {
            var changed = request
            var any = false
            changed.headers = HTTPHeaderList(request.headers.entries.map { entry in
                guard names.contains(entry.name.lowercased()) else { return entry }
                let value = transform(entry.value)
                if value != entry.value { any = true }
                return (entry.name, value)
            })
            if any { out.append((name, changed)) }
        }
        return out
    }

    /// The body with the changes proxies and frameworks commonly make, undone or redone.
    static func bodyVariants(_ body: [UInt8]) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        func add(_ name: String, _ bytes: [UInt8]) {
            if bytes != body && !out.contains(where: { $0.1 == bytes }) { out.append((name, bytes)) }
        }
        var trimmed = body
        while let last = trimmed.last, last == 0x0A || last == 0x0D || last == 0x20 { trimmed.removeLast() }
        add("without its trailing newline", trimmed)
        add("with a trailing newline", body + [0x0A])
        var lf: [UInt8] = []
        lf.reserveCapacity(body.count)
        for (i, b) in body.enumerated() where !(b == 0x0D && i + 1 < body.count && body[i + 1] == 0x0A) { lf.append(b) }
        add("with CRLF line ends as LF", lf)
        if let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) {
            for (name, options) in [("as compact JSON with sorted keys", JSONSerialization.WritingOptions([.sortedKeys, .withoutEscapingSlashes])),
                                    ("as compact JSON with escaped slashes", [.sortedKeys]),
                                    ("as pretty-printed JSON", [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])] {
                if let data = try? JSONSerialization.data(withJSONObject: object, options: options.union(.fragmentsAllowed)) {
                    add(name, Array(data))
                }
            }
        }
        return out
    }

    /// Public URLs the provider may have called instead of the configured one.
    static func urlVariants(_ configured: String?, request: IncomingRequest) -> [String] {
        var out: [String] = []
        func add(_ url: String) { if url != configured && !out.contains(url) { out.append(url) } }
        let query = request.query.map { "?" + $0 } ?? ""
        if let configured {
            if configured.hasPrefix("https://") { add("http://" + configured.dropFirst(8)) }
            if configured.hasPrefix("http://") { add("https://" + configured.dropFirst(7)) }
            add(configured.hasSuffix("/") ? String(configured.dropLast()) : configured + "/")
            if !query.isEmpty && !configured.contains("?") { add(configured + query) }
            if let q = configured.firstIndex(of: "?") { add(String(configured[..<q])) }
        }
        if let host = request.headers.first("Host") {
            for scheme in ["https", "http"] { add("\(scheme)://\(host)\(request.path)\(query)") }
        }
        return out
    }
}
