import InletCore
import TOMLKit

/// A configuration error that names the file, line and key at fault. Never carries a secret value.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let at = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(at): \(message)" : "\(at): \(key): \(message)"
    }
}

/// A parsed TOML value, detached from TOMLKit's C++-backed nodes so it is a plain `Sendable` value.
indirect enum TOMLNode: Sendable {
    case table([String: TOMLNode])
    case array([TOMLNode])
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    /// An offset date-time, as epoch milliseconds.
    case dateTime(Int64)
    case other(String)

    init(_ v: TOMLValueConvertible) {
        switch v.type {
        case .table:
            let t = v.table!
            var d: [String: TOMLNode] = [:]
            for k in t.keys { if let child = t[k] { d[k] = TOMLNode(child) } }
            self = .table(d)
        case .array:
            self = .array(v.array!.map { TOMLNode($0) })
        case .string: self = .string(v.string!)
        case .int: self = .int(v.int!)
        case .double: self = .double(v.double!)
        case .bool: self = .bool(v.bool!)
        case .dateTime:
            let dt = v.dateTime!
            guard let offset = dt.offset else { self = .other("local date-time without offset"); return }
            func pad(_ n: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
            let sign = offset.offset < 0 ? "-" : "+", m = abs(offset.offset)
            let text = "\(pad(dt.date.year, 4))-\(pad(dt.date.month, 2))-\(pad(dt.date.day, 2))T\(pad(dt.time.hour, 2)):\(pad(dt.time.minute, 2)):\(pad(dt.time.second, 2))\(sign)\(pad(m / 60, 2)):\(pad(m % 60, 2))"
            if let ms = RFC3339.parse(text) { self = .dateTime(ms) } else { self = .other(text) }
        default: self = .other(v.debugDescription)
        }
    }

    var typeName: String {
        switch self {
        case .table: return "table"
        case .array: return "array"
        case .string: return "string"
        case .int: return "integer"
        case .double: return "float"
        case .bool: return "boolean"
        case .dateTime, .other: return "date/time"
        }
    }
}

/// A TOML file with typed, path-aware accessors: each read that fails produces a `ConfigError` pointing at the
/// line of the offending key, and unknown keys are reported rather than silently ignored (typos are bugs).
struct TOMLDocument {
    let file: String
    let root: [String: TOMLNode]
    /// Kept by the parsed config, so errors found later (while resolving secrets and profiles) still name a line.
    let locator: KeyLocator

    init(text: String, file: String) throws(ConfigError) {
        self.file = file
        locator = KeyLocator(file: file, text: text)
        // toml++ would abort the process on these inputs instead of reporting them (see TOMLAssertionGuard).
        if let finding = TOMLAssertionGuard.check(text) {
            throw ConfigError(file: file, line: finding.line, key: "", message: finding.message)
        }
        do {
            let table = try TOMLTable(string: text)
            guard case .table(let d) = TOMLNode(table) else { throw ConfigError(file: file, line: nil, key: "", message: "not a table") }
            root = d
        } catch let e as TOMLParseError {
            throw ConfigError(file: file, line: e.source.begin.line, key: "", message: "TOML syntax error: \(e.description)")
        } catch let e as ConfigError {
            throw e
        } catch {
            throw ConfigError(file: file, line: nil, key: "", message: "cannot parse TOML: \(error)")
        }
    }

    func error(_ path: [String], _ message: String) -> ConfigError { locator.error(path, message) }
}

/// Where a key path is written in a config file: the file's lines, searched when an error needs a line number.
struct KeyLocator: Sendable {
    let file: String
    private let lines: [Substring]

    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func error(_ path: [String], _ message: String) -> ConfigError {
        ConfigError(file: file, line: line(of: path), key: path.joined(separator: "."), message: message)
    }

    /// Best-effort line of a key path: finds the table header (`[a.b]` or `[[a]]`) and then the key line, or a
    /// dotted key written in full.
    func line(of path: [String]) -> Int? {
        guard !path.isEmpty else { return nil }
        func clean(_ s: Substring) -> String { s.trimmingCharacters(in: .whitespaces) }
        func headerName(_ l: String) -> String? {
            guard l.hasPrefix("[") else { return nil }
            let inner = l.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            return inner.split(separator: ".").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) }.joined(separator: ".")
        }
        func keyName(_ l: String) -> String? {
            guard let eq = l.firstIndex(of: "="), !l.hasPrefix("#"), !l.hasPrefix("[") else { return nil }
            return l[..<eq].split(separator: ".").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) }.joined(separator: ".")
        }
        // Try every split of path into (table header, key).
        var currentTable = ""
        var best: Int?
        for (n, raw) in lines.enumerated() {
            let l = clean(raw)
            if let h = headerName(l) {
                currentTable = h
                if h == path.joined(separator: ".") { best = best ?? n + 1 }
                continue
            }
            guard let k = keyName(l) else { continue }
            let full = currentTable.isEmpty ? k : currentTable + "." + k
            if full == path.joined(separator: ".") { return n + 1 }
            // An array-of-tables element path like sources.0.x cannot be located precisely; fall back to key name.
            if path.count >= 2, k == path.last!, currentTable.hasPrefix(path.dropLast().prefix(2).joined(separator: ".")) {
                best = best ?? n + 1
            }
        }
        if best == nil && path.count > 1 { return line(of: Array(path.dropLast())) }
        return best
    }
}

