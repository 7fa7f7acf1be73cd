import Crypto

/// A value a handshake reads: from the request (`query:`, `header:`, `json:`, `form:`) or from the source's
/// configuration (`verify_token`, `public_url`).
public enum HandshakeValue: Sendable, Hashable, CustomStringConvertible {
    case request(ValueSource)
    /// A field of an `application/x-www-form-urlencoded` body (WooCommerce's `webhook_id` ping).
    case form(String)
    /// The source's `verify_token` (Meta, Oura, eBay's verification token, Vercel's verify code).
    case verifyToken
    /// The source's `public_url` (eBay hashes the endpoint's URL into its answer).
    case publicURL
    /// The ID of the key the answer is made with (Braintree's public key, from a `key-pair` secret).
    case keyID

    /// Parses `query:NAME`, `header:NAME`, `json:/pointer`, `form:NAME`, `verify_token`, `public_url`.
    public init?(_ text: String) {
        switch text {
        case "verify_token": self = .verifyToken
        case "public_url": self = .publicURL
        case "key_id": self = .keyID
        default:
            if text.hasPrefix("form:"), text.count > 5 { self = .form(String(text.dropFirst(5))); return }
            guard let s = ValueSource(text) else { return nil }
            if case .signatureField = s { return nil }
            self = .request(s)
        }
    }

    public var description: String {
        switch self {
        case .request(let s): return s.description
        case .form(let f): return "form:\(f)"
        case .verifyToken: return "verify_token"
        case .publicURL: return "public_url"
        case .keyID: return "key_id"
        }
    }

    /// Whether the request (or the source) has it: for a JSON pointer, a value of any kind, objects and arrays
    /// included (Discord's `event`).
    func isPresent(_ request: IncomingRequest, options: VerificationOptions) -> Bool {
        if case .request(.json(let p)) = self { return ((try? JSONScanner.find(p, in: request.body)) ?? nil) != nil }
        return read(request, options: options) != nil
    }

    /// The value, or nil when the request or the source has none (objects and arrays have no text).
    func read(_ request: IncomingRequest, options: VerificationOptions, key: VerificationKey? = nil) -> String? {
        switch self {
        case .keyID: return key?.keyID
        case .request(let s): return ProviderProfile.value(of: s, in: request)
        case .form(let name): return TwilioSignature.formParameters(request.body).first { $0.0 == name }?.1
        case .verifyToken: return options.verifyToken
        case .publicURL: return options.publicURL
        }
    }
}

/// The text of a handshake's answer (a body, a JSON field, a header): literals and `{placeholders}`; `{{` and `}}`
/// are literal braces.
///
/// A placeholder is a `HandshakeValue` (`{query:challenge}`), or a digest of an inner template
/// (`{hmac-sha256-base64({query:crc_token})}`, `{sha256-hex({query:challenge_code}{verify_token}{public_url})}`).
/// HMAC digests are keyed with the source's secret that verified the request (or its first secret, for answers to
/// unsigned requests).
public struct HandshakeTemplate: Sendable, Hashable, CustomStringConvertible {
    public enum Digest: String, Sendable, CaseIterable {
        case hmacSHA256Hex = "hmac-sha256-hex"
        case hmacSHA256Base64 = "hmac-sha256-base64"
        case hmacSHA1Hex = "hmac-sha1-hex"
        case hmacSHA1Base64 = "hmac-sha1-base64"
        case sha256Hex = "sha256-hex"

        var isKeyed: Bool { self != .sha256Hex }
    }

    public indirect enum Part: Sendable, Hashable {
        case literal(String)
        case value(HandshakeValue)
        case digest(Digest, HandshakeTemplate)
    }

