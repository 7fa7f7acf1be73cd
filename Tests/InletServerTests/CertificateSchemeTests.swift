@preconcurrency import _CryptoExtras
@preconcurrency import Crypto
import Foundation
import InletConfig
import InletCore
import InletServer
import NIOConcurrencyHelpers
import SwiftASN1
import Testing
import X509

/// A local CA and a signing certificate made for each run: the SNS and PayPal paths are tested without the network.
struct LocalPKI: Sendable {
    let signingKeyDER: [UInt8]
    let leafPEM: String
    private let keyPEM: String

    init(commonName: String) throws {
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

    func sign(_ message: [UInt8], sha1: Bool = false) throws -> String {
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM)
        let sig = sha1 ? try key.signature(for: Insecure.SHA1.hash(data: message), padding: .insecurePKCS1v1_5)
                       : try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        return Base64.encode(sig.rawRepresentation)
    }
}

struct FixedCertificate: CertificateFetcher {
    let pem: String
    let fetched: NIOLockedValueBox<[String]>
    func fetchPEM(_ url: String) async throws -> String {
        fetched.withLockedValue { $0.append(url) }
        return pem
    }
}

func snsBody(type: String = "Notification", message: String = "hello", pki: LocalPKI, version: String = "2",
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
let snsTopicTOML = #"topic_arns = ["arn:aws:sns:us-east-1:123456789012:MyTopic"]"# + "\n"

@Suite("Certificate schemes: AWS SNS and PayPal")
struct CertificateSchemeTests {
    @Test(arguments: [
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", true),
        ("https://sns.cn-north-1.amazonaws.com.cn/x.pem", true),
        ("http://sns.us-east-1.amazonaws.com/x.pem", false),
        ("https://sns.us-east-1.amazonaws.com/x.crt", false),
        ("https://sns.us-east-1.amazonaws.com.evil.com/x.pem", false),
        ("https://evil.com/sns.us-east-1.amazonaws.com/x.pem", false),
        ("https://sns.us-east-1.amazonaws.com:8443/x.pem", false),
        ("https://s3.us-east-1.amazonaws.com/x.pem", false),
        ("https://sns.x.amazonaws.com/x.pem", false),
    ])
    func snsCertificateHostsAreChecked(_ url: String, _ allowed: Bool) {
        #expect(CertificateSchemes.isAllowedSNSURL(url, requirePEM: true) == allowed)
    }

    @Test func crc32MatchesZlib() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    func policy(_ provider: String, extra: String = "") throws -> SourcePolicy {
        let toml = "[sources.src]\nprovider = \"\(provider)\"\n" + extra
        return try GatewayConfig.parse(toml, file: "t.toml").resolve(environment: [:]).sources[0]
    }

    @Test func snsNotificationsVerifyWithBothSignatureVersions() throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let p = try policy("aws-sns", extra: snsTopicTOML)
        for version in ["1", "2"] {
            let body = try snsBody(pki: pki, version: version)
            let request = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(), body: Array(body.utf8), peer: nil, receivedAt: 0)
            guard case .admit(let a) = p.admit(request, now: 0, signingCertificateKey: pki.signingKeyDER) else { Issue.record("v\(version) rejected"); return }
            #expect(a.eventKey == "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324" && a.eventType == "Notification")
            let tampered = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(), body: Array(body.replacingOccurrences(of: "hello", with: "hellO").utf8), peer: nil, receivedAt: 0)
            #expect(p.admit(tampered, now: 0, signingCertificateKey: pki.signingKeyDER) == .reject(.signatureMismatch))
            let other = try LocalPKI(commonName: "other")
            #expect(p.admit(request, now: 0, signingCertificateKey: other.signingKeyDER) == .reject(.signatureMismatch))
        }
    }

    @Test func paypalVerifiesTheTransmissionWithTheWebhookID() throws {
        let pki = try LocalPKI(commonName: "messageverificationcerts.paypal.com")
        let p = try policy("paypal", extra: "webhook_id = \"1JE4291016473214C\"\n")
        let now = try #require(RFC3339.parse("2026-01-01T00:00:30Z"))
        let body = #"{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.SALE.COMPLETED","resource":{"id":"80021663DE681814L"}}"#
        let id = "dfb3be50-fd74-11e4-8bf3-77339302725b", time = "2026-01-01T00:00:00Z"
        let message = Array("\(id)|\(time)|1JE4291016473214C|\(CRC32.checksum(Array(body.utf8)))".utf8)
        let headers = HTTPHeaderList([("PAYPAL-TRANSMISSION-ID", id), ("PAYPAL-TRANSMISSION-TIME", time), ("PAYPAL-TRANSMISSION-SIG", try pki.sign(message)),
                                      ("PAYPAL-CERT-URL", "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"), ("PAYPAL-AUTH-ALGO", "SHA256withRSA")])
        let request = IncomingRequest(method: "POST", path: "/", headers: headers, body: Array(body.utf8), peer: nil, receivedAt: 0)
        #expect(try CertificateSchemes.certificateURL(for: p.profile, in: request)?.get() == "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77")
        guard case .admit(let a) = p.admit(request, now: now, signingCertificateKey: pki.signingKeyDER) else { Issue.record("rejected"); return }
        // The dedup key is the signed transmission ID (the body is covered only by a CRC32).
        #expect(a.eventKey == id && a.eventType == "PAYMENT.SALE.COMPLETED")
        let otherHook = try policy("paypal", extra: "webhook_id = \"OTHER\"\n")
        #expect(otherHook.admit(request, now: now, signingCertificateKey: pki.signingKeyDER) == .reject(.signatureMismatch))
        var evil = request
        evil.headers = HTTPHeaderList(headers.entries.map { $0.name == "PAYPAL-CERT-URL" ? ($0.name, "https://evil.example/cert.pem") : $0 })
        #expect(CertificateSchemes.certificateURL(for: p.profile, in: evil) == .failure(.certificateURLNotAllowed))
        #expect(throws: ConfigError.self) { try policy("paypal") }  // webhook_id is required
    }

    @Test func snsEndToEndFetchesTheCertificateOnceAndConfirmsSubscriptionsWhenEnabled() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let fetched = NIOLockedValueBox<[String]>([])
        let confirmed = NIOLockedValueBox<[String]>([])
        let destination = try await TestDestination()
        let toml = """
        providers_dir = "\(Repo.root)/providers"
        [server]
        listen = "127.0.0.1:0"
        [store]
        path = "\(FileManager.default.temporaryDirectory.appendingPathComponent("inlet-sns-\(UUID().uuidString)/inlet.sqlite").path)"
        [destinations.svc]
        url = "\(destination.url)"
        secrets = ["\(destinationSecret)"]
        [sources.sns]
        provider = "aws-sns"
        destinations = ["svc"]
        sns_auto_confirm = true
        \(snsTopicTOML)
        """
        let resolved = try GatewayConfig.parse(toml, file: "/tmp/sns.toml").resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, logger: quietLogger, certificateFetcher: FixedCertificate(pem: pki.leafPEM, fetched: fetched),
                                  followUpGET: { url in confirmed.withLockedValue { $0.append(url) }; return 200 })
        let task = Task { try await gateway.run() }
        let base = "http://127.0.0.1:\(try await gateway.ingress.listeningPort())/hooks/sns"
        let headers = [("Content-Type", "text/plain; charset=UTF-8"), ("x-amz-sns-message-type", "Notification")]

        let first = try await post(base, body: try snsBody(message: "one", pki: pki), headers: headers)
        #expect(first.json["status"] == "accepted")
        let second = try await post(base, body: try snsBody(message: "two", pki: pki).replacingOccurrences(of: "22b80b92", with: "33c91c03"), headers: headers)
        #expect(second.status == 401)  // MessageId edited after signing
        let confirmation = try await post(base, body: try snsBody(type: "SubscriptionConfirmation", message: "confirm", pki: pki), headers: headers)
        #expect(confirmation.status == 200 && confirmation.body.contains(#""confirmed":"true""#))
        let evil = try await post(base, body: try snsBody(pki: pki, certURL: "https://attacker.example/cert.pem"), headers: headers)
        #expect(evil.status == 401 && evil.json["reason"] == "certificate_url_not_allowed")

        try await destination.waitForRequests(1)
        await gateway.shutdown()
        try await task.value
        #expect(fetched.withLockedValue { $0 } == ["https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"])
        #expect(confirmed.withLockedValue { $0.count } == 1)
        #expect(confirmed.withLockedValue { $0.first?.hasPrefix("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription") } == true)
        #expect(destination.requests.count == 1)  // the confirmation was answered, not forwarded
        await destination.stop()
    }
}
