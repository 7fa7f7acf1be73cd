import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
}

let destinationSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
let stripeSecret = "whsec_test_secret"

/// A real HTTP destination on loopback whose answers the test scripts.
final class TestDestination: Sendable {
    let server: SimpleHTTPServer
    private let received = NIOLockedValueBox<[SimpleRequest]>([])
    private let waiters = NIOLockedValueBox<[(Int, CheckedContinuation<Void, Never>)]>([])
    let respond: NIOLockedValueBox<@Sendable (SimpleRequest, Int) async -> Int>

    var url: String { "http://127.0.0.1:\(server.port)/events" }
    var requests: [SimpleRequest] { received.withLockedValue { $0 } }

    init(respond: @escaping @Sendable (SimpleRequest, Int) async -> Int = { _, _ in 204 }) async throws {
        let box = NIOLockedValueBox<@Sendable (SimpleRequest, Int) async -> Int>(respond)
        let received = self.received, waiters = self.waiters
        self.respond = box
        server = try await SimpleHTTPServer.start { request in
            let n = received.withLockedValue { $0.append(request); return $0.count }
            let ready = waiters.withLockedValue { ws -> [CheckedContinuation<Void, Never>] in
                let done = ws.filter { $0.0 <= n }.map(\.1)
                ws.removeAll { $0.0 <= n }
                return done
            }
            ready.forEach { $0.resume() }
            let status = await box.withLockedValue { $0 }(request, n)
            return SimpleResponse(status: status)
        }
    }

    /// Waits until at least `count` requests arrived (bounded by `timeout`).
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(15)) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { c in
                    let now = self.received.withLockedValue { $0.count >= count }
                    if now { c.resume() } else { self.waiters.withLockedValue { $0.append((count, c)) } }
                    // Re-check in case a request landed between the two locks.
                    if !now, self.received.withLockedValue({ $0.count >= count }) {
                        let w = self.waiters.withLockedValue { ws -> [CheckedContinuation<Void, Never>] in
                            let d = ws.filter { $0.0 <= count }.map(\.1); ws.removeAll { $0.0 <= count }; return d
                        }
                        w.forEach { $0.resume() }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut(what: "\(count) requests at the destination (have \(self.requests.count))")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    func stop() async { await server.stop() }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A gateway running in-process on an ephemeral port with its own SQLite file.
final class RunningGateway: Sendable {
    let gateway: Gateway
    let port: Int
    let task: Task<Void, Error>
    let storePath: String
    let configHeader: String

    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func start(sourcesTOML: String, destinationURL: String, storePath: String? = nil, destinationExtra: String = "", destinationTimeoutSeconds: Int = 5, serverExtra: String = "", storeExtra: String = "", secondDestinationSecret: String? = nil, clock: any WallClock = SystemClock()) async throws -> RunningGateway {
        let path = storePath ?? FileManager.default.temporaryDirectory.appendingPathComponent("inlet-e2e-\(UUID().uuidString)/inlet.sqlite").path
        let toml = """
        providers_dir = "\(Repo.root)/providers"
        [server]
        listen = "127.0.0.1:0"
        \(serverExtra)
        [store]
        path = "\(path)"
        durability = "fsync"
        \(storeExtra)
        [delivery]
        concurrency = 16
        poll_interval_ms = 50
        [destinations.svc]
        url = "\(destinationURL)"
        secrets = ["\(destinationSecret)"\(secondDestinationSecret.map { ", \"\($0)\"" } ?? "")]
        timeout_seconds = \(destinationTimeoutSeconds)
        initial_backoff_ms = 20
        max_backoff_ms = 100
        \(destinationExtra)

        \(sourcesTOML)
        """
        let resolved = try GatewayConfig.parse(toml, file: "/tmp/inline-test.toml").resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, clock: clock, logger: quietLogger)
        let task = Task { try await gateway.run() }
        let port = try await gateway.ingress.listeningPort()
        return RunningGateway(gateway: gateway, port: port, task: task, storePath: path)
    }

    /// Starts a gateway on `body` (destinations and sources) with a fresh store and quick polling. The config is
    /// written to `inlet.toml` beside the store, so a test can rewrite it (`rewriteConfig`) and reload.
    /// With `postgresURL`, the gateway uses that PostgreSQL database instead of its own SQLite file.
    static func start(configBody body: String, delivery: String = "concurrency = 64\npoll_interval_ms = 50", clock: any WallClock = SystemClock(),
                      postgresURL: String? = nil) async throws -> RunningGateway {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("inlet.sqlite").path
        let file = dir.appendingPathComponent("inlet.toml").path
        let header = """
        providers_dir = "\(Repo.root)/providers"
        [server]
        listen = "127.0.0.1:0"
        [store]
        path = "\(path)"
        \(postgresURL.map { "backend = \"postgres\"\nurl = \"\($0)\"\nconnections = 4" } ?? "")
        [delivery]
        \(delivery)

        """
        try (header + body).write(toFile: file, atomically: true, encoding: .utf8)
        let resolved = try GatewayConfig.load(file: file).resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, clock: clock, logger: quietLogger,
                                  reload: { try GatewayConfig.load(file: file).resolve(environment: [:]) })
        let task = Task { try await gateway.run() }
        let port = try await gateway.ingress.listeningPort()
        return RunningGateway(gateway: gateway, port: port, task: task, storePath: path, configHeader: header)
    }

    /// Replaces the config's body (as given to `start(configBody:)`) and reloads; throws if the gateway refuses it.
    func rewriteConfig(_ body: String) throws {
        let file = (storePath as NSString).deletingLastPathComponent + "/inlet.toml"
        try (configHeader + body).write(toFile: file, atomically: true, encoding: .utf8)
        try gateway.reload().get()
    }

    private init(gateway: Gateway, port: Int, task: Task<Void, Error>, storePath: String, configHeader: String = "") {
        self.configHeader = configHeader
        self.gateway = gateway
        self.port = port
        self.task = task
        self.storePath = storePath
    }

    func stop() async throws {
        await gateway.shutdown()
        try await task.value
    }
}

