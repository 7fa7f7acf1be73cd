/// Where a route sends events: a destination's name (push delivery), or `stream:NAME` (appended to a stream that
/// consumers pull from). Streams share the route syntax so a filter can feed a stream exactly as it feeds a destination.
public enum RouteTarget {
    public static let streamPrefix = "stream:"

    /// The stream a target names (`stream:ledger` → `ledger`), or nil for a destination.
    public static func streamName(_ target: String) -> String? {
        target.hasPrefix(streamPrefix) ? String(target.dropFirst(streamPrefix.count)) : nil
    }

    public static func isStream(_ target: String) -> Bool { target.hasPrefix(streamPrefix) }

    /// A stream's or a consumer group's name: 1-64 of `A-Z a-z 0-9 . _ -`, so it is safe in a path, a metric label
    /// and a log line as it stands.
    public static func isValidName(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }
}

/// Which destinations an admitted event goes to. A source has one or more routes; each names a destination and may
/// filter on the event type and on body fields. One event matching N routes makes N independent deliveries.
public struct Route: Sendable, Equatable {
    public var destination: String
    /// Empty: every type. Otherwise any pattern may match: exact (`invoice.paid`), prefix (`invoice.*`) or `*`.
    public var types: [TypePattern]
    /// All must hold.
    public var conditions: [FieldCondition]

    public init(destination: String, types: [TypePattern] = [], conditions: [FieldCondition] = []) {
        self.destination = destination
        self.types = types
        self.conditions = conditions
    }

    public func matches(eventType: String?, body: [UInt8]) -> Bool {
        if !types.isEmpty {
            guard types.contains(where: { $0.matches(eventType) }) else { return false }
        }
        return conditions.allSatisfy { $0.holds(in: body) }
    }
}

public enum TypePattern: Sendable, Equatable, CustomStringConvertible {
    case any
    case exact(String)
    /// `invoice.*` matches `invoice.paid` and `invoice.payment.failed`, not `invoice` itself.
    case prefix(String)

    public init(_ text: String) {
        if text == "*" { self = .any } else if text.hasSuffix(".*") { self = .prefix(String(text.dropLast(1))) } else { self = .exact(text) }
    }

    public func matches(_ type: String?) -> Bool {
        switch self {
        case .any: return true
        case .exact(let t): return type == t
        case .prefix(let p): return type.map { $0.hasPrefix(p) && $0.count > p.count } ?? false
        }
    }

    public var description: String {
        switch self {
        case .any: return "*"
        case .exact(let t): return t
        case .prefix(let p): return p + "*"
        }
    }
}

/// A test on one body field, by JSON pointer. Values compare as text: strings unescaped, numbers and booleans as
/// written (`"amount" equals "100"` matches `100`; `true` matches `true`).
public struct FieldCondition: Sendable, Equatable {
    public enum Test: Sendable, Equatable {
        case equals(String)
        case oneOf([String])
        case exists(Bool)
    }

    public var pointer: JSONPointer
    public var test: Test

    public init(pointer: JSONPointer, test: Test) {
        self.pointer = pointer
        self.test = test
    }

    public func holds(in body: [UInt8]) -> Bool {
        let slice = try? JSONScanner.find(pointer, in: body)
        switch test {
        case .exists(let wanted): return (slice != nil) == wanted
        case .equals(let v): return Self.text(slice, body) == v
        case .oneOf(let vs): return Self.text(slice, body).map { vs.contains($0) } ?? false
        }
    }

    static func text(_ slice: JSONValueSlice??, _ body: [UInt8]) -> String? {
        guard case .some(.some(let s)) = slice else { return nil }
        switch s.kind {
        case .string: return try? JSONScanner.unescape(body, s.range)
        case .number, .bool, .null: return String(decoding: body[s.range], as: UTF8.self)
        case .object, .array: return nil
        }
    }
}

extension Array where Element == Route {
    /// The destinations `event` goes to, each once, in route order.
    public func destinations(eventType: String?, body: [UInt8]) -> [String] {
        var out: [String] = []
        for r in self where !out.contains(r.destination) && r.matches(eventType: eventType, body: body) { out.append(r.destination) }
        return out
    }
}
