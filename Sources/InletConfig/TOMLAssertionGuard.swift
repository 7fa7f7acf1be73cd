/// Finds the malformed TOML that would make toml++ abort the process instead of reporting a parse error.
///
/// toml++ 3.4.0, bundled by TOMLKit 0.6.0, checks some of its parser's assumptions with `assert`, and malformed
/// input can break them; SwiftPM compiles C++ without `NDEBUG`, so the assertion aborts the process: `inlet
/// check-config` dies, and so does a running gateway asked to reload such a file (SIGHUP), where a reload must refuse
/// an invalid config and keep serving. (With `NDEBUG` the same lines become `__builtin_assume`: undefined behaviour.)
/// Every `TOMLDocument` therefore passes its text through `check` before TOMLKit sees it.
///
/// The scanner follows toml++'s parser (statements, table headers, keys, values, arrays, inline tables, strings,
/// comments) only closely enough to reach the places where toml++ asserts, and refuses exactly these inputs
/// (fuzz/crashes/ has a reproducer for each):
///
/// 1. a table header whose `[` or `[[` is followed by something that cannot start a key (`[[{x]]`, `[[[a]]]`, `[ =`,
///    `[` then a line break): `parse_key()` asserts on its first character;
/// 2. an array element that starts with a value terminator toml++ does not skip there: `}` (`x = [1,}]`) or a
///    Unicode line separator (U+0085, U+2028, U+2029): `parse_value()` asserts;
/// 3. a date, a space and a single digit that ends the value (`d = 2026-01-02 1`, then a line break, `]`, `,` …):
///    the look-ahead for a date-time with a space asserts;
/// 4. a date, then `T` and a character that is not a digit (`d = 2026-01-02T:00`): `parse_time()` asserts on its
///    first character.
///
/// Each refused input is invalid TOML, so valid TOML is never refused. Where the scanner meets anything else
/// toml++ would refuse, it stops: toml++ reports that error itself, and no assertion lies before it. The audit behind
/// this list (every `assert` in toml++'s parser, and a libFuzzer run of toml++ alone) is in fuzz/crashes/README.md.
/// Remove this guard when TOMLKit ships a toml++ with marzer/tomlplusplus#301 and the fixes for 2–4.
enum TOMLAssertionGuard {
    /// Why toml++ would abort, and the 1-based line it would abort on.
    struct Finding: Equatable, Sendable {
        var line: Int
        var message: String
    }

