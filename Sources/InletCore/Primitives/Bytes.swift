import Crypto
import Foundation

/// Byte encodings used by signature schemes. Hand-rolled hex because `String(format:)` per byte
/// measurably dominates a verifying server's profile; base64 goes through Foundation, which is fast.
public enum ByteEncoding: String, Sendable, CaseIterable {
    case hex
    /// Hex whose letters may come in either case (Oura sends upper-case): encoded lower-case, compared case-folded.
    case hexAnyCase = "hex-any-case"
    case base64
    /// The URL-safe alphabet (`-`, `_`) without padding (Sanity); a padded signature is accepted too.
    case base64url

    public func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        switch self {
        case .hex, .hexAnyCase: return Hex.encode(bytes)
        case .base64: return Array(Data(bytes).base64EncodedData())
        case .base64url: return Base64.urlEncode(bytes)
        }
    }

    public func decode(_ text: some StringProtocol) -> [UInt8]? {
        switch self {
        case .hex, .hexAnyCase: return Hex.decode(text.lowercased())
        case .base64: return Base64.decode(text)
        case .base64url: return Base64.decode(text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"))
        }
    }

    /// Whether a presented signature equals `expected` (this encoding's `encode` of the MAC), in time that depends only
    /// on the lengths. Case-folds hex letters or drops base64url padding in place: no copy of the candidate.
    public func matches(expected: [UInt8], candidate: [UInt8]) -> Bool {
        switch self {
        case .hex, .base64: return constantTimeEquals(expected, candidate)
        case .hexAnyCase:
            guard expected.count == candidate.count else { return false }
            var diff: UInt8 = 0
            for i in 0..<expected.count {
                let c = candidate[i]
                // Only A-F fold (to a-f): any other byte stays itself and cannot equal a lower-case hex digit by accident.
                diff |= expected[i] ^ (c >= 0x41 && c <= 0x46 ? c | 0x20 : c)
            }
            return diff == 0
        case .base64url:
            var n = candidate.count
            while n > expected.count, n > 0, candidate[n - 1] == UInt8(ascii: "=") { n -= 1 }
            return constantTimeEquals(expected, candidate[0..<n])
        }
    }
}

public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hex, as every provider that signs in hex sends it.
    public static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return out
    }

    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = value(utf8[i]), let lo = value(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// The value of one hex digit, either case.
    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

public enum Base64 {
    /// Decodes standard base64, tolerating missing padding (as the Standard Webhooks libraries do for secrets).
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var s = String(text)
        let rem = s.utf8.count % 4
        if rem == 1 { return nil }
        if rem > 0 { s += String(repeating: "=", count: 4 - rem) }
        guard let data = Data(base64Encoded: s) else { return nil }
        return Array(data)
    }

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
    }

    /// A character of the standard alphabet, padding included.
    static func isAlphabet(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2F || c == 0x3D
    }

    /// RFC 4648 §5 (URL- and filename-safe alphabet), without padding.
    public static func urlEncode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out = Array(Data(bytes).base64EncodedData())
        while out.last == UInt8(ascii: "=") { out.removeLast() }
        for i in out.indices {
            if out[i] == UInt8(ascii: "+") { out[i] = UInt8(ascii: "-") } else if out[i] == UInt8(ascii: "/") { out[i] = UInt8(ascii: "_") }
        }
        return out
    }
}

/// Compares two byte strings in time that depends only on their lengths, never on where they differ.
/// Used for signatures, whose length is public (fixed by the scheme); secrets go through `secretsEqual`.
@inline(never)
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}

/// Compares a secret with a presented value without revealing the secret's length: both sides are hashed to
/// SHA-256 first and the fixed-length digests are compared in constant time. `constantTimeEquals` returns at once on
/// a length mismatch, which is harmless for signatures (their length is public) but lets a caller who can time
/// admin-token, shared-token or `verify_token` checks learn how long the secret is.
@inline(never)
public func secretsEqual(_ secret: some Collection<UInt8>, _ presented: some Collection<UInt8>) -> Bool {
    constantTimeEquals(Array(SHA256.hash(data: Array(secret))), Array(SHA256.hash(data: Array(presented))))
}

/// `secretsEqual` over the strings' UTF-8 bytes.
public func secretsEqual(_ secret: String, _ presented: String) -> Bool {
    secretsEqual(Array(secret.utf8), Array(presented.utf8))
}

extension Array where Element == UInt8 {
    /// UTF-8 bytes of a string, without an intermediate `Data`.
    @inlinable public init(utf8Of string: String) { self = Array(string.utf8) }
}