let stripeSource = """
[sources.stripe]
provider = "stripe"
secrets = ["\(stripeSecret)"]
destinations = ["svc"]
"""

func stripeHeaders(body: String, secret: String = stripeSecret, timestamp: Int64 = Int64(Date().timeIntervalSince1970)) -> [(String, String)] {
    let sig = Hex.string(hmac(Array(secret.utf8), Array("\(timestamp).\(body)".utf8)))
    return [("Stripe-Signature", "t=\(timestamp),v1=\(sig)"), ("Content-Type", "application/json")]
}

import Crypto
func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
    Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
}

struct Reply {
    let status: Int
    let body: String
    var json: [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String]) ?? [:]
    }
}

func post(_ url: String, body: String, headers: [(String, String)], method: HTTPMethod = .POST, timeout: Int64 = 10) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (n, v) in headers { request.headers.add(name: n, value: v) }
    if method == .POST { request.body = .bytes(Array(body.utf8)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return Reply(status: Int(response.status.code), body: String(buffer: bytes))
}

func stripeEvent(_ id: String, type: String = "invoice.paid") -> String {
    #"{"id":"\#(id)","object":"event","type":"\#(type)","data":{"object":{"id":"in_1","amount_paid":2000,"note":"caf\u00e9 ☕"}}}"#
}

/// Sends raw bytes on one TCP connection and reads until the peer closes or `until` is satisfied.
func rawExchange(port: Int, _ payload: String, until: @escaping (String) -> Bool) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: payload))
        var text = ""
        for try await chunk in inbound {
            text += String(buffer: chunk)
            if until(text) { break }
        }
        return text
    }
}

func destinationTOML(_ name: String, url: String, _ extra: String = "") -> String {
    // Quick retries for tests, unless `extra` sets its own.
    let defaults = ["timeout_seconds = 5", "initial_backoff_ms = 20", "max_backoff_ms = 100"]
        .filter { d in !extra.contains(d.split(separator: " ")[0] + " =") }
    return """
    [destinations.\(name)]
    url = "\(url)"
    secrets = ["\(destinationSecret)"]
    \(defaults.joined(separator: "\n"))
    \(extra)

    """
}

/// Polls `condition` (a store read) until it holds, up to `timeout`: for states with no request to wait on.
func eventually(timeout: Duration = .seconds(15), _ what: String, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// The PostgreSQL server for tests (`INLET_TEST_POSTGRES_URL`, set by the test command), with a fresh schema per call;
/// nil when there is none (then tests that need it are skipped, unless `INLET_REQUIRE_POSTGRES=1`).
func testPostgresURL() -> String? {
    guard let base = ProcessInfo.processInfo.environment["INLET_TEST_POSTGRES_URL"], !base.isEmpty else {
        precondition(ProcessInfo.processInfo.environment["INLET_REQUIRE_POSTGRES"] != "1", "INLET_REQUIRE_POSTGRES=1 but INLET_TEST_POSTGRES_URL is not set")
        return nil
    }
    let schema = "g_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    return base + (base.contains("?") ? "&" : "?") + "schema=" + schema
}
