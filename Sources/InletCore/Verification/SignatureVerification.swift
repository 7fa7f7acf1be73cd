import Crypto

/// Why a request failed verification. Each case maps to one stable reason code.
public enum VerificationFailure: Error, Equatable, Sendable {
    case missingSignature
    case malformedSignature
    /// The header parsed, but carried no signature of a version this profile accepts (e.g. only `v0=`).
    case noSupportedSignature
    /// Only a legacy variant (e.g. GitHub SHA-1) was present and the source does not allow it.
    case legacySignatureRefused
    case signatureMismatch
    case missingTimestamp
    case malformedTimestamp
    /// Signed timestamp too old or too far in the future; `skewSeconds` = timestamp − receive time.
    case timestampOutsideTolerance(skewSeconds: Int64)
    /// The signed content needs the public URL (`{url}`) but the source has none configured.
    case publicURLNotConfigured
    /// The request names a signing certificate on a host the provider does not use.
    case certificateURLNotAllowed
    /// The signing certificate could not be fetched or read (the provider should retry).
    case certificateUnavailable
    /// Only a secret past its `expires_at` matches the signature.
    case secretExpired
    /// A JWT whose `alg` the profile does not accept (`none`, or HS256 where RS256 is expected), or that marks an
    /// extension critical.
    case jwtAlgorithmRefused
    /// A JWT claim the profile checks is missing or wrong (`iss`, `aud`, `sub`, a required claim); names the claim.
    case jwtClaimInvalid(String)
    /// The signed body-hash claim is not SHA-256 of the body received.
    case bodyHashMismatch
    /// The provider's key set (fetched, refreshed) has no key with the token's `kid`.
    case signingKeyUnknown
}

/// A parsed signature header: the signature strings (still encoded) and any other fields it carried.
public struct ParsedSignatureHeader: Sendable, Equatable {
    public var signatures: [[UInt8]]
    public var fields: SignatureFields
    /// For `keyedPairs`: the key ID each signature is named with, in the same order.
    public var keyIDs: [String] = []
}

/// The non-signature fields of a signature header (Stripe's `t`, `v0`): a handful at most, so a list searched in
/// order rather than a dictionary. The first occurrence of a key wins.
public struct SignatureFields: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private var pairs: [(key: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (k, v) in elements { add(k, v) }
    }

    public subscript(key: String) -> String? {
        for p in pairs where p.key == key { return p.value }
        return nil
    }

    /// Adds `key` unless it is already present.
    mutating func add(_ key: String, _ value: String) {
        if self[key] == nil { pairs.append((key, value)) }
    }

    public var count: Int { pairs.count }

    /// Same keys with the same values, in any order.
    public static func == (a: SignatureFields, b: SignatureFields) -> Bool {
        a.pairs.count == b.pairs.count && a.pairs.allSatisfy { b[$0.key] == $0.value }
    }
}

public enum SignatureHeaderParser {
    /// Parses a header value by `format`. Unknown keys and versions are ignored, as the providers' SDKs do,
    /// so a provider can add a scheme without breaking receivers; garbage with no usable entry is `malformed`.
    ///
    /// Works on the value's UTF-8 bytes: a Stripe header parsed through `String` pieces and a dictionary cost ~7 µs
    /// per request; only the signatures and the other fields' values are copied out.
    public static func parse(_ value: String, format: SignatureHeaderFormat) -> Result<ParsedSignatureHeader, VerificationFailure> {
        var value = value
        return value.withUTF8 { parse(bytes: $0, format: format) }
    }

