import AsyncHTTPClient
import Crypto
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import NIOCore
import NIOHTTP1
import Testing

/// Declared handshakes through a running gateway, one per shape (the shipped profiles; Braintree on `HandshakeTestProfiles`):
/// answered by the gateway, never stored or forwarded.
@Suite("Handshakes end to end")
struct HandshakeEndToEndTests {
    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: String
    }

    func call(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (n, v) in headers { request.headers.add(name: n, value: v) }
        if let body { request.body = .bytes(Array(body.utf8)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// The eBay source's key API credentials (never used: handshakes fetch no key), as a file reference.
    static let credentialFile: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-ebay-cred-\(UUID().uuidString)").path
        try? "unused-credential".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    static let sources = """
    [sources.dropbox]
    provider = "dropbox"
    secrets = ["dropbox-app-secret"]
    destinations = ["svc"]

    [sources.x]
    provider = "x-twitter"
    secrets = ["consumer-secret"]
    destinations = ["svc"]

    [sources.graph]
    provider = "microsoft-graph"
    secrets = ["client-state"]
    destinations = ["svc"]

    [sources.eventgrid]
    provider = "azure-event-grid"
    secrets = ["eg-code"]
    destinations = ["svc"]

    [sources.trello]
    provider = "trello"
    secrets = ["trello-secret"]
    public_url = "https://hooks.example.com/hooks/trello"
    destinations = ["svc"]

    [sources.woo]
    provider = "woocommerce"
    secrets = ["wc-secret"]
    destinations = ["svc"]

    [sources.oura]
    provider = "oura"
    secrets = ["oura-secret"]
    verify_token = "oura-token"
    destinations = ["svc"]

    [sources.ebay]
    provider = "ebay"
    key_fetch_client_id = "file:\(Self.credentialFile)"
    key_fetch_secret = "file:\(Self.credentialFile)"
    verify_token = "my-verification-token-0123456789"
    public_url = "https://hooks.example.com/ebay"
    destinations = ["svc"]

    [sources.asana]
    provider = "asana"
    accept_handshake_secret = true
    destinations = ["svc"]

    """

    func start(_ destination: TestDestination) async throws -> RunningGateway {
        try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + Self.sources,
                                       providersDirectory: try HandshakeTestProfiles.providersDirectory())
    }

    @Test func everyShapeIsAnsweredAndNothingIsStored() async throws {
        let destination = try await TestDestination()
        let gw = try await start(destination)
        let base = gw.baseURL + "/hooks/"

        let dropbox = try await call(.GET, base + "dropbox?challenge=zYx-123")
        #expect(dropbox.status == 200 && dropbox.body == "zYx-123")
        #expect(dropbox.headers.first(name: "content-type") == "text/plain" && dropbox.headers.first(name: "x-content-type-options") == "nosniff")

        let crc = try await call(.GET, base + "x?crc_token=crcT0ken")
        #expect(crc.body == #"{"response_token":"sha256=t/ElKtUOPFToOIR3HotkZhz5DLLshAkt+k4AC5rMoio="}"#)
        #expect(try await call(.GET, base + "x?crc_token=%7B%22forged%22%3A1%7D").status == 403)

        let graph = try await call(.POST, base + "graph?validationToken=abc%20def", body: "")
        #expect(graph.status == 200 && graph.body == "abc def")

        let validation = try await call(.POST, base + "eventgrid?code=eg-code", headers: [("aeg-event-type", "SubscriptionValidation")],
                                        body: #"[{"id":"1","data":{"validationCode":"512d38b6"},"eventType":"Microsoft.EventGrid.SubscriptionValidationEvent"}]"#)
        #expect(validation.status == 200 && validation.body == #"{"validationResponse":"512d38b6"}"#)
        let wrongCode = try await call(.POST, base + "eventgrid?code=nope", headers: [("aeg-event-type", "SubscriptionValidation")],
                                       body: #"[{"data":{"validationCode":"512d38b6"}}]"#)
        #expect(wrongCode.status == 401)
        let options = try await call(.OPTIONS, base + "eventgrid", headers: [("WebHook-Request-Origin", "eventgrid.azure.net")])
        #expect(options.status == 200 && options.headers.first(name: "webhook-allowed-origin") == "eventgrid.azure.net")

        let head = try await call(.HEAD, base + "trello")
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(try await call(.GET, base + "trello").status == 405)

        let ping = try await call(.POST, base + "woo", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "webhook_id=42")
        #expect(ping.status == 200 && ping.body == #"{"status":"handshake"}"#)

        #expect(try await call(.GET, base + "oura?verification_token=oura-token&challenge=c1").body == #"{"challenge":"c1"}"#)
        #expect(try await call(.GET, base + "oura?verification_token=nope&challenge=c1").status == 403)

        let ebay = try await call(.GET, base + "ebay?challenge_code=cc123")
        #expect(ebay.body == #"{"challengeResponse":"811d51ea9e8d759e27cc5ffa5e461a5c3396760260b8f606b273c668b2a2833c"}"#)

        // Keep-alive after a HEAD answer (no body on the wire): the next request on the pool still works.
        #expect(try await call(.HEAD, base + "trello").status == 200)
        #expect(try await call(.GET, base + "dropbox?challenge=again").body == "again")

        try await gw.stop()
        #expect(try gw.gateway.store.counts().events == 0)
        #expect(destination.requests.isEmpty)
        await destination.stop()
    }

    /// Asana: the first POST hands over X-Hook-Secret; the gateway stores it (once, with an audit record), echoes it,
    /// and verifies the events signed with it, also after a restart.
    @Test func asanaSecretIsEstablishedOnceAndVerifiesEvents() async throws {
        let destination = try await TestDestination()
        let gw = try await start(destination)
        let url = gw.baseURL + "/hooks/asana"
        let secret = "a5ana-h00k-s3cret"
        func signed(_ body: String, with key: String) -> [(String, String)] {
            [("X-Hook-Signature", Hex.string(HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(key.utf8)))))]
        }
        let event = #"{"events":[{"action":"changed","resource":{"gid":"1"}}]}"#
        // Before the handshake, nothing verifies.
        #expect(try await call(.POST, url, headers: signed(event, with: secret), body: event).status == 401)

        let hello = try await call(.POST, url, headers: [("X-Hook-Secret", secret)], body: "")
        #expect(hello.status == 200 && hello.headers.first(name: "x-hook-secret") == secret)
        // Only once: a second hand-over (another secret) is refused, and the first stays.
        #expect(try await call(.POST, url, headers: [("X-Hook-Secret", "an0ther-s3cret")], body: "").status == 403)

        let accepted = try await call(.POST, url, headers: signed(event, with: secret), body: event)
        #expect(accepted.status == 200 && accepted.body.contains("accepted"))
        #expect(try await call(.POST, url, headers: signed(event + " ", with: "an0ther-s3cret"), body: event + " ").status == 401)
        try await destination.waitForRequests(1)

        let stored = try gw.gateway.store.handshakeSecrets()
        #expect(stored.map(\.source) == ["asana"] && stored.first?.secret == secret && stored.first?.label == "handshake:asana-hook-secret")
        let audit = try gw.gateway.store.auditRecords(source: "asana")
        #expect(audit.map(\.action) == ["secret_established"] && !(audit.first?.detail.contains(secret) ?? true))
        let id = try #require(Reply(status: accepted.status, body: accepted.body).json["id"])
        #expect(try gw.gateway.store.event(id: id)?.secretLabel == "handshake:asana-hook-secret")
        try await gw.stop()

        // A gateway started again on the same store (the same open file: its lock stays with this process) verifies
        // with the stored secret: the config has none.
        let configFile = (gw.storePath as NSString).deletingLastPathComponent + "/inlet.toml"
        let again = try Gateway(resolved: try GatewayConfig.load(file: configFile).resolve(environment: [:]), store: gw.gateway.store, logger: quietLogger)
        let task = Task { try await again.run() }
        let port = try await again.ingress.listeningPort()
        let later = #"{"events":[{"action":"added","resource":{"gid":"2"}}]}"#
        #expect(try await call(.POST, "http://127.0.0.1:\(port)/hooks/asana", headers: signed(later, with: secret), body: later).status == 200)
        #expect(try await call(.POST, "http://127.0.0.1:\(port)/hooks/asana", headers: [("X-Hook-Secret", "x")], body: "").status == 403)
        await again.shutdown()
        try await task.value
        await destination.stop()
    }
}
