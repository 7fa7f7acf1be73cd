/// The text of one element in a small XML document, found by its path from the root (`/notification/kind`): what a
/// profile reads out of an XML payload (Braintree's base64 `bt_payload`), without an XML parser on unsigned input.
///
/// Deliberately narrow: elements, attributes, comments, processing instructions and CDATA are walked; a DOCTYPE (and
/// with it any entity definition) makes the document unreadable; only the five predefined entities and numeric
/// character references are decoded. Linear in the input, nesting bounded by `maxDepth`.
enum XMLText {
    static let maxDepth = 64
    /// A decoded payload longer than this is not read.
    static let maxBytes = 1 << 20

    /// The text of the first element at `path` that holds only text (no child element); nil when there is none or the
    /// document is not one this reader accepts.
    static func text(at path: [String], in doc: [UInt8]) -> String? {
        guard !path.isEmpty, doc.count <= maxBytes else { return nil }
        let want = path.map { Array($0.utf8) }
        var stack: [[UInt8]] = []
        var text: [UInt8] = []
        var collecting = false
        var i = 0
        let n = doc.count
        func starts(_ s: String, at j: Int) -> Bool {
            let u = Array(s.utf8)
            return j + u.count <= n && Array(doc[j..<(j + u.count)]) == u
        }
        func find(_ s: String, from j: Int) -> Int? {
            let u = Array(s.utf8)
            var k = j
            while k + u.count <= n {
                if doc[k] == u[0], Array(doc[k..<(k + u.count)]) == u { return k }
                k += 1
            }
            return nil
        }
        while i < n {
            let b = doc[i]
            if b != UInt8(ascii: "<") {
                if collecting { text.append(b) }
                i += 1
                continue
            }
            if starts("<!--", at: i) {
                guard let end = find("-->", from: i + 4) else { return nil }
                i = end + 3
            } else if starts("<![CDATA[", at: i) {
                guard let end = find("]]>", from: i + 9) else { return nil }
                if collecting { text += doc[(i + 9)..<end] }
                i = end + 3
            } else if starts("<?", at: i) {
                guard let end = find("?>", from: i + 2) else { return nil }
                i = end + 2
            } else if starts("<!", at: i) {
                return nil  // DOCTYPE: entity definitions are not read
            } else if starts("</", at: i) {
                var j = i + 2
                while j < n, doc[j] != UInt8(ascii: ">") { j += 1 }
                guard j < n else { return nil }
                var name = Array(doc[(i + 2)..<j])
                while let last = name.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { name.removeLast() }
                guard let top = stack.popLast(), top == name else { return nil }
                if collecting {
                    // The element closed with text only: the answer.
                    return decodeEntities(text)
                }
                i = j + 1
            } else {
                // A start tag: its name, then attributes (a quoted value may hold '>'), then '>' or '/>'.
                var j = i + 1
                while j < n, !isNameEnd(doc[j]) { j += 1 }
                let name = Array(doc[(i + 1)..<j])
                guard !name.isEmpty else { return nil }
                var quote: UInt8?
                while j < n {
                    let c = doc[j]
                    if let q = quote { if c == q { quote = nil } } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") { quote = c } else if c == UInt8(ascii: ">") { break }
                    j += 1
                }
                guard j < n else { return nil }
                let selfClosing = doc[j - 1] == UInt8(ascii: "/")
                // A child element: its parent holds more than text, so it is not the answer.
                collecting = false
                text = []
                if !selfClosing {
                    guard stack.count < maxDepth else { return nil }
                    stack.append(name)
                    if stack == want { collecting = true }
                }
                i = j + 1
            }
        }
        return nil
    }

    private static func isNameEnd(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: ">") || c == UInt8(ascii: "/")
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#NN;` / `&#xNN;`; nil for any other reference.
    static func decodeEntities(_ bytes: [UInt8]) -> String? {
        var out = ""
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "&") else {
                var j = i
                while j < bytes.count, bytes[j] != UInt8(ascii: "&") { j += 1 }
                out += String(decoding: bytes[i..<j], as: UTF8.self)
                i = j
                continue
            }
            guard let semi = bytes[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { return nil }
            let ref = String(decoding: bytes[(i + 1)..<semi], as: UTF8.self)
            switch ref {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                guard ref.hasPrefix("#") else { return nil }
                let digits = ref.dropFirst()
                let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                guard let v = value, let scalar = Unicode.Scalar(v) else { return nil }
                out.unicodeScalars.append(scalar)
            }
            i = semi + 1
        }
        return out
    }
}
