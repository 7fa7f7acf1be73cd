import Crypto
import _CryptoExtras
import Foundation

/// Where a key-by-id scheme reads the id of the key that signed a request.
public enum KeyIDSource: Sendable, Equatable, CustomStringConvertible {
    /// A request value: a header (Circle's `X-Circle-Key-Id`) or a field of the signature header (eBay's `kid`
    /// inside `x-ebay-signature`, read as `signature:kid`).
    case value(ValueSource)
    /// The `kid` of the JWT in the signature header (Plaid).
    case jwtHeader

    public var description: String {
        switch self {
        case .value(let s): return s.description
        case .jwtHeader: return "jwt:kid"
        }
    }
}

/// A provider's "public key by id" API as data: the `[key_fetch]` table of a profile (Circle, eBay, Plaid).
///
/// The request names only the key id; everything fetched is fixed here: the URL (on a host the profile pins), the
/// method, the body and how the receiver authenticates. The id is checked against `KeyFetchSpec.isSafeKeyID` and
/// percent-encoded before it is put into the URL or the body, so a request can never point the gateway elsewhere.
public struct KeyFetchSpec: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable { case get = "GET", post = "POST" }

    /// How the receiver authenticates to the key API, with the source's `key_fetch_client_id` / `key_fetch_secret`.
    public enum Auth: String, Sendable, CaseIterable {
        /// No header; credentials, if any, are in the body template (`{client_id}`, `{secret}`: Plaid).
        case none
        /// `Authorization: Bearer <key_fetch_secret>` (Circle's API key).
        case bearer
        /// An application token from an OAuth client-credentials grant at `token_url` (Basic client_id:secret), cached
        /// until it expires, sent as `Authorization: Bearer <token>` (eBay).
        case oauthClientCredentials = "oauth-client-credentials"
    }

    /// How the key is written in the response, at `key_pointer`.
    public enum KeyFormat: String, Sendable, CaseIterable {
        /// Base64 DER SubjectPublicKeyInfo (Circle).
        case spki
        /// A PEM public key, with or without line breaks (eBay serves it on one line).
        case pem
        /// A JSON Web Key object (Plaid).
        case jwk
    }

    /// `https://host/…{kid}…`; `{kid}` may also (or instead) be in `body`.
    public var url: String
    /// The hosts the key API may be on: `url`'s and `token_url`'s hosts, and the ones a source may pick with
    /// `key_host` (a sandbox).
    public var hosts: [String]
    public var method: Method
    /// A JSON body template: `{kid}`, `{client_id}`, `{secret}`, each inserted as JSON string content.
    public var body: String?
    public var auth: Auth
    public var tokenURL: String?
    public var tokenScope: String?
    public var keyPointer: JSONPointer
    public var keyFormat: KeyFormat
    public var keyID: KeyIDSource

    public init(url: String, hosts: [String], method: Method, body: String?, auth: Auth, tokenURL: String?, tokenScope: String?,
                keyPointer: JSONPointer, keyFormat: KeyFormat, keyID: KeyIDSource) {
        self.url = url
        self.hosts = hosts
        self.method = method
        self.body = body
        self.auth = auth
        self.tokenURL = tokenURL
        self.tokenScope = tokenScope
        self.keyPointer = keyPointer
        self.keyFormat = keyFormat
        self.keyID = keyID
    }

    /// Which of the source's credentials the fetch needs.
    public var needsClientID: Bool { auth == .oauthClientCredentials || (body ?? "").contains("{client_id}") }
    public var needsSecret: Bool { auth != .none || (body ?? "").contains("{secret}") }

    /// A key id the gateway may put into a URL or body: 1 to 128 of `A-Z a-z 0-9 - _ .`, not starting with `.`
    /// and without `..`. Provider key ids are UUIDs; anything else (`/`, `%`, `?`, spaces, a path) is refused
    /// before any fetch is considered.
    public static func isSafeKeyID(_ kid: String) -> Bool {
        let u = kid.utf8
        guard (1...128).contains(u.count), u.first != UInt8(ascii: "."), !kid.contains("..") else { return false }
        return u.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }

    /// The URL's host, when the URL is one a profile may name: https on the default port, no credentials, no
    /// fragment. Nil otherwise.
    public static func host(of url: String) -> String? {
        let probe = url.replacingOccurrences(of: "{kid}", with: "k")
        guard let u = URLComponents(string: probe), u.scheme == "https", let host = u.host?.lowercased(), !host.isEmpty,
              u.port == nil || u.port == 443, u.user == nil, u.password == nil, u.fragment == nil else { return nil }
        return host
    }

    /// `url` with its host replaced (a source's `key_host`, already checked against `hosts`).
    static func replacingHost(_ url: String, with host: String?) -> String {
        guard let host, var c = URLComponents(string: url.replacingOccurrences(of: "{kid}", with: "KIDPLACEHOLDER")) else { return url }
        c.host = host
        return (c.string ?? url).replacingOccurrences(of: "KIDPLACEHOLDER", with: "{kid}")
    }

    /// The key API's URL for `kid` (already safe), on the source's host.
    public func keyURL(kid: String, host: String?) -> String {
        // A safe id is all unreserved characters already: the encoding is a second guard, not a change.
        let encoded = kid.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? ""
        return Self.replacingHost(url, with: host).replacingOccurrences(of: "{kid}", with: encoded)
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

    public func tokenURL(host: String?) -> String? { tokenURL.map { Self.replacingHost($0, with: host) } }
}

