import Crypto

/// Where a value (event ID, type, timestamp, signed ID) is read from in a request.
public enum ValueSource: Sendable, Hashable, CustomStringConvertible {
    case header(String)
    case json(JSONPointer)
    /// A field of a key=value signature header, such as Stripe's `t`.
    case signatureField(String)
    case query(String)

    /// Parses `header:Name`, `json:/pointer`, `signature:key`, `query:name`.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let kind = text[..<colon], arg = String(text[text.index(after: colon)...])
        guard !arg.isEmpty || kind == "json" else { return nil }
        switch kind {
        case "header": self = .header(arg)
        case "json": guard let p = JSONPointer(arg) else { return nil }; self = .json(p)
        case "signature": self = .signatureField(arg)
        case "query": self = .query(arg)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .header(let h): return "header:\(h)"
        case .json(let p): return "json:\(p)"
        case .signatureField(let f): return "signature:\(f)"
        case .query(let q): return "query:\(q)"
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
}

public enum HashFunction: String, Sendable, CaseIterable {
    case sha1, sha256, sha512
}

/// The cryptographic check of a signature variant. Data-only profiles use `.hmac`; schemes that data cannot
/// express are added here as further cases with their own Swift implementation.
public enum SignatureAlgorithm: Sendable, Equatable {
    case hmac(HashFunction)
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
}

/// The bytes a provider signs, e.g. `{timestamp}.{body}` or `v0:{timestamp}:{body}`.
public struct SignedContentTemplate: Sendable, Equatable, CustomStringConvertible {
    public let segments: [SignedContentSegment]
    public let text: String

    public enum ParseError: Error, Equatable { case unknownPlaceholder(String), unterminated }

    public init(_ text: String) throws {
        var segs: [SignedContentSegment] = []
        var literal: [UInt8] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            literal += Array(rest[..<open].utf8)
            guard let close = rest[open...].firstIndex(of: "}") else { throw ParseError.unterminated }
            let name = String(rest[rest.index(after: open)..<close])
            let seg: SignedContentSegment
            switch name {
            case "body": seg = .body
            case "timestamp": seg = .timestamp
            case "id": seg = .id
            case "method": seg = .method
            case "url": seg = .url
            default:
                guard name.hasPrefix("header:"), name.count > 7 else { throw ParseError.unknownPlaceholder(name) }
                seg = .header(String(name.dropFirst(7)))
            }
            if !literal.isEmpty { segs.append(.literal(literal)); literal = [] }
            segs.append(seg)
            rest = rest[rest.index(after: close)...]
        }
        literal += Array(rest.utf8)
        if !literal.isEmpty { segs.append(.literal(literal)) }
        segments = segs
        self.text = text
    }

    public var description: String { text }
    public var usesTimestamp: Bool { segments.contains(.timestamp) }
    public var usesID: Bool { segments.contains(.id) }
    public var usesURL: Bool { segments.contains(.url) }
}

/// One way a provider signs: which header, how it is laid out, what is signed and how.
public struct SignatureSpec: Sendable, Equatable {
    /// Candidate header names; the first one present is used (e.g. `svix-signature`, then `webhook-signature`).
    public var headers: [String]
    public var format: SignatureHeaderFormat
    public var algorithm: SignatureAlgorithm
    public var encoding: ByteEncoding
    public var signedContent: SignedContentTemplate
    /// A legacy variant (e.g. GitHub's SHA-1 `X-Hub-Signature`) is refused unless the source opts in.
    public var legacy: Bool

    public init(headers: [String], format: SignatureHeaderFormat, algorithm: SignatureAlgorithm, encoding: ByteEncoding, signedContent: SignedContentTemplate, legacy: Bool = false) {
        self.headers = headers
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

    public func decode(_ secret: String) -> [UInt8]? {
        switch self {
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

    public init(name: String, displayName: String, signatures: [SignatureSpec], signedIDSources: [ValueSource] = [], secretEncoding: SecretEncoding, timestamp: TimestampSpec?, event: EventSpec, contentType: String = "application/json") {
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
        let alg: String
        switch s.algorithm { case .hmac(let h): alg = "hmac-\(h.rawValue)" }
        return "\(alg)/\(s.encoding.rawValue) over \(s.signedContent.text) in \(s.headers.joined(separator: "|"))"
    }
}

/// A decoded secret with the label operators know it by. The key bytes never appear in descriptions.
public struct VerificationKey: Sendable, CustomStringConvertible {
    public let label: String
    public let keyBytes: [UInt8]
    public init(label: String, keyBytes: [UInt8]) {
        self.label = label
        self.keyBytes = keyBytes
    }
    public var description: String { "VerificationKey(\(label), <redacted>)" }
}

extension HashFunction {
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
