import Crypto

extension ProviderProfile {
    /// The request parts that carry the shared secret itself rather than a signature over the request: the sources of
    /// every `token` variant (GitLab's `X-Gitlab-Token`, Okta's `Authorization`, generic-token's header and `?token=`).
    /// Derived from the profile, so a new token profile is redacted without a list to keep in step.
    public var credentialSources: [ValueSource] {
        var out: [ValueSource] = []
        for spec in signatures where spec.algorithm == .token {
            for source in spec.sources where !out.contains(source) { out.append(source) }
        }
        return out
    }

    /// Headers carrying a JWT that does not bind the body (Google Pub/Sub's OIDC token; Vonage's without `payload_hash`):
    /// a bearer credential that whoever reads it may present again, with another body, until it expires.
    public var bearerTokenSources: [ValueSource] {
        guard let spec = jwt, spec.bodyHash == nil || spec.bodyHash?.presence == .optional else { return [] }
        var out: [ValueSource] = []
        for s in signatures where s.algorithm == .jwt {
            for source in s.sources where !out.contains(source) { out.append(source) }
        }
        return out
    }
}

/// Keeps shared secrets out of the store. A token scheme's request carries the secret in clear, and the stored request
/// is shown by the admin API and the CLI, forwarded to `raw` destinations and resent by `replay --to`: so the value of
/// every credential header and query parameter is replaced before storage by a marker that records that one was
/// present, never what it was.
///
/// Two markers:
/// - `inlet-redacted` on stored events: they were verified, and nothing needs the value again (`replay --resign`
///   adds the source's current secret).
/// - `inlet-redacted.hmac-sha256.<salt>.<mac>` on quarantine entries: re-admission must check that the request carried
///   a secret that is valid now, so the marker commits to the value with an HMAC keyed by a random per-entry salt.
///   `restoring` puts back the current secret whose HMAC matches, in memory only. The salt keeps equal tokens from
///   giving equal markers; a weak (guessable) token can still be tested against a marker, as against any hash of it.
public enum CredentialRedaction {
    public static let marker = "inlet-redacted"
    static let commitmentPrefix = "inlet-redacted.hmac-sha256."

    /// A fresh 16-byte salt for one quarantine entry's commitments.
    public static func randomSalt() -> [UInt8] {
        var random = SystemRandomNumberGenerator()
        return (0..<2).flatMap { _ in withUnsafeBytes(of: random.next() as UInt64) { Array($0) } }
    }

    /// `request` with every credential replaced by a marker: a commitment under `salt` when one is given, else the plain
    /// marker. Requests of profiles without a credential source come back unchanged.
    public static func redacting(_ request: IncomingRequest, profile: ProviderProfile, salt: [UInt8]? = nil) -> IncomingRequest {
        let sources = profile.credentialSources
        guard !sources.isEmpty else { return request }
        func replacement(_ value: String) -> String {
            guard let salt else { return marker }
            // Commit to what verification compares: the value as a header is read (outer whitespace trimmed) or as a
            // query parameter decodes.
            let mac = HMAC<SHA256>.authenticationCode(for: Array(value.trimmingASCIIWhitespace().utf8), using: SymmetricKey(data: salt))
            return commitmentPrefix + Hex.string(salt) + "." + Hex.string(mac)
        }
        var out = request
        out.headers = rewriteHeaders(request.headers, sources) { replacement($0) }
        out.query = rewriteQuery(request.query, sources) { value in percentEncoded(replacement(value)) }
        return out
    }

    /// `request` with each commitment marker replaced by the current secret it commits to (the format's prefix
    /// included), so a re-admitted quarantine entry verifies exactly when its original secret is one of `keys`. A
    /// marker no key matches stays, and verification refuses it.
    public static func restoring(_ request: IncomingRequest, profile: ProviderProfile, keys: [VerificationKey]) -> IncomingRequest {
        let sources = profile.credentialSources
        guard !sources.isEmpty else { return request }
        let prefix: String
        if case .plain(let p)? = profile.signatures.first(where: { $0.algorithm == .token })?.format { prefix = p } else { prefix = "" }
        let candidates = keys.map { Array(prefix.utf8) + $0.keyBytes }
        func secret(for value: String) -> String? {
            guard value.hasPrefix(commitmentPrefix) else { return nil }
            let parts = value.dropFirst(commitmentPrefix.count).split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let salt = Hex.decode(parts[0]), let mac = Hex.decode(parts[1]) else { return nil }
            for candidate in candidates {
                let expected = HMAC<SHA256>.authenticationCode(for: candidate, using: SymmetricKey(data: salt))
                if constantTimeEquals(Array(expected), mac) { return String(decoding: candidate, as: UTF8.self) }
            }
            return nil
        }
        var out = request
        out.headers = rewriteHeaders(request.headers, sources) { secret(for: $0) }
        out.query = rewriteQuery(request.query, sources) { value in secret(for: value).map(percentEncoded) }
        return out
    }

    /// What an admitted event keeps: `redacting`, and a marker in place of a bearer JWT (`bearerTokenSources`). Nothing
    /// verifies a stored event again, while raw destinations, the admin API and `replay --to` would hand the token on.
    /// Quarantine entries keep the token: re-admission verifies it again, at the time it arrived.
    public static func redactingStoredEvent(_ request: IncomingRequest, profile: ProviderProfile) -> IncomingRequest {
        var out = redacting(request, profile: profile)
        let bearer = profile.bearerTokenSources
        if !bearer.isEmpty { out.headers = rewriteHeaders(out.headers, bearer) { _ in marker } }
        return out
    }

    /// The headers with each credential header's value passed through `transform` (nil: keep it).
    private static func rewriteHeaders(_ headers: HTTPHeaderList, _ sources: [ValueSource], _ transform: (String) -> String?) -> HTTPHeaderList {
        let names = sources.compactMap { source -> String? in if case .header(let h) = source { return h }; return nil }
        guard !names.isEmpty else { return headers }
        var out = HTTPHeaderList()
        for e in headers {
            // Every occurrence: verification reads the first, but a repeated header must not keep a copy either.
            let isCredential = names.contains { HTTPHeaderList.equalsIgnoringCase($0, e.name) }
            out.append(e.name, isCredential ? transform(e.value) ?? e.value : e.value)
        }
        return out
    }

    /// The query with the value of each credential parameter (decoded, as `queryParameter` reads it) passed through
    /// `transform`, which returns it encoded (nil: keep it); every other byte of the query stays as received.
    private static func rewriteQuery(_ query: String?, _ sources: [ValueSource], _ transform: (String) -> String?) -> String? {
        let names = sources.compactMap { source -> String? in if case .query(let q) = source { return q }; return nil }
        guard let query, !names.isEmpty else { return query }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard names.contains(kv[0].removingPercentEncodingPlus),
                  let value = transform(kv.count > 1 ? kv[1].removingPercentEncodingPlus : "") else { return String(pair) }
            return String(kv[0]) + "=" + value
        }
        return pairs.joined(separator: "&")
    }

    /// A query component encoded so that `removingPercentEncodingPlus` gives `value` back.
    static func percentEncoded(_ value: String) -> String {
        var out: [UInt8] = []
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out += Hex.encode([b]).map { $0 >= UInt8(ascii: "a") ? $0 - 32 : $0 }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
