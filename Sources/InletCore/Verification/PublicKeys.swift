import Crypto
import _CryptoExtras
import Foundation

/// Public keys configured by an operator (PEM or base64 DER) or served by a provider (a JWKS), read by a small strict
/// DER reader of our own before anything reaches the crypto library.
///
/// Why our own reader: `_RSA.Signing.PublicKey(derRepresentation:)` handed bytes that are not a key aborted the test
/// process now and then (commit 84f83cc); the RSA key is built from its modulus and exponent instead, which the
/// library takes as plain big-endian integers. Every length is checked against what is left, so garbage is refused,
/// never trapped on.
public enum PublicKeys {
    public enum Parsed: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        /// A P-256 key, as DER SubjectPublicKeyInfo (what `VerificationKey.Material.p256` holds).
        case p256(der: [UInt8])
    }

    /// RSA keys from 2048 to 8192 bits: smaller ones are forgeable with public effort; larger ones only cost time.
    static let rsaModulusBytes = 256...1024

    /// The DER inside a PEM block (`-----BEGIN PUBLIC KEY-----`, `-----BEGIN RSA PUBLIC KEY-----`), or the bytes of
    /// bare base64 DER. Nil for anything else.
    public static func derFromPEMOrBase64(_ text: String) -> [UInt8]? {
        guard text.utf8.count <= 16 * 1024 else { return nil }
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasPrefix("-----BEGIN ") {
            let lines = body.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            guard lines.count >= 3, let last = lines.last, last.hasPrefix("-----END "), last.hasSuffix("-----"),
                  lines[0].hasSuffix("-----") else { return nil }
            body = lines[1..<(lines.count - 1)].joined()
        }
        body = body.filter { !$0.isWhitespace }
        guard !body.isEmpty, let der = Base64.decode(body), !der.isEmpty else { return nil }
        return der
    }

    /// A PEM block written on one line (eBay's key API: `-----BEGIN PUBLIC KEY-----MFkw…-----END PUBLIC KEY-----`) as
    /// its bare base64; any other text as it is.
    public static func unfoldedPEM(_ text: String) -> String {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix("-----BEGIN "), !t.contains("\n"),
              let headerEnd = t.range(of: "-----", range: t.index(t.startIndex, offsetBy: 11)..<t.endIndex),
              let footer = t.range(of: "-----END ", range: headerEnd.upperBound..<t.endIndex) else { return t }
        return String(t[headerEnd.upperBound..<footer.lowerBound])
    }

    /// Whether a configured secret is written as a PEM public key (so it must never be used as an HMAC secret).
    public static func looksLikePEM(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("-----BEGIN ")
    }

    /// A SubjectPublicKeyInfo (RSA or P-256) or a PKCS#1 RSAPublicKey.
    public static func parse(der: [UInt8]) -> Parsed? {
        var outer = DERReader(der)
        guard let seq = outer.read(tag: 0x30), outer.atEnd else { return nil }
        var fields = DERReader(seq)
        // PKCS#1: SEQUENCE { INTEGER n, INTEGER e }.
        if fields.peekTag == 0x02 {
            guard let n = fields.read(tag: 0x02), let e = fields.read(tag: 0x02), fields.atEnd else { return nil }
            return rsa(modulus: n, exponent: e).map { .rsa($0) }
        }
        // SPKI: SEQUENCE { SEQUENCE { OID, params }, BIT STRING }.
        guard let algorithm = fields.read(tag: 0x30), let bits = fields.read(tag: 0x03), fields.atEnd,
              bits.first == 0 else { return nil }
        let key = Array(bits.dropFirst())
        var alg = DERReader(algorithm)
        guard let oid = alg.read(tag: 0x06) else { return nil }
        switch Array(oid) {
        case rsaEncryption:
            if !alg.atEnd { guard alg.read(tag: 0x05)?.isEmpty == true, alg.atEnd else { return nil } }
            var inner = DERReader(key)
            guard let pk = inner.read(tag: 0x30), inner.atEnd else { return nil }
            var ne = DERReader(pk)
            guard let n = ne.read(tag: 0x02), let e = ne.read(tag: 0x02), ne.atEnd else { return nil }
            return rsa(modulus: n, exponent: e).map { .rsa($0) }
        case ecPublicKey:
            guard let curve = alg.read(tag: 0x06), Array(curve) == prime256v1, alg.atEnd else { return nil }
            return p256(x963: key).map { .p256(der: $0) }
        default:
            return nil
        }
    }

    /// An RSA key from its big-endian modulus and exponent (a JWK's `n`, `e`; DER INTEGERs may carry a leading zero).
    public static func rsa(modulus: some Collection<UInt8>, exponent: some Collection<UInt8>) -> _RSA.Signing.PublicKey? {
        let n = Array(modulus.drop { $0 == 0 }), e = Array(exponent.drop { $0 == 0 })
        // An odd exponent of at most 32 bits (65537 in practice) and a modulus of a size worth verifying with.
        guard rsaModulusBytes.contains(n.count), (1...4).contains(e.count), let low = e.last, low & 1 == 1, e != [1],
              let high = n.first, high >= 0x80 || n.count > rsaModulusBytes.lowerBound else { return nil }
        return try? _RSA.Signing.PublicKey(n: n, e: e)
    }

    /// A P-256 key from an uncompressed point (`04 || x || y`), as DER SPKI; nil when the point is not on the curve.
    public static func p256(x963: [UInt8]) -> [UInt8]? {
        guard x963.count == 65, x963[0] == 0x04, let key = try? P256.Signing.PublicKey(x963Representation: x963) else { return nil }
        return Array(key.derRepresentation)
    }

    /// RSASSA-PKCS1-v1_5 verification; a signature whose length is not the modulus's is refused before the library
    /// sees it.
    static func verifyRSA(_ key: _RSA.Signing.PublicKey, signature: [UInt8], message: [UInt8], hash: HashFunction) -> Bool {
        guard signature.count == (key.keySizeInBits + 7) / 8 else { return false }
        let sig = _RSA.Signing.RSASignature(rawRepresentation: signature)
        switch hash {
        case .sha1: return key.isValidSignature(sig, for: Insecure.SHA1.hash(data: message), padding: .insecurePKCS1v1_5)
        case .sha256: return key.isValidSignature(sig, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        case .sha512: return key.isValidSignature(sig, for: SHA512.hash(data: message), padding: .insecurePKCS1v1_5)
        }
    }

    /// ECDSA P-256/SHA-256 with a DER (`30 …`) or raw (`r || s`, 64 bytes, as JWS ES256 sends it) signature.
    static func verifyP256(der keyDER: [UInt8], signature: [UInt8], message: [UInt8], rawOnly: Bool = false) -> Bool {
        guard let key = try? P256.Signing.PublicKey(derRepresentation: keyDER) else { return false }
        let sig: P256.Signing.ECDSASignature?
        if signature.count == 64 {
            sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
        } else if !rawOnly, signature.count <= 80 {
            sig = try? P256.Signing.ECDSASignature(derRepresentation: signature)
        } else {
            sig = nil
        }
        guard let sig else { return false }
        return key.isValidSignature(sig, for: message)
    }

    static let rsaEncryption: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    static let ecPublicKey: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
    static let prime256v1: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
}

/// Reads DER tag-length-value items; every failure is nil, never a trap.
struct DERReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: some Collection<UInt8>) { self.bytes = Array(bytes) }

    var atEnd: Bool { index == bytes.count }
    var peekTag: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// The content of the next item if its tag is `tag`.
    mutating func read(tag: UInt8) -> ArraySlice<UInt8>? {
        guard index + 2 <= bytes.count, bytes[index] == tag else { return nil }
        var i = index + 1
        let first = bytes[i]
        i += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            // Long form, at most 3 length bytes (16 MiB): no key comes near it. 0x80 (indefinite) is not DER.
            let count = Int(first & 0x7F)
            guard (1...3).contains(count), i + count <= bytes.count else { return nil }
            for _ in 0..<count { length = length << 8 | Int(bytes[i]); i += 1 }
        }
        guard length <= bytes.count - i else { return nil }
        index = i + length
        return bytes[i..<(i + length)]
    }
}
