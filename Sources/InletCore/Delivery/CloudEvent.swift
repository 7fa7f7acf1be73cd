/// The normalized event Inlet forwards: CloudEvents 1.0, structured JSON mode.
///
/// The provider's JSON body is spliced in as `data` byte for byte (never re-serialized), so a service sees exactly
/// what the provider sent. A body that is not JSON (form posts, XML) travels as `data_base64` with its content type.
public struct CloudEvent: Sendable, Equatable {
    public var id: String
    public var source: String
    public var type: String
    public var time: EpochMillis
    public var subject: String?
    public var body: [UInt8]
    public var bodyContentType: String?
    /// Extension attributes (lower-case alphanumeric names), string-valued.
    public var extensions: [(String, String)]

    public init(id: String, source: String, type: String, time: EpochMillis, subject: String? = nil, body: [UInt8], bodyContentType: String?, extensions: [(String, String)]) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.body = body
        self.bodyContentType = bodyContentType
        self.extensions = extensions
    }

    public static func == (l: CloudEvent, r: CloudEvent) -> Bool {
        l.id == r.id && l.source == r.source && l.type == r.type && l.time == r.time && l.subject == r.subject
            && l.body == r.body && l.bodyContentType == r.bodyContentType
            && l.extensions.map { $0.0 + "\u{0}" + $0.1 } == r.extensions.map { $0.0 + "\u{0}" + $0.1 }
    }

    public static let jsonContentType = "application/cloudevents+json; charset=utf-8"

    /// The structured-mode JSON document.
    public func encodeJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count * 4 / 3 + 256)
        func field(_ name: String, _ value: String) {
            out.append(UInt8(ascii: ","))
            JSONString.append(name, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONString.append(value, to: &out)
        }
        out += Array(#"{"specversion":"1.0""#.utf8)
        field("id", id)
        field("source", source)
        field("type", type)
        field("time", RFC3339.format(time))
        if let subject { field("subject", subject) }
        for (k, v) in extensions { field(k, v) }
        if JSONScanner.isValidDocument(body) {
            field("datacontenttype", "application/json")
            out += Array(#","data":"#.utf8)
            out += body
        } else {
            field("datacontenttype", bodyContentType ?? "application/octet-stream")
            field("data_base64", Base64.encode(body))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

public enum JSONString {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` as a quoted JSON string.
    public static func append(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 0xF)]]
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        append(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Signs requests for the internal hop with the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature: v1,<base64 HMAC-SHA256>`), so services verify with any Standard Webhooks library.
public struct StandardWebhooksSigner: Sendable {
    public let keys: [[UInt8]]
    public let windows: [SecretWindow]

    /// `secrets` are `whsec_<base64>` strings (or bare base64); throws if one does not decode. `windows` (one per
    /// secret, optional) limit when each secret signs: during a rotation overlap both sign.
    public init(secrets: [String], windows: [SecretWindow]? = nil) throws {
        keys = try secrets.map {
            guard let k = SecretEncoding.base64(stripPrefix: "whsec_").decode($0) else { throw SignerError.undecodableSecret }
            return k
        }
        self.windows = windows ?? Array(repeating: SecretWindow(), count: secrets.count)
    }

    public enum SignerError: Error, CustomStringConvertible {
        case undecodableSecret
        public var description: String { "destination secret is not whsec_<base64>" }
    }

    /// The `webhook-signature` value: one `v1,<sig>` per key active at `timestampSeconds`, space-separated. When no
    /// key is active (all expired), every key signs rather than none, so the receiver's error says "mismatch".
    public func signature(id: String, timestampSeconds: Int64, body: [UInt8]) -> String {
        let message = Array("\(id).\(timestampSeconds).".utf8) + body
        let now = timestampSeconds * 1000
        var active = keys.indices.filter { windows[$0].isActive(at: now) }
        if active.isEmpty { active = Array(keys.indices) }
        return active.map { "v1," + Base64.encode(HashFunction.sha256.mac(key: keys[$0], message: message)) }.joined(separator: " ")
    }

    /// Verifies a Standard Webhooks signature header (used by the built-in sink and tests).
    public func verify(id: String, timestamp: String, signatureHeader: String, body: [UInt8], now: EpochMillis, toleranceSeconds: Int64 = 300) -> Bool {
        // The timestamp is the sender's text: digits only, at most 16 of them (as `ProviderProfile.parseTimestamp`),
        // and compared in seconds, so no value of it can overflow.
        guard !timestamp.isEmpty, timestamp.utf8.count <= 16, timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let ts = Int64(timestamp) else { return false }
        let nowSeconds = now / 1000
        guard ts >= nowSeconds - toleranceSeconds, ts <= nowSeconds + toleranceSeconds else { return false }
        let message = Array("\(id).\(timestamp).".utf8) + body
        guard case .success(let parsed) = SignatureHeaderParser.parse(signatureHeader, format: .versionedList(entrySeparator: " ", versionSeparator: ",", versions: ["v1"])) else { return false }
        var ok = false
        for key in keys {
            let expected = Array(Base64.encode(HashFunction.sha256.mac(key: key, message: message)).utf8)
            for candidate in parsed.signatures where constantTimeEquals(expected, candidate) { ok = true }
        }
        return ok
    }
}
