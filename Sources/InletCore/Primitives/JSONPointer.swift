/// An RFC 6901 JSON pointer such as `/data/object/id`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public let tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses `""` (whole document) or `/a/b~1c/0`.
    public init?(_ text: String) {
        if text.isEmpty { tokens = []; return }
        guard text.hasPrefix("/") else { return nil }
        tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    public var description: String {
        tokens.isEmpty ? "" : "/" + tokens.map { $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined(separator: "/")
    }
}

/// The kind and raw byte range of a JSON value found in a document.
public struct JSONValueSlice: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case object, array, string, number, bool, null }
    public let kind: Kind
    public let range: Range<Int>
}

public enum JSONScanError: Error, Equatable, Sendable {
    case malformed(offset: Int)
    case tooDeep
}

/// A byte-level JSON scanner that finds one value by pointer without building a document tree.
///
/// Admission needs only an event ID and type out of a body that is otherwise kept as opaque bytes;
/// decoding the whole body into objects per request would cost more than the signature check.
/// The scanner validates everything it walks over, so malformed input fails instead of being guessed at.
public struct JSONScanner {
    public static let maxDepth = 256
    private let b: [UInt8]
    private var i = 0

    private init(_ bytes: [UInt8]) { b = bytes }

    /// Whether `bytes` is exactly one well-formed JSON value (surrounding whitespace allowed).
    public static func isValidDocument(_ bytes: [UInt8]) -> Bool {
        var s = JSONScanner(bytes)
        do {
            s.skipWS()
            _ = try s.skipValue(depth: 0)
            s.skipWS()
            return s.i == bytes.count
        } catch { return false }
    }

    /// Finds the value at `pointer`. Returns nil when the path does not exist; throws on malformed JSON
    /// encountered along the way. Bytes after the found value are not examined.
    public static func find(_ pointer: JSONPointer, in bytes: [UInt8]) throws -> JSONValueSlice? {
        var s = JSONScanner(bytes)
        s.skipWS()
        return try s.descend(pointer.tokens[...], depth: 0)
    }

    /// The value at `pointer` as text: strings unescaped, numbers and booleans as written; nil for
    /// objects, arrays, null, absent paths and malformed documents.
    public static func scalarText(at pointer: JSONPointer, in bytes: [UInt8]) -> String? {
        guard let slice = try? find(pointer, in: bytes) else { return nil }
        switch slice.kind {
        case .string: return try? unescape(bytes, slice.range)
        case .number, .bool: return String(decoding: bytes[slice.range], as: UTF8.self)
        default: return nil
        }
    }

    /// A document that is an array of two-string arrays (`[["name","value"],…]`, the store's form of a header list),
    /// decoded in order; nil for any other document.
    public static func stringPairs(_ bytes: [UInt8]) -> [(String, String)]? {
        var s = JSONScanner(bytes)
        var pairs: [(String, String)] = []
        do {
            s.skipWS()
            try s.expect(UInt8(ascii: "["))
            s.skipWS()
            if !s.peek(UInt8(ascii: "]")) {
                repeat {
                    s.skipWS()
                    try s.expect(UInt8(ascii: "["))
                    let first = try s.string()
                    try s.expect(UInt8(ascii: ","))
                    let second = try s.string()
                    try s.expect(UInt8(ascii: "]"))
                    pairs.append((first, second))
                    s.skipWS()
                } while (try? s.expect(UInt8(ascii: ","))) != nil
            }
            try s.expect(UInt8(ascii: "]"))
            s.skipWS()
            return s.i == bytes.count ? pairs : nil
        } catch { return nil }
    }

    /// The path of the first object key that occurs twice in one object, walking the whole document once; nil when
    /// every object's keys are distinct, and for a document that is not JSON (nothing can be read from it anyway).
    ///
    /// This scanner reads the first occurrence of a key, while Python, JavaScript and Go read the last. Where the
    /// signature does not cover the raw bytes (SNS's canonical fields, Mailgun's signature block) a signed body with
    /// `,"Message":"forged"` appended would verify here and be read as forged by the consumer; even where it does,
    /// the ID, type and route filters could disagree with what the consumer sees. Keys compare after unescaping, so
    /// `"Message"` and `"Mess\u0061ge"` are the same key.
    public static func firstDuplicateKey(in bytes: [UInt8]) -> JSONPointer? {
        var s = JSONScanner(bytes)
        var walk = DuplicateKeyWalk()
        s.skipWS()
        do {
            guard try s.findDuplicateKey(depth: 0, walk: &walk) else { return nil }
            return JSONPointer(tokens: try walk.path.map { part in
                switch part {
                case .key(let range): return try Self.unescape(bytes, range)
                case .index(let n): return String(n)
                }
            })
        } catch { return nil }
    }