    /// The first construct in `text` that toml++ 3.4.0 would abort on, or nil when toml++ can be given `text`.
    static func check(_ text: String) -> Finding? {
        // TOMLKit hands toml++ a C string, so toml++ never sees anything after a NUL.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars {
            if s.value == 0 { break }
            scalars.append(s)
        }
        var scanner = Scanner(s: scalars)
        do {
            try scanner.document()
            return nil
        } catch {
            switch error {
            case .refuse(let finding): return finding
            case .toTOMLPlusPlus: return nil
            }
        }
    }

    enum Outcome: Error {
        /// toml++ would assert here.
        case refuse(Finding)
        /// toml++ reports an error here (or sooner); nothing after this point is reached.
        case toTOMLPlusPlus
    }

    /// toml++'s `TOML_MAX_NESTED_VALUES`: a deeper value is an error, so nothing deeper is reached.
    static let maxNestedValues = 256

    struct Scanner {
        let s: [Unicode.Scalar]
        var i = 0
        var line = 1

        init(s: [Unicode.Scalar]) {
            self.s = s
            if s.first == "\u{FEFF}" { i = 1 } // toml++ skips a byte order mark
        }

        var atEnd: Bool { i >= s.count }
        var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }
        func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

        mutating func advance(_ n: Int = 1) {
            for _ in 0..<n where i < s.count {
                if s[i] == "\n" { line += 1 }
                i += 1
            }
        }

        func refuse(_ context: String, _ what: String) -> Outcome {
            .refuse(Finding(line: line, message: "TOML syntax error: Error while parsing \(context): \(what)"))
        }

        /// How toml++ prints a character in an error.
        func shown(_ c: Unicode.Scalar) -> String {
            c.value < 0x20 || c.value == 0x7F || c.value > 0x7E ? "\\u{\(String(c.value, radix: 16, uppercase: true))}" : String(c)
        }

        // MARK: Characters, as toml++ classifies them

        static func isBareKeyCharacter(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
            default: return false
            }
        }

        static func isStringDelimiter(_ c: Unicode.Scalar) -> Bool { c == "\"" || c == "'" }

        static func isDigit(_ c: Unicode.Scalar?) -> Bool { c.map { ("0"..."9").contains($0) } ?? false }

        static func isNonASCIIHorizontalWhitespace(_ c: Unicode.Scalar) -> Bool {
            switch c.value {
            case 0xA0, 0x1680, 0x180E, 0x2000...0x200B, 0x202F, 0x205F...0x2060, 0x3000, 0xFEFF: return true
            default: return false
            }
        }

        static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
            switch c.value {
            case 0x09, 0x20, 0x0A...0x0D, 0x85, 0x2028, 0x2029: return true
            default: return isNonASCIIHorizontalWhitespace(c)
            }
        }

        static func isValueTerminator(_ c: Unicode.Scalar) -> Bool {
            isWhitespace(c) || c == "]" || c == "}" || c == "," || c == "#"
        }

        static func isControl(_ c: Unicode.Scalar) -> Bool { c.value <= 0x1F || c.value == 0x7F }

        // MARK: Whitespace, line breaks, comments (toml++'s consume_* functions)

        /// Spaces and tabs; toml++ refuses other horizontal whitespace.
        mutating func skipWhitespace() throws(Outcome) -> Bool {
            var consumed = false
            while let c = peek {
                if c == " " || c == "\t" {
                    consumed = true
                    advance()
                } else if Self.isNonASCIIHorizontalWhitespace(c) {
                    throw .toTOMLPlusPlus
                } else {
                    break
                }
            }
            return consumed
        }

        mutating func lineBreak() throws(Outcome) -> Bool {
            guard let c = peek else { return false }
            switch c {
            case "\n":
                advance()
                return true
            case "\r":
                guard peek(1) == "\n" else { throw .toTOMLPlusPlus }
                advance(2)
                return true
            case "\u{0B}", "\u{0C}":
                throw .toTOMLPlusPlus
            default:
                return false
            }
        }

        mutating func comment() throws(Outcome) -> Bool {
            guard peek == "#" else { return false }
            advance()
            while let c = peek {
                if try lineBreak() { return true }
                if Self.isControl(c) && c != "\t" { throw .toTOMLPlusPlus }
                advance()
            }
            return true
        }

        /// Whitespace, a line break or a comment (written out: `||` would lose the typed throw).
        mutating func blank() throws(Outcome) -> Bool {
            if try skipWhitespace() { return true }
            if try lineBreak() { return true }
            return try comment()
        }

        /// After a table header or a key-value pair: only whitespace, a comment or a line break may follow.
        mutating func restOfLine() throws(Outcome) {
            _ = try skipWhitespace()
            guard !atEnd else { return }
            if try comment() { return }
            if try lineBreak() { return }
            throw .toTOMLPlusPlus
        }

        // MARK: The document

        mutating func document() throws(Outcome) {
            while let c = peek {
                if try blank() { continue }
                if c == "[" {
                    try tableHeader()
                } else if Self.isBareKeyCharacter(c) || Self.isStringDelimiter(c) {
                    try keyValuePair(depth: 0)
                    try restOfLine()
                } else {
                    throw .toTOMLPlusPlus
                }
            }
        }

        mutating func tableHeader() throws(Outcome) {
            advance() // '['
            guard !atEnd else { throw .toTOMLPlusPlus }
            let hadWhitespace = try skipWhitespace()
            guard !atEnd else { throw .toTOMLPlusPlus }
            var isArray = false
            if peek == "[" {
                if hadWhitespace { throw .toTOMLPlusPlus }
                isArray = true
                advance()
                _ = try skipWhitespace()
                guard !atEnd else { throw .toTOMLPlusPlus }
            }
            let c = peek!
            if c == "]" { throw .toTOMLPlusPlus }
            guard Self.isBareKeyCharacter(c) || Self.isStringDelimiter(c) else {
                // toml++ 3.4.0 parse_key(): assert(is_bare_key_character(*cp) || is_string_delimiter(*cp))
                throw refuse("table header", "expected bare key starting character or string delimiter, saw '\(shown(c))'")
            }
            try key()
            _ = try skipWhitespace()
            guard peek == "]" else { throw .toTOMLPlusPlus }
            advance()
            if isArray {
                guard peek == "]" else { throw .toTOMLPlusPlus }
                advance()
            }
            try restOfLine()
        }

        /// A bare, quoted or dotted key; the caller has checked its first character.
        mutating func key() throws(Outcome) {
            while true {
                guard let c = peek else { throw .toTOMLPlusPlus }
                if Self.isBareKeyCharacter(c) {
                    while let b = peek, Self.isBareKeyCharacter(b) { advance() }
                } else if Self.isStringDelimiter(c) {
                    if try string() { throw .toTOMLPlusPlus } // multi-line strings are not keys
                } else {
                    throw .toTOMLPlusPlus
                }
                _ = try skipWhitespace()
                guard peek == "." else { return }
                advance()
                _ = try skipWhitespace()
            }
        }

        /// `key = value`, at the top level (depth 0) or in an inline table at `depth`.
        mutating func keyValuePair(depth: Int) throws(Outcome) {
            try key()
            _ = try skipWhitespace()
            guard peek == "=" else { throw .toTOMLPlusPlus }
            advance()
            _ = try skipWhitespace()
            guard let c = peek, !Self.isValueTerminator(c) else { throw .toTOMLPlusPlus }
            try value(depth: depth + 1)
        }

        // MARK: Values

        mutating func value(depth: Int) throws(Outcome) {
            guard depth <= TOMLAssertionGuard.maxNestedValues, let c = peek else { throw .toTOMLPlusPlus }
            if Self.isControl(c) || c == "_" { throw .toTOMLPlusPlus }
            switch c {
            case "[": try array(depth: depth)
            case "{": try inlineTable(depth: depth)
            case "\"", "'": _ = try string()
            default: try bareValue()
            }
        }

        mutating func array(depth: Int) throws(Outcome) {
            advance() // '['
            var afterValue = false
            while true {
                while try blank() {}
                guard let c = peek else { throw .toTOMLPlusPlus }
                if c == "," {
                    guard afterValue else { throw .toTOMLPlusPlus }
                    afterValue = false
                    advance()
                } else if c == "]" {
                    advance()
                    return
                } else {
                    if afterValue { throw .toTOMLPlusPlus }
                    if Self.isValueTerminator(c) {
                        // toml++ 3.4.0 parse_value(): assert(!is_value_terminator(*cp))
                        throw refuse("array", "expected value or closing ']', saw '\(shown(c))'")
                    }
                    try value(depth: depth + 1)
                    afterValue = true
                }
            }
        }

        mutating func inlineTable(depth: Int) throws(Outcome) {
            advance() // '{'
            var afterPair = false, afterComma = false
            while true {
                _ = try skipWhitespace()
                guard let c = peek else { throw .toTOMLPlusPlus }
                if c == "," {
                    guard afterPair else { throw .toTOMLPlusPlus }
                    afterPair = false
                    afterComma = true
                    advance()
                } else if c == "}" {
                    if afterComma { throw .toTOMLPlusPlus }
                    advance()
                    return
                } else if Self.isBareKeyCharacter(c) || Self.isStringDelimiter(c) {
                    if afterPair { throw .toTOMLPlusPlus }
                    try keyValuePair(depth: depth)
                    afterPair = true
                    afterComma = false
                } else {
                    throw .toTOMLPlusPlus
                }
            }
        }

        /// A basic or literal string, single- or multi-line. Returns whether it was multi-line.
        mutating func string() throws(Outcome) -> Bool {
            let quote = peek!
            let escapes = quote == "\""
            if peek(1) == quote && peek(2) == quote {
                advance(3)
                while let c = peek {
                    if escapes && c == "\\" {
                        advance(2)
                    } else if c == quote {
                        var run = 0
                        while peek(run) == quote { run += 1 }
                        if run >= 3 {
                            // Up to two quotes may end the content before the closing three.
                            guard run <= 5 else { throw .toTOMLPlusPlus }
                            advance(run)
                            return true
                        }
                        advance(run)
                    } else {
                        advance()
                    }
                }
                throw .toTOMLPlusPlus
            }
            advance()
            while let c = peek {
                if c == quote {
                    advance()
                    return false
                }
                if c == "\n" || c == "\r" { throw .toTOMLPlusPlus }
                advance(escapes && c == "\\" ? 2 : 1)
            }
            throw .toTOMLPlusPlus
        }

        /// Numbers, booleans, dates and times: everything up to the next value terminator.
        mutating func bareValue() throws(Outcome) {
            let start = i
            while let c = peek, !Self.isValueTerminator(c) { advance() }
            // toml++ reads `YYYY-MM-DD HH:MM…` (a space instead of `T`) as one value: it looks past the space when
            // the first ten characters (underscores aside) have a '-' at the fifth and eighth, and a digit follows.
            let chars = s[start..<i].filter { $0 != "_" }
            if chars.count == 10, Self.isDigit(chars.first), chars[chars.startIndex + 4] == "-", chars[chars.startIndex + 7] == "-",
               peek == " ", Self.isDigit(peek(1)) {
                if let after = peek(2), Self.isValueTerminator(after) {
                    // toml++ 3.4.0 parse_value(), the date-time look-ahead: assert(!is_value_terminator(*cp))
                    throw refuse("value", "expected a time after the date, saw '\(shown(peek(1)!))' then '\(shown(after))'")
                }
                advance(2)
                while let c = peek, !Self.isValueTerminator(c) { advance() }
            }
            // A date, then 'T' or 't': toml++ 3.4.0 parse_time() asserts that a digit follows.
            let raw = Array(s[start..<i])
            if raw.count >= 11, raw[0..<4].allSatisfy({ Self.isDigit($0) }), raw[4] == "-", raw[5..<7].allSatisfy({ Self.isDigit($0) }),
               raw[7] == "-", raw[8..<10].allSatisfy({ Self.isDigit($0) }), raw[10] == "T" || raw[10] == "t" {
                if raw.count > 11, !Self.isDigit(raw[11]) {
                    throw refuse("date-time", "expected a time after '\(shown(raw[10]))', saw '\(shown(raw[11]))'")
                }
            }
        }
    }
}