    public let parts: [Part]
    public let text: String

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unterminated, unknownPlaceholder(String)
        public var description: String {
            switch self {
            case .unterminated: return "a '{' has no matching '}'"
            case .unknownPlaceholder(let p): return "unknown placeholder '{\(p)}' (query:, header:, json:, form:, verify_token, public_url, or \(Digest.allCases.map(\.rawValue).joined(separator: ", "))(…))"
            }
        }
    }

    public init(_ text: String) throws(ParseError) {
        self.text = text
        parts = try Self.parse(Substring(text))
    }

    static func parse(_ text: Substring) throws(ParseError) -> [Part] {
        var parts: [Part] = []
        var literal = ""
        var i = text.startIndex
        while i < text.endIndex {
            let next = text.index(after: i)
            // `{{` and `}}` are literal braces (a JSON body: `{{"type":1}}`).
            if (text[i] == "{" || text[i] == "}"), next < text.endIndex, text[next] == text[i] {
                literal.append(text[i])
                i = text.index(after: next)
                continue
            }
            guard text[i] == "{" else { literal.append(text[i]); i = next; continue }
            // The matching brace, counting nested ones (a digest's argument is a template).
            var depth = 0, j = i
            while j < text.endIndex {
                if text[j] == "{" { depth += 1 } else if text[j] == "}" { depth -= 1; if depth == 0 { break } }
                j = text.index(after: j)
            }
            guard j < text.endIndex else { throw .unterminated }
            let inner = text[text.index(after: i)..<j]
            if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
            if let open = inner.firstIndex(of: "("), inner.last == ")", let digest = Digest(rawValue: String(inner[..<open])) {
                let argument = inner[inner.index(after: open)..<inner.index(before: inner.endIndex)]
                let t = try HandshakeTemplate(String(argument))
                parts.append(.digest(digest, t))
            } else if let v = HandshakeValue(String(inner)) {
                parts.append(.value(v))
            } else {
                throw .unknownPlaceholder(String(inner))
            }
            i = text.index(after: j)
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }

    public var description: String { text }

    /// Every value the template reads, digests' arguments included.
    public var values: [HandshakeValue] {
        parts.flatMap { part -> [HandshakeValue] in
            switch part {
            case .literal: return []
            case .value(let v): return [v]
            case .digest(_, let t): return t.values
            }
        }
    }

    /// The text, or nil when a value is missing, no key is at hand for an HMAC, or an HMAC's input is not
    /// token-like (see `isTokenLike`).
    func render(_ request: IncomingRequest, options: VerificationOptions, key verificationKey: VerificationKey?) -> String? {
        let key = verificationKey?.keyBytes
        var out = ""
        for part in parts {
            switch part {
            case .literal(let l): out += l
            case .value(let v):
                guard let s = v.read(request, options: options, key: verificationKey) else { return nil }
                out += s
            case .digest(let d, let t):
                guard let input = t.render(request, options: options, key: verificationKey) else { return nil }
                let bytes = Array(input.utf8)
                switch d {
                case .sha256Hex: out += Hex.string(SHA256.hash(data: bytes))
                case .hmacSHA256Hex, .hmacSHA256Base64, .hmacSHA1Hex, .hmacSHA1Base64:
                    // The provider signs its events with the same key: an HMAC of any text the caller chooses would
                    // be a signature of a forged body. Challenges are short tokens, so only those are answered.
                    guard let key, !key.isEmpty, Self.isTokenLike(bytes) else { return nil }
                    let hash: HashFunction = (d == .hmacSHA1Hex || d == .hmacSHA1Base64) ? .sha1 : .sha256
                    let mac = hash.mac(key: key, message: bytes)
                    out += (d == .hmacSHA256Hex || d == .hmacSHA1Hex) ? Hex.string(mac) : Base64.encode(mac)
                }
            }
        }
        return out
    }

    /// 1 to 512 bytes of `A-Z a-z 0-9 . _ ~ + / = -`: what challenge tokens are made of, and never a JSON, form or
    /// framed (`v0:…`, `t.body`) message that the provider would sign with the same key.
    static func isTokenLike(_ bytes: [UInt8]) -> Bool {
        guard (1...512).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~") || b == UInt8(ascii: "+")
                || b == UInt8(ascii: "/") || b == UInt8(ascii: "=") || b == UInt8(ascii: "-")
        }
    }
}

