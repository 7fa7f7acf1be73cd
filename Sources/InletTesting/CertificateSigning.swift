@preconcurrency import _CryptoExtras
@preconcurrency import Crypto
import Foundation
import InletConfig
import InletCore
import InletServer
import NIOConcurrencyHelpers
import X509

/// A local CA and a signing certificate made for each run: the SNS and PayPal paths are tested without the network.
public struct LocalPKI: Sendable {
    /// The leaf's public key (SPKI DER), what the gateway takes from a fetched certificate.
    public let signingKeyDER: [UInt8]
    public let leafPEM: String
    private let keyPEM: String

    public init(commonName: String) throws {
        let now = Date()
        let caKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let caName = try DistinguishedName { CommonName("Inlet Test CA") }
        let leafKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
            issuer: caName, subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .sha256WithRSAEncryption, extensions: Certificate.Extensions(), issuerPrivateKey: .init(caKey))
        leafPEM = try leaf.serializeAsPEM().pemString
        signingKeyDER = Array(leafKey.publicKey.derRepresentation)
        keyPEM = leafKey.pemRepresentation
    }

    /// RSA PKCS#1 v1.5 over SHA-256 (SHA-1 for SNS signature version 1), base64.
    public func sign(_ message: [UInt8], sha1: Bool = false) throws -> String {
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM)
        let sig = sha1 ? try key.signature(for: Insecure.SHA1.hash(data: message), padding: .insecurePKCS1v1_5)
                       : try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        return Base64.encode(sig.rawRepresentation)
    }
}

/// A certificate fetcher that answers every URL with one certificate and records what was asked for.
public struct FixedCertificate: CertificateFetcher {
    public let pem: String
    public let fetched: NIOLockedValueBox<[String]>

    public init(pem: String, fetched: NIOLockedValueBox<[String]>) {
        self.pem = pem
        self.fetched = fetched
    }

    public func fetchPEM(_ url: String) async throws -> String {
        fetched.withLockedValue { $0.append(url) }
        return pem
    }
}

/// An SNS message signed the way AWS signs it: the canonical string of its type's fields, in their fixed order.
public func snsBody(type: String = "Notification", message: String = "hello", pki: LocalPKI, version: String = "2",
                    certURL: String = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
                    topic: String = "arn:aws:sns:us-east-1:123456789012:MyTopic") throws -> String {
    var fields: [(String, String)] = [("Message", message), ("MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324")]
    if type == "Notification" { fields.append(("Subject", "My First Message")) }
    if type == "SubscriptionConfirmation" {
        fields.append(("SubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:MyTopic&Token=2336412f37"))
    }
    fields.append(("Timestamp", "2026-01-01T00:00:00.000Z"))
    if type == "SubscriptionConfirmation" { fields.append(("Token", "2336412f37")) }
    fields += [("TopicArn", topic), ("Type", type)]
    let canonical = fields.flatMap { Array("\($0.0)\n\($0.1)\n".utf8) }
    let signature = try pki.sign(canonical, sha1: version == "1")
    var all = fields + [("SignatureVersion", version), ("Signature", signature), ("SigningCertURL", certURL)]
    all.shuffle()  // key order in the body does not matter; the canonical order does
    return "{" + all.map { JSONString.quoted($0.0) + ":" + JSONString.quoted($0.1) }.joined(separator: ",") + "}"
}

/// The topic `snsBody` signs for, as a source's `topic_arns`.
public let snsTopicTOML = #"topic_arns = ["arn:aws:sns:us-east-1:123456789012:MyTopic"]"# + "\n"

/// The webhook ID `paypalHeaders` signs for, as a source's `webhook_id`.
public let paypalWebhookID = "1JE4291016473214C"

/// A PayPal transmission's headers, signed the way PayPal signs: `id|time|webhook_id|crc32(body)`.
public func paypalHeaders(pki: LocalPKI, id: String = "dfb3be50-fd74-11e4-8bf3-77339302725b", time: String, body: String,
                          webhookID: String = paypalWebhookID,
                          certURL: String = "https://api.paypal.com/v1/notifications/certs/CERT-1") throws -> HTTPHeaderList {
    let message = Array("\(id)|\(time)|\(webhookID)|\(CRC32.checksum(Array(body.utf8)))".utf8)
    return HTTPHeaderList([("PAYPAL-TRANSMISSION-ID", id), ("PAYPAL-TRANSMISSION-TIME", time), ("PAYPAL-TRANSMISSION-SIG", try pki.sign(message)),
                           ("PAYPAL-CERT-URL", certURL), ("PAYPAL-AUTH-ALGO", "SHA256withRSA")])
}

/// A gateway with one certificate-signed source whose certificate fetches and follow-up GETs (SNS confirmations) are
/// recorded instead of made: the certificate is always `pki`'s leaf.
public struct CertificateGateway {
    public let gateway: Gateway
    public let task: Task<Void, Error>
    /// The source's ingress URL.
    public let url: String
    public let fetched: NIOLockedValueBox<[String]>
    public let confirmed: NIOLockedValueBox<[String]>

    /// `sourceTOML` is the body of `[sources.<source>]`; `extraTOML` (e.g. a destination) is added at the top level.
    public static func start(pki: LocalPKI, source: String, sourceTOML: String, extraTOML: String = "") async throws -> CertificateGateway {
        let fetched = NIOLockedValueBox<[String]>([])
        let confirmed = NIOLockedValueBox<[String]>([])
        let toml = """
            providers_dir = "\(Repo.root)/providers"
            [server]
            listen = "127.0.0.1:0"
            [store]
            path = "\(FileManager.default.temporaryDirectory.appendingPathComponent("inlet-certificates-\(UUID().uuidString)/inlet.sqlite").path)"
            \(extraTOML)
            [sources.\(source)]
            \(sourceTOML)
            """
        let resolved = try GatewayConfig.parse(toml, file: "/tmp/certificates.toml").resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, logger: quietLogger, certificateFetcher: FixedCertificate(pem: pki.leafPEM, fetched: fetched),
                                  followUpGET: { url in confirmed.withLockedValue { $0.append(url) }; return 200 })
        let task = Task { try await gateway.run() }
        let url = "http://127.0.0.1:\(try await gateway.ingress.listeningPort())/hooks/\(source)"
        return CertificateGateway(gateway: gateway, task: task, url: url, fetched: fetched, confirmed: confirmed)
    }

    public func stop() async throws {
        await gateway.shutdown()
        try await task.value
    }
}
