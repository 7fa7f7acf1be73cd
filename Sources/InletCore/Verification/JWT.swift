import Crypto
import _CryptoExtras
import Foundation

/// The JWS algorithms a JWT profile may accept. `none` is not one of them, and a profile's list, never the token's
/// header, decides what is accepted.
public enum JWTAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256", hs384 = "HS384", hs512 = "HS512", rs256 = "RS256", es256 = "ES256"

    public var isHMAC: Bool { self == .hs256 || self == .hs384 || self == .hs512 }
}

/// How a body-hash claim encodes SHA-256 of the exact body bytes.
public enum DigestEncoding: String, Sendable, CaseIterable {
    case hex, base64, base64url

    func encode(_ digest: [UInt8]) -> String {
        switch self {
        case .hex: return String(decoding: Hex.encode(digest), as: UTF8.self)
        case .base64: return Base64.encode(digest)
        case .base64url: return Base64URL.encode(digest)
        }
    }

    /// Whether a claim's text is `digest` in this encoding (base64 padding optional, hex case-insensitive).
    func matches(_ claim: String, digest: [UInt8]) -> Bool {
        let expected: String, given: String
        switch self {
        case .hex: expected = encode(digest); given = claim.lowercased()
        case .base64, .base64url:
            expected = String(encode(digest).reversed().drop { $0 == "=" }.reversed())
            given = String(claim.reversed().drop { $0 == "=" }.reversed())
        }
        return constantTimeEquals(Array(expected.utf8), Array(given.utf8))
    }
}

/// A provider's JWT scheme as data: the `[jwt]` table of a profile.
public struct JWTSpec: Sendable, Equatable {
    /// When a body-hash claim must be there.
    public enum BodyHashPresence: String, Sendable, CaseIterable {
        /// Always (QStash, FusionAuth).
        case required
        /// Exactly when the body is not empty (MessageBird: present with a body, absent without).
        case nonEmptyBody = "non-empty-body"
        /// Checked when the token carries it.
        case optional
    }

    public struct BodyHash: Sendable, Equatable {
        public var claim: String
        public var encoding: DigestEncoding
        public var presence: BodyHashPresence
        public init(claim: String, encoding: DigestEncoding, presence: BodyHashPresence) {
            self.claim = claim
            self.encoding = encoding
            self.presence = presence
        }
    }

    public var algorithms: [JWTAlgorithm]
    /// Accepted `iss` values; empty: `iss` is not checked.
    public var issuers: [String] = []
    /// The source must name the audience (`jwt_audience`), and `aud` must contain one of its values.
    public var requireAudience = false
    /// Claims that must be present, whatever their value (e.g. `exp`, `nbf`, `sub`).
    public var requiredClaims: [String] = []
    /// Clock tolerance for `exp`, `nbf` and `iat`, in seconds.
    public var leewaySeconds: Int64 = 0
    /// When set, `iat` is required and may be at most this old.
    public var maxAgeSeconds: Int64?
    public var bodyHash: BodyHash?
    /// A claim holding hex SHA-256 of the URL the provider called (MessageBird `url_hash`); needs `public_url`.
    public var urlHashClaim: String?
    /// `sub` must be the URL the provider called, when the source has a `public_url` (QStash).
    public var subjectIsURL = false
    /// The provider's key set (Google); a source may name its own with `jwks_url` where this is not set.
    public var jwksURL: String?
    /// Hosts a source's `jwks_url` may be on; empty: any https host the operator names.
    public var jwksHosts: [String] = []
    /// Claims with a fixed value (`[jwt.claims]`, e.g. Google's `email_verified = "true"`), compared as text.
    public var claims: [String: String] = [:]
    /// Claims whose accepted values each source lists in `jwt_claims` (Google: `email`, the push service account):
    /// a source without them is refused at start-up.
    public var sourceClaims: [String] = []

    public init(algorithms: [JWTAlgorithm]) { self.algorithms = algorithms }