/// A test on the request that decides whether a handshake applies (or, in `require`, whether it is refused).
public enum HandshakeCondition: Sendable, Hashable, CustomStringConvertible {
    case present(HandshakeValue)
    case absent(HandshakeValue)
    /// Equal as text (JSON strings unescaped, numbers as written).
    case equals(HandshakeValue, String)
    /// Present and matching a character-class pattern (Braintree's challenge: `[a-f0-9]{20,32}`).
    case matches(HandshakeValue, CharacterPattern)

    func holds(_ request: IncomingRequest, options: VerificationOptions) -> Bool {
        switch self {
        case .present(let v): return v.isPresent(request, options: options)
        case .absent(let v): return !v.isPresent(request, options: options)
        case .equals(let v, let text): return v.read(request, options: options) == text
        case .matches(let v, let pattern): return v.read(request, options: options).map(pattern.matches) ?? false
        }
    }

    public var description: String {
        switch self {
        case .present(let v): return "\(v) present"
        case .absent(let v): return "\(v) absent"
        case .equals(let v, let t): return "\(v) = \(t)"
        case .matches(let v, let p): return "\(v) matches \(p)"
        }
    }
}

/// One handshake a profile declares (`[[handshake]]`): which requests it answers, what must be verified first, and
/// the answer. The gateway answers it itself; nothing is stored or forwarded, except a secret the handshake
/// establishes (`establishesSecret`), which the server stores when the source opts in.
public struct HandshakeRule: Sendable, Equatable {
    public enum Verification: String, Sendable, CaseIterable {
        /// The request must pass the profile's verification (signature, token) first.
        case signature
        /// The provider cannot sign it (a GET before any secret is shared, Asana's first POST): answered unverified.
        /// Safe because the answer is an echo, or needs the secret to compute.
        case none
        /// `verify_token_from` must equal the source's `verify_token` (compared in constant time).
        case verifyToken = "verify_token"
    }

    public struct NamedTemplate: Sendable, Hashable {
        public var name: String
        public var template: HandshakeTemplate
        public init(_ name: String, _ template: HandshakeTemplate) {
            self.name = name
            self.template = template
        }
    }

    /// For logs, `inlet providers` and the README (`dropbox-challenge`).
    public var name: String
    /// `POST`, `GET`, `HEAD` or `OPTIONS`.
    public var method: String = "POST"
    /// All must hold for the rule to apply.
    public var when: [HandshakeCondition] = []
    /// When not empty, at least one must be present too (Meta: `hub.mode` or `hub.challenge`).
    public var whenAny: [HandshakeValue] = []
    /// Once the rule applies, these must hold, or the request is refused (`403 handshake_refused`).
    public var require: [HandshakeCondition] = []
    public var verification: Verification = .signature
    /// With `verify_token`: where the request carries it.
    public var verifyTokenFrom: HandshakeValue?
    public var status: Int = 200
    public var contentType: String?
    /// A text body; or `json`, an object of string fields in this order; or neither (an empty body).
    public var body: HandshakeTemplate?
    public var json: [NamedTemplate] = []
    public var headers: [NamedTemplate] = []
    /// The request carries the source's secret-to-be (Asana's `X-Hook-Secret`, Notion's `verification_token`).
    public var establishesSecret: HandshakeValue?

    public init(name: String) { self.name = name }

    /// Every value the rule reads from the source's configuration or the request, for config checks.
    public var values: [HandshakeValue] {
        var out: [HandshakeValue] = []
        func conditionValue(_ c: HandshakeCondition) -> HandshakeValue {
            switch c { case .present(let v), .absent(let v), .equals(let v, _), .matches(let v, _): return v }
        }
        out += when.map(conditionValue) + whenAny + require.map(conditionValue)
        if let v = verifyTokenFrom { out.append(v) }
        if verification == .verifyToken { out.append(.verifyToken) }
        out += (body?.values ?? []) + json.flatMap(\.template.values) + headers.flatMap(\.template.values)
        if let v = establishesSecret { out.append(v) }
        return out
    }

