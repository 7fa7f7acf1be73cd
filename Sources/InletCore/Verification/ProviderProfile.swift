import Crypto
import _CryptoExtras
import Foundation

/// Where a value (event ID, type, timestamp, signed ID) is read from in a request.
public enum ValueSource: Sendable, Hashable, CustomStringConvertible {
    case header(String)
    case json(JSONPointer)
    /// A field of a key=value signature header, such as Stripe's `t`.
    case signatureField(String)
    case query(String)
    /// A field of an `application/x-www-form-urlencoded` body, decoded (Alipay's `notify_id`, Braintree's `bt_signature`).
    case form(String)
    /// The whole body as text: where a provider sends the JWT itself as the body (Kinde, `application/jwt`).
    case body
    /// A claim of the JWT that is the body (Kinde's `event_id`, `type`): read after the token verified.
    case jwtClaim(JSONPointer)
    /// The text of an XML element (path from the root) in a base64 form field (Braintree's `kind` in `bt_payload`):
    /// `form-base64-xml:bt_payload:/notification/kind`. See `XMLText`.
    case formBase64XML(field: String, path: [String])

    /// Parses `header:Name`, `json:/pointer`, `signature:key`, `query:name`, `form:name`, `body`, `jwt:/pointer`.
    public init?(_ text: String) {
        if text == "body" { self = .body; return }
        if text.hasPrefix("form-base64-xml:") {
            let rest = text.dropFirst(16)
            guard let colon = rest.firstIndex(of: ":"), colon != rest.startIndex else { return nil }
            let path = rest[rest.index(after: colon)...].split(separator: "/", omittingEmptySubsequences: false)
            guard path.count >= 2, path[0].isEmpty, path.dropFirst().allSatisfy({ !$0.isEmpty }) else { return nil }
            self = .formBase64XML(field: String(rest[..<colon]), path: path.dropFirst().map(String.init))
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let kind = text[..<colon], arg = String(text[text.index(after: colon)...])
        guard !arg.isEmpty || kind == "json" else { return nil }
        switch kind {
        case "header": self = .header(arg)
        case "json": guard let p = JSONPointer(arg) else { return nil }; self = .json(p)
        case "signature": self = .signatureField(arg)
        case "query": self = .query(arg)
        case "form": self = .form(arg)
        case "jwt": guard let p = JSONPointer(arg), !p.tokens.isEmpty else { return nil }; self = .jwtClaim(p)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .header(let h): return "header:\(h)"
        case .json(let p): return "json:\(p)"
        case .signatureField(let f): return "signature:\(f)"
        case .query(let q): return "query:\(q)"
        case .form(let f): return "form:\(f)"
        case .body: return "body"
        case .jwtClaim(let p): return "jwt:\(p)"
        case .formBase64XML(let f, let path): return "form-base64-xml:\(f):/" + path.joined(separator: "/")
        }
    }
}

/// How a signature header's value is laid out.
public enum SignatureHeaderFormat: Sendable, Equatable {
    /// The whole value is one signature, after an optional prefix such as `sha256=` or `v0=`.
    case plain(prefix: String)
    /// `key=value` pairs (Stripe: `t=…,v1=…,v1=…`; Paddle: `ts=…;h1=…`); signatures are the values of `signatureKeys`.
    case keyValue(pairSeparator: String, keyValueSeparator: String, signatureKeys: [String])
    /// A list of `version<sep>signature` entries (Standard Webhooks: `v1,<b64> v1,<b64>`).
    case versionedList(entrySeparator: String, versionSeparator: String, versions: [String])
    /// Items by position (Recurly: `<ts>,<sig>[,<sig>…]`): the leading items are named fields (read as `signature:NAME`),
    /// every item after them a signature.
    case positional(separator: String, leadingFields: [String])
    /// Base64 of a JSON object (eBay's `x-ebay-signature`: `{"alg","kid","signature","digest"}`): the signature is the
    /// string member `signatureField`; the string members named in `fields` are read as `signature:NAME`.
    case base64JSON(signatureField: String, fields: [String])
    /// `keyID<keySeparator>signature` pairs joined by `pairSeparator` (Braintree: `pub1|hex&pub2|hex`): each key is
    /// checked only against the first signature named with its key ID (`secret_encoding = "key-pair"`).
    case keyedPairs(pairSeparator: String, keySeparator: String)
}

/// A plain digest over the secret followed by the signed content (`sha256(secret ‖ body)`): not an HMAC, but what some
/// providers' legacy schemes send (Recharge's `X-Recharge-Hmac-Sha256`, Maxio's MD5 `X-Chargify-Webhook-Signature`).
public enum KeyedHashFunction: String, Sendable, CaseIterable {
    case sha256, md5
}

public enum HashFunction: String, Sendable, CaseIterable {
    case sha1, sha256, sha512
}

/// The cryptographic check of a signature variant. Profiles pick one by name; each case is implemented in Swift
/// behind the same verification entry point, so the server never switches on the provider.
public enum SignatureAlgorithm: Sendable, Equatable {
    /// HMAC over the signed content, compared in constant time as the encoded string the provider sends.
    case hmac(HashFunction)
    /// Ed25519 with the provider's public key (Discord).
    case ed25519
    /// ECDSA P-256 with SHA-256, DER signature, public key as DER SubjectPublicKeyInfo (SendGrid).
    case ecdsaP256SHA256
    /// ECDSA P-256 with SHA-1, DER signature (eBay's `ssl3-sha1` with an EC key).
    case ecdsaP256SHA1
    /// No signature: the header carries a shared token that must equal the secret (GitLab, Okta, generic-token).
    case token
    /// Twilio: HMAC-SHA1 over the public URL plus sorted form parameters, or over the URL carrying `bodySHA256`.
    case twilio
    /// AWS SNS: RSA (SHA1 or SHA256 by `SignatureVersion`) over the canonical message, key from `SigningCertURL`.
    case awsSNS
    /// PayPal: SHA256withRSA over `id|time|webhook_id|crc32(body)`, key from `PAYPAL-CERT-URL`.
    case paypalRSA
    /// RSASSA-PKCS1-v1_5 over the signed content with the provider's configured public key (Wise, Fireblocks).
    case rsa(HashFunction)
    /// A JWT in the signature header, checked as the profile's `[jwt]` table says (`JWTSpec`).
    case jwt
    /// A digest of the secret followed by the signed content (see `KeyedHashFunction`).
    case keyedHash(KeyedHashFunction)
    /// Plivo's V3 signature (plivo-python `signature_v3.py`): HMAC-SHA256/base64, keyed with the auth token, over the
    /// public URL with its query sorted, the sorted POST parameters and `.` + the `X-Plivo-Signature-V3-Nonce` header.
    case plivoV3

