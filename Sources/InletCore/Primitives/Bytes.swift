import Crypto
import Foundation

/// Byte encodings used by signature schemes. Hand-rolled hex because `String(format:)` per byte
/// measurably dominates a verifying server's profile; base64 goes through Foundation, which is fast.
public enum ByteEncoding: String, Sendable, CaseIterable {
    case hex
    case base64

    public func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        switch self {
        case .hex: return Hex.encode(bytes)
        case .base64: return Array(Data(bytes).base64EncodedData())
        }
    }

    public func decode(_ text: some StringProtocol) -> [UInt8]? {
        switch self {
        case .hex: return Hex.decode(text)
        case .base64: return Base64.decode(text)
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
