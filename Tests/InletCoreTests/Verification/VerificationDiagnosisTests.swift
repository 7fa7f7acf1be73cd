import Foundation
import InletCore
import InletTesting
import Testing

/// `inlet providers explain`: each way a genuine request commonly fails to verify is named by its layer, and the
/// answer never contains the secret.
@Suite("Verification diagnosis")
struct VerificationDiagnosisTests {
    static let now: EpochMillis = 1_800_000_000_000
    static let body = #"{"id":"evt_diag_1","type":"invoice.paid"}"#
    static let secretText = "whsec_diagnosis_secret_value"

    static func source(_ provider: String, secret: String = secretText, publicURL: String? = nil) -> ResolvedSource {
        let profile = Repo.profiles[provider]!
        var source = ResolvedSource(name: provider, path: "/hooks/\(provider)", profile: profile,
                                    keys: [VerificationKey(label: "current", keyBytes: profile.secretEncoding.decode(secret)!)])
        source.verification.publicURL = publicURL
        return source
    }

    static func request(_ headers: [(String, String)], body: String = body, query: String? = nil, at: EpochMillis = now) -> IncomingRequest {
        IncomingRequest(method: "POST", path: "/hooks/x", query: query, headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: at)
    }

    static func stripeSigned(_ body: String = body, key: String = secretText, timestamp: Int64 = now / 1000) -> [(String, String)] {
        Repo.profiles["stripe"]!.sign(body: Array(body.utf8), key: Array(key.utf8), timestampSeconds: timestamp, id: "")
    }

    func explain(_ request: IncomingRequest, _ source: ResolvedSource, secret: String = secretText) -> VerificationDiagnosis {
        let d = VerificationDiagnostics.explain(request, source: source, secrets: [.init(label: "current", text: secret)], now: Self.now)
        #expect(!d.finding.contains(secret) && !d.tried.joined().contains(secret), "the diagnosis shows the secret")
        return d
    }

    @Test func aRequestThatVerifiesNowPasses() {
        let d = explain(Self.request(Self.stripeSigned()), Self.source("stripe"))
        #expect(d.layer == .passes)
        #expect(d.outcomeNow == "admitted")
    }

    @Test func aMissingHeaderIsNamedWithTheLookalikesTheRequestCarries() {
        let d = explain(Self.request([("X-Hub-Signature-256", "sha256=00")]), Self.source("stripe"))
        #expect(d.layer == .headerMissing)
        #expect(d.finding.contains("Stripe-Signature") && d.finding.contains("X-Hub-Signature-256"))
    }

    @Test func aRightSignatureWithAnOldTimestampIsTheTimestampsFault() {
        let d = explain(Self.request(Self.stripeSigned(timestamp: Self.now / 1000 - 7200)), Self.source("stripe"))
        #expect(d.layer == .timestampWindow)
        #expect(d.outcomeNow == "timestamp_outside_tolerance")
        #expect(d.finding.contains("'current'"))
    }

    @Test func aTimestampInMillisecondsWhereSecondsAreReadIsTheUnitsFault() {
        let body = Array(Self.body.utf8)
        let ms = String(Self.now)
        let sig = Hex.string(hmac(Array(Self.secretText.utf8), Array("\(ms).".utf8) + body))
        let d = explain(Self.request([("Stripe-Signature", "t=\(ms),v1=\(sig)")]), Self.source("stripe"))
        #expect(d.layer == .timestampUnit)
        #expect(d.finding.contains("milliseconds"))
    }

    @Test func aSecretDecodedTheWrongWayIsNamed() {
        // Standard Webhooks reads `whsec_` + base64; this sender used the whole text's UTF-8 bytes as the key.
        let secret = "whsec_" + Data("standard-webhooks-key".utf8).base64EncodedString()
        let profile = Repo.profiles["standard-webhooks"]!
        let headers = profile.sign(body: Array(Self.body.utf8), key: Array(secret.utf8), timestampSeconds: Self.now / 1000, id: "msg_1")
        let d = explain(Self.request(headers), Self.source("standard-webhooks", secret: secret), secret: secret)
        #expect(d.layer == .secretDecoding)
        #expect(d.finding.contains("UTF-8"))
    }

    @Test func aSecretPastedWithATrailingNewlineIsNamed() {
        let d = explain(Self.request(Self.stripeSigned(key: Self.secretText)), Self.source("stripe", secret: Self.secretText + "x"), secret: Self.secretText + "\n")
        #expect(d.layer == .secretDecoding)
        #expect(d.finding.contains("whitespace"))
    }

    @Test func anUpperCaseHexSignatureIsTheEncodingsFault() {
        let upper = Self.stripeSigned().map { name, value -> (String, String) in
            guard name == "Stripe-Signature", let range = value.range(of: "v1=") else { return (name, value) }
            return (name, String(value[..<range.upperBound]) + value[range.upperBound...].uppercased())
        }
        let d = explain(Self.request(upper), Self.source("stripe"))
        #expect(d.layer == .encoding)
        #expect(d.finding.contains("lower-case hex"))
    }

    @Test func aBodyAProxyChangedIsNamed() {
        let d = explain(Self.request(Self.stripeSigned(), body: Self.body + "\n"), Self.source("stripe"))
        #expect(d.layer == .bodyReserialized)
        #expect(d.finding.contains("trailing newline"))
        let pretty = "{\n  \"id\" : \"evt_diag_1\",\n  \"type\" : \"invoice.paid\"\n}"
        let reformatted = explain(Self.request(Self.stripeSigned(), body: pretty), Self.source("stripe"))
        #expect(reformatted.layer == .bodyReserialized)
    }

    @Test func aURLSignedOverAnotherSchemeIsThePublicURLsFault() {
        let form = "CallSid=CA1&From=%2B15550001111"
        let signedURL = "http://hooks.example.com/hooks/twilio"
        let headers = Repo.profiles["twilio"]!.sign(body: Array(form.utf8), key: Array("twilio-token".utf8), timestampSeconds: 0, id: "", publicURL: signedURL)
        let source = Self.source("twilio", secret: "twilio-token", publicURL: "https://hooks.example.com/hooks/twilio")
        let d = explain(Self.request(headers + [("Content-Type", "application/x-www-form-urlencoded")], body: form), source, secret: "twilio-token")
        #expect(d.layer == .publicURL)
        #expect(d.finding.contains(signedURL))
    }

    @Test func anotherSecretAltogetherIsSaidSo() {
        let d = explain(Self.request(Self.stripeSigned(key: "whsec_someone_elses")), Self.source("stripe"))
        #expect(d.layer == .secretUnknown)
        #expect(d.outcomeNow == "signature_mismatch")
        #expect(d.tried.count >= 5)
    }

    @Test func refusalsBeforeTheSignatureAreNotBlamedOnIt() {
        var source = Self.source("stripe")
        source.maxBodyBytes = 4
        let d = explain(Self.request(Self.stripeSigned()), source)
        #expect(d.layer == .notSignature)
        #expect(d.outcomeNow == "body_too_large")
    }
}
