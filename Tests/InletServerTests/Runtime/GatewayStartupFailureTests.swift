import Foundation
import InletConfig
import InletServer
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A gateway that cannot start (its ingress port is taken) must fail and exit, not keep running half-started.
@Suite("Gateway start-up failure")
struct GatewayStartupFailureTests {
    /// Before, the failing ingress made the service group cancel the others, but the delivery loop watched only for
    /// graceful shutdown: it spun on CancellationError from every claim (logging each) and `run()` never returned.
    @Test func aTakenIngressPortEndsRunWithTheError() async throws {
        let squatter = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(squatter.localAddress?.port)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let toml = """
        providers_dir = "\(Repo.root)/providers"
        [server]
        listen = "127.0.0.1:\(port)"
        [store]
        path = "\(dir.path)/inlet.sqlite"
        [destinations.svc]
        url = "http://127.0.0.1:9/events"
        secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
        [sources.stripe]
        provider = "stripe"
        secrets = ["whsec_test"]
        destinations = ["svc"]
        """
        let resolved = try GatewayConfig.parse(toml, file: "\(dir.path)/inlet.toml").resolve(environment: [:])
        let gateway = try Gateway(resolved: resolved, logger: quietLogger)
        // An unstructured task, so a gateway that never returns fails this test instead of hanging it.
        let result = NIOLockedValueBox<String?>(nil)
        Task {
            let r: String
            do { try await gateway.run(); r = "returned" } catch { r = "threw: \(error)" }
            result.withLockedValue { $0 = r }
        }
        var waited = 0
        while result.withLockedValue({ $0 }) == nil && waited < 200 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        let outcome = result.withLockedValue { $0 } ?? "still running after 20 s"
        #expect(outcome.hasPrefix("threw:") && outcome.contains("Address already in use"), "\(outcome)")
        try await squatter.close()
    }
}
