import AsyncHTTPClient
import Foundation
import InletCore
import InletServer
import InletStore
import NIOCore
import NIOHTTP1
import Testing

/// Token schemes (GitLab, Okta, generic-token) send the shared secret itself with every request. It must not be kept:
/// not in the store's files, not in what the admin API (and so the CLI) shows, not in what `raw` destinations receive.
/// Only a marker says that a credential was there.
@Suite("Secret leaks: token secrets stay out of the store, the admin API and destinations")
struct SecretLeakTests {
    static let gitlabToken = "gitlab-token-Zq81xWv4"
    static let oktaToken = "okta-shared-Pv27uLn9"
    static let genericToken = "generic/token+Ka93rD"
    /// Not configured at first: a request carrying it is quarantined, and re-admitted once the secret is added.
    static let laterToken = "generic-later-Tb55mEq2"
    static let allTokens = [gitlabToken, oktaToken, genericToken, laterToken]

    static func config(destination: String, genericSecrets: [String]) -> String {
        destinationTOML("raw", url: destination, "payload = \"raw\"") + adminSection + """
            [sources.gitlab]
            provider = "gitlab"
            secrets = ["\(gitlabToken)"]
            destinations = ["raw"]

            [sources.okta]
            provider = "okta"
            secrets = ["\(oktaToken)"]
            destinations = ["raw"]

            [sources.generic]
            provider = "generic-token"
            secrets = [\(genericSecrets.map { "\"\($0)\"" }.joined(separator: ", "))]
            destinations = ["raw"]
            """
    }

    /// The admin API's answer as text, so a secret anywhere in it (headers, query, any field) is found.
    static func adminText(_ base: String, _ path: String) async throws -> String {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Authorization", value: "Bearer t0k")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status.code == 200)
        return String(buffer: try await response.body.collect(upTo: 8 << 20))
    }

    /// Every byte of the SQLite database and its WAL.
    static func storeBytes(_ path: String) -> [UInt8] {
        [path, path + "-wal"].flatMap { Array(FileManager.default.contents(atPath: $0) ?? Data()) }
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        for i in 0...(haystack.count - n.count) where haystack[i] == n[0] && Array(haystack[i..<(i + n.count)]) == n { return true }
        return false
    }

    static func encoded(_ token: String) -> String { token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }

