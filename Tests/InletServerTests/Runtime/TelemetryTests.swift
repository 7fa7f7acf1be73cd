import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import Prometheus
import Testing

@Suite("Rotation and telemetry end to end")
struct TelemetryTests {
    @Test func metricsMoveAndTheMatchedSecretIsRecorded() async throws {
        let destination = try await TestDestination()
        let oldDestSecret = "whsec_" + Base64.encode(Array("old-destination-secret-32-bytes!".utf8))
        let sources = """
        [sources.stripe]
        provider = "stripe"
        secrets = [{ label = "new", value = "whsec_new" }, { label = "old", value = "\(stripeSecret)", expires_at = 2099-01-01T00:00:00Z }]
        destinations = ["svc"]

        [sources.slack]
        provider = "slack"
        secrets = ["slack-secret"]
        destinations = ["svc"]
        """
        // The destination signs with two secrets during its own rotation.
        let gw = try await RunningGateway.start(sourcesTOML: sources, destinationURL: destination.url,
                                                destinationExtra: "", secondDestinationSecret: oldDestSecret)
        let registry = gw.gateway.metricsRegistry
        let url = gw.baseURL + "/hooks/stripe"
        let now = Int64(Date().timeIntervalSince1970)

        let viaOld = stripeEvent("evt_tel_1")
        #expect(try await post(url, body: viaOld, headers: stripeHeaders(body: viaOld, timestamp: now - 3)).json["status"] == "accepted")
        let viaNew = stripeEvent("evt_tel_2")
        let newAccepted = try await post(url, body: viaNew, headers: stripeHeaders(body: viaNew, secret: "whsec_new", timestamp: now - 3))
        #expect(newAccepted.json["status"] == "accepted")
        #expect(try await post(url, body: viaOld, headers: stripeHeaders(body: viaOld)).json["status"] == "duplicate")
        #expect(try await post(url, body: viaOld, headers: stripeHeaders(body: viaOld, secret: "whsec_wrong")).status == 401)
        let challenge = #"{"type":"url_verification","challenge":"c"}"#
        let sig = "v0=" + Hex.string(hmac(Array("slack-secret".utf8), Array("v0:\(now):\(challenge)".utf8)))
        #expect(try await post(gw.baseURL + "/hooks/slack", body: challenge, headers: [("X-Slack-Signature", sig), ("X-Slack-Request-Timestamp", "\(now)")]).status == 200)
        try await destination.waitForRequests(2)
        try await gw.stop()

        let text = registry.emitToString()
        #expect(text.contains(#"inlet_verifications_total{source="stripe",secret="old"} 2"#))
        #expect(text.contains(#"inlet_verifications_total{source="stripe",secret="new"} 1"#))
        #expect(text.contains(#"inlet_requests_rejected_total{source="stripe",provider="stripe",reason="signature_mismatch"} 1"#))
        #expect(text.contains(#"inlet_duplicates_total{source="stripe"} 1"#))
        #expect(text.contains(#"inlet_events_accepted_total{source="stripe",provider="stripe"} 2"#))
        #expect(text.contains(#"inlet_handshakes_total{provider="slack"} 1"#))
        // Skew: three requests signed 3 s before receipt fall in the (-5, -1] bucket; one fresh one does not.
        #expect(text.contains(#"inlet_timestamp_skew_seconds_bucket{source="stripe",le="-5.0"} 0"#))
        #expect(text.contains(#"inlet_timestamp_skew_seconds_count{source="stripe"} 3"#))
        #expect(text.contains(#"inlet_secret_expires_at_seconds{owner="source stripe",secret="old"} 4070908800"#))
        #expect(text.contains(#"inlet_secret_expiring{owner="source stripe",secret="old"} 0"#))

        // Which secret verified each stored event, and how much each is still used.
        let usage = try gw.gateway.store.secretUsage(since: 0)
        #expect(usage.map { "\($0.source)/\($0.secretLabel)=\($0.verifiedSince)" } == ["stripe/new=1", "stripe/old=1"])
        #expect(try gw.gateway.store.event(id: newAccepted.json["id"]!)?.secretLabel == "new")

        // Every forwarded request carries both destination signatures; a service holding either secret verifies it.
        for r in destination.requests {
            let id = r.headers.first(name: "webhook-id")!, ts = r.headers.first(name: "webhook-timestamp")!, header = r.headers.first(name: "webhook-signature")!
            #expect(header.split(separator: " ").count == 2)
            #expect(try StandardWebhooksSigner(secrets: [destinationSecret]).verify(id: id, timestamp: ts, signatureHeader: header, body: r.body, now: SystemClock().now()))
            #expect(try StandardWebhooksSigner(secrets: [oldDestSecret]).verify(id: id, timestamp: ts, signatureHeader: header, body: r.body, now: SystemClock().now()))
        }
        await destination.stop()
    }
}
