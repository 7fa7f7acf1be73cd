import Foundation
@testable import InletConfig
import InletCore
import Testing

/// toml++ 3.4.0 (inside TOMLKit) asserts, and so aborts the process, on some malformed TOML. These inputs must be
/// refused as ordinary syntax errors instead (`TOMLAssertionGuard`), and valid TOML must never be.
@Suite("Malformed TOML is an error, not an abort")
struct MalformedTOMLTests {
    /// One input per assertion toml++ reaches, with the line it must be reported on.
    static let asserting: [(text: String, line: Int)] = [
        // parse_key() after a table header's '[' or '[['
        ("[[{x]]\n", 1),
        ("name = \"x\"\n[[[signature]]]\n", 2),
        ("[ =\n", 1),
        ("a = 1\n[\nb = 2\n", 2),
        ("[[ [a]]]\n", 1),
        ("[#x]\n", 1),
        ("[[.a]]\n", 1),
        // parse_value() on an array element that starts with a value terminator
        ("x = [1,}]\n", 1),
        ("x = [}]\n", 1),
        ("x = [\n  1, # one\n  }]\n", 3),
        ("x = [\u{2028}]\n", 1),
        ("x = [1, \u{85}]\n", 1),
        ("x = [[1], [\u{2029}]]\n", 1),
        ("t = { a = [}] }\n", 1),
        // the date-time look-ahead: a date, a space, one digit, a terminator
        ("d = 2026-01-02 1\n", 1),
        ("d = [2026-01-02 1]\n", 1),
        ("d = { a = 2026-01-02 1 }\n", 1),
        ("d = 2026-01-02 1,\n", 1),
        ("d = 2026-01-02 1#\n", 1),
        // parse_time() after a date and 'T'
        ("d = 2026-01-02T:00\n", 1),
        ("d = 2026-01-02tZ:00\n", 1),
        ("\n\nd = [2026-01-02T_1:00:00]\n", 3),
    ]