    public var name: String {
        switch self {
        case .hmac(let h): return "hmac-\(h.rawValue)"
        case .ed25519: return "ed25519"
        case .ecdsaP256SHA256: return "ecdsa-p256-sha256"
        case .ecdsaP256SHA1: return "ecdsa-p256-sha1"
        case .token: return "token"
        case .twilio: return "twilio"
        case .awsSNS: return "aws-sns"
        case .paypalRSA: return "paypal-rsa"
        case .rsa(let h): return "rsa-\(h.rawValue)"
        case .jwt: return "jwt"
        case .keyedHash(let h): return "keyed-\(h.rawValue)"
        case .plivoV3: return "plivo-v3"
        }
    }

    public init?(name: String) {
        switch name {
        case "hmac-sha1": self = .hmac(.sha1)
        case "hmac-sha256": self = .hmac(.sha256)
        case "hmac-sha512": self = .hmac(.sha512)
        case "ed25519": self = .ed25519
        case "ecdsa-p256-sha256": self = .ecdsaP256SHA256
        case "ecdsa-p256-sha1": self = .ecdsaP256SHA1
        case "token": self = .token
        case "twilio": self = .twilio
        case "aws-sns": self = .awsSNS
        case "paypal-rsa": self = .paypalRSA
        case "rsa-sha1": self = .rsa(.sha1)
        case "rsa-sha256": self = .rsa(.sha256)
        case "rsa-sha512": self = .rsa(.sha512)
        case "jwt": self = .jwt
        case "keyed-sha256": self = .keyedHash(.sha256)
        case "keyed-md5": self = .keyedHash(.md5)
        case "plivo-v3": self = .plivoV3
        default: return nil
        }
    }

    public var usesPublicKey: Bool {
        if case .rsa = self { return true }
        return self == .ed25519 || self == .ecdsaP256SHA256 || self == .ecdsaP256SHA1
    }
    /// The key comes from a certificate the request points to, fetched by the server.
    public var usesSigningCertificate: Bool { self == .awsSNS || self == .paypalRSA }
    /// A key fetched by id (`[key_fetch]`) can verify it: a JWT, or a P-256 / RSA signature.
    public var verifiesWithFetchedKey: Bool {
        if case .rsa = self { return true }
        return self == .jwt || self == .ecdsaP256SHA256 || self == .ecdsaP256SHA1
    }
}

/// One part of the signed-content template.
public enum SignedContentSegment: Sendable, Equatable {
    case literal([UInt8])
    case body
    case timestamp
    case id
    case method
    case url
    case header(String)
    case json(JSONPointer)
    case query(String)
    /// `{path}`: the path the provider called (the public URL's path when the source sets one, else the request's).
    case path
    /// `{signed_headers}`: the header list the request names (`SignedHeaderList`), rendered.
    case signedHeaders
    /// `{signed_header_names}`: the names of that list, normalized (lower-case) and joined by its separator.
    case signedHeaderNames
    /// `{?…}`: the parts inside are signed only when every placeholder among them has a non-empty value (Mercado Pago
    /// leaves out `id:{data.id};` when the notification has no `data.id`).
    case optional([SignedContentSegment])
    /// `{form:NAME}`: a field of a form body, percent-decoded, as bytes (Braintree's `bt_payload`).
    case form(String)
    /// `{form_sorted}`: every field of a form body but the excluded ones (the spec's `form_exclude`) and those with
    /// an empty value, as `name=value` joined by `&`, names in byte order, decoded (Alipay's `rsaCheckV1` content).
    case formSorted(excluding: [String])
    /// `{signature:NAME}`: a field of the signature header (Hygraph's `env`).
    case signatureField(String)
    /// `{json-string:X}`: the value of placeholder X as a JSON string literal, as @hygraph/utils writes it
    /// (`JSONStringLiteral.goHTMLSafe`).
    indirect case jsonString(SignedContentSegment)
}

/// The bytes a provider signs, e.g. `{timestamp}.{body}` or `v0:{timestamp}:{body}`.
public struct SignedContentTemplate: Sendable, Equatable, CustomStringConvertible {
    public private(set) var segments: [SignedContentSegment]
    public let text: String

    public enum ParseError: Error, Equatable { case unknownPlaceholder(String), unterminated, nestedOptional, emptyOptional }

    /// The same template with `{form_sorted}` leaving out `names` (a spec's `form_exclude`).
    public func excludingFormFields(_ names: [String]) -> SignedContentTemplate {
        var copy = self
        copy.segments = segments.map { if case .formSorted = $0 { return .formSorted(excluding: names) }; return $0 }
        return copy
    }

