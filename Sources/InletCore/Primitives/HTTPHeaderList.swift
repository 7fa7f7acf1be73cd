import Foundation

/// Request headers exactly as received: order, duplicates and original spelling preserved (the store keeps
/// them byte for byte); lookups are case-insensitive as HTTP requires.
public struct HTTPHeaderList: Sendable, Equatable, Sequence {
    public private(set) var entries: [(name: String, value: String)]

    public init(_ entries: [(name: String, value: String)] = []) { self.entries = entries }

    public mutating func append(_ name: String, _ value: String) { entries.append((name, value)) }

    /// The first value of `name`, or nil.
    public func first(_ name: String) -> String? {
        for e in entries where Self.equalsIgnoringCase(e.name, name) { return e.value }
        return nil
    }

    /// Every value of `name`, in order.
    public func all(_ name: String) -> [String] {
        entries.filter { Self.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { entries.makeIterator() }

    public static func == (l: HTTPHeaderList, r: HTTPHeaderList) -> Bool {
        l.entries.count == r.entries.count && zip(l.entries, r.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    @inline(__always)
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (c, d) in zip(x, y) where c != d {
            let lc = (c >= 65 && c <= 90) ? c | 0x20 : c
            let ld = (d >= 65 && d <= 90) ? d | 0x20 : d
            if lc != ld { return false }
        }
        return true
    }
}

/// A request as the admission pipeline sees it: everything needed to verify it, nothing tied to a socket.
public struct IncomingRequest: Sendable {
    public var method: String
    /// Path without the query string.
    public var path: String
    /// Raw query string (after `?`), if any.
    public var query: String?
    public var headers: HTTPHeaderList
    public var body: [UInt8]
    /// The socket peer.
    public var peer: IPAddress?
    public var receivedAt: EpochMillis

    public init(method: String, path: String, query: String? = nil, headers: HTTPHeaderList, body: [UInt8], peer: IPAddress?, receivedAt: EpochMillis) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peer = peer
        self.receivedAt = receivedAt
    }

    /// The value of a query parameter (percent-decoded), or nil.
    public func queryParameter(_ name: String) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if kv[0].removingPercentEncodingPlus == name { return kv.count > 1 ? kv[1].removingPercentEncodingPlus : "" }
        }
        return nil
    }
}

extension Substring {
    /// A form or query component decoded (`+` is a space, `%XX` a byte); the text as it is when an escape is
    /// malformed or the bytes are not UTF-8. Byte by byte: Foundation's `removingPercentEncoding` cost 20-40 µs per
    /// parameter, so a large Twilio form took the event loop for tens of milliseconds.
    var removingPercentEncodingPlus: String {
        FormComponent.decode(utf8) ?? String(self)
    }
}

enum FormComponent {
    static func decode(_ bytes: Substring.UTF8View) -> String? {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(Substring(bytes)) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i != bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(0x20)
            } else if b == UInt8(ascii: "%") {
                let h = bytes.index(after: i)
                guard h != bytes.endIndex, let hi = Hex.value(bytes[h]) else { return nil }
                let l = bytes.index(after: h)
                guard l != bytes.endIndex, let lo = Hex.value(bytes[l]) else { return nil }
                out.append(hi << 4 | lo)
                i = l
            } else {
                out.append(b)
            }
            i = bytes.index(after: i)
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension HTTPHeaderList {
    /// Headers that belong to one connection or its framing (RFC 9110 §7.6.1 and the proxy ones), never copied onto a
    /// new request: a delivery in `raw` mode and `inlet replay --to` build their own.
    public static let connectionLevel: Set<String> = [
        "host", "content-length", "connection", "transfer-encoding", "keep-alive", "expect", "upgrade", "te", "trailer",
        "proxy-connection", "proxy-authorization", "proxy-authenticate",
    ]
}
