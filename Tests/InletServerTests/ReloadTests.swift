import Foundation
import InletConfig
import InletCore
import InletServer
import Testing

@Suite("Hot reload")
struct ReloadTests {
    @Test func aRotatedSecretTakesEffectAndAnInvalidConfigIsRefused() async throws {
        let destination = try await TestDestination()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("inlet.toml").path
        func config(secret: String) -> String {
            """
            providers_dir = "\(Repo.root)/providers"
            [server]
            listen = "127.0.0.1:0"
            [store]
            path = "\(dir.path)/inlet.sqlite"
            \(destinationTOML("svc", url: destination.url))
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(secret)"]
            destinations = ["svc"]
            """
        }
        try config(secret: stripeSecret).write(toFile: file, atomically: true, encoding: .utf8)
        let gateway = try Gateway(resolved: try GatewayConfig.load(file: file).resolve(environment: [:]), logger: quietLogger,
                                  reload: { try GatewayConfig.load(file: file).resolve(environment: [:]) })
        let task = Task { try await gateway.run() }
        let url = "http://127.0.0.1:\(try await gateway.ingress.listeningPort())/hooks/stripe"

        let first = stripeEvent("evt_before_reload")
        #expect(try await post(url, body: first, headers: stripeHeaders(body: first)).status == 200)

        // Rotate: the new secret verifies after the reload, the old one no longer does.
        try config(secret: "whsec_rotated").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: Never.self) { try gateway.reload().get() }
        let second = stripeEvent("evt_after_reload")
        #expect(try await post(url, body: second, headers: stripeHeaders(body: second, secret: "whsec_rotated")).status == 200)
        #expect(try await post(url, body: second, headers: stripeHeaders(body: second)).json["reason"] == "signature_mismatch")

        // An invalid config is refused and the running one keeps serving.
        try (config(secret: "whsec_rotated") + "\nbogus_key = 1\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try gateway.reload().get() }
        let third = stripeEvent("evt_after_refused_reload")
        #expect(try await post(url, body: third, headers: stripeHeaders(body: third, secret: "whsec_rotated")).status == 200)

        try await destination.waitForRequests(3)
        await gateway.shutdown()
        try await task.value
        await destination.stop()
    }
}