    static func parse(bytes all: UnsafeBufferPointer<UInt8>, format: SignatureHeaderFormat) -> Result<ParsedSignatureHeader, VerificationFailure> {
        let whole = ByteRange(all).trimmed(in: all)
        guard !whole.isEmpty else { return .failure(.malformedSignature) }
        switch format {
        case .plain(let prefix):
            guard whole.hasPrefix(prefix, in: all) else { return .failure(.malformedSignature) }
            let sig = whole.dropFirst(prefix.utf8.count)
            guard !sig.isEmpty else { return .failure(.malformedSignature) }
            return .success(.init(signatures: [sig.bytes(in: all)], fields: [:]))
        case .keyValue(let pairSep, let kvSep, let keys):
            var sigs: [[UInt8]] = []
            var fields = SignatureFields()
            var wellFormed = 0
            whole.forEachPiece(separatedBy: pairSep, in: all) { pair in
                let p = pair.trimmed(in: all)
                guard let r = p.firstRange(of: kvSep, in: all), r.lowerBound != p.lowerBound else { return }
                let k = ByteRange(p.lowerBound, r.lowerBound).trimmed(in: all)
                let v = ByteRange(r.upperBound, p.upperBound).trimmed(in: all)
                guard !v.isEmpty else { return }
                wellFormed += 1
                if keys.contains(where: { k.equals($0, in: all) }) {
                    sigs.append(v.bytes(in: all))
                } else {
                    let key = k.string(in: all)
                    if fields[key] == nil { fields.add(key, v.string(in: all)) }
                }
            }
            guard wellFormed > 0 else { return .failure(.malformedSignature) }
            guard !sigs.isEmpty else { return .failure(.noSupportedSignature) }
            return .success(.init(signatures: sigs, fields: fields))
        case .versionedList(let entrySep, let versionSep, let versions):
            var sigs: [[UInt8]] = []
            var wellFormed = 0
            whole.forEachPiece(separatedBy: entrySep, in: all) { entry in
                let e = entry.trimmed(in: all)
                guard let r = e.firstRange(of: versionSep, in: all), r.lowerBound != e.lowerBound else { return }
                let version = ByteRange(e.lowerBound, r.lowerBound)
                let sig = ByteRange(r.upperBound, e.upperBound)
                guard !sig.isEmpty else { return }
                wellFormed += 1
                if versions.contains(where: { version.equals($0, in: all) }) { sigs.append(sig.bytes(in: all)) }
            }
            guard wellFormed > 0 else { return .failure(.malformedSignature) }
            guard !sigs.isEmpty else { return .failure(.noSupportedSignature) }
            return .success(.init(signatures: sigs, fields: [:]))
        case .positional(let sep, let names):
            var sigs: [[UInt8]] = []
            var fields = SignatureFields()
            var position = 0
            whole.forEachPiece(separatedBy: sep, in: all) { piece in
                let p = piece.trimmed(in: all)
                guard !p.isEmpty else { return }
                if position < names.count { fields.add(names[position], p.string(in: all)) } else { sigs.append(p.bytes(in: all)) }
                position += 1
            }
            guard position > names.count else { return .failure(.malformedSignature) }
            return .success(.init(signatures: sigs, fields: fields))
        case .base64JSON(let signatureField, let names):
            // A header is at most a few hundred bytes; a long one is refused before it is decoded.
            guard whole.upperBound - whole.lowerBound <= 8192, let json = Base64.decode(whole.string(in: all)), json.first == UInt8(ascii: "{"),
                  JSONScanner.isValidDocument(json), JSONScanner.firstDuplicateKey(in: json) == nil else { return .failure(.malformedSignature) }
            guard let sig = JSONScanner.scalarText(at: JSONPointer(tokens: [signatureField]), in: json), !sig.isEmpty else {
                return .failure(.malformedSignature)
            }
            var fields = SignatureFields()
            for name in names {
                if let v = JSONScanner.scalarText(at: JSONPointer(tokens: [name]), in: json) { fields.add(name, v) }
            }
            return .success(.init(signatures: [Array(sig.utf8)], fields: fields))
        case .keyedPairs(let pairSep, let keySep):
            // braintree-python `__validate_signature`: pieces without the key separator are skipped; a piece with it
            // twice is not a pair (the SDK cannot unpack it) and is skipped too.
            var sigs: [[UInt8]] = []
            var ids: [String] = []
            whole.forEachPiece(separatedBy: pairSep, in: all) { piece in
                let p = piece.trimmed(in: all)
                guard let r = p.firstRange(of: keySep, in: all), r.lowerBound != p.lowerBound else { return }
                let sig = ByteRange(r.upperBound, p.upperBound)
                guard !sig.isEmpty, sig.firstRange(of: keySep, in: all) == nil, sigs.count < 64 else { return }
                ids.append(ByteRange(p.lowerBound, r.lowerBound).string(in: all))
                sigs.append(sig.bytes(in: all))
            }
            guard !sigs.isEmpty else { return .failure(.malformedSignature) }
            return .success(.init(signatures: sigs, fields: [:], keyIDs: ids))
        }
    }
}

/// A half-open range of offsets into a header value's bytes; the parser's substring, without copying.
struct ByteRange {
    var lowerBound: Int
    var upperBound: Int

    init(_ lower: Int, _ upper: Int) { lowerBound = lower; upperBound = upper }
    init(_ all: UnsafeBufferPointer<UInt8>) { self.init(0, all.count) }

    var isEmpty: Bool { lowerBound >= upperBound }

    func dropFirst(_ n: Int) -> ByteRange { ByteRange(min(upperBound, lowerBound + n), upperBound) }

    /// Without leading and trailing spaces and tabs.
    func trimmed(in all: UnsafeBufferPointer<UInt8>) -> ByteRange {
        var lo = lowerBound, hi = upperBound
        while lo < hi, all[lo] == 0x20 || all[lo] == 0x09 { lo += 1 }
        while hi > lo, all[hi - 1] == 0x20 || all[hi - 1] == 0x09 { hi -= 1 }
        return ByteRange(lo, hi)
    }

    func equals(_ text: String, in all: UnsafeBufferPointer<UInt8>) -> Bool {
        let t = text.utf8
        guard t.count == upperBound - lowerBound else { return false }
        var i = lowerBound
        for b in t {
            if all[i] != b { return false }
            i += 1
        }
        return true
    }

    func hasPrefix(_ text: String, in all: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = text.utf8.count
        return n <= upperBound - lowerBound && ByteRange(lowerBound, lowerBound + n).equals(text, in: all)
    }

    /// The first occurrence of `needle`'s bytes.
    func firstRange(of needle: String, in all: UnsafeBufferPointer<UInt8>) -> ByteRange? {
        let n = needle.utf8.count
        guard n > 0, n <= upperBound - lowerBound else { return nil }
        var i = lowerBound
        while i + n <= upperBound {
            if ByteRange(i, i + n).equals(needle, in: all) { return ByteRange(i, i + n) }
            i += 1
        }
        return nil
    }