    public var acceptsHMAC: Bool { algorithms.contains(where: \.isHMAC) }
    public var acceptsPublicKeys: Bool { algorithms.contains(where: { !$0.isHMAC }) }
}

/// base64url without padding (RFC 7515 §2), strict: any other character is refused.
public enum Base64URL {
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var s = ""
        s.reserveCapacity(text.utf8.count)
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                s.unicodeScalars.append(Unicode.Scalar(c))
            case UInt8(ascii: "-"): s += "+"
            case UInt8(ascii: "_"): s += "/"
            default: return nil
            }
        }
        return Base64.decode(s)
    }

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var s = Base64.encode(bytes)
        while s.hasSuffix("=") { s.removeLast() }
        return String(s.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
}

/// A compact JWS split and decoded, nothing verified yet.
public struct CompactJWT: Sendable {
    /// The bytes the signature covers: `base64url(header) . base64url(claims)`.
    public let signingInput: [UInt8]
    public let header: [UInt8]
    public let claims: [UInt8]
    public let signature: [UInt8]
    /// `alg` as the token states it (checked against the profile, never trusted).
    public let algorithm: String
    public let keyID: String?

    /// A token is at most this long: a header that big is an attack, not a provider.
    public static let maxLength = 16 * 1024
    /// A token that is the whole body (Kinde) carries the event itself, so it may be longer; the source's
    /// `max_body_bytes` bounds it too.
    public static let maxBodyLength = 1 << 20

    /// The claims of the JWT that is `body` (decoded, not verified), for reading an event's ID and type after the token
    /// verified; nil when the body is not a compact JWT.
    static func claims(ofBody body: [UInt8]) -> [UInt8]? {
        guard body.count <= maxBodyLength else { return nil }
        let parts = body.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3, let claims = Base64URL.decode(Substring(decoding: parts[1], as: UTF8.self)),
              claims.first == UInt8(ascii: "{") else { return nil }
        return claims
    }

    /// Reads a header value: the token, after an optional `Bearer ` (any case).
    public static func token(fromHeader value: String) -> String {
        let v = value.trimmingASCIIWhitespace()
        if v.utf8.count > 7, v.prefix(7).lowercased() == "bearer " { return String(v.dropFirst(7)).trimmingASCIIWhitespace() }
        return v
    }

    public static func parse(_ token: String, maxLength: Int = CompactJWT.maxLength) -> Result<CompactJWT, VerificationFailure> {
        guard !token.isEmpty, token.utf8.count <= maxLength else { return .failure(.malformedSignature) }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64URL.decode(Substring(parts[0])), let claims = Base64URL.decode(Substring(parts[1])),
              let signature = Base64URL.decode(Substring(parts[2])) else { return .failure(.malformedSignature) }
        // Both parts must be one JSON object each, with no key twice: parsers that keep the first and the last
        // occurrence would read different claims out of one signed token.
        for part in [header, claims] {
            guard part.first == UInt8(ascii: "{"), JSONScanner.isValidDocument(part), JSONScanner.firstDuplicateKey(in: part) == nil else {
                return .failure(.malformedSignature)
            }
        }
        guard let alg = JSONScanner.scalarText(at: JSONPointer(tokens: ["alg"]), in: header) else { return .failure(.malformedSignature) }
        // An extension the sender marks critical is one we do not implement (RFC 7515 §4.1.11).
        if (try? JSONScanner.find(JSONPointer(tokens: ["crit"]), in: header)) != nil { return .failure(.jwtAlgorithmRefused) }
        let kid = JSONScanner.scalarText(at: JSONPointer(tokens: ["kid"]), in: header)
        let input = Array(parts[0]) + [UInt8(ascii: ".")] + Array(parts[1])
        return .success(CompactJWT(signingInput: input, header: header, claims: claims, signature: signature, algorithm: alg, keyID: kid))
    }

    /// A claim as text (strings unescaped, numbers as written); nil when absent or not a scalar.
    func claim(_ name: String) -> String? { JSONScanner.scalarText(at: JSONPointer(tokens: [name]), in: claims) }