    public init(_ text: String) throws {
        segments = try Self.parse(Substring(text), nested: false)
        self.text = text
        // Asked on every request: answered once here, not by walking the segments each time.
        let all = segments.flatMap { seg -> [SignedContentSegment] in
            if case .optional(let inner) = seg { return inner }
            return [seg]
        }.map { seg -> SignedContentSegment in
            if case .jsonString(let inner) = seg { return inner }
            return seg
        }
        usesTimestamp = all.contains(.timestamp)
        usesID = all.contains(.id)
        usesURL = all.contains(.url)
        usesForm = all.contains { if case .form = $0 { return true }; if case .formSorted = $0 { return true }; return false }
        // `{json-string:body}` (Hygraph) covers the body too: the escaping is one-to-one. Not inside an optional group.
        coversBody = segments.contains { seg in
            if case .body = seg { return true }
            if case .jsonString(.body) = seg { return true }
            return false
        }
    }

    private static func parse(_ text: Substring, nested: Bool) throws(ParseError) -> [SignedContentSegment] {
        var segs: [SignedContentSegment] = []
        var literal: [UInt8] = []
        var rest = text
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            literal += Array(rest[..<open].utf8)
            let afterOpen = rest.index(after: open)
            // `{{` and `}}` are literal braces (Hygraph signs a JSON object); a lone `}` is literal as it always was.
            if afterOpen < rest.endIndex, rest[afterOpen] == rest[open] {
                literal.append(UInt8(ascii: rest[open] == "{" ? "{" : "}"))
                rest = rest[rest.index(after: afterOpen)...]
                continue
            }
            if rest[open] == "}" {
                literal.append(UInt8(ascii: "}"))
                rest = rest[afterOpen...]
                continue
            }
            let seg: SignedContentSegment
            if afterOpen < rest.endIndex, rest[afterOpen] == "?" {
                // An optional group runs to its matching brace; it may hold placeholders but no further group.
                guard !nested else { throw ParseError.nestedOptional }
                var depth = 0
                var close: Substring.Index?
                var i = rest.index(after: afterOpen)
                while i < rest.endIndex {
                    if rest[i] == "{" { depth += 1 } else if rest[i] == "}" {
                        if depth == 0 { close = i; break }
                        depth -= 1
                    }
                    i = rest.index(after: i)
                }
                guard let end = close else { throw ParseError.unterminated }
                let inner = try parse(rest[rest.index(after: afterOpen)..<end], nested: true)
                guard inner.contains(where: { if case .literal = $0 { return false }; return true }) else { throw ParseError.emptyOptional }
                seg = .optional(inner)
                rest = rest[rest.index(after: end)...]
            } else {
                guard let close = rest[open...].firstIndex(of: "}") else { throw ParseError.unterminated }
                let name = String(rest[afterOpen..<close])
                seg = try placeholder(name)
                rest = rest[rest.index(after: close)...]
            }
            if !literal.isEmpty { segs.append(.literal(literal)); literal = [] }
            segs.append(seg)
        }
        literal += Array(rest.utf8)
        if !literal.isEmpty { segs.append(.literal(literal)) }
        return segs
    }

    private static func placeholder(_ name: String) throws(ParseError) -> SignedContentSegment {
        switch name {
        case "body": return .body
        case "timestamp": return .timestamp
        case "id": return .id
        case "method": return .method
        case "url": return .url
        case "path": return .path
        case "signed_headers": return .signedHeaders
        case "signed_header_names": return .signedHeaderNames
        case "form_sorted": return .formSorted(excluding: [])
        default:
            if name.hasPrefix("header:"), name.count > 7 { return .header(String(name.dropFirst(7))) }
            if name.hasPrefix("json:"), let p = JSONPointer(String(name.dropFirst(5))) { return .json(p) }
            if name.hasPrefix("query:"), name.count > 6 { return .query(String(name.dropFirst(6))) }
            if name.hasPrefix("form:"), name.count > 5 { return .form(String(name.dropFirst(5))) }
            if name.hasPrefix("signature:"), name.count > 10 { return .signatureField(String(name.dropFirst(10))) }
            if name.hasPrefix("json-string:"), name.count > 12 {
                let inner = try placeholder(String(name.dropFirst(12)))
                if case .jsonString = inner { throw ParseError.unknownPlaceholder(name) }
                if case .formSorted = inner { throw ParseError.unknownPlaceholder(name) }
                return .jsonString(inner)
            }
            throw ParseError.unknownPlaceholder(name)
        }
    }

    public var description: String { text }
    public let usesTimestamp: Bool
    public let usesID: Bool
    public let usesURL: Bool
    /// The template reads the form body (`{form:…}`, `{form_sorted}`): it is parsed once per request.
    public let usesForm: Bool
    /// Every byte of the body is signed (`{body}`, or `{json-string:body}`).
    public let coversBody: Bool
}

