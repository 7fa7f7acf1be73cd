import Crypto
import _CryptoExtras
import Foundation

/// Schemes verified with an RSA key from a certificate the provider points to (AWS SNS, PayPal). The core decides
/// which certificate URL may be fetched and checks signatures; fetching and caching is the server's job, which
/// passes the certificate's public key (DER SubjectPublicKeyInfo) back in.
public enum CertificateSchemes {
    /// Where the request says its signing certificate is, validated against the provider's hosts (PayPal's sandbox
    /// hosts only when `sandbox`). Nil when the profile does not use a certificate.
    public static func certificateURL(for profile: ProviderProfile, in request: IncomingRequest, sandbox: Bool = false) -> Result<String, VerificationFailure>? {
        guard let alg = profile.signatures.first?.algorithm else { return nil }
        switch alg {
        case .awsSNS:
            let url = field("SigningCertURL", request.body) ?? field("SigningCertUrl", request.body)
            guard let url else { return .failure(.missingSignature) }
            return isAllowedSNSURL(url, requirePEM: true) ? .success(url) : .failure(.certificateURLNotAllowed)
        case .paypalRSA:
            guard let url = request.headers.first("PAYPAL-CERT-URL") else { return .failure(.missingSignature) }
            return isAllowedPayPalURL(url, sandbox: sandbox) ? .success(url) : .failure(.certificateURLNotAllowed)
        default:
            return nil
        }
    }

    /// `https://sns.<region>.amazonaws.com[.cn]/…[.pem]`, as the AWS message validators require.
    public static func isAllowedSNSURL(_ url: String, requirePEM: Bool) -> Bool {
        guard let u = URLComponents(string: url), u.scheme == "https", let host = u.host?.lowercased(), u.port == nil || u.port == 443 else { return false }
        if requirePEM && !u.path.hasSuffix(".pem") { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let cn = host.hasSuffix(".amazonaws.com.cn")
        guard labels.count == (cn ? 5 : 4), labels[0] == "sns", labels[2] == "amazonaws", labels[3] == "com", !cn || labels[4] == "cn" else { return false }
        let region = labels[1]
        return region.count >= 3 && region.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    /// PayPal's API hosts; the sandbox's only for a source that sets `sandbox = true`, since anyone can get a
    /// sandbox certificate's key to sign with by opening a developer account.
    public static func isAllowedPayPalURL(_ url: String, sandbox: Bool = false) -> Bool {
        guard let u = URLComponents(string: url), u.scheme == "https", let host = u.host?.lowercased(), u.port == nil || u.port == 443,
              u.user == nil, u.password == nil else { return false }
        if ["api.paypal.com", "api-m.paypal.com"].contains(host) { return true }
        return sandbox && ["api.sandbox.paypal.com", "api-m.sandbox.paypal.com"].contains(host)
    }

    /// What a fetched certificate must satisfy besides holding an RSA key and being inside its validity period.
    public static func requirement(for profile: ProviderProfile, sandbox: Bool) -> SigningCertificateRequirement {
        guard profile.signatures.contains(where: { $0.algorithm == .paypalRSA }) else { return .init() }
        // PayPal's SDKs check the chain and the subject: the certificate URL alone does not prove the key is PayPal's.
        return .init(chainToTrustedRoot: true,
                     commonNames: ["messageverificationcerts.paypal.com"] + (sandbox ? ["messageverificationcerts.sandbox.paypal.com"] : []))
    }

    static func field(_ name: String, _ body: [UInt8]) -> String? {
        JSONScanner.scalarText(at: JSONPointer(tokens: [name]), in: body)
    }

    /// The string AWS SNS signs: `key\nvalue\n` for each present key in a fixed order that depends on the type.
    static func snsStringToSign(_ body: [UInt8]) -> [UInt8]? {
        guard let type = field("Type", body) else { return nil }
        let keys: [String]
        switch type {
        case "Notification": keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        case "SubscriptionConfirmation", "UnsubscribeConfirmation": keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        default: return nil
        }
        var out: [UInt8] = []
        for k in keys {
            guard let v = field(k, body) ?? (k == "SubscribeURL" ? field("SubscribeUrl", body) : nil) else {
                if k == "Subject" { continue }
                return nil
            }
            out += Array(k.utf8) + [0x0A] + Array(v.utf8) + [0x0A]
        }
        return out
    }

    static func verifySNS(_ request: IncomingRequest, publicKeyDER: [UInt8]) -> Bool {
        guard let message = snsStringToSign(request.body), let sigText = field("Signature", request.body),
              let sig = Base64.decode(sigText), let key = try? _RSA.Signing.PublicKey(derRepresentation: publicKeyDER) else { return false }
        let signature = _RSA.Signing.RSASignature(rawRepresentation: sig)
        switch field("SignatureVersion", request.body) {
        case "1": return key.isValidSignature(signature, for: Insecure.SHA1.hash(data: message), padding: .insecurePKCS1v1_5)
        case "2": return key.isValidSignature(signature, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        default: return false
        }
    }

    /// PayPal: `transmission_id|transmission_time|webhook_id|crc32(body)` signed SHA256withRSA; the webhook ID is the
    /// receiver's own (from the PayPal dashboard), configured on the source.
    static func verifyPayPal(_ request: IncomingRequest, publicKeyDER: [UInt8], webhookID: String) -> Bool {
        guard let id = request.headers.first("PAYPAL-TRANSMISSION-ID"), let time = request.headers.first("PAYPAL-TRANSMISSION-TIME"),
              let sigText = request.headers.first("PAYPAL-TRANSMISSION-SIG"), let sig = Base64.decode(sigText),
              (request.headers.first("PAYPAL-AUTH-ALGO") ?? "SHA256withRSA") == "SHA256withRSA",
              let key = try? _RSA.Signing.PublicKey(derRepresentation: publicKeyDER) else { return false }
        let message = Array("\(id)|\(time)|\(webhookID)|\(CRC32.checksum(request.body))".utf8)
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: sig), for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
    }
}

/// What a signing certificate must be, decided by the profile; the server checks it when it fetches the certificate.
public struct SigningCertificateRequirement: Sendable, Hashable {
    /// The certificate (with the intermediates served beside it) must chain to a trusted root.
    public var chainToTrustedRoot: Bool
    /// The leaf's subject common name must be one of these; empty: any.
    public var commonNames: [String]
    /// The document is a JSON Web Key Set, not a certificate; the URL asked for is a `KeySetLocator` (`…#kid=…`).
    public var keySet: Bool
    /// The key is fetched by id from the provider's key API, as this plan says (it carries the source's
    /// credentials); the URL asked for is a `KeySetLocator` naming the key's URL and id.
    public var keyFetch: KeyFetchPlan?

    public init(chainToTrustedRoot: Bool = false, commonNames: [String] = [], keySet: Bool = false, keyFetch: KeyFetchPlan? = nil) {
        self.chainToTrustedRoot = chainToTrustedRoot
        self.commonNames = commonNames
        self.keySet = keySet
        self.keyFetch = keyFetch
    }
}

/// CRC-32 (IEEE 802.3, as zlib computes it).
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