    func hasClaim(_ name: String) -> Bool { (try? JSONScanner.find(JSONPointer(tokens: [name]), in: claims)) != nil }

    /// A NumericDate claim in whole seconds (a fraction is dropped); nil when absent, `.some(nil)` when not a number.
    func numericDate(_ name: String) -> Int64?? {
        guard hasClaim(name) else { return nil }
        guard let text = claim(name), let seconds = Self.seconds(text) else { return .some(nil) }
        return seconds
    }

    /// Plain decimal seconds with an optional fraction: no sign, no exponent, at most 12 integer digits.
    static func seconds(_ text: String) -> Int64? {
        let whole = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let digits = whole.first, !digits.isEmpty, digits.count <= 12, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        if whole.count == 2 { guard !whole[1].isEmpty, whole[1].count <= 9, whole[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil } }
        return Int64(digits)
    }

    /// `aud`: a string or an array of strings.
    func audiences() -> [String] {
        guard let slice = try? JSONScanner.find(JSONPointer(tokens: ["aud"]), in: claims) else { return [] }
        if slice.kind == .string { return claim("aud").map { [$0] } ?? [] }
        guard slice.kind == .array else { return [] }
        var out: [String] = []
        while out.count < 64, let v = JSONScanner.scalarText(at: JSONPointer(tokens: ["aud", String(out.count)]), in: claims) { out.append(v) }
        return out
    }
}

/// One key of a JSON Web Key Set (RFC 7517), checked and ready to verify with.
public struct JSONWebKey: Sendable {
    public let keyID: String?
    /// The `alg` the key is declared for, if any; a token with another `alg` is not verified with it.
    public let algorithm: JWTAlgorithm?
    public let key: PublicKeys.Parsed
    /// The JWK members this was read from, re-serialised as the cache passes a key set to admission.
    let members: [(String, String)]

    func fits(_ alg: JWTAlgorithm) -> Bool {
        if let algorithm, algorithm != alg { return false }
        switch (alg, key) {
        case (.rs256, .rsa), (.es256, .p256): return true
        default: return false
        }
    }
}

/// A JSON Web Key Set: the `{"keys":[…]}` document a provider serves. Keys that are not signing keys Inlet can use
/// (encryption keys, other curves, short RSA moduli) are skipped; a document with none left is refused.
public struct JSONWebKeySet: Sendable {
    public let keys: [JSONWebKey]

