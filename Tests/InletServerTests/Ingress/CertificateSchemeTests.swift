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

    func policy(_ provider: String, extra: String = "") throws -> ResolvedSource {
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
        let p = try policy("paypal", extra: "webhook_id = \"\(paypalWebhookID)\"\n")
        let now = try #require(RFC3339.parse("2026-01-01T00:00:30Z"))
        let body = #"{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.SALE.COMPLETED","resource":{"id":"80021663DE681814L"}}"#
        let id = "dfb3be50-fd74-11e4-8bf3-77339302725b", time = "2026-01-01T00:00:00Z"
        let headers = try paypalHeaders(pki: pki, id: id, time: time, body: body,
                                        certURL: "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77")
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
        let destination = try await TestDestination()
        let gw = try await CertificateGateway.start(pki: pki, source: "sns", sourceTOML: """
            provider = "aws-sns"
            destinations = ["svc"]
            sns_auto_confirm = true
            \(snsTopicTOML)
            """, extraTOML: destinationTOML("svc", url: destination.url))
        let base = gw.url
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
        try await gw.stop()
        #expect(gw.fetched.withLockedValue { $0 } == ["https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"])
        #expect(gw.confirmed.withLockedValue { $0.count } == 1)
        #expect(gw.confirmed.withLockedValue { $0.first?.hasPrefix("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription") } == true)
        #expect(destination.requests.count == 1)  // the confirmation was answered, not forwarded
        await destination.stop()
    }
}