    /// Calls `body` with each non-empty piece between occurrences of `separator`.
    func forEachPiece(separatedBy separator: String, in all: UnsafeBufferPointer<UInt8>, _ body: (ByteRange) -> Void) {
        var rest = self
        while let r = rest.firstRange(of: separator, in: all) {
            if r.lowerBound != rest.lowerBound { body(ByteRange(rest.lowerBound, r.lowerBound)) }
            rest = ByteRange(r.upperBound, rest.upperBound)
        }
        if !rest.isEmpty { body(rest) }
    }

    func bytes(in all: UnsafeBufferPointer<UInt8>) -> [UInt8] { Array(all[lowerBound..<upperBound]) }

    func string(in all: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: all[lowerBound..<upperBound]), as: UTF8.self)
    }
}

/// The outcome of a successful verification.
public struct VerifiedSignature: Sendable, Equatable {
    /// Index into the keys that were tried.
    public var keyIndex: Int
    /// The provider's signed timestamp, if the scheme has one.
    public var timestamp: EpochMillis?
    /// The check that passed covers the exact bytes of the body (see `Authenticity`).
    public var bindsBody: Bool

    public init(keyIndex: Int, timestamp: EpochMillis?, bindsBody: Bool = false) {
        self.keyIndex = keyIndex
        self.timestamp = timestamp
        self.bindsBody = bindsBody
    }

    /// Which key verified, and when the provider signed: `bindsBody` follows from the variant that verified, so it is
    /// left out, and a verification compares equal whatever the scheme's coverage (asserted apart, by `Authenticity`).
    public static func == (a: VerifiedSignature, b: VerifiedSignature) -> Bool { a.keyIndex == b.keyIndex && a.timestamp == b.timestamp }
}

extension SignatureSpec {
    /// Whether a signature of this variant that verified covers the exact bytes of `request`'s body.
    ///
    /// SNS signs a canonical string of some fields (`MessageAttributes` and any other key are outside it); PayPal's
    /// RSA covers a CRC-32 of the body, which anyone can match with another body; Twilio's form signature concatenates
    /// names and values without separators (`a=bc` and `ab=c` sign alike); Mailgun signs a timestamp and a token in
    /// the body, not the body. Each authenticates the sender, not the bytes.
    public func bindsBody(of request: IncomingRequest) -> Bool {
        // Adyen-style per-item signatures cover selected fields of each item, not the bytes around them.
        if items != nil { return false }
        switch algorithm {
        case .hmac, .ed25519, .ecdsaP256SHA256, .ecdsaP256SHA1, .rsa: return signedContent.coversBody
        // sha256(secret ‖ body) and md5(secret ‖ body) are open to length extension: from a genuine body and its digest,
        // anyone can compute the digest of that body followed by padding and bytes of their choosing. It proves the
        // sender holds the secret for some request, not that these are the bytes it sent.
        case .keyedHash: return false
        case .twilio: return request.queryParameter("bodySHA256") != nil  // checked against the body by the verifier
        // Plivo V3 signs the URL and the sorted form parameters, concatenated like Twilio's: not the bytes.
        case .token, .awsSNS, .paypalRSA, .plivoV3: return false
        case .jwt: return false  // decided by `JWTVerifier`, which knows whether the body-hash claim was checked
        }
    }
}

/// Per-source knobs that change how a profile verifies.
public struct VerificationOptions: Sendable, Equatable {
    /// Overrides the profile's tolerance (seconds) for both directions, when set.
    public var toleranceSeconds: Int64?
    public var allowLegacySignatures: Bool
    /// The URL the provider calls, for schemes that sign it (the gateway may sit behind a proxy).
    public var publicURL: String?
    /// The token a provider echoes in a GET verification (Meta's `hub.verify_token`).
    public var verifyToken: String?
    /// The receiver's own webhook ID, part of what PayPal signs.
    public var webhookID: String?
    /// The public key (DER SubjectPublicKeyInfo) of the certificate the request points to, fetched by the server.
    public var signingCertificateKey: [UInt8]?
    /// Confirm SNS subscriptions by fetching their SubscribeURL.
    public var snsAutoConfirm = false
    /// PayPal: also accept certificates from the sandbox hosts (with the sandbox's subject name).
    public var sandbox = false
    /// JWT: the audiences the source accepts (`jwt_audience`); `aud` must contain one.
    public var jwtAudiences: [String] = []
    /// JWT: the source's own key set URL (`jwks_url`), where the profile names none.
    public var jwksURL: String?
    /// JWT: the values accepted for the profile's `source_claims` (`jwt_claims = { email = ["…"] }`).
    public var jwtClaims: [String: [String]] = [:]

    public init(toleranceSeconds: Int64? = nil, allowLegacySignatures: Bool = false, publicURL: String? = nil, verifyToken: String? = nil,
                webhookID: String? = nil, snsAutoConfirm: Bool = false) {
        self.toleranceSeconds = toleranceSeconds
        self.allowLegacySignatures = allowLegacySignatures
        self.publicURL = publicURL
        self.verifyToken = verifyToken
        self.webhookID = webhookID
        self.snsAutoConfirm = snsAutoConfirm
    }
}