/// One way a provider signs: which header, how it is laid out, what is signed and how.
public struct SignatureSpec: Sendable, Equatable {
    /// Where the signature is: candidate sources, the first one present is used (e.g. header `svix-signature`, then
    /// `webhook-signature`; Mailgun: `json:/signature/signature`).
    public var sources: [ValueSource]
    public var format: SignatureHeaderFormat
    public var algorithm: SignatureAlgorithm
    public var encoding: ByteEncoding
    public var signedContent: SignedContentTemplate
    /// A legacy variant (e.g. GitHub's SHA-1 `X-Hub-Signature`) is refused unless the source opts in.
    public var legacy: Bool
    /// Signatures are gathered from every source present, not only the first: one header per key (DocuSign's
    /// `X-DocuSign-Signature-1…N`, Box's primary and secondary). Any configured key may match any of them.
    public var everySource = false
    /// Signatures over selected fields, one per item of the array at this pointer (Adyen's `notificationItems`): the
    /// `from` sources and the `{json:…}` placeholders are relative to each item, and every item must verify.
    public var items: JSONPointer?
    /// The headers the request itself names as signed (Contentful, Hook0, Coinbase CDP).
    public var signedHeaders: SignedHeaderList?
    /// Other texts a signature may cover, tried after `signedContent` (Braintree's SDK accepts the payload followed by
    /// a newline). HMAC only.
    public var alternateContents: [SignedContentTemplate] = []

    public init(sources: [ValueSource], format: SignatureHeaderFormat, algorithm: SignatureAlgorithm, encoding: ByteEncoding, signedContent: SignedContentTemplate, legacy: Bool = false) {
        self.sources = sources
        self.format = format
        self.algorithm = algorithm
        self.encoding = encoding
        self.signedContent = signedContent
        self.legacy = legacy
    }
}

public enum TimestampUnit: String, Sendable, CaseIterable {
    case seconds, milliseconds, rfc3339
}

/// A list of signed headers named by the request: where the names are, how they are split and ordered, what becomes of a
/// named header that is absent, and how `{signed_headers}` renders the list.
///
/// Hook0 (and Coinbase CDP): names in the signature's `h` field, space-separated, in the order given, an absent header
/// refused, rendered as the values joined by `.` (`{signed_header_names}` renders the names). Contentful: names in
/// `x-contentful-signed-headers`, comma-separated, sorted, the signed-headers and timestamp headers always included,
/// absent ones skipped, rendered as `name:value` joined by `;` (the list header's own value is the normalized list).
public struct SignedHeaderList: Sendable, Equatable {
    public enum Render: Sendable, Equatable {
        case values(join: String)
        case pairs(separator: String, join: String)
    }

    public var namesFrom: ValueSource
    public var separator: String
    public var sorted: Bool
    public var alwaysInclude: [String]
    /// A named header the request lacks: refused (`malformed_signature`) when true, left out when false.
    public var refuseMissing: Bool
    public var render: Render
    /// At most this many names (an unsigned request chooses them).
    public static let maxNames = 64

    public init(namesFrom: ValueSource, separator: String, sorted: Bool, alwaysInclude: [String], refuseMissing: Bool, render: Render) {
        self.namesFrom = namesFrom
        self.separator = separator
        self.sorted = sorted
        self.alwaysInclude = alwaysInclude
        self.refuseMissing = refuseMissing
        self.render = render
    }
}

/// Where a provider's signed timestamp is and how far it may be from the receive time.
public struct TimestampSpec: Sendable, Equatable {
    public var sources: [ValueSource]
    public var unit: TimestampUnit
    /// How old a timestamp may be, in seconds.
    public var toleranceSeconds: Int64
    /// How far in the future a timestamp may be, in seconds (clock skew).
    public var futureToleranceSeconds: Int64

    public init(sources: [ValueSource], unit: TimestampUnit, toleranceSeconds: Int64, futureToleranceSeconds: Int64) {
        self.sources = sources
        self.unit = unit
        self.toleranceSeconds = toleranceSeconds
        self.futureToleranceSeconds = futureToleranceSeconds
    }
}

/// How a configured secret string becomes key bytes.
public enum SecretEncoding: Sendable, Equatable {
    /// The secret's UTF-8 bytes, as written (Stripe uses `whsec_…` as-is).
    case utf8
    /// Base64 after an optional prefix (Standard Webhooks: `whsec_` + base64).
    case base64(stripPrefix: String)
    case hex
    /// A public key as PEM (`-----BEGIN PUBLIC KEY-----`) or bare base64 DER.
    case pem
    /// Two parts, `KEY_ID:SECRET` (Braintree: `public_key:private_key`): the key ID names which of the request's
    /// signatures the key checks (`format = "keyed-pairs"`); the HMAC key is the secret's UTF-8 bytes, or their digest
    /// when `digest` is set (Braintree: SHA-1 of the private key). Either part may be long; neither may be empty.
    case keyPair(digest: HashFunction?)

    /// The key ID of a `key-pair` secret (the part before the first `:`); nil for other encodings.
    public func keyID(_ secret: String) -> String? {
        guard case .keyPair = self, let colon = secret.firstIndex(of: ":"), colon != secret.startIndex else { return nil }
        return String(secret[..<colon])
    }

    public func decode(_ secret: String) -> [UInt8]? {
        switch self {
        case .keyPair(let digest):
            guard keyID(secret) != nil, let colon = secret.firstIndex(of: ":") else { return nil }
            let privatePart = Array(secret[secret.index(after: colon)...].utf8)
            guard !privatePart.isEmpty else { return nil }
            return digest.map { $0.digest(privatePart) } ?? privatePart
        case .pem: return PublicKeys.derFromPEMOrBase64(secret)
        case .utf8: return secret.isEmpty ? nil : Array(secret.utf8)
        case .base64(let prefix):
            let body = secret.hasPrefix(prefix) ? String(secret.dropFirst(prefix.count)) : secret
            guard let k = Base64.decode(body), !k.isEmpty else { return nil }
            return k
        case .hex:
            guard let k = Hex.decode(secret), !k.isEmpty else { return nil }
            return k
        }
    }
}

/// How an event is identified and typed.
public struct EventSpec: Sendable, Equatable {
    /// Sources of the provider's event ID, tried in order; when none yields a value the ID is the
    /// SHA-256 of the body (hex), so a byte-identical retry still deduplicates.
    public var idSources: [ValueSource]
    public var typeSources: [ValueSource]