    /// Scratch state of `firstDuplicateKey`, shared by every object of the walk: it runs on every request body that
    /// admission reads, so it allocates a few arrays per body rather than a set and strings per object.
    private struct DuplicateKeyWalk {
        enum PathPart { case key(Range<Int>), index(Int) }
        /// The keys (string literals, quotes included) of the objects being walked, innermost object last.
        var keys: [Range<Int>] = []
        /// Whether each of `keys` has an escape (then it is compared unescaped).
        var escaped: [Bool] = []
        /// Where the current value is; on a duplicate, where the duplicated key is.
        var path: [PathPart] = []
    }

    /// Objects with more keys than this index them by hash; smaller ones (nearly all) compare by length then bytes.
    private static let linearKeyLimit = 16

    /// Walks one value as `skipValue` does; true when it found a duplicated key (its path is then `walk.path`).
    private mutating func findDuplicateKey(depth: Int, walk: inout DuplicateKeyWalk) throws -> Bool {
        guard depth < Self.maxDepth else { throw JSONScanError.tooDeep }
        guard i < b.count else { throw JSONScanError.malformed(offset: i) }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1; skipWS()
            if peek(UInt8(ascii: "}")) { i += 1; return false }
            let first = walk.keys.count
            // Large objects: key hash (the process-seeded `Hasher`, so collisions cannot be chosen) -> positions.
            var index: [Int: [Int]]?
            defer {
                walk.keys.removeSubrange(first...)
                walk.escaped.removeSubrange(first...)
            }
            while true {
                skipWS()
                guard peek(UInt8(ascii: "\"")) else { throw JSONScanError.malformed(offset: i) }
                let keyStart = i
                try skipString()
                let key = keyStart..<i
                let escaped = b[(key.lowerBound + 1)..<(key.upperBound - 1)].contains(UInt8(ascii: "\\"))
                if walk.keys.count - first < Self.linearKeyLimit {
                    for n in first..<walk.keys.count where try sameKey(walk.keys[n], walk.escaped[n], key, escaped) {
                        walk.path.append(.key(key)); return true
                    }
                } else {
                    if index == nil {
                        var built: [Int: [Int]] = [:]
                        for n in first..<walk.keys.count { built[try keyHash(walk.keys[n], walk.escaped[n]), default: []].append(n) }
                        index = built
                    }
                    let h = try keyHash(key, escaped)
                    for n in index?[h] ?? [] where try sameKey(walk.keys[n], walk.escaped[n], key, escaped) {
                        walk.path.append(.key(key)); return true
                    }
                    index?[h, default: []].append(walk.keys.count)
                }
                walk.keys.append(key)
                walk.escaped.append(escaped)
                skipWS()
                try expect(UInt8(ascii: ":"))
                skipWS()
                walk.path.append(.key(key))
                if try findDuplicateKey(depth: depth + 1, walk: &walk) { return true }
                walk.path.removeLast()
                skipWS()
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                return false
            }
        case UInt8(ascii: "["):
            i += 1; skipWS()
            if peek(UInt8(ascii: "]")) { i += 1; return false }
            var n = 0
            while true {
                skipWS()
                walk.path.append(.index(n))
                if try findDuplicateKey(depth: depth + 1, walk: &walk) { return true }
                walk.path.removeLast()
                n += 1
                skipWS()
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                try expect(UInt8(ascii: "]"))
                return false
            }
        default:
            _ = try skipValue(depth: depth)
            return false
        }
    }

    /// Whether two key literals name the same key: byte for byte, or after unescaping when either has an escape.
    private func sameKey(_ a: Range<Int>, _ aEscaped: Bool, _ c: Range<Int>, _ cEscaped: Bool) throws -> Bool {
        if !aEscaped && !cEscaped { return a.count == c.count && b[a].elementsEqual(b[c]) }
        return try Self.unescape(b, a) == Self.unescape(b, c)
    }

    private func keyHash(_ key: Range<Int>, _ escaped: Bool) throws -> Int {
        // The unescaped bytes either way, so a key hashes alike however it is written.
        var hasher = Hasher()
        if escaped {
            let bytes = Array(try Self.unescape(b, key).utf8)
            hasher.combine(bytes.count)
            for byte in bytes { hasher.combine(byte) }
        } else {
            let inner = (key.lowerBound + 1)..<(key.upperBound - 1)
            hasher.combine(inner.count)
            for byte in b[inner] { hasher.combine(byte) }
        }
        return hasher.finalize()
    }

    /// A string value (surrounding whitespace skipped), unescaped.
    private mutating func string() throws -> String {
        skipWS()
        guard peek(UInt8(ascii: "\"")) else { throw JSONScanError.malformed(offset: i) }
        let start = i
        try skipString()
        defer { skipWS() }
        return try Self.unescape(b, start..<i)
    }

    private mutating func descend(_ path: ArraySlice<String>, depth: Int) throws -> JSONValueSlice? {
        guard depth < Self.maxDepth else { throw JSONScanError.tooDeep }
        guard let token = path.first else {
            let start = i
            let kind = try skipValue(depth: depth)
            return JSONValueSlice(kind: kind, range: start..<i)
        }
        guard i < b.count else { throw JSONScanError.malformed(offset: i) }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1; skipWS()
            if peek(UInt8(ascii: "}")) { return nil }
            while true {
                skipWS()
                guard peek(UInt8(ascii: "\"")) else { throw JSONScanError.malformed(offset: i) }
                let keyStart = i
                try skipString()
                let key = try Self.unescape(b, keyStart..<i)
                skipWS()
                try expect(UInt8(ascii: ":"))
                skipWS()
                if key == token { return try descend(path.dropFirst(), depth: depth + 1) }
                _ = try skipValue(depth: depth + 1)
                skipWS()
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                return nil
            }
        case UInt8(ascii: "["):
            guard let index = Int(token), index >= 0, token == String(index) else {
                _ = try skipValue(depth: depth); return nil
            }
            i += 1; skipWS()
            if peek(UInt8(ascii: "]")) { return nil }
            var n = 0
            while true {
                skipWS()
                if n == index { return try descend(path.dropFirst(), depth: depth + 1) }
                _ = try skipValue(depth: depth + 1)
                skipWS()
                n += 1
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                try expect(UInt8(ascii: "]"))
                return nil
            }
        default:
            _ = try skipValue(depth: depth)
            return nil
        }
    }

    private func peek(_ c: UInt8) -> Bool { i < b.count && b[i] == c }

    private mutating func expect(_ c: UInt8) throws {
        guard peek(c) else { throw JSONScanError.malformed(offset: i) }
        i += 1
    }

    private mutating func skipWS() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func skipValue(depth: Int) throws -> JSONValueSlice.Kind {
        guard depth < Self.maxDepth else { throw JSONScanError.tooDeep }
        guard i < b.count else { throw JSONScanError.malformed(offset: i) }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1; skipWS()
            if peek(UInt8(ascii: "}")) { i += 1; return .object }
            while true {
                skipWS()
                guard peek(UInt8(ascii: "\"")) else { throw JSONScanError.malformed(offset: i) }
                try skipString()
                skipWS()
                try expect(UInt8(ascii: ":"))
                skipWS()
                _ = try skipValue(depth: depth + 1)
                skipWS()
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object
            }
        case UInt8(ascii: "["):
            i += 1; skipWS()
            if peek(UInt8(ascii: "]")) { i += 1; return .array }
            while true {
                skipWS()
                _ = try skipValue(depth: depth + 1)
                skipWS()
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array
            }
        case UInt8(ascii: "\""):
            try skipString(); return .string
        case UInt8(ascii: "t"): try literal("true"); return .bool
        case UInt8(ascii: "f"): try literal("false"); return .bool
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            try skipNumber(); return .number
        }
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard i + w.count <= b.count else { throw JSONScanError.malformed(offset: i) }
        for k in 0..<w.count where b[i + k] != w[k] { throw JSONScanError.malformed(offset: i + k) }
        i += w.count
    }

    private mutating func skipNumber() throws {
        let start = i
        if peek(UInt8(ascii: "-")) { i += 1 }
        guard i < b.count, isDigit(b[i]) else { throw JSONScanError.malformed(offset: start) }
        if b[i] == UInt8(ascii: "0") { i += 1 } else { while i < b.count, isDigit(b[i]) { i += 1 } }
        if peek(UInt8(ascii: ".")) {
            i += 1
            guard i < b.count, isDigit(b[i]) else { throw JSONScanError.malformed(offset: i) }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { throw JSONScanError.malformed(offset: i) }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    private mutating func skipString() throws {
        i += 1  // opening quote
        while i < b.count {
            i = Self.plainRunEnd(b, from: i)
            guard i < b.count else { break }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c < 0x20 { throw JSONScanError.malformed(offset: i) }
            if c == UInt8(ascii: "\\") {
                guard i + 1 < b.count else { throw JSONScanError.malformed(offset: i) }
                switch b[i + 1] {
                case UInt8(ascii: "u"):
                    guard i + 6 <= b.count, b[(i + 2)..<(i + 6)].allSatisfy({ Self.hexValue($0) != nil })
                    else { throw JSONScanError.malformed(offset: i) }
                    i += 6
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                default: throw JSONScanError.malformed(offset: i)
                }
                continue
            }
            i += 1
        }
        throw JSONScanError.malformed(offset: i)
    }

    /// The index of the first byte at or after `start` that a string scan must look at (a quote, a backslash or a
    /// control byte), or `bytes.count`. Long string values (an embedded document, a payload's padding) are most of a
    /// large body, and a body is scanned for each field read from it; eight bytes are tested at a time.
    static func plainRunEnd(_ bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBytes { raw -> Int in
            let n = raw.count
            var j = start
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while j < n {
                if j + 8 <= n {
                    let w = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                    // A byte is special when it is 0x22, 0x5C or below 0x20: the "has a zero byte" and "has a byte
                    // below n" tests on the word and on its XORs with the quote and the backslash. They never miss one;
                    // the word's bytes are then looked at one by one.
                    let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
                    let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w)
                    if special & highs == 0 { j += 8; continue }
                }
                let end = min(j + 8, n)
                while j < end {
                    let c = raw[j]
                    if c == 0x22 || c == 0x5C || c < 0x20 { return j }
                    j += 1
                }
            }
            return n
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 48...57: return UInt32(c - 48)
        case 65...70: return UInt32(c - 55)
        case 97...102: return UInt32(c - 87)
        default: return nil
        }
    }

    /// Unescapes a string literal spanning `range` (quotes included).
    static func unescape(_ b: [UInt8], _ range: Range<Int>) throws -> String {
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !b[inner].contains(UInt8(ascii: "\\")) { return String(decoding: b[inner], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(inner.count)
        var i = inner.lowerBound
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= inner.upperBound else { throw JSONScanError.malformed(offset: at) }
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                guard let h = hexValue(b[k]) else { throw JSONScanError.malformed(offset: k) }
                v = v << 4 | h
            }
            return v
        }
        while i < inner.upperBound {
            let c = b[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i); i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= inner.upperBound, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    let low = try hex4(i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let us = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(us)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONScanner {
    /// The elements of the array at `pointer`, each as its kind and exact byte range in `bytes` (never re-serialized);
    /// nil when there is no array there, or it has more than `limit` elements. Throws on malformed JSON on the way.
    public static func arrayElements(at pointer: JSONPointer, in bytes: [UInt8], limit: Int) throws -> [JSONValueSlice]? {
        guard let array = try find(pointer, in: bytes), array.kind == .array else { return nil }
        var s = JSONScanner(bytes)
        s.i = array.range.lowerBound + 1
        s.skipWS()
        if s.peek(UInt8(ascii: "]")) { return [] }
        var out: [JSONValueSlice] = []
        while true {
            s.skipWS()
            let start = s.i
            let kind = try s.skipValue(depth: 1)
            out.append(JSONValueSlice(kind: kind, range: start..<s.i))
            if out.count > limit { return nil }
            s.skipWS()
            if s.peek(UInt8(ascii: ",")) { s.i += 1; continue }
            try s.expect(UInt8(ascii: "]"))
            return out
        }
    }
}