extension ProviderProfile {
    /// Verifies `request` against every key and every signature it carries.
    ///
    /// The timestamp is checked only after a signature matched: an attacker learns nothing about tolerance
    /// from unsigned probes, and a correctly signed but stale request gets the precise reason.
    public func verify(_ request: IncomingRequest, keys: [VerificationKey], options: VerificationOptions = .init(), now: EpochMillis) -> Result<VerifiedSignature, VerificationFailure> {
        // Pick the first variant whose header is present, preferring current variants over legacy ones.
        var chosen: (SignatureSpec, String)?
        var fromBody = false
        var legacyOnly = false
        for spec in signatures {
            // A per-item spec is present when its first item carries a signature.
            let sources = spec.items == nil ? spec.sources : spec.sources.map { spec.source($0, item: 0) }
            guard let (source, value) = sources.lazy.compactMap({ s in Self.value(of: s, in: request).map { (s, $0) } }).first else { continue }
            if spec.legacy && !options.allowLegacySignatures { legacyOnly = true; continue }
            chosen = (spec, value)
            fromBody = source == .body
            break
        }
        guard let (spec, headerValue) = chosen else {
            // A form whose signature field cannot be read because the form is ambiguous (a name twice, a broken
            // escape) is malformed, not unsigned.
            let readsForm = signatures.contains { $0.sources.contains { if case .form = $0 { return true }; return false } }
            if readsForm, !request.body.isEmpty, FormFields.parse(request.body) == nil { return .failure(.malformedSignature) }
            return .failure(legacyOnly ? .legacySignatureRefused : .missingSignature)
        }
        if spec.items != nil { return verifyItems(spec, request: request, keys: keys, now: now) }
        var keys = keys
        if keyFetch != nil && spec.algorithm != .jwt {
            // The server fetched the key the request names (`ResolvedSource.decide`): it, and no configured key, verifies.
            switch fetchedKey(options.signingCertificateKey, for: spec.algorithm) {
            case .success(let key): keys = [key]
            case .failure(let f): return .failure(f)
            }
        }
        if spec.algorithm == .plivoV3 {
            guard let base = options.publicURL else { return .failure(.publicURLNotConfigured) }
            guard let nonce = request.headers.first(PlivoSignature.nonceHeader), !nonce.isEmpty else { return .failure(.malformedSignature) }
            let active = keys.indices.filter { keys[$0].window.isActive(at: now) }
            let candidates = PlivoSignature.signatures(in: headerValue)
            if let i = PlivoSignature.verify(request: request, publicURL: base, nonce: nonce, signatures: candidates, keys: active.map { keys[$0] }) {
                return .success(.init(keyIndex: active[i], timestamp: nil))
            }
            let expired = keys.indices.filter { keys[$0].window.hasExpired(at: now) }
            if PlivoSignature.verify(request: request, publicURL: base, nonce: nonce, signatures: candidates, keys: expired.map { keys[$0] }) != nil {
                return .failure(.secretExpired)
            }
            return .failure(.signatureMismatch)
        }
        if spec.algorithm == .jwt {
            var keySet: JSONWebKeySet?
            if keySetURL(sourceURL: options.jwksURL) != nil || keyFetch != nil {
                // The server fetched the key set for the token's kid (`ResolvedSource.decide`); without it nothing verifies.
                guard let bytes = options.signingCertificateKey, let set = try? JSONWebKeySet.parse(bytes, requireKeys: false) else {
                    return .failure(.certificateUnavailable)
                }
                keySet = set
            }
            guard let jwtSpec = jwt else { return .failure(.noSupportedSignature) }
            return JWTVerifier.verify(request, headerValue: headerValue, spec: jwtSpec, keys: keys, keySet: keySet, options: options, now: now,
                                      tokenIsBody: fromBody)
        }
        var parsed: ParsedSignatureHeader
        switch SignatureHeaderParser.parse(headerValue, format: spec.format) {
        case .success(let p): parsed = p
        case .failure(let f): return .failure(f)
        }
        if spec.everySource {
            // One header per key: the first present source was parsed above; the others add their signatures.
            var first = true
            for source in spec.sources {
                guard let value = Self.value(of: source, in: request) else { continue }
                if first { first = false; continue }
                if case .success(let more) = SignatureHeaderParser.parse(value, format: spec.format) { parsed.signatures += more.signatures }
            }
        }

        var timestampText: String?
        var timestampMillis: EpochMillis?
        if let ts = timestamp {
            guard let text = resolve(ts.sources, in: request, signatureFields: parsed.fields) else {
                return .failure(.missingTimestamp)
            }
            guard let millis = Self.parseTimestamp(text, unit: ts.unit) else { return .failure(.malformedTimestamp) }
            timestampText = text
            timestampMillis = millis
        }
        if spec.signedContent.usesURL && options.publicURL == nil { return .failure(.publicURLNotConfigured) }
        // A form body is read once; an ambiguous one (a name twice, a broken escape) is refused before any key is tried.
        var form: FormFields?
        if spec.signedContent.usesForm || spec.alternateContents.contains(where: \.usesForm) {
            guard let f = FormFields.parse(request.body) else { return .failure(.malformedSignature) }
            form = f
        }
        var headerList: RenderedHeaderList?
        if let list = spec.signedHeaders {
            switch list.resolve(request, fields: parsed.fields) {
            case .success(let r): headerList = r
            case .failure(let f): return .failure(f)
            }
        }
        let idText = spec.signedContent.usesID ? resolve(signedIDSources, in: request, signatureFields: parsed.fields) : nil
        if spec.signedContent.usesID && idText == nil { return .failure(.malformedSignature) }

        let message: [UInt8]
        switch spec.algorithm {
        case .ed25519, .ecdsaP256SHA256, .ecdsaP256SHA1, .rsa:
            message = signedBytes(spec.signedContent, request: request, timestamp: timestampText, id: idText, publicURL: options.publicURL, headerList: headerList,
                                  fields: parsed.fields, form: form)
        default:
            message = []  // HMAC streams the signed content into each key's prepared state instead
        }
        let decoded: [[UInt8]] = spec.algorithm.usesPublicKey ? parsed.signatures.compactMap { spec.encoding.decode(String(decoding: $0, as: UTF8.self)) } : []

        /// The first of `indices` whose key produces one of the signatures.
        func match(_ indices: [Int]) -> Result<Int?, VerificationFailure> {
            var matched: Int?
            // Every key is tried against every signature with no early exit, so the time taken does not reveal
            // which key or which position matched.
            func record(_ index: Int, _ ok: Bool) { if ok && matched == nil { matched = index } }
            switch spec.algorithm {
            case .hmac(let hash):
                for index in indices {
                    let candidates = parsed.candidates(for: keys[index], format: spec.format)
                    // The template, then any alternates, without building an array per key and request.
                    for n in 0...spec.alternateContents.count {
                        let template = n == 0 ? spec.signedContent : spec.alternateContents[n - 1]
                        let mac: [UInt8]
                        if let prepared = keys[index].hmac {
                            mac = hash.mac(prepared) { update in
                                forEachSignedChunk(template, request: request, timestamp: timestampText, id: idText, publicURL: options.publicURL,
                                                   headerList: headerList, fields: parsed.fields, form: form, update)
                            }
                        } else {
                            let whole = signedBytes(template, request: request, timestamp: timestampText, id: idText, publicURL: options.publicURL,
                                                    headerList: headerList, fields: parsed.fields, form: form)
                            mac = hash.mac(key: keys[index].keyBytes, message: whole)
                        }
                        let expected = spec.encoding.encode(mac)
                        for candidate in candidates { record(index, spec.encoding.matches(expected: expected, candidate: candidate)) }
                    }
                }
            case .keyedHash(let hash):
                for index in indices {
                    let digest = hash.digest(key: keys[index].keyBytes) { update in
                        forEachSignedChunk(spec.signedContent, request: request, timestamp: timestampText, id: idText, publicURL: options.publicURL,
                                           headerList: headerList, fields: parsed.fields, form: form, update)
                    }
                    let expected = spec.encoding.encode(digest)
                    for candidate in parsed.signatures { record(index, spec.encoding.matches(expected: expected, candidate: candidate)) }
                }
            case .token:
                for index in indices {
                    // Digests, not the token itself: a shared token's length is part of the secret.
                    for candidate in parsed.signatures { record(index, secretsEqual(keys[index].keyBytes, candidate)) }
                }
            case .ed25519, .ecdsaP256SHA256, .ecdsaP256SHA1:
                for index in indices {
                    for sig in decoded {
                        switch keys[index].material {
                        case .ed25519(let raw):
                            if let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) { record(index, pk.isValidSignature(sig, for: message)) }
                        case .p256(let der):
                            // A DER signature is at most 72 bytes for P-256; anything longer is not parsed.
                            if sig.count <= 80, let pk = try? P256.Signing.PublicKey(derRepresentation: der),
                               let s = try? P256.Signing.ECDSASignature(derRepresentation: sig) {
                                if spec.algorithm == .ecdsaP256SHA1 {
                                    record(index, pk.isValidSignature(s, for: Insecure.SHA1.hash(data: message)))
                                } else {
                                    record(index, pk.isValidSignature(s, for: message))
                                }
                            }
                        case .symmetric, .rsa: break
                        }
                    }
                }
            case .rsa(let hash):
                for index in indices {
                    guard case .rsa(let key) = keys[index].material else { continue }
                    for sig in decoded { record(index, PublicKeys.verifyRSA(key, signature: sig, message: message, hash: hash)) }
                }
            case .jwt, .plivoV3:
                break  // verified above
            case .awsSNS, .paypalRSA:
                guard let der = options.signingCertificateKey else { return .failure(.certificateUnavailable) }
                let ok = spec.algorithm == .awsSNS
                    ? CertificateSchemes.verifySNS(request, publicKeyDER: der)
                    : CertificateSchemes.verifyPayPal(request, publicKeyDER: der, webhookID: options.webhookID ?? "")
                // Certificate schemes have no configured keys: index 0 stands for "the provider's certificate".
                if ok { matched = 0 }
            case .twilio:
                guard let base = options.publicURL else { return .failure(.publicURLNotConfigured) }
                guard let hash = TwilioSignature.algorithm(settings: request.headers.first(TwilioSignature.settingsHeader)) else {
                    return .failure(.noSupportedSignature)
                }
                if let i = TwilioSignature.verify(request: request, publicURL: base, signatures: parsed.signatures, keys: indices.map { keys[$0] }, hash: hash) {
                    matched = indices[i]
                }
            }
            return .success(matched)
        }