    /// Redaction happens before the store, so both backends keep only markers.
    @Test(arguments: ["sqlite", "postgres"])
    func tokenSecretsAreRedactedWhereverTheRequestIsKept(backend: String) async throws {
        let postgresURL = backend == "postgres" ? testPostgresURL() : nil
        if backend == "postgres" && postgresURL == nil { return }  // no PostgreSQL server in this run
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: Self.config(destination: destination.url, genericSecrets: [Self.genericToken]),
                                                postgresURL: postgresURL)
        let adminBase = "http://127.0.0.1:\(try await gw.gateway.adminPort())"
        // One body per request: token profiles sign no timestamp, so they deduplicate on the body's SHA-256.
        func body(_ n: Int) -> String { #"{"object_kind":"push","type":"push","n":\#(n)}"# }
        let sends: [(String, [(String, String)])] = [
            ("/hooks/gitlab", [("X-Gitlab-Token", Self.gitlabToken), ("X-Gitlab-Event-UUID", "gl-1")]),
            ("/hooks/okta", [("Authorization", Self.oktaToken)]),
            ("/hooks/generic", [("X-Webhook-Token", Self.genericToken), ("X-Event-Id", "g-1")]),
            ("/hooks/generic?token=\(Self.encoded(Self.genericToken))&x=1", [("X-Event-Id", "g-2")]),
        ]
        var ids: [String] = []
        for (n, (path, headers)) in sends.enumerated() {
            let reply = try await post(gw.baseURL + path, body: body(n), headers: headers + [("Content-Type", "application/json")])
            #expect(reply.json["status"] == "accepted", "\(path): \(reply.body)")
            ids.append(reply.json["id"] ?? "")
        }
        // A token not configured yet: refused and quarantined.
        let later = try await post(gw.baseURL + "/hooks/generic?token=\(Self.encoded(Self.laterToken))", body: body(sends.count),
                                   headers: [("X-Event-Id", "g-3"), ("Content-Type", "application/json")])
        #expect(later.status == 401)
        try await eventually("the refused request is quarantined") { try gw.gateway.store.quarantineSize() == 1 }

        // Raw destinations get the original headers, with a marker where the credential was.
        try await destination.waitForRequests(4)
        for request in destination.requests {
            for (name, value) in request.headers {
                for token in Self.allTokens { #expect(!value.contains(token), "\(name) carries a secret to the destination") }
            }
        }
        let markers = destination.requests.flatMap { r in ["X-Gitlab-Token", "Authorization", "X-Webhook-Token"].flatMap { r.headers[$0] } }
        #expect(markers == [CredentialRedaction.marker, CredentialRedaction.marker, CredentialRedaction.marker])

        // The admin API (and the CLI, which shows its answers) shows the marker, never the value.
        for id in ids {
            let text = try await Self.adminText(adminBase, "/v1/events/\(id)")
            for token in Self.allTokens + Self.allTokens.map(Self.encoded) { #expect(!text.contains(token), "GET /v1/events/\(id) shows a secret") }
            #expect(text.contains(CredentialRedaction.marker))
        }
        let byQuery = try #require(try gw.gateway.store.event(id: ids[3]))
        #expect(byQuery.query == "token=\(CredentialRedaction.marker)&x=1")
        let list = try await Self.adminText(adminBase, "/v1/quarantine")
        let entryID = try AdminJSON.decode(AdminAPI.QuarantineList.self, from: Array(list.utf8)).quarantine.first?.id
        let entry = try await Self.adminText(adminBase, "/v1/quarantine/\(try #require(entryID))")
        #expect(!entry.contains(Self.laterToken) && !entry.contains(Self.encoded(Self.laterToken)))
        #expect(entry.contains("inlet-redacted.hmac-sha256."))

        // Re-admission still tells a valid token from a wrong one: once the token is configured, the entry verifies.
        try gw.rewriteConfig(Self.config(destination: destination.url, genericSecrets: [Self.genericToken, Self.laterToken]))
        var readmit = HTTPClientRequest(url: adminBase + "/v1/quarantine/\(try #require(entryID))/readmit")
        readmit.method = .POST
        readmit.headers.add(name: "Authorization", value: "Bearer t0k")
        let answer = String(buffer: try await HTTPClient.shared.execute(readmit, timeout: .seconds(30)).body.collect(upTo: 1 << 20))
        #expect(answer.contains(#""outcome":"accepted""#), "\(answer)")
        try await destination.waitForRequests(5)

        let readmittedID = try #require(try AdminJSON.decode(AdminAPI.ReadmitResult.self, from: Array(answer.utf8)).eventID)
        let readmitted = try #require(try gw.gateway.store.event(id: readmittedID))
        #expect(readmitted.query == "token=\(CredentialRedaction.marker)")

        // Nothing in the database's files either.
        try await gw.stop()
        await destination.stop()
        guard backend == "sqlite" else { return }
        let bytes = Self.storeBytes(gw.storePath)
        #expect(!bytes.isEmpty)
        for token in Self.allTokens + Self.allTokens.map(Self.encoded) {
            let found = Self.contains(bytes, token)
            #expect(!found, "the store's files hold \(token)")
        }
    }

    /// A readmission must not turn a forgery into an event: a quarantined wrong token stays refused after the reload.
    @Test func aWrongTokenStaysRefusedOnReadmission() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: Self.config(destination: destination.url, genericSecrets: [Self.genericToken]))
        let adminBase = "http://127.0.0.1:\(try await gw.gateway.adminPort())"
        let reply = try await post(gw.baseURL + "/hooks/gitlab", body: "{}", headers: [("X-Gitlab-Token", "guess-\(Self.gitlabToken)")])
        #expect(reply.status == 401)
        try await eventually("quarantined") { try gw.gateway.store.quarantineSize() == 1 }
        var readmit = HTTPClientRequest(url: adminBase + "/v1/quarantine/readmit")
        readmit.method = .POST
        readmit.headers.add(name: "Authorization", value: "Bearer t0k")
        let answer = String(buffer: try await HTTPClient.shared.execute(readmit, timeout: .seconds(30)).body.collect(upTo: 1 << 20))
        #expect(answer.contains(#""rejected":1"#) && answer.contains("signature_mismatch"), "\(answer)")
        try await gw.stop()
        await destination.stop()
    }
}