    public init(idSources: [ValueSource], typeSources: [ValueSource]) {
        self.idSources = idSources
        self.typeSources = typeSources
    }
}

/// A batch the provider sends in one request (GoCardless `events[]`, Okta `data.events[]`): the raw request is stored
/// once, and each element of the array at `pointer` becomes an event with its own ID, type, idempotency key, routes
/// and deliveries, so a retried batch is deduplicated item by item.
public struct SplitSpec: Sendable, Equatable {
    public var pointer: JSONPointer
    /// Where an item's ID is: `json:` pointers relative to the item (`json:/id`), or request parts (`header:`).
    public var idSources: [ValueSource]
    /// Where an item's type is, likewise; without one, the request's type.
    public var typeSources: [ValueSource]
    /// A batch of more items than this is stored as one event, as without `split`.
    public static let maxItems = 10_000

    public init(pointer: JSONPointer, idSources: [ValueSource], typeSources: [ValueSource]) {
        self.pointer = pointer
        self.idSources = idSources
        self.typeSources = typeSources
    }
}

/// How well a profile's scheme is established: what its facts were read in. Shown to operators so a profile that
/// rests on secondary sources is not mistaken for one checked against the provider's own code.
public enum ProfileConfidence: String, Sendable, Equatable, CaseIterable {
    /// Read in the provider's own SDK, official sample or sender code.
    case sdk
    /// Read in the provider's official documentation (or the documentation of the platform that signs for it).
    case docs
    /// Only independent public implementations or third-party tables agree; not checked against the provider.
    case secondary
}

/// A provider's webhook scheme as data: loaded from `providers/<name>.toml`.
public struct ProviderProfile: Sendable, Equatable {
    public var name: String
    public var displayName: String
    public var signatures: [SignatureSpec]
    /// Sources of the `{id}` placeholder of the signed content.
    public var signedIDSources: [ValueSource]
    public var secretEncoding: SecretEncoding
    public var timestamp: TimestampSpec?
    public var event: EventSpec
    /// A JSON body is expected; a non-JSON body is still stored and forwarded (as `data_base64`).
    public var contentType: String

    /// Coded handshakes (SNS subscription confirmation), answered after verification.
    public var handshakes: [Handshake]
    /// Declared handshakes (`[[handshake]]`): URL verification challenges, pings and CRC checks the gateway answers
    /// itself instead of storing them, in the order the profile lists them.
    public var handshakeRules: [HandshakeRule] = []
    /// The provider's published sender addresses, for sources that set `allow_provider_ips`.
    public var sourceIPs: PublishedIPRanges?
    /// Sources deduplicate on the body's SHA-256 unless they say otherwise (`dedup_on_body_hash`): set for profiles
    /// whose event ID is an unsigned header and that sign no timestamp, so nothing signed tells a replay apart.
    public var dedupOnBodyHash = false
    /// What the profile's scheme was read in (every shipped profile states it; `ProfileLoader` requires it).
    public var confidence: ProfileConfidence = .secondary
    /// Where the scheme was read: the SDK file, documentation page or sources, for an operator to check.
    public var reference = ""
    /// The profile's one-line description of its scheme (`description` in the file), for the README's table.
    public var summary = ""
    /// The JWT scheme, for profiles whose signature algorithm is `jwt`.
    public var jwt: JWTSpec?
    /// One request carries many events (`split = "/events"`): each element of the array is an event of its own.
    public var split: SplitSpec?
    /// The key is fetched from the provider's API by the id the request names (`[key_fetch]`: Circle, eBay, Plaid).
    public var keyFetch: KeyFetchSpec?
    /// The exact text the provider needs back to stop retrying (`ack_body`; Alipay: `success`), sent as `text/plain`
    /// instead of Inlet's JSON answer when an event is accepted or a duplicate.
    public var ackBody: String?

    public init(name: String, displayName: String, signatures: [SignatureSpec], signedIDSources: [ValueSource] = [], secretEncoding: SecretEncoding, timestamp: TimestampSpec?, event: EventSpec, contentType: String = "application/json", handshakes: [Handshake] = []) {
        self.handshakes = handshakes
        self.name = name
        self.displayName = displayName
        self.signatures = signatures
        self.signedIDSources = signedIDSources
        self.secretEncoding = secretEncoding
        self.timestamp = timestamp
        self.event = event
        self.contentType = contentType
    }

    /// A one-line summary of the scheme for `inlet providers`.
    public var schemeSummary: String {
        guard let s = signatures.first(where: { !$0.legacy }) ?? signatures.first else { return "none" }
        let where_ = s.sources.map { if case .header(let h) = $0 { return h }; return $0.description }.joined(separator: "|")
        switch s.algorithm {
        case .token: return "token in \(where_)"
        case .twilio: return "twilio (hmac-sha1/base64 over URL + sorted params) in \(where_)"
        case .awsSNS: return "aws-sns (RSA over the canonical message; certificate from sns.<region>.amazonaws.com)"
        case .paypalRSA: return "paypal-rsa (SHA256withRSA over id|time|webhook_id|crc32; certificate from api.paypal.com)"
        case .plivoV3: return "plivo-v3 (hmac-sha256/base64 over URL + sorted params + nonce) in \(where_)"
        case .jwt:
            guard let j = jwt else { return "jwt in \(where_)" }
            var parts = [j.algorithms.map(\.rawValue).joined(separator: "/")]
            if let bh = j.bodyHash { parts.append("body SHA-256 in claim \(bh.claim) (\(bh.encoding.rawValue))") }
            if let url = j.jwksURL { parts.append("keys from \(url)") }
            if let k = keyFetch { parts.append("key by \(k.keyID) from \(KeyFetchSpec.host(of: k.url) ?? k.url)") }
            return "jwt (\(parts.joined(separator: "; "))) in \(where_)"
        default:
            let fetched = keyFetch.map { "; key by \($0.keyID) from \(KeyFetchSpec.host(of: $0.url) ?? $0.url)" } ?? ""
            return "\(s.algorithm.name)/\(s.encoding.rawValue) over \(s.signedContent.text) in \(where_)\(fetched)"
        }
    }
}

