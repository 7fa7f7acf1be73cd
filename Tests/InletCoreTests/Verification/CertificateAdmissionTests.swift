import Foundation
import InletConfig
import InletCore
import Testing
import InletTesting

/// Certificate schemes (SNS, PayPal) are admitted by one decision, `ResolvedSource.decide`, which ingress and
/// quarantine re-admission both ask: the checks that need no certificate first, then `.needsCertificate(url)` until
/// the caller brings the key or reports it unavailable.
@Suite("Certificate admission: one decision")
struct CertificateAdmissionTests {
    static let now: EpochMillis = 1_767_225_600_000
    static let certURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem"

    func sns(_ extra: String = "") throws -> ResolvedSource {
        let toml = "[sources.src]\nprovider = \"aws-sns\"\ntopic_arns = [\"arn:aws:sns:us-east-1:123456789012:orders\"]\n" + extra
        return try GatewayConfig.parse(toml, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles, now: Self.now).sources[0]
    }

    func message(certURL: String = Self.certURL, peer: String = "127.0.0.1") -> IncomingRequest {
        let fields = [("Type", "Notification"), ("MessageId", "m-1"), ("TopicArn", "arn:aws:sns:us-east-1:123456789012:orders"),
                      ("Message", "hi"), ("Timestamp", "2026-01-01T00:00:00.000Z"), ("SignatureVersion", "2"), ("Signature", "AAAA"),
                      ("SigningCertURL", certURL)]
        let body = "{" + fields.map { JSONString.quoted($0.0) + ":" + JSONString.quoted($0.1) }.joined(separator: ",") + "}"
        return IncomingRequest(method: "POST", path: "/hooks/src", headers: HTTPHeaderList(), body: Array(body.utf8), peer: IPAddress(peer),
                               receivedAt: Self.now)
    }

    @Test func aListedTopicAsksForItsCertificateThenUsesWhatTheCallerBrings() throws {
        let source = try sns()
        #expect(source.decide(message(), now: Self.now) == .needsCertificate(Self.certURL))
        #expect(source.decide(message(), now: Self.now, certificate: .unavailable) == .reject(.certificateUnavailable))
        // With the key, the signature is checked (end to end with real certificates: CertificateSchemeTests).
    }

    @Test func nothingIsFetchedForARequestRefusedAnyway() throws {
        let allowlisted = try sns("allow_ips = [\"10.0.0.0/8\"]")
        #expect(allowlisted.decide(message(peer: "192.0.2.7"), now: Self.now) == .reject(.ipNotAllowed))
        #expect(try sns().decide(message(certURL: "https://attacker.example/cert.pem"), now: Self.now) == .reject(.certificateURLNotAllowed))
    }

    @Test func otherSchemesDecideAsAdmitDoes() throws {
        let toml = "[sources.src]\nprovider = \"github\"\nsecrets = [\"s\"]\n"
        let github = try GatewayConfig.parse(toml, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles, now: Self.now).sources[0]
        let request = IncomingRequest(method: "POST", path: "/hooks/src", headers: HTTPHeaderList([("X-Hub-Signature-256", "sha256=00")]),
                                      body: Array("{}".utf8), peer: IPAddress("127.0.0.1"), receivedAt: Self.now)
        #expect(github.decide(request, now: Self.now) == github.admit(request, now: Self.now))
    }
}