    public static let maxKeys = 64

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAKeySet, noUsableKey
        public var description: String {
            switch self {
            case .notAKeySet: return "not a JSON Web Key Set ({\"keys\":[…]})"
            case .noUsableKey: return "no RSA (2048+ bits) or P-256 signing key in the key set"
            }
        }
    }

    public init(keys: [JSONWebKey]) { self.keys = keys }

    /// `requireKeys`: a provider's document must hold a usable key; the filtered set the cache hands admission may
    /// be empty (no key with that kid).
    public static func parse(_ bytes: [UInt8], requireKeys: Bool = true) throws(ParseError) -> JSONWebKeySet {
        guard bytes.count <= 64 * 1024, bytes.first == UInt8(ascii: "{"), JSONScanner.isValidDocument(bytes),
              let slice = try? JSONScanner.find(JSONPointer(tokens: ["keys"]), in: bytes), slice.kind == .array else { throw .notAKeySet }
        var keys: [JSONWebKey] = []
        var n = 0
        while n < maxKeys * 4, keys.count < maxKeys {
            let at = { (member: String) in JSONScanner.scalarText(at: JSONPointer(tokens: ["keys", String(n), member]), in: bytes) }
            guard (try? JSONScanner.find(JSONPointer(tokens: ["keys", String(n)]), in: bytes)) != nil else { break }
            defer { n += 1 }
            if let use = at("use"), use != "sig" { continue }
            let kid = at("kid"), algText = at("alg")
            var alg: JWTAlgorithm?
            if let algText {
                guard let a = JWTAlgorithm(rawValue: algText), !a.isHMAC else { continue }
                alg = a
            }
            var members: [(String, String)] = [("kty", at("kty") ?? "")]
            if let kid { members.append(("kid", kid)) }
            if let algText { members.append(("alg", algText)) }
            let parsed: PublicKeys.Parsed
            switch at("kty") {
            case "RSA":
                guard let nText = at("n"), let eText = at("e"), let modulus = Base64URL.decode(nText), let exponent = Base64URL.decode(eText),
                      let key = PublicKeys.rsa(modulus: modulus, exponent: exponent) else { continue }
                parsed = .rsa(key)
                members += [("n", nText), ("e", eText)]
            case "EC":
                guard at("crv") == "P-256", let xText = at("x"), let yText = at("y"), let x = Base64URL.decode(xText), let y = Base64URL.decode(yText),
                      x.count == 32, y.count == 32, let der = PublicKeys.p256(x963: [0x04] + x + y) else { continue }
                parsed = .p256(der: der)
                members += [("crv", "P-256"), ("x", xText), ("y", yText)]
            default:
                continue
            }
            keys.append(JSONWebKey(keyID: kid, algorithm: alg, key: parsed, members: members))
        }
        guard !keys.isEmpty || !requireKeys else { throw .noUsableKey }
        return JSONWebKeySet(keys: keys)
    }

    /// The keys a token with this `kid` may be verified with (all of them for a token without one).
    public func keys(for kid: String?) -> [JSONWebKey] {
        guard let kid else { return keys }
        return keys.filter { $0.keyID == kid }
    }

    /// The set as a JWKS document (only what Inlet read from it).
    public var encoded: [UInt8] {
        var out = Array(#"{"keys":["#.utf8)
        for (i, k) in keys.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            for (j, (name, value)) in k.members.enumerated() {
                if j > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(name, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONString.append(value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out += Array("]}".utf8)
        return out
    }
}

/// Where a JWT's key set is and which key the token names: what admission asks the server to fetch, written as the
/// key set's URL with `#kid=<percent-encoded kid>` (a fragment is never sent by HTTP, and the certificate cache keys
/// documents by the URL without it).
public struct KeySetLocator: Sendable, Equatable {
    public var url: String
    public var keyID: String?

    public init(url: String, keyID: String?) {
        self.url = url
        self.keyID = keyID
    }

    public init?(_ text: String) {
        guard let hash = text.firstIndex(of: "#") else { url = text; keyID = nil; return }
        url = String(text[..<hash])
        let fragment = text[text.index(after: hash)...]
        guard fragment.hasPrefix("kid="), let kid = String(fragment.dropFirst(4)).removingPercentEncoding else { return nil }
        keyID = kid
    }

    public var text: String {
        guard let keyID else { return url }
        return url + "#kid=" + (keyID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    }

    /// A `kid` that can name a key: short printable text. Anything else is refused before a fetch is considered.
    static func isPlausible(_ kid: String) -> Bool {
        !kid.isEmpty && kid.utf8.count <= 256 && kid.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
    }
}

/// Verifies a JWT-signed request: the token's algorithm against the profile's list, the signature with a key of the
/// matching kind only (a public key is never an HMAC secret), then the declared claims.
enum JWTVerifier {
    static func verify(_ request: IncomingRequest, headerValue: String, spec: JWTSpec, keys: [VerificationKey], keySet: JSONWebKeySet?,
                       options: VerificationOptions, now: EpochMillis, tokenIsBody: Bool = false) -> Result<VerifiedSignature, VerificationFailure> {
        let token: CompactJWT
        switch CompactJWT.parse(CompactJWT.token(fromHeader: headerValue), maxLength: tokenIsBody ? CompactJWT.maxBodyLength : CompactJWT.maxLength) {
        case .success(let t): token = t
        case .failure(let f): return .failure(f)
        }
        guard let alg = JWTAlgorithm(rawValue: token.algorithm), spec.algorithms.contains(alg) else { return .failure(.jwtAlgorithmRefused) }

        // The signature first: nothing about claims is revealed to a caller who cannot sign.
        var matched: Int?
        var sawExpiredOnly = false
        if let keySet {
            let candidates = keySet.keys(for: token.keyID).filter { $0.fits(alg) }
            guard !candidates.isEmpty else { return .failure(.signingKeyUnknown) }
            for k in candidates where matched == nil {
                if verifySignature(token, alg: alg, key: k.key) { matched = 0 }
            }
        } else {
            func tryKeys(_ indices: [Int]) -> Int? {
                var found: Int?
                for i in indices where found == nil {
                    let ok: Bool
                    switch (alg, keys[i].material) {
                    case (.hs256, .symmetric(let k)): ok = constantTimeEquals(Array(HMAC<SHA256>.authenticationCode(for: token.signingInput, using: SymmetricKey(data: k))), token.signature)
                    case (.hs384, .symmetric(let k)): ok = constantTimeEquals(Array(HMAC<SHA384>.authenticationCode(for: token.signingInput, using: SymmetricKey(data: k))), token.signature)
                    case (.hs512, .symmetric(let k)): ok = constantTimeEquals(Array(HMAC<SHA512>.authenticationCode(for: token.signingInput, using: SymmetricKey(data: k))), token.signature)
                    case (.rs256, .rsa(let key)): ok = verifySignature(token, alg: alg, key: .rsa(key))
                    case (.es256, .p256(let der)): ok = verifySignature(token, alg: alg, key: .p256(der: der))
                    // Any other pairing (an RSA or EC key for HS*, a secret for RS/ES) is never tried: no HS/RS confusion.
                    default: ok = false
                    }
                    if ok { found = i }
                }
                return found
            }
            matched = tryKeys(keys.indices.filter { keys[$0].window.isActive(at: now) })
            if matched == nil, tryKeys(keys.indices.filter { keys[$0].window.hasExpired(at: now) }) != nil { sawExpiredOnly = true }
        }
        if sawExpiredOnly { return .failure(.secretExpired) }
        guard let keyIndex = matched else { return .failure(.signatureMismatch) }

        // Claims.
        for name in spec.requiredClaims where !token.hasClaim(name) { return .failure(.jwtClaimInvalid(name)) }
        if !spec.issuers.isEmpty {
            guard let iss = token.claim("iss"), spec.issuers.contains(iss) else { return .failure(.jwtClaimInvalid("iss")) }
        }
        if !options.jwtAudiences.isEmpty {
            let aud = token.audiences()
            guard aud.contains(where: { options.jwtAudiences.contains($0) }) else { return .failure(.jwtClaimInvalid("aud")) }
        } else if spec.requireAudience {
            return .failure(.publicURLNotConfigured)  // resolve refuses such a source; never accept any audience
        }
        for (name, value) in spec.claims.sorted(by: { $0.key < $1.key }) where token.claim(name) != value {
            return .failure(.jwtClaimInvalid(name))
        }
        for name in spec.sourceClaims {
            guard let accepted = options.jwtClaims[name], let given = token.claim(name), accepted.contains(given) else {
                return .failure(.jwtClaimInvalid(name))
            }
        }
        let url = options.publicURL.map { u in u + (request.query.map { "?" + $0 } ?? "") }
        if spec.subjectIsURL, let url {
            guard let sub = token.claim("sub"), sub == url else { return .failure(.jwtClaimInvalid("sub")) }
        }
        if let claim = spec.urlHashClaim {
            guard let url else { return .failure(.publicURLNotConfigured) }
            guard let given = token.claim(claim), DigestEncoding.hex.matches(given, digest: Array(SHA256.hash(data: Array(url.utf8)))) else {
                return .failure(.jwtClaimInvalid(claim))
            }
        }
        var bodyChecked = false
        if let bh = spec.bodyHash {
            let present = token.hasClaim(bh.claim)
            let needed: Bool
            switch bh.presence {
            case .required: needed = true
            case .optional: needed = present
            case .nonEmptyBody:
                if request.body.isEmpty && present { return .failure(.bodyHashMismatch) }
                needed = !request.body.isEmpty
            }
            if needed {
                guard let given = token.claim(bh.claim), bh.encoding.matches(given, digest: Array(SHA256.hash(data: request.body))) else {
                    return .failure(.bodyHashMismatch)
                }
            }
            // An empty body under `non-empty-body` is bound too: any other body would need the claim.
            bodyChecked = needed || (bh.presence == .nonEmptyBody && request.body.isEmpty)
        }

        // Freshness: exp, nbf, iat, each with the leeway.
        let leeway = options.toleranceSeconds ?? spec.leewaySeconds
        let nowSeconds = now / 1000
        var issuedAt: Int64?
        switch token.numericDate("exp") {
        case .some(.none): return .failure(.jwtClaimInvalid("exp"))
        case .some(.some(let exp)) where nowSeconds >= exp + leeway: return .failure(.timestampOutsideTolerance(skewSeconds: exp - nowSeconds))
        default: break
        }
        switch token.numericDate("nbf") {
        case .some(.none): return .failure(.jwtClaimInvalid("nbf"))
        case .some(.some(let nbf)) where nbf > nowSeconds + leeway: return .failure(.timestampOutsideTolerance(skewSeconds: nbf - nowSeconds))
        default: break
        }
        switch token.numericDate("iat") {
        case .some(.none): return .failure(.jwtClaimInvalid("iat"))
        case .some(.some(let iat)):
            issuedAt = iat
            // Issued in the future is refused as PyJWT and google-auth do; too old only with `max_age_seconds`.
            if iat > nowSeconds + leeway || spec.maxAgeSeconds.map({ iat < nowSeconds - $0 - leeway }) == true {
                return .failure(.timestampOutsideTolerance(skewSeconds: iat - nowSeconds))
            }
        case .none:
            if spec.maxAgeSeconds != nil { return .failure(.jwtClaimInvalid("iat")) }
        }
        // A token that is the body binds it when the body is exactly the token, its signature in canonical base64url:
        // every byte is then fixed by what was signed and the signature. Only for deterministic signatures: an ES256
        // signature can be rewritten as another valid one (s → n − s) by anyone.
        if tokenIsBody, alg == .rs256 || alg.isHMAC, request.body == token.signingInput + [UInt8(ascii: ".")] + Array(Base64URL.encode(token.signature).utf8) {
            bodyChecked = true
        }
        let (millis, overflow) = (issuedAt ?? 0).multipliedReportingOverflow(by: 1000)
        return .success(VerifiedSignature(keyIndex: keyIndex, timestamp: issuedAt == nil || overflow ? nil : millis, bindsBody: bodyChecked))
    }

    static func verifySignature(_ token: CompactJWT, alg: JWTAlgorithm, key: PublicKeys.Parsed) -> Bool {
        switch (alg, key) {
        case (.rs256, .rsa(let k)): return PublicKeys.verifyRSA(k, signature: token.signature, message: token.signingInput, hash: .sha256)
        case (.es256, .p256(let der)): return PublicKeys.verifyP256(der: der, signature: token.signature, message: token.signingInput, rawOnly: true)
        default: return false
        }
    }
}

/// The rule for a key set's URL, from a profile or a source: https on the default port, no credentials, no query
/// (the URL is fixed by configuration; nothing of it comes from a request).
public enum JWTKeySetURL {
    /// The URL's host (lower-cased) when the URL is acceptable.
    public static func host(of url: String) -> String? {
        guard let u = URLComponents(string: url), u.scheme == "https", let host = u.host?.lowercased(), !host.isEmpty,
              u.port == nil || u.port == 443, u.user == nil, u.password == nil, u.query == nil, u.fragment == nil else { return nil }
        return host
    }
}