/// A decoded secret (or provider public key) with the label operators know it by. Key material never appears
/// in descriptions.
public struct VerificationKey: Sendable, CustomStringConvertible {
    /// Public keys are kept as validated bytes (swift-crypto's key types are not `Sendable`) and rebuilt per
    /// verification, which costs a copy for Ed25519 and a DER parse for P-256.
    public enum Material: Sendable {
        case symmetric([UInt8])
        case ed25519(raw: [UInt8])
        case p256(der: [UInt8])
        /// An RSA public key (2048 to 8192 bits), read by `PublicKeys` from a configured PEM or DER.
        case rsa(_RSA.Signing.PublicKey)
    }

    public let label: String
    public let material: Material
    /// The ID the provider names the key by in the request (Braintree's public key), for `key-pair` secrets. Not secret,
    /// but kept out of descriptions like the rest.
    public var keyID: String?
    /// When the key may verify; outside it the key is skipped.
    public var window = SecretWindow()
    /// For symmetric keys, the HMAC state after the key schedule, made once here (at config load) and copied per
    /// verification instead of deriving a `SymmetricKey` and both pads on every request.
    let hmac: PreparedHMAC?

    public init(label: String, keyBytes: [UInt8], window: SecretWindow = SecretWindow()) {
        self.init(label: label, material: .symmetric(keyBytes), window: window)
    }

    public init(label: String, material: Material, window: SecretWindow = SecretWindow()) {
        self.label = label
        self.material = material
        self.window = window
        if case .symmetric(let bytes) = material { hmac = PreparedHMAC(key: bytes) } else { hmac = nil }
    }

    /// The secret's bytes for symmetric schemes; empty for public keys.
    public var keyBytes: [UInt8] {
        if case .symmetric(let k) = material { return k }
        return []
    }

    public var description: String { "VerificationKey(\(label), <redacted>)" }
}

extension ProviderProfile {
    /// What a source's secret must look like, for error messages.
    public var keyDescription: String {
        switch signatures.first?.algorithm {
        case .ed25519?: return "the provider's Ed25519 public key, \(secretEncoding)"
        case .ecdsaP256SHA256?, .ecdsaP256SHA1?: return "the provider's P-256 public key (DER SubjectPublicKeyInfo), \(secretEncoding)"
        case .rsa?: return "the provider's RSA public key (2048 to 8192 bits), as PEM or base64 DER"
        case .jwt?:
            let spec = jwt ?? JWTSpec(algorithms: [])
            switch (spec.acceptsHMAC, spec.acceptsPublicKeys) {
            case (true, false): return "the signing secret (\(secretEncoding)); a PEM public key is refused as an HMAC secret"
            case (false, _): return "the provider's public key (\(spec.algorithms.map(\.rawValue).joined(separator: "/"))) as PEM"
            case (true, true): return "the signing secret (\(secretEncoding)), or the provider's public key as PEM"
            }
        default:
            if case .keyPair = secretEncoding { return "KEY_ID:SECRET (e.g. the Braintree public key, ':', the private key)" }
            return "\(secretEncoding)"
        }
    }

    /// Turns a configured secret string into a key for this profile: decoded per `secret_encoding`, and parsed as
    /// a public key when the profile verifies with one. Nil when it does not decode.
    public func makeKey(label: String, secret: String) -> VerificationKey? {
        if signatures.first?.algorithm == .jwt { return makeJWTKey(label: label, secret: secret) }
        guard let bytes = secretEncoding.decode(secret) else { return nil }
        switch signatures.first?.algorithm {
        case .ed25519?:
            guard (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else { return nil }
            return VerificationKey(label: label, material: .ed25519(raw: bytes))
        case .ecdsaP256SHA256?, .ecdsaP256SHA1?:
            guard (try? P256.Signing.PublicKey(derRepresentation: bytes)) != nil else { return nil }
            return VerificationKey(label: label, material: .p256(der: bytes))
        case .rsa?:
            guard case .rsa(let key)? = PublicKeys.parse(der: bytes) else { return nil }
            return VerificationKey(label: label, material: .rsa(key))
        case .jwt?:
            return makeJWTKey(label: label, secret: secret)
        default:
            var key = VerificationKey(label: label, keyBytes: bytes)
            key.keyID = secretEncoding.keyID(secret)
            return key
        }
    }
}

extension ProviderProfile {
    /// A JWT profile's key: a PEM public key becomes an RSA or P-256 key (only if the profile accepts RS256/ES256),
    /// anything else a shared secret (only if it accepts HS*). The kind of key, fixed here, decides which algorithms
    /// it can ever verify: a public key is never used as an HMAC secret.
    func makeJWTKey(label: String, secret: String) -> VerificationKey? {
        guard let spec = jwt else { return nil }
        if PublicKeys.looksLikePEM(secret) {
            guard spec.acceptsPublicKeys, let der = PublicKeys.derFromPEMOrBase64(secret) else { return nil }
            switch PublicKeys.parse(der: der) {
            case .rsa(let key)? where spec.algorithms.contains(.rs256): return VerificationKey(label: label, material: .rsa(key))
            case .p256(let der)? where spec.algorithms.contains(.es256): return VerificationKey(label: label, material: .p256(der: der))
            default: return nil
            }
        }
        guard spec.acceptsHMAC, let bytes = secretEncoding.decode(secret) else { return nil }
        return VerificationKey(label: label, keyBytes: bytes)
    }