/// The receiver's credentials for a provider's key API, resolved from the source's secret references. Never printed.
public struct KeyFetchCredentials: Sendable, Hashable, CustomStringConvertible {
    public var clientID: String?
    public var secret: String?

    public init(clientID: String?, secret: String?) {
        self.clientID = clientID
        self.secret = secret
    }

    public var description: String { "KeyFetchCredentials(<redacted>)" }
}

/// One HTTP request for a key or a token, built from configuration and a checked key id. Its description names the
/// method and URL only: headers and body carry credentials.
public struct KeyFetchRequest: Sendable, Hashable, CustomStringConvertible {
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    public var url: String
    public var headers: [Header]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [Header], body: [UInt8]?) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public var description: String { "\(method) \(url)" }
}

/// What a key host answered: the status and at most `KeyFetchPlan.maxResponseBytes` of the body.
public struct KeyFetchResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// Why a fetched key could not be read. The response body is never quoted (it may echo credentials).
public enum KeyResponseError: Error, Equatable, CustomStringConvertible {
    case notJSON, noKeyAtPointer(String), notAKey(String), wrongKeyID
    public var description: String {
        switch self {
        case .notJSON: return "the key API's answer is not a JSON object"
        case .noKeyAtPointer(let p): return "the key API's answer has no key at \(p)"
        case .notAKey(let form): return "the value is not a usable \(form) public key (P-256 or RSA 2048+)"
        case .wrongKeyID: return "the key API answered with a key of another id"
        }
    }
}

/// A source's key fetch, ready to run: the profile's spec, the source's host and credentials, and whether the key
/// verifies JWTs (then admission gets it as a one-key JWKS document) or a plain signature (DER SubjectPublicKeyInfo).
/// The server's key cache runs it; `KnownAnswers` parses fixture answers with it.
public struct KeyFetchPlan: Sendable, Hashable, CustomStringConvertible {
    public var source: String
    public var spec: KeyFetchSpec
    public var host: String?
    public var credentials: KeyFetchCredentials
    public var forJWT: Bool

    /// A key API answer larger than this is refused.
    public static let maxResponseBytes = 64 * 1024

    public init(source: String, spec: KeyFetchSpec, host: String?, credentials: KeyFetchCredentials, forJWT: Bool) {
        self.source = source
        self.spec = spec
        self.host = host
        self.credentials = credentials
        self.forJWT = forJWT
    }

    public var description: String { "key fetch for source \(source) at \(spec.url)" }

    public static func == (a: KeyFetchPlan, b: KeyFetchPlan) -> Bool {
        a.source == b.source && a.spec == b.spec && a.host == b.host && a.credentials == b.credentials && a.forJWT == b.forJWT
    }

    public func hash(into h: inout Hasher) {
        h.combine(source)
        h.combine(spec.url)
        h.combine(host)
        h.combine(credentials)
        h.combine(forJWT)
    }

    /// The request for `kid` (which must be safe), with an OAuth application token when the spec uses one.
    public func keyRequest(kid: String, token: String? = nil) -> KeyFetchRequest? {
        guard KeyFetchSpec.isSafeKeyID(kid) else { return nil }
        var headers = [KeyFetchRequest.Header(name: "Accept", value: "application/json")]
        switch spec.auth {
        case .none: break
        case .bearer:
            guard let secret = credentials.secret else { return nil }
            headers.append(.init(name: "Authorization", value: "Bearer " + secret))
        case .oauthClientCredentials:
            guard let token else { return nil }
            headers.append(.init(name: "Authorization", value: "Bearer " + token))
        }
        var body: [UInt8]?
        if let template = spec.body {
            var text = template
            // JSON string content: `JSONString.quoted` escapes, and the template supplies the quotes.
            func inner(_ s: String) -> String { String(JSONString.quoted(s).dropFirst().dropLast()) }
            text = text.replacingOccurrences(of: "{kid}", with: inner(kid))
            text = text.replacingOccurrences(of: "{client_id}", with: inner(credentials.clientID ?? ""))
            text = text.replacingOccurrences(of: "{secret}", with: inner(credentials.secret ?? ""))
            body = Array(text.utf8)
            headers.append(.init(name: "Content-Type", value: "application/json"))
        }
        return KeyFetchRequest(method: spec.method.rawValue, url: spec.keyURL(kid: kid, host: host), headers: headers, body: body)
    }

