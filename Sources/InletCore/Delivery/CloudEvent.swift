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