    /// Where a JWT source's key set is: the source's own `jwks_url`, else the profile's.
    public func keySetURL(sourceURL: String?) -> String? {
        guard signatures.contains(where: { $0.algorithm == .jwt }) else { return nil }
        return sourceURL ?? jwt?.jwksURL
    }
}

/// HMAC states keyed with one secret, one per hash function (a profile's variants may differ: GitHub's SHA-256 and
/// legacy SHA-1). swift-crypto's `HMAC` is a value whose hashers copy on write, so a copy updated on any thread
/// leaves these untouched; it is not marked `Sendable`, hence the unchecked conformance.
struct PreparedHMAC: @unchecked Sendable {
    let sha1: HMAC<Insecure.SHA1>
    let sha256: HMAC<SHA256>
    let sha512: HMAC<SHA512>

    init(key: [UInt8]) {
        let k = SymmetricKey(data: key)
        sha1 = HMAC(key: k)
        sha256 = HMAC(key: k)
        sha512 = HMAC(key: k)
    }
}

extension HashFunction {
    /// The plain digest of `bytes` (a `key-pair` secret's derived key).
    func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: return Array(Insecure.SHA1.hash(data: bytes))
        case .sha256: return Array(SHA256.hash(data: bytes))
        case .sha512: return Array(SHA512.hash(data: bytes))
        }
    }

    /// The MAC of the bytes `feed` hands over, chunk by chunk (no concatenated message), from a prepared key.
    func mac(_ prepared: PreparedHMAC, feed: ((UnsafeRawBufferPointer) -> Void) -> Void) -> [UInt8] {
        switch self {
        case .sha1:
            var h = prepared.sha1
            feed { h.update(data: $0) }
            return Array(h.finalize())
        case .sha256:
            var h = prepared.sha256
            feed { h.update(data: $0) }
            return Array(h.finalize())
        case .sha512:
            var h = prepared.sha512
            feed { h.update(data: $0) }
            return Array(h.finalize())
        }
    }

    func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        let k = SymmetricKey(data: key)
        switch self {
        case .sha1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: k))
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: message, using: k))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: message, using: k))
        }
    }
}

/// SHA-256 of bytes as lower-case hex: the fallback event ID.
public func sha256Hex(_ bytes: [UInt8]) -> String {
    Hex.string(SHA256.hash(data: bytes))
}

/// A provider's published webhook source addresses, with when and where they were taken.
public struct PublishedIPRanges: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        /// `{"WEBHOOKS": ["1.2.3.4", …]}` (Stripe's ips_webhooks.json).
        case stripeJSON = "stripe-json"
        /// `{"hooks": ["192.30.252.0/22", …]}` (GitHub's meta API).
        case githubMeta = "github-meta"
        /// The array of addresses at a JSON pointer (`pointer`), e.g. `/data/ipv4_cidrs` or `/notifications`.
        case jsonArray = "json-array"
        /// `{"us": ["44.228.126.217", …], "eu": […], …}`: one array per region, all regions taken (Svix's
        /// webhook-ips.json). A sender uses one region's addresses, but which one is the sender's account setting.
        case regionsJSON = "regions-json"
        /// One address or CIDR per line; `#` comments.
        case text
    }

    public var ranges: [CIDR]
    /// The date the ranges were taken (YYYY-MM-DD), shown to operators so stale lists are visible.
    public var asOf: String
    /// Where the list was read (the provider's page or document), so every shipped list has provenance.
    public var reference: String?
    /// Machine-readable lists `inlet providers update-ips` refreshes from (their union), if the provider publishes them.
    public var urls: [String]
    public var format: Format?
    /// With `json-array`: where the array is.
    public var pointer: JSONPointer?

    public init(ranges: [CIDR], asOf: String, reference: String? = nil, urls: [String] = [], format: Format? = nil, pointer: JSONPointer? = nil) {
        self.ranges = ranges
        self.asOf = asOf
        self.reference = reference
        self.urls = urls
        self.format = format
        self.pointer = pointer
    }

    /// How `inlet providers` shows the list: its size, its date and where it was read.
    public var summary: String {
        "\(ranges.count) as of \(asOf)" + (reference.map { " (\($0))" } ?? "")
    }

    /// Extracts the addresses from one downloaded list. Throws on anything that is not an address or CIDR, so a
    /// changed format never silently empties an allowlist.
    public static func parse(_ data: [UInt8], format: Format, pointer: JSONPointer? = nil) throws -> [CIDR] {
        var texts: [String] = []
        switch format {
        case .text:
            for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let t = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingCharacters(in: .whitespaces)
                if !t.isEmpty { texts.append(t) }
            }
        case .stripeJSON, .githubMeta, .jsonArray:
            let at: JSONPointer
            switch format {
            case .stripeJSON: at = JSONPointer(tokens: ["WEBHOOKS"])
            case .githubMeta: at = JSONPointer(tokens: ["hooks"])
            default:
                guard let pointer else { throw ParseError.missingKey("pointer") }
                at = pointer
            }
            texts = try strings(at: at, in: data)
        case .regionsJSON:
            // Every member must be an array of strings: a new shape (a nested object, a number) is a changed format.
            guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any], !object.isEmpty else {
                throw ParseError.missingKey("region")
            }
            for region in object.keys.sorted() {
                guard let items = object[region] as? [Any] else { throw ParseError.notAList(region) }
                for item in items {
                    guard let t = item as? String else { throw ParseError.notAList(region) }
                    if !texts.contains(t) { texts.append(t) }
                }
            }
        }
        guard !texts.isEmpty else { throw ParseError.empty }
        return try texts.map { t in
            guard let c = CIDR(t) else { throw ParseError.notAnAddress(t) }
            // A provider's senders are a few small networks. A huge prefix (`0.0.0.0/0`, `::/0`) in a downloaded list
            // is a mistake or a tampered list, and would turn `allow_provider_ips` into "allow everyone".
            if c.isTooBroadForSenderList { throw ParseError.tooBroad(t) }
            return c
        }
    }

    /// The string elements of the array at `pointer`; throws when there is no array there or an element is not a string.
    private static func strings(at pointer: JSONPointer, in data: [UInt8]) throws -> [String] {
        // Named as before for the one-key formats (`hooks`, `WEBHOOKS`), as a pointer otherwise.
        let key = pointer.tokens.count == 1 ? pointer.tokens[0] : pointer.description
        guard let elements = try? JSONScanner.arrayElements(at: pointer, in: data, limit: maxEntries) else { throw ParseError.missingKey(key) }
        return try elements.map { element in
            guard element.kind == .string, let t = try? JSONScanner.unescape(data, element.range) else { throw ParseError.notAList(key) }
            return t
        }
    }

    /// The lists of a provider that publishes its senders in parts (one per region or environment) as one list: in
    /// order, each range once.
    public static func union(_ parts: [[CIDR]]) -> [CIDR] {
        var seen: Set<String> = []
        return parts.flatMap { $0 }.filter { seen.insert($0.text).inserted }
    }

    /// More entries than any provider's sender list has: a document this long is not the list.
    public static let maxEntries = 10_000

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingKey(String), empty, notAnAddress(String), tooBroad(String), notAList(String)
        public var description: String {
            switch self {
            case .missingKey(let k): return "the list has no \"\(k)\" array"
            case .empty: return "the list is empty"
            case .notAnAddress(let t): return "'\(t)' is not an IP address or CIDR"
            case .tooBroad(let t): return "'\(t)' is too broad for a provider's sender addresses (the shortest accepted prefixes are IPv4 /\(CIDR.shortestSenderPrefixV4) and IPv6 /\(CIDR.shortestSenderPrefixV6))"
            case .notAList(let k): return "\"\(k)\" is not an array of address strings"
            }
        }
    }
}