    /// The OAuth client-credentials request (eBay's `getApplicationToken`), or nil when the spec needs no token.
    public func tokenRequest() -> KeyFetchRequest? {
        guard spec.auth == .oauthClientCredentials, let url = spec.tokenURL(host: host), let id = credentials.clientID,
              let secret = credentials.secret else { return nil }
        let basic = Base64.encode(Array("\(id):\(secret)".utf8))
        var form = "grant_type=client_credentials"
        if let scope = spec.tokenScope {
            form += "&scope=" + (scope.addingPercentEncoding(withAllowedCharacters: KeyFetchSpec.unreserved) ?? "")
        }
        return KeyFetchRequest(method: "POST", url: url,
                               headers: [.init(name: "Authorization", value: "Basic " + basic),
                                         .init(name: "Content-Type", value: "application/x-www-form-urlencoded"),
                                         .init(name: "Accept", value: "application/json")],
                               body: Array(form.utf8))
    }

    /// Reads an OAuth token answer: the token and its lifetime in seconds (`expires_in`, at most a day; 5 minutes
    /// when absent or unreadable).
    public static func parseToken(_ body: [UInt8]) -> (token: String, lifetimeSeconds: Int64)? {
        guard body.count <= maxResponseBytes, body.first == UInt8(ascii: "{"), JSONScanner.isValidDocument(body),
              let token = JSONScanner.scalarText(at: JSONPointer(tokens: ["access_token"]), in: body), !token.isEmpty, token.utf8.count <= 8192,
              token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        let seconds = JSONScanner.scalarText(at: JSONPointer(tokens: ["expires_in"]), in: body).flatMap { CompactJWT.seconds($0) } ?? 300
        return (token, min(max(seconds, 0), 86_400))
    }

    /// The key in a key API's answer, as admission takes it: DER SubjectPublicKeyInfo, or for a JWT scheme a JWKS
    /// document holding that one key under `kid`.
    public func parseKey(_ body: [UInt8], kid: String) throws(KeyResponseError) -> [UInt8] {
        guard body.count <= Self.maxResponseBytes, body.first == UInt8(ascii: "{"), JSONScanner.isValidDocument(body),
              JSONScanner.firstDuplicateKey(in: body) == nil else { throw .notJSON }
        let pointer = spec.keyPointer
        switch spec.keyFormat {
        case .spki, .pem:
            guard let text = JSONScanner.scalarText(at: pointer, in: body) else { throw .noKeyAtPointer(pointer.description) }
            guard let der = PublicKeys.derFromPEMOrBase64(PublicKeys.unfoldedPEM(text)), let parsed = PublicKeys.parse(der: der) else {
                throw .notAKey(spec.keyFormat.rawValue)
            }
            switch parsed {
            case .rsa(let key): return forJWT ? JSONWebKeySet(keys: [try Self.jwk(.rsa(key), kid: kid)]).encoded : Array(key.derRepresentation)
            case .p256(let der): return forJWT ? JSONWebKeySet(keys: [try Self.jwk(.p256(der: der), kid: kid)]).encoded : der
            }
        case .jwk:
            guard let slice = try? JSONScanner.find(pointer, in: body), slice.kind == .object else { throw .noKeyAtPointer(pointer.description) }
            // The JWK read as the only member of a key set, with the parser every JWKS goes through.
            let set: JSONWebKeySet
            do { set = try JSONWebKeySet.parse(Array(#"{"keys":["#.utf8) + Array(body[slice.range]) + Array("]}".utf8)) } catch {
                throw .notAKey("JWK")
            }
            guard let key = set.keys.first else { throw .notAKey("JWK") }
            if let declared = key.keyID, declared != kid { throw .wrongKeyID }
            if forJWT { return JSONWebKeySet(keys: [JSONWebKey(keyID: kid, algorithm: key.algorithm, key: key.key, members: Self.withKid(key.members, kid))]).encoded }
            switch key.key {
            case .rsa(let k): return Array(k.derRepresentation)
            case .p256(let der): return der
            }
        }
    }

    private static func withKid(_ members: [(String, String)], _ kid: String) -> [(String, String)] {
        var out = members.filter { $0.0 != "kid" }
        out.insert(("kid", kid), at: min(1, out.count))
        return out
    }

    /// A DER key as a JWK, so a JWT scheme's key reaches admission in the one form it reads.
    private static func jwk(_ key: PublicKeys.Parsed, kid: String) throws(KeyResponseError) -> JSONWebKey {
        switch key {
        case .rsa(let k):
            guard let p = try? k.getKeyPrimitives() else { throw .notAKey("RSA") }
            return JSONWebKey(keyID: kid, algorithm: nil, key: key, members: [("kty", "RSA"), ("kid", kid), ("n", Base64URL.encode(p.modulus)), ("e", Base64URL.encode(p.publicExponent))])
        case .p256(let der):
            guard let point = try? Array(P256.Signing.PublicKey(derRepresentation: der).x963Representation), point.count == 65 else { throw .notAKey("P-256") }
            return JSONWebKey(keyID: kid, algorithm: nil, key: key,
                              members: [("kty", "EC"), ("kid", kid), ("crv", "P-256"), ("x", Base64URL.encode(point[1..<33])), ("y", Base64URL.encode(point[33..<65]))])
        }
    }
}