        let matched: Int?
        switch match(spec.algorithm.usesSigningCertificate ? [0] : keys.indices.filter { keys[$0].window.isActive(at: now) }) {
        case .failure(let f): return .failure(f)
        case .success(let m): matched = m
        }
        if matched == nil {
            // Tell an operator that a rotation went wrong, not merely "mismatch": only a retired secret matches.
            let expired = keys.indices.filter { keys[$0].window.hasExpired(at: now) }
            if !expired.isEmpty, case .success(.some) = match(expired) { return .failure(.secretExpired) }
        }
        guard let keyIndex = matched else { return .failure(.signatureMismatch) }

        if let ts = timestamp, let t = timestampMillis {
            let tolerance = options.toleranceSeconds ?? ts.toleranceSeconds
            let future = options.toleranceSeconds ?? ts.futureToleranceSeconds
            let skew = (t - now) / 1000
            if t < now - tolerance * 1000 || t > now + future * 1000 {
                return .failure(.timestampOutsideTolerance(skewSeconds: skew))
            }
        }
        return .success(.init(keyIndex: keyIndex, timestamp: timestampMillis, bindsBody: spec.bindsBody(of: request)))
    }

    /// Signs `body` exactly as the provider would; used by `inlet send-test`, tests and benchmarks.
    /// Returns the headers to send (signature, and timestamp/ID headers where the scheme uses them).
    public func sign(body: [UInt8], key: [UInt8], timestampSeconds: Int64, id: String, publicURL: String? = nil, method: String = "POST") -> [(String, String)] {
        guard let spec = signatures.first(where: { !$0.legacy }) ?? signatures.first else { return [] }
        var headers: [(String, String)] = []
        var tsText: String?
        var tsField: (String, String)?
        if let ts = timestamp {
            switch ts.unit {
            case .seconds: tsText = String(timestampSeconds)
            case .milliseconds: tsText = String(timestampSeconds * 1000)
            case .rfc3339: tsText = RFC3339.format(timestampSeconds * 1000)
            }
            for source in ts.sources.prefix(1) {
                switch source {
                case .header(let h): headers.append((h, tsText!))
                case .signatureField(let f): tsField = (f, tsText!)
                case .json, .query, .form, .body, .jwtClaim, .formBase64XML: break  // carried by the body/URL the caller built
                }
            }
        }
        if spec.signedContent.usesID, case .header(let h)? = signedIDSources.first { headers.append((h, id)) }
        let req = IncomingRequest(method: method, path: "/", headers: HTTPHeaderList(headers.map { ($0.0, $0.1) }), body: body, peer: nil, receivedAt: 0)
        var fields = SignatureFields()
        if let (k, v) = tsField { fields.add(k, v) }
        let headerList = spec.signedHeaders.flatMap { try? $0.resolve(req, fields: fields).get() }
        let message = signedBytes(spec.signedContent, request: req, timestamp: tsText, id: id, publicURL: publicURL, headerList: headerList,
                                  fields: fields, form: FormFields.parse(body))
        let sig: String
        switch spec.algorithm {
        case .hmac(let hash): sig = String(decoding: spec.encoding.encode(hash.mac(key: key, message: message)), as: UTF8.self)
        case .keyedHash(let hash):
            sig = String(decoding: spec.encoding.encode(hash.digest(key: key) { feed in message.withUnsafeBytes(feed) }), as: UTF8.self)
        case .plivoV3:
            let nonce = id
            headers.append((PlivoSignature.nonceHeader, nonce))
            sig = PlivoSignature.sign(url: publicURL ?? "", method: method, formBody: body, nonce: nonce, key: key)
        case .token: sig = String(decoding: key, as: UTF8.self)
        case .twilio:
            sig = TwilioSignature.sign(url: publicURL ?? "", formBody: body, key: key)
        case .ed25519, .ecdsaP256SHA256, .ecdsaP256SHA1, .awsSNS, .paypalRSA, .rsa, .jwt:
            return []  // only the provider holds the private key
        }
        let value: String
        switch spec.format {
        case .plain(let prefix): value = prefix + sig
        case .keyValue(let pairSep, let kvSep, let keys):
            var parts: [String] = []
            if let (k, v) = tsField { parts.append(k + kvSep + v) }
            parts.append(keys[0] + kvSep + sig)
            value = parts.joined(separator: pairSep)
        case .versionedList(_, let versionSep, let versions): value = versions[0] + versionSep + sig
        case .positional(let sep, let names):
            value = (names.map { name in name == tsField?.0 ? tsField!.1 : "" } + [sig]).joined(separator: sep)
        case .base64JSON:
            return []  // a public-key scheme: never signed here
        case .keyedPairs:
            return []  // the key ID is part of the secret; tests build these requests themselves
        }
        if case .header(let h)? = spec.sources.first { headers.append((h, value)) }
        return headers
    }

    /// The key the server fetched by id, as a verification key for `algorithm`: none fetched is `certificate_unavailable`,
    /// an empty answer (the provider has no such key) `signing_key_unknown`, a key of another kind a mismatch.
    func fetchedKey(_ der: [UInt8]?, for algorithm: SignatureAlgorithm) -> Result<VerificationKey, VerificationFailure> {
        guard let der else { return .failure(.certificateUnavailable) }
        guard !der.isEmpty else { return .failure(.signingKeyUnknown) }
        switch (algorithm, PublicKeys.parse(der: der)) {
        case (.ecdsaP256SHA256, .p256(let d)?), (.ecdsaP256SHA1, .p256(let d)?): return .success(VerificationKey(label: "fetched-key", material: .p256(der: d)))
        case (.rsa, .rsa(let k)?): return .success(VerificationKey(label: "fetched-key", material: .rsa(k)))
        default: return .failure(.signatureMismatch)
        }
    }

    func resolve(_ sources: [ValueSource], in request: IncomingRequest, signatureFields: SignatureFields) -> String? {
        for source in sources {
            if let v = Self.value(of: source, in: request, signatureFields: signatureFields), !v.isEmpty { return v }
        }
        return nil
    }

    static func value(of source: ValueSource, in request: IncomingRequest, signatureFields: SignatureFields = [:]) -> String? {
        switch source {
        case .header(let h): return request.headers.first(h)?.trimmingASCIIWhitespace()
        case .json(let p): return JSONScanner.scalarText(at: p, in: request.body)
        case .signatureField(let f): return signatureFields[f]
        case .query(let q): return request.queryParameter(q)
        case .form(let name): return FormFields.parse(request.body)?.value(name).map { String(decoding: $0, as: UTF8.self) }
        case .body: return request.body.isEmpty ? nil : String(decoding: request.body, as: UTF8.self)
        case .jwtClaim(let p):
            guard let claims = CompactJWT.claims(ofBody: request.body) else { return nil }
            return JSONScanner.scalarText(at: p, in: claims)
        case .formBase64XML(let field, let path):
            // Base64 with line breaks (Python's encodebytes); only the alphabet, as braintree-python requires.
            guard let encoded = FormFields.parse(request.body)?.value(field), encoded.count <= XMLText.maxBytes * 2,
                  encoded.allSatisfy({ Base64.isAlphabet($0) || $0 == 0x0A || $0 == 0x0D }),
                  let doc = Base64.decode(String(decoding: encoded.filter { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)) else { return nil }
            return XMLText.text(at: path, in: doc)
        }
    }

    func signedBytes(_ template: SignedContentTemplate, request: IncomingRequest, timestamp: String?, id: String?, publicURL: String?,
                     headerList: RenderedHeaderList? = nil, itemBase: [String]? = nil, fields: SignatureFields = [:], form: FormFields? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(request.body.count + 64)
        forEachSignedChunk(template, request: request, timestamp: timestamp, id: id, publicURL: publicURL, headerList: headerList, itemBase: itemBase,
                           fields: fields, form: form) {
            out.append(contentsOf: $0)
        }
        return out
    }

    /// The path the provider called: the public URL's, when the source sets one (the gateway may sit behind a proxy
    /// that rewrites it), else the request's.
    static func calledPath(_ request: IncomingRequest, publicURL: String?) -> String {
        guard let url = publicURL, let scheme = url.range(of: "://") else { return request.path }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        let path = rest[slash...]
        return String(path[..<(path.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? path.endIndex)])
    }

    /// Verifies a per-item spec (Adyen): every item of the array must carry a signature that one active key produces
    /// over the item's fields. Bounded: at most `maxItems` items are read.
    func verifyItems(_ spec: SignatureSpec, request: IncomingRequest, keys: [VerificationKey], now: EpochMillis) -> Result<VerifiedSignature, VerificationFailure> {
        guard let base = spec.items else { return .failure(.noSupportedSignature) }
        let active = keys.indices.filter { keys[$0].window.isActive(at: now) }
        let expired = keys.indices.filter { keys[$0].window.hasExpired(at: now) }
        // The bound first, with one lookup: a batch past it is refused before any item is verified.
        if (try? JSONScanner.find(JSONPointer(tokens: base.tokens + [String(Self.maxItems)]), in: request.body)) != nil {
            return .failure(.malformedSignature)
        }
        var first: Int?
        var index = 0
        while index < Self.maxItems, (try? JSONScanner.find(JSONPointer(tokens: base.tokens + [String(index)]), in: request.body)) != nil {
            guard let value = spec.sources.lazy.compactMap({ Self.value(of: spec.source($0, item: index), in: request) }).first, !value.isEmpty else {
                return .failure(.missingSignature)
            }
            let candidate = Array(value.utf8)
            let itemBase = base.tokens + [String(index)]
            func matching(_ indices: [Int]) -> Int? {
                var matched: Int?
                for k in indices {
                    let mac: [UInt8]
                    guard case .hmac(let hash) = spec.algorithm else { return nil }
                    if let prepared = keys[k].hmac {
                        mac = hash.mac(prepared) { update in
                            forEachSignedChunk(spec.signedContent, request: request, timestamp: nil, id: nil, publicURL: nil, itemBase: itemBase, update)
                        }
                    } else {
                        mac = hash.mac(key: keys[k].keyBytes, message: signedBytes(spec.signedContent, request: request, timestamp: nil, id: nil, publicURL: nil, itemBase: itemBase))
                    }
                    if spec.encoding.matches(expected: spec.encoding.encode(mac), candidate: candidate) && matched == nil { matched = k }
                }
                return matched
            }
            guard let k = matching(active) else { return .failure(matching(expired) != nil ? .secretExpired : .signatureMismatch) }
            if first == nil { first = k }
            index += 1
        }
        guard let keyIndex = first else { return .failure(.missingSignature) }
        return .success(.init(keyIndex: keyIndex, timestamp: nil))
    }

    /// The most items of a per-item spec that are verified; a longer batch is refused (`malformed_signature`). Each item's
    /// fields are found by scanning the body, so a batch costs items × fields scans (a forged item stops the loop).
    public static let maxItems = 64

    /// The signed content, in order, as chunks of bytes: what `signedBytes` concatenates, for a MAC to absorb
    /// without copying the body.
    func forEachSignedChunk(_ template: SignedContentTemplate, request: IncomingRequest, timestamp: String?, id: String?, publicURL: String?,
                            headerList: RenderedHeaderList? = nil, itemBase: [String]? = nil, fields: SignatureFields = [:], form: FormFields? = nil,
                            _ chunk: (UnsafeRawBufferPointer) -> Void) {
        func pointer(_ p: JSONPointer) -> JSONPointer { itemBase.map { JSONPointer(tokens: $0 + p.tokens) } ?? p }
        // Not recursive (groups do not nest, nor do JSON strings), so the local functions need no boxed context per request.
        func present(_ segment: SignedContentSegment) -> Bool {
            let seg: SignedContentSegment
            if case .jsonString(let inner) = segment { seg = inner } else { seg = segment }
            switch seg {
            case .literal: return true
            case .body: return !request.body.isEmpty
            case .timestamp: return !(timestamp ?? "").isEmpty
            case .id: return !(id ?? "").isEmpty
            case .method: return !request.method.isEmpty
            case .url: return !(publicURL ?? "").isEmpty
            case .header(let h): return !(request.headers.first(h)?.trimmingASCIIWhitespace() ?? "").isEmpty
            case .json(let p): return !(JSONScanner.scalarText(at: pointer(p), in: request.body) ?? "").isEmpty
            case .query(let q): return !(request.queryParameter(q) ?? "").isEmpty
            case .path: return true
            case .signedHeaders: return !(headerList?.rendered ?? "").isEmpty
            case .signedHeaderNames: return !(headerList?.names ?? "").isEmpty
            case .form(let name): return !(form?.value(name) ?? []).isEmpty
            case .formSorted: return true
            case .signatureField(let f): return !(fields[f] ?? "").isEmpty
            case .jsonString: return false  // JSON strings do not nest (SignedContentTemplate refuses it)
            case .optional: return false  // groups do not nest (SignedContentTemplate refuses it)
            }
        }
        func emitOne(_ seg: SignedContentSegment, _ chunk: (UnsafeRawBufferPointer) -> Void) {
            func text(_ s: String) {
                var s = s
                s.withUTF8 { chunk(UnsafeRawBufferPointer($0)) }
            }
            switch seg {
            case .optional: break  // groups do not nest (SignedContentTemplate refuses it); handled below
            case .literal(let l): l.withUnsafeBytes(chunk)
            case .body: request.body.withUnsafeBytes(chunk)
            case .timestamp: text(timestamp ?? "")
            case .id: text(id ?? "")
            case .method: text(request.method)
            case .url:
                text(publicURL ?? "")
                if let q = request.query { text("?"); text(q) }
            case .header(let h): text(request.headers.first(h) ?? "")
            case .json(let p): text(JSONScanner.scalarText(at: pointer(p), in: request.body) ?? "")
            case .query(let q): text(request.queryParameter(q) ?? "")
            case .path: text(Self.calledPath(request, publicURL: publicURL))
            case .signedHeaders: text(headerList?.rendered ?? "")
            case .signedHeaderNames: text(headerList?.names ?? "")
            case .form(let name): (form?.value(name) ?? []).withUnsafeBytes(chunk)
            case .formSorted(let excluded): (form?.sorted(excluding: excluded) ?? []).withUnsafeBytes(chunk)
            case .signatureField(let f): text(fields[f] ?? "")
            case .jsonString: break  // handled by `emit`
            }
        }
        /// A segment, a `{json-string:…}` one as the JSON string of its placeholder's bytes (a copy: these are short, or
        /// the body of a provider that signs it quoted).
        func emit(_ seg: SignedContentSegment) {
            guard case .jsonString(let inner) = seg else { return emitOne(seg, chunk) }
            var raw: [UInt8] = []
            emitOne(inner) { raw.append(contentsOf: $0) }
            JSONStringLiteral.goHTMLSafe(raw).withUnsafeBytes(chunk)
        }
        for seg in template.segments {
            if case .optional(let inner) = seg {
                if inner.allSatisfy(present) { for part in inner { emit(part) } }
            } else {
                emit(seg)
            }
        }
    }

    /// Parses a timestamp string in `unit` into epoch milliseconds. Only plain decimal digits are accepted
    /// for numeric units (no sign, no fraction, no whitespace), as the providers send them.
    public static func parseTimestamp(_ text: String, unit: TimestampUnit) -> EpochMillis? {
        switch unit {
        case .rfc3339: return RFC3339.parse(text)
        case .seconds, .milliseconds:
            guard !text.isEmpty, text.utf8.count <= 16, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = Int64(text) else { return nil }
            guard unit == .seconds else { return v }
            // Parsed before any signature is checked, so an unsigned request controls it: a value whose
            // milliseconds do not fit is malformed, not a trap that would stop the process.
            let (millis, overflow) = v.multipliedReportingOverflow(by: 1000)
            return overflow ? nil : millis
        }
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        // Header values rarely carry outer whitespace: then no byte copy (a `String` is returned as it is).
        if let f = utf8.first, f != 0x20, f != 0x09, let l = last?.unicodeScalars.last, l != " ", l != "\t" { return String(self) }
        let u = Array(self.utf8)
        var lo = 0, hi = u.count
        while lo < hi, u[lo] == 0x20 || u[lo] == 0x09 { lo += 1 }
        while hi > lo, u[hi - 1] == 0x20 || u[hi - 1] == 0x09 { hi -= 1 }
        return String(decoding: u[lo..<hi], as: UTF8.self)
    }
}