    @Test(arguments: asserting.indices)
    func gatewayConfigRefusesWithTheLine(_ n: Int) {
        let (text, line) = Self.asserting[n]
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(text, file: "t.toml") }
        #expect(error?.file == "t.toml")
        #expect(error?.line == line, "\(text.debugDescription)")
        #expect(error?.message.hasPrefix("TOML syntax error: ") == true, "\(error?.message ?? "")")
    }

    @Test(arguments: asserting.indices)
    func profileLoaderRefusesWithTheLine(_ n: Int) {
        let (text, line) = Self.asserting[n]
        let error = #expect(throws: ConfigError.self) { try ProfileLoader.parse(text, file: "providers/x.toml") }
        #expect(error?.line == line, "\(text.debugDescription)")
        #expect(error?.message.hasPrefix("TOML syntax error: ") == true)
    }

    /// Every committed config and profile reproducer from the fuzzers is a ConfigError, through the loader it was
    /// found with and the other one.
    @Test func everyFuzzReproducerIsAConfigError() throws {
        let dir = Repo.root + "/fuzz/crashes"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasPrefix("config-") || $0.hasPrefix("profile-") }.sorted()
        #expect(names.count >= 6)
        for name in names {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)), as: UTF8.self)
            let config = #expect(throws: ConfigError.self, "\(name)") { try GatewayConfig.parse(text, file: name) }
            #expect(config?.line != nil, "\(name)")
            let profile = #expect(throws: ConfigError.self, "\(name)") { try ProfileLoader.parse(text, file: name) }
            #expect(profile?.line != nil, "\(name)")
        }
    }

    /// A file on disk goes the same way (`inlet check-config`, start-up and reload all use `load`).
    @Test func loadRefusesAnAssertingFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-malformed-\(UUID().uuidString).toml").path
        try "providers_dir = \"providers\"\n\n[[{x]]\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.load(file: file) }
        #expect(error?.description == "\(file):3: TOML syntax error: Error while parsing table header: expected bare key starting character or string delimiter, saw '{'")
    }

    /// Other syntax errors still come from toml++ itself.
    @Test func otherSyntaxErrorsAreToml_s() {
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse("a = [1 2]\n", file: "t.toml") }
        #expect(error?.line == 1)
        #expect(error?.message == "TOML syntax error: Error while parsing array: expected comma or closing ']', saw '2'")
        #expect(TOMLAssertionGuard.check("[]\n") == nil)
        #expect(TOMLAssertionGuard.check("d = 2026-01-02T\n") == nil)
        #expect(TOMLAssertionGuard.check("d = 2026-01-02 1") == nil) // at the end of the file toml++ reports it
        #expect(TOMLAssertionGuard.check("x = [1,\0}]\n") == nil) // toml++ never sees past a NUL
    }

    static let validEdgeCases = #"""
    # a comment with [[{x]] and x = [1,}]
    "quoted key" = "value with [ { } # and [[{"
    'literal key'.sub = 'lit [[{ }] #'
    dotted.key . here = 1
    "" = "empty quoted key"
    nested = [ [1, 2], ["x", "]"], [ {a = 1}, {b = "}"} ], [] ]
    multi = [
      1, # a comment with } and [[{
      2,
      # [[{x]]
      3,
    ]
    ml = """
    [[{x]]
    x = [1,}]
    d = 2026-01-02 1
    "a" "" \""" ""
    """
    ml2 = '''
    [[{x]]
    '''''
    ml3 = """quote at the end"""""
    escaped = "a \" [[{ \\"
    inline = { x = 1, y = { z = [1, {w = 2}] }, "q k" = 'v' }
    d1 = 1979-05-27
    d2 = 1979-05-27T07:32:00Z
    d3 = 1979-05-27 07:32:00.999999-07:00
    d4 = [1979-05-27 07:32:00, 1979-05-27, 1979-05-27T07:32:00]
    d5 = 1979-05-27 # a date, a space, a comment
    t = 07:32:00
    numbers = [1.0, -2e5, +inf, -nan, 0x1F, 0o7, 0b1, 1_000, +1, -0.5]
    bools = [true, false]
    [[arr]]
    x = 1
    [[arr]]
    [arr.sub]
    y = "[[{"
    [ "spaced header" . 'q' ]
    [[ arr2 ]]
    [a-b_c]	# tab before the comment
    """#

    @Test func validTOMLIsNotRefused() throws {
        #expect(TOMLAssertionGuard.check(Self.validEdgeCases) == nil)
        #expect(TOMLAssertionGuard.check(Self.validEdgeCases.replacingOccurrences(of: "\n", with: "\r\n")) == nil)
        #expect(TOMLAssertionGuard.check("\u{FEFF}a = 1\n") == nil)
        #expect(TOMLAssertionGuard.check("") == nil)
        // The edge cases are TOML toml++ accepts, so they reach the reader's own checks, not a syntax error.
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(Self.validEdgeCases, file: "t.toml") }
        #expect(error?.message.hasPrefix("TOML syntax error") == false, "\(error?.description ?? "")")
    }

    /// The guard protects every parse only while `TOMLDocument` is the one way into TOMLKit (config, profiles,
    /// check-config, start-up, reload).
    @Test func onlyTOMLDocumentUsesTOMLKit() throws {
        let sources = Repo.root + "/Sources"
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            #expect(!text.contains("import TOMLKit") || file == "InletConfig/TOMLDocument.swift", "\(file) imports TOMLKit")
        }
    }

    @Test func everyShippedTOMLFilePassesTheGuard() throws {
        var files: [String] = []
        for dir in ["providers", "config", "benchmarks/load"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: Repo.root + "/" + dir) where name.hasSuffix(".toml") {
                files.append(Repo.root + "/" + dir + "/" + name)
            }
        }
        #expect(files.count >= 38)
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(TOMLAssertionGuard.check(text) == nil, "\(file)")
        }
    }
}