import Foundation

/// Typed reads from one TOML table, remembering its path for error messages.
struct TableReader {
    let doc: TOMLDocument
    let path: [String]
    let values: [String: TOMLNode]
    private(set) var consumed: Set<String> = []

    init(doc: TOMLDocument, path: [String], values: [String: TOMLNode]) {
        self.doc = doc
        self.path = path
        self.values = values
    }

    func error(_ key: String?, _ message: String) -> ConfigError {
        doc.error(key.map { path + [$0] } ?? path, message)
    }

    mutating func raw(_ key: String) -> TOMLNode? {
        consumed.insert(key)
        return values[key]
    }

    mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else { throw error(key, "expected a string, found \(v.typeName)") }
        return s
    }

    mutating func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let s = try string(key) else { throw error(key, "is required") }
        return s
    }

    mutating func int(_ key: String, range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int? {
        guard let v = raw(key) else { return nil }
        guard case .int(let i) = v else { throw error(key, "expected an integer, found \(v.typeName)") }
        if let range, !range.contains(i) { throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), found \(i)") }
        return i
    }

    mutating func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = raw(key) else { return nil }
        guard case .bool(let b) = v else { throw error(key, "expected true or false, found \(v.typeName)") }
        return b
    }

    /// A string or an array of strings.
    mutating func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let v = raw(key) else { return nil }
        switch v {
        case .string(let s): return [s]
        case .array(let items):
            var out: [String] = []
            for (n, item) in items.enumerated() {
                guard case .string(let s) = item else { throw error(key, "item \(n + 1): expected a string, found \(item.typeName)") }
                out.append(s)
            }
            return out
        default: throw error(key, "expected a string or an array of strings, found \(v.typeName)")
        }
    }

    mutating func table(_ key: String) throws(ConfigError) -> TableReader? {
        guard let v = raw(key) else { return nil }
        guard case .table(let t) = v else { throw error(key, "expected a table, found \(v.typeName)") }
        return TableReader(doc: doc, path: path + [key], values: t)
    }

    mutating func tables(_ key: String) throws(ConfigError) -> [TableReader]? {
        guard let v = raw(key) else { return nil }
        switch v {
        case .table(let t): return [TableReader(doc: doc, path: path + [key], values: t)]
        case .array(let items):
            var out: [TableReader] = []
            for item in items {
                guard case .table(let t) = item else { throw error(key, "expected an array of tables, found \(item.typeName)") }
                out.append(TableReader(doc: doc, path: path + [key], values: t))
            }
            return out
        default: throw error(key, "expected a table or an array of tables, found \(v.typeName)")
        }
    }

    /// Refuses keys that were never read: a misspelled key must not silently do nothing.
    func rejectUnknownKeys() throws(ConfigError) {
        for k in values.keys.sorted() where !consumed.contains(k) {
            throw error(k, "unknown key")
        }
    }
}
