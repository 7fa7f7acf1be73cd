/// An `application/x-www-form-urlencoded` body, decoded to bytes: what form-field signature schemes read (Alipay signs
/// its sorted parameters, Braintree the `bt_payload` field).
///
/// Values stay bytes, not `String`: Alipay signs in the notification's `charset` (UTF-8 or GBK), and the bytes the
/// sender percent-encoded are exactly the bytes it signed. A name that occurs twice makes the body ambiguous (frameworks
/// keep the first or the last), so `parse` refuses it rather than pick one.
struct FormFields: Sendable, Equatable {
    struct Field: Sendable, Equatable {
        var name: [UInt8]
        var value: [UInt8]
    }

    let fields: [Field]

    /// A form with more fields than this is refused: no provider sends that many, and every one is sorted and copied.
    static let maxFields = 1024

    /// The fields of `body`; nil when a percent escape is broken, a name repeats, a name is empty, or there are more
    /// than `maxFields`. `+` is a space, as HTML forms encode it.
    static func parse(_ body: [UInt8]) -> FormFields? {
        var out: [Field] = []
        var seen = Set<[UInt8]>()
        var start = 0
        while start <= body.count {
            var end = start
            while end < body.count, body[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                let piece = body[start..<end]
                let eq = piece.firstIndex(of: UInt8(ascii: "=")) ?? end
                guard let name = decode(piece[start..<eq]), !name.isEmpty,
                      let value = decode(eq < end ? piece[(eq + 1)..<end] : []) else { return nil }
                guard out.count < maxFields, seen.insert(name).inserted else { return nil }
                out.append(Field(name: name, value: value))
            }
            start = end + 1
        }
        return FormFields(fields: out)
    }

    /// The value of the field called `name`, or nil.
    func value(_ name: String) -> [UInt8]? {
        let n = Array(name.utf8)
        return fields.first { $0.name == n }?.value
    }

    /// `name=value` of every field not in `excluding` and with a non-empty value, names in byte order, joined by `&`:
    /// Alipay's `getSignCheckContentV1` (alipay-sdk-java `AlipaySignature`), which drops `sign`, `sign_type` and empty
    /// values and sorts the rest by name.
    func sorted(excluding: [String]) -> [UInt8] {
        let skip = Set(excluding.map { Array($0.utf8) })
        let kept = fields.filter { !$0.value.isEmpty && !skip.contains($0.name) }
            .sorted { $0.name.lexicographicallyPrecedes($1.name) }
        var out: [UInt8] = []
        for (i, f) in kept.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "&")) }
            out += f.name
            out.append(UInt8(ascii: "="))
            out += f.value
        }
        return out
    }

    /// Percent-decodes one name or value; nil for a `%` not followed by two hex digits.
    static func decode(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(0x20)
            } else if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension ParsedSignatureHeader {
    /// The signatures `key` may have made: for `keyedPairs`, only the first one named with the key's ID (as
    /// braintree-python's `__matching_signature` picks it); otherwise all of them.
    func candidates(for key: VerificationKey, format: SignatureHeaderFormat) -> [[UInt8]] {
        guard case .keyedPairs = format else { return signatures }
        guard let id = key.keyID, let i = keyIDs.firstIndex(of: id), i < signatures.count else { return [] }
        return [signatures[i]]
    }
}

/// A value written as a JSON string literal, the way the signer of a constructed-JSON scheme wrote it.
enum JSONStringLiteral {
    /// `"…"` as @hygraph/utils writes it: `JSON.stringify` (`"` and `\` escaped, control characters as `\n`, `\r`,
    /// `\t`, `\b`, `\f` or `\u00XX`, other bytes, UTF-8 included, as they are), then its `escapeHTMLChars`, which
    /// turns a `<`, `>` or `&` into `\\u003c`, `\\u003e`, `\\u0026`: the text Hygraph's Go signer produced from a body
    /// whose own encoder had written them `\u003c`… A body as Hygraph sends it holds no bare `<`, `>` or `&`.
    static func goHTMLSafe(_ bytes: [UInt8]) -> [UInt8] {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(bytes.count + 16)
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out += [0x5C, UInt8(ascii: "\"")]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x00..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                out += Array("\\\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}
