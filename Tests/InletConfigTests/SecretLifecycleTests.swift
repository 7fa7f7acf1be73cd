import Foundation
import InletConfig
import InletCore
import Testing

@Suite("Secret lifecycle")
struct SecretLifecycleTests {
    static let t0: EpochMillis = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    static let day: EpochMillis = 86_400_000

    func signedGitHub(_ secret: String, body: String = #"{"zen":"x"}"#) -> IncomingRequest {
        let profile = Repo.profiles["github"]!
        let headers = profile.sign(body: Array(body.utf8), key: Array(secret.utf8), timestampSeconds: 0, id: "") + [("X-GitHub-Delivery", "d-1")]
        return IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList(headers), body: Array(body.utf8), peer: nil, receivedAt: 0)
    }

    func resolve(_ secrets: String, now: EpochMillis, extra: String = "") throws -> ResolvedConfig {
        let toml = extra + "\n[sources.gh]\nprovider = \"github\"\nsecrets = \(secrets)\n"
        return try GatewayConfig.parse(toml, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles, now: now)
    }

    @Test func aWindowedSecretVerifiesOnlyInsideItsWindow() throws {
        let secrets = """
        [{ label = "next", value = "new-secret", not_before = 2026-01-02T00:00:00Z, expires_at = "2026-01-10T00:00:00Z" }, { label = "always", value = "other" }]
        """
        let source = try resolve(secrets, now: Self.t0).sources[0]
        let request = signedGitHub("new-secret")
        #expect(source.admit(request, now: Self.t0) == .reject(.signatureMismatch))  // before: not yet valid
        guard case .admit(let a) = source.admit(request, now: Self.t0 + Self.day) else { Issue.record("refused inside the window"); return }
        #expect(a.secretLabel == "next")
        #expect(source.admit(request, now: Self.t0 + 9 * Self.day) == .reject(.secretExpired))  // after: only an expired secret matches
        #expect(source.admit(signedGitHub("nobody"), now: Self.t0 + 9 * Self.day) == .reject(.signatureMismatch))
        #expect(RejectionReason.secretExpired.httpStatus == 401)
    }

    @Test func bothSecretsVerifyDuringAnOverlapAndTheMatchIsLabelled() throws {
        let secrets = """
        [{ label = "2026-q1", value = "new-secret" }, { label = "2025-q4", value = "old-secret", expires_at = 2026-01-08T00:00:00Z }]
        """
        let source = try resolve(secrets, now: Self.t0).sources[0]
        guard case .admit(let new) = source.admit(signedGitHub("new-secret"), now: Self.t0),
              case .admit(let old) = source.admit(signedGitHub("old-secret"), now: Self.t0) else { Issue.record("refused during overlap"); return }
        #expect(new.secretLabel == "2026-q1")
        #expect(old.secretLabel == "2025-q4")
        #expect(source.admit(signedGitHub("old-secret"), now: Self.t0 + 7 * Self.day) == .reject(.secretExpired))
    }

    @Test func expiringSecretsAreReportedAndAllExpiredRefusesToStart() throws {
        let secrets = """
        [{ label = "soon", value = "a", expires_at = 2026-01-05T00:00:00Z }, { label = "later", value = "b", expires_at = 2026-03-01T00:00:00Z }]
        """
        let resolved = try resolve(secrets, now: Self.t0)
        #expect(resolved.expiryWarnings(now: Self.t0).map(\.label) == ["soon"])  // default horizon: 7 days
        #expect(try resolve(secrets, now: Self.t0, extra: "[secrets]\nexpiry_warning_days = 90").expiryWarnings(now: Self.t0).map(\.label) == ["soon", "later"])
        let error = #expect(throws: ConfigError.self) { try resolve(secrets, now: Self.t0 + 90 * Self.day) }
        #expect(error?.key == "sources.gh.secrets")
        #expect(error?.message.contains("every secret has expired") == true)
    }

    @Test func badWindowsAreConfigErrors() {
        #expect(throws: ConfigError.self) { try resolve(#"[{ value = "a", expires_at = "yesterday" }]"#, now: Self.t0) }
        #expect(throws: ConfigError.self) { try resolve(#"[{ value = "a", not_before = 2026-02-01T00:00:00Z, expires_at = 2026-01-01T00:00:00Z }]"#, now: Self.t0) }
        #expect(throws: ConfigError.self) { try resolve(#"[{ value = "a", expires = 2026-02-01T00:00:00Z }]"#, now: Self.t0) }
    }

    @Test func internalHopIsSignedWithEveryActiveSecret() throws {
        let newSecret = "whsec_" + Base64.encode(Array("new-destination-secret-32-bytes!".utf8))
        let oldSecret = "whsec_" + Base64.encode(Array("old-destination-secret-32-bytes!".utf8))
        let signer = try StandardWebhooksSigner(secrets: [newSecret, oldSecret],
                                                windows: [SecretWindow(), SecretWindow(expiresAt: Self.t0 + Self.day)])
        let body = Array(#"{"specversion":"1.0"}"#.utf8)
        let during = signer.signature(id: "evt_1", timestampSeconds: Self.t0 / 1000, body: body)
        #expect(during.split(separator: " ").count == 2)
        // A receiver holding only one of the two secrets verifies it.
        #expect(try StandardWebhooksSigner(secrets: [newSecret]).verify(id: "evt_1", timestamp: "\(Self.t0 / 1000)", signatureHeader: during, body: body, now: Self.t0))
        #expect(try StandardWebhooksSigner(secrets: [oldSecret]).verify(id: "evt_1", timestamp: "\(Self.t0 / 1000)", signatureHeader: during, body: body, now: Self.t0))
        // After the overlap only the new secret signs.
        let after = signer.signature(id: "evt_1", timestampSeconds: (Self.t0 + 2 * Self.day) / 1000, body: body)
        #expect(after.split(separator: " ").count == 1)
        #expect(!(try StandardWebhooksSigner(secrets: [oldSecret]).verify(id: "evt_1", timestamp: "\((Self.t0 + 2 * Self.day) / 1000)", signatureHeader: after, body: body, now: Self.t0 + 2 * Self.day)))
    }
}
