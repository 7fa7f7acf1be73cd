@preconcurrency import Crypto
import Foundation
import InletConfig
import InletCore
import InletServer
import NIOConcurrencyHelpers
import Testing

/// The hardening issue's forgery and replay items through a running gateway: what an attacker sends on the wire,
/// and what the gateway answers and fetches.
@Suite("Forgery and replay end to end", .timeLimit(.minutes(2)))
struct ForgeryEndToEndTests {
    /// A gateway with one SNS source (`extra` added to it) whose certificate fetches and confirmations are recorded.
    static func snsGateway(pki: LocalPKI, extra: String) async throws -> CertificateGateway {
        try await CertificateGateway.start(pki: pki, source: "sns", sourceTOML: "provider = \"aws-sns\"\nsns_auto_confirm = true\n" + extra)
    }

    static let snsHeaders = [("Content-Type", "text/plain; charset=UTF-8")]

    /// Item 9: from a refused address nothing is fetched, whatever URL the body names.
    @Test func aRefusedAddressNeverMakesTheGatewayFetchACertificate() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let gw = try await Self.snsGateway(pki: pki, extra: snsTopicTOML + "allow_ips = [\"192.0.2.0/24\"]\n")
        let attackerURL = "https://sns.us-east-1.amazonaws.com/attacker-chosen.pem"
        let reply = try await post(gw.url, body: try snsBody(pki: pki, certURL: attackerURL), headers: Self.snsHeaders)
        let confirmation = try await post(gw.url, body: try snsBody(type: "SubscriptionConfirmation", pki: pki), headers: Self.snsHeaders)
        try await gw.stop()
        #expect(reply.status == 403 && reply.json["reason"] == "ip_not_allowed")
        #expect(confirmation.status == 403 && confirmation.json["reason"] == "ip_not_allowed")
        #expect(gw.fetched.withLockedValue { $0 }.isEmpty)
        #expect(gw.confirmed.withLockedValue { $0 }.isEmpty)
    }

    /// Item 4: a message AWS really signed, for a topic of the attacker's own account.
    @Test func anotherAccountsTopicIsRefusedBeforeTheFetchAndNeverConfirmed() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let gw = try await Self.snsGateway(pki: pki, extra: snsTopicTOML)
        let foreign = "arn:aws:sns:us-east-1:210987654321:MyTopic"
        let notification = try await post(gw.url, body: try snsBody(pki: pki, certURL: "https://sns.us-east-1.amazonaws.com/foreign.pem", topic: foreign),
                                           headers: Self.snsHeaders)
        let subscription = try await post(gw.url, body: try snsBody(type: "SubscriptionConfirmation", pki: pki,
                                                                    certURL: "https://sns.us-east-1.amazonaws.com/foreign.pem", topic: foreign),
                                          headers: Self.snsHeaders)
        // The listed topic still works, and is confirmed.
        let own = try await post(gw.url, body: try snsBody(type: "SubscriptionConfirmation", pki: pki), headers: Self.snsHeaders)
        try await gw.stop()
        #expect(notification.status == 403 && notification.json["reason"] == "topic_not_allowed")
        #expect(subscription.status == 403 && subscription.json["reason"] == "topic_not_allowed")
        #expect(own.status == 200 && own.body.contains(#""confirmed":"true""#))
        #expect(gw.fetched.withLockedValue { $0 } == ["https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"])
        #expect(gw.confirmed.withLockedValue { $0.count } == 1)
    }

    /// Item 5: a genuine SNS message with a second "Message" appended: the signature (over the first) still verifies.
    @Test func anAppendedSNSMessageIsRefused() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let gw = try await Self.snsGateway(pki: pki, extra: snsTopicTOML)
        let genuine = try snsBody(message: "pay 10", pki: pki)
        let forged = String(genuine.dropLast()) + #","Message":"pay 10000"}"#
        let reply = try await post(gw.url, body: forged, headers: Self.snsHeaders)
        try await gw.stop()
        #expect(reply.status == 400 && reply.json["reason"] == "duplicate_json_key")
        #expect(gw.fetched.withLockedValue { $0 }.isEmpty)
    }

    /// Item 8: a captured GitHub delivery re-sent with a new X-GitHub-Delivery.
    @Test func aGitHubReplayWithAFreshDeliveryIDIsADuplicate() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: """
            [sources.github]
            provider = "github"
            secrets = ["gh-secret"]
            destinations = ["svc"]
            """, destinationURL: destination.url)
        let body = #"{"action":"created","comment":{"body":"approve"}}"#
        let signature = "sha256=" + Hex.string(hmac(Array("gh-secret".utf8), Array(body.utf8)))
        var replies: [Reply] = []
        for delivery in ["72d3162e-cc78-11e3-81ab-4c9367dc0958", "0b1e7d2a-0000-11f0-8000-000000000001"] {
            replies.append(try await post(gw.baseURL + "/hooks/github", body: body, headers: [
                ("X-Hub-Signature-256", signature), ("X-GitHub-Event", "issue_comment"), ("X-GitHub-Delivery", delivery), ("Content-Type", "application/json"),
            ]))
        }
        try await destination.waitForRequests(1)
        try await gw.stop()
        #expect(replies.map { $0.json["status"] } == ["accepted", "duplicate"])
        #expect(try gw.gateway.store.counts().events == 1)
        await destination.stop()
    }

    /// Item 5 for a profile that signs the raw bytes: the gateway's type and the consumer's would differ.
    @Test func aBodyWithARepeatedKeyGets400() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: destination.url)
        let body = #"{"id":"evt_dup","type":"invoice.paid","type":"charge.refunded","data":{}}"#
        let reply = try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body))
        try await gw.stop()
        #expect(reply.status == 400 && reply.json["reason"] == "duplicate_json_key")
        #expect(try gw.gateway.store.counts().events == 0)
        await destination.stop()
    }

    // MARK: Item 7: PayPal transmissions

    func paypalRequest(pki: LocalPKI, id: String = "dfb3be50-fd74-11e4-8bf3-77339302725b", time: String, body: String) throws -> IncomingRequest {
        IncomingRequest(method: "POST", path: "/", headers: try paypalHeaders(pki: pki, id: id, time: time, body: body), body: Array(body.utf8),
                        peer: nil, receivedAt: 0)
    }

    @Test func aPayPalTransmissionIsFreshForFiveMinutesAndKeyedByItsID() throws {
        let pki = try LocalPKI(commonName: "messageverificationcerts.paypal.com")
        let source = try GatewayConfig.parse("[sources.pp]\nprovider = \"paypal\"\nwebhook_id = \"\(paypalWebhookID)\"\n", file: "t.toml")
            .resolve(environment: [:], profiles: try ProfileLoader.loadDirectory(Repo.root + "/providers")).sources[0]
        let sent = try #require(RFC3339.parse("2026-01-01T00:00:00Z"))
        let body = #"{"id":"WH-1","event_type":"PAYMENT.SALE.COMPLETED"}"#
        let request = try paypalRequest(pki: pki, time: "2026-01-01T00:00:00Z", body: body)
        guard case .admit(let fresh) = source.admit(request, now: sent + 299_000, signingCertificateKey: pki.signingKeyDER) else {
            Issue.record("a fresh transmission was refused"); return
        }
        #expect(fresh.eventKey == "dfb3be50-fd74-11e4-8bf3-77339302725b")
        // Replayed after the tolerance (the signature is still valid: nothing else stops it).
        #expect(source.admit(request, now: sent + 301_000, signingCertificateKey: pki.signingKeyDER) == .reject(.timestampOutsideTolerance))
        #expect(source.admit(request, now: sent - 301_000, signingCertificateKey: pki.signingKeyDER) == .reject(.timestampOutsideTolerance))
        // The body is covered only by a CRC32 (anyone can make another body with the same one), so the key is the
        // signed transmission ID: whatever the body's id says, one transmission is one event.
        let sameTransmission = try paypalRequest(pki: pki, time: "2026-01-01T00:00:00Z", body: #"{"id":"WH-2","event_type":"PAYMENT.SALE.COMPLETED"}"#)
        guard case .admit(let other) = source.admit(sameTransmission, now: sent, signingCertificateKey: pki.signingKeyDER) else { Issue.record("refused"); return }
        #expect(other.eventKey == fresh.eventKey)
    }

    @Test func aPayPalSandboxCertificateURLNeedsASandboxSource() async throws {
        let live = try GatewayConfig.parse("[sources.pp]\nprovider = \"paypal\"\nwebhook_id = \"W\"\n", file: "t.toml")
            .resolve(environment: [:], profiles: try ProfileLoader.loadDirectory(Repo.root + "/providers")).sources[0]
        var request = try paypalRequest(pki: try LocalPKI(commonName: "x"), time: "2026-01-01T00:00:00Z", body: "{}")
        request.headers = HTTPHeaderList(request.headers.entries.map {
            $0.name == "PAYPAL-CERT-URL" ? ($0.name, "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1") : $0
        })
        #expect(CertificateSchemes.certificateURL(for: live.profile, in: request) == .failure(.certificateURLNotAllowed))
    }

    /// Item 7: a certificate in PayPal's name that does not chain to a trusted root (what a forger can make) is not
    /// used, although it comes from PayPal's host and its key verifies the signature.
    @Test func aPayPalCertificateThatDoesNotChainIsNotUsed() async throws {
        let pki = try LocalPKI(commonName: "messageverificationcerts.paypal.com")
        let gw = try await CertificateGateway.start(pki: pki, source: "paypal", sourceTOML: "provider = \"paypal\"\nwebhook_id = \"\(paypalWebhookID)\"\n")
        let body = #"{"id":"WH-1","event_type":"PAYMENT.SALE.COMPLETED"}"#
        let signed = try paypalRequest(pki: pki, time: RFC3339.format(SystemClock().now()), body: body)
        let reply = try await post(gw.url, body: body, headers: signed.headers.entries.map { ($0.name, $0.value) })
        try await gw.stop()
        #expect(gw.fetched.withLockedValue { $0.count } == 1)
        #expect(reply.status == 503 && reply.json["reason"] == "certificate_unavailable")
    }
}