    /// Whether the rule applies to `request` (method and `when`).
    func applies(to request: IncomingRequest, options: VerificationOptions) -> Bool {
        guard request.method == method, when.allSatisfy({ $0.holds(request, options: options) }) else { return false }
        return whenAny.isEmpty || whenAny.contains { $0.isPresent(request, options: options) }
    }

    /// The answer to a request the rule applies to and whose verification passed; nil when `require` fails, the
    /// token does not match, or a value of the answer is missing (all `403 handshake_refused`).
    func answer(_ request: IncomingRequest, options: VerificationOptions, key: VerificationKey?) -> HandshakeResponse? {
        guard require.allSatisfy({ $0.holds(request, options: options) }) else { return nil }
        if verification == .verifyToken {
            guard let expected = options.verifyToken, let given = verifyTokenFrom?.read(request, options: options),
                  secretsEqual(expected, given) else { return nil }
        }
        var response = HandshakeResponse(status: status, contentType: contentType, body: [])
        if let body {
            guard let text = body.render(request, options: options, key: key) else { return nil }
            response.body = Array(text.utf8)
        } else if !json.isEmpty {
            var pairs: [(String, String)] = []
            for field in json {
                guard let text = field.template.render(request, options: options, key: key) else { return nil }
                pairs.append((field.name, text))
            }
            response = HandshakeResponse.json(pairs)
            response.status = status
        }
        for h in headers {
            guard let text = h.template.render(request, options: options, key: key) else { return nil }
            response.headers.append((h.name, text))
        }
        if let source = establishesSecret {
            guard let secret = source.read(request, options: options), !secret.isEmpty else { return nil }
            response.establishedSecret = EstablishedSecret(value: secret, handshake: name)
        }
        return response
    }
}

/// A secret a handshake hands over (Asana's `X-Hook-Secret`). Never printed.
public struct EstablishedSecret: Sendable, Equatable, CustomStringConvertible {
    public var value: String
    /// The handshake that carried it, for the label and the audit record.
    public var handshake: String

    public init(value: String, handshake: String) {
        self.value = value
        self.handshake = handshake
    }

    public var description: String { "EstablishedSecret(\(handshake), <redacted>)" }
}

/// One bracketed character class repeated a bounded number of times, `[a-f0-9]{20,32}`: the only shape of pattern a
/// handshake needs (a provider's challenge format), without a regular-expression engine on unsigned input.
public struct CharacterPattern: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    let allowed: Set<UInt8>
    let lengths: ClosedRange<Int>

    /// Parses `[…]{m,n}` or `[…]{n}`; the class holds ASCII characters and ranges such as `a-f`.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1,
              close + 1 < bytes.count, bytes[close + 1] == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        var allowed = Set<UInt8>()
        var i = 1
        while i < close {
            let c = bytes[i]
            guard c < 0x80 else { return nil }
            if i + 2 < close, bytes[i + 1] == UInt8(ascii: "-") {
                guard bytes[i + 2] < 0x80, c <= bytes[i + 2] else { return nil }
                for x in c...bytes[i + 2] { allowed.insert(x) }
                i += 3
            } else {
                allowed.insert(c)
                i += 1
            }
        }
        let counts = String(decoding: bytes[(close + 2)..<(bytes.count - 1)], as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(counts.count), let lo = Int(counts[0]), let hi = Int(counts.count == 2 ? counts[1] : counts[0]),
              lo >= 1, lo <= hi, hi <= 4096 else { return nil }
        self.text = text
        self.allowed = allowed
        self.lengths = lo...hi
    }

    public func matches(_ value: String) -> Bool {
        lengths.contains(value.utf8.count) && value.utf8.allSatisfy { allowed.contains($0) }
    }

    public var description: String { text }
}