/// The validity window of a secret: it verifies (or signs) from `notBefore` until `expiresAt`. Both optional.
public struct SecretWindow: Sendable, Equatable {
    public var notBefore: EpochMillis?
    public var expiresAt: EpochMillis?

    public init(notBefore: EpochMillis? = nil, expiresAt: EpochMillis? = nil) {
        self.notBefore = notBefore
        self.expiresAt = expiresAt
    }

    public func isActive(at now: EpochMillis) -> Bool {
        if let nb = notBefore, now < nb { return false }
        if let ex = expiresAt, now >= ex { return false }
        return true
    }

    public func hasExpired(at now: EpochMillis) -> Bool { expiresAt.map { now >= $0 } ?? false }
}

/// A request's signed-header list, resolved once per request and rendered into the signed content.
struct RenderedHeaderList: Sendable, Equatable {
    /// `{signed_header_names}`: the normalized names joined by the list's separator.
    var names: String
    /// `{signed_headers}`.
    var rendered: String
}

extension SignedHeaderList {
    /// The list this request names: split, normalized to lower case, the always-included names added, sorted if the
    /// provider sorts; a named header the request lacks is refused or left out. Nil names (no list) are an empty list.
    func resolve(_ request: IncomingRequest, fields: SignatureFields) -> Result<RenderedHeaderList, VerificationFailure> {
        let listHeader: String?
        if case .header(let h) = namesFrom { listHeader = h.lowercased() } else { listHeader = nil }
        let raw = ProviderProfile.value(of: namesFrom, in: request, signatureFields: fields) ?? ""
        var names: [String] = []
        for piece in raw.components(separatedBy: separator) {
            let name = piece.trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else { continue }
            guard names.count < Self.maxNames else { return .failure(.malformedSignature) }
            if !names.contains(name) { names.append(name) }
        }
        for name in alwaysInclude where !names.contains(name.lowercased()) { names.append(name.lowercased()) }
        if sorted { names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        var kept: [(String, String?)] = []
        for name in names {
            if name == listHeader { kept.append((name, nil)); continue }  // its value is the normalized list, below
            if let value = request.headers.first(name) { kept.append((name, value.trimmingASCIIWhitespace())); continue }
            if refuseMissing { return .failure(.malformedSignature) }
        }
        let joinedNames = kept.map(\.0).joined(separator: separator)
        let rendered: String
        switch render {
        case .values(let join): rendered = kept.map { $0.1 ?? joinedNames }.joined(separator: join)
        case .pairs(let sep, let join): rendered = kept.map { $0.0 + sep + ($0.1 ?? joinedNames) }.joined(separator: join)
        }
        return .success(RenderedHeaderList(names: joinedNames, rendered: rendered))
    }
}

extension SignatureSpec {
    /// The pointer of `source` within item `index` of a per-item spec, or `source` itself.
    func source(_ source: ValueSource, item index: Int) -> ValueSource {
        guard let base = items, case .json(let p) = source else { return source }
        return .json(JSONPointer(tokens: base.tokens + [String(index)] + p.tokens))
    }
}
