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

    /// toml++ (inside TOMLKit) aborts the process on some malformed TOML; a reload of such a config or profile must
    /// be refused like any other invalid config, and the gateway must keep serving on the old one.
    @Test func aConfigOrProfileThatWouldAbortTheTOMLParserIsRefused() async throws {
        let destination = try await TestDestination()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-reload-toml-\(UUID().uuidString)")
        let providers = dir.appendingPathComponent("providers").path
        try FileManager.default.createDirectory(atPath: providers, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(Repo.root)/providers/stripe.toml", toPath: providers + "/stripe.toml")
        let file = dir.appendingPathComponent("inlet.toml").path
        let valid = """
            providers_dir = "\(providers)"
            [server]
            listen = "127.0.0.1:0"
            [store]
            path = "\(dir.path)/inlet.sqlite"
            \(destinationTOML("svc", url: destination.url))
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["svc"]

            """
        try valid.write(toFile: file, atomically: true, encoding: .utf8)
        let gateway = try Gateway(resolved: try GatewayConfig.load(file: file).resolve(environment: [:]), logger: quietLogger,
                                  reload: { try GatewayConfig.load(file: file).resolve(environment: [:]) })
        let task = Task { try await gateway.run() }
        let url = "http://127.0.0.1:\(try await gateway.ingress.listeningPort())/hooks/stripe"
        var sent = 0
        func stillServing() async throws {
            let body = stripeEvent("evt_toml_\(sent)")
            sent += 1
            #expect(try await post(url, body: body, headers: stripeHeaders(body: body)).status == 200)
        }
        try await stillServing()

        // One of each input toml++ 3.4.0 asserts on, plus every committed config reproducer of the fuzzers.
        var malformed = ["[[{x]]\n", "[\n", "x = [1,}]\n", "x = [\u{2028}]\n", "d = 2026-01-02 1\n", "d = 2026-01-02T:00\n"]
        let crashes = "\(Repo.root)/fuzz/crashes"
        for name in try FileManager.default.contentsOfDirectory(atPath: crashes).sorted() where name.hasPrefix("config-") {
            malformed.append(String(decoding: try Data(contentsOf: URL(fileURLWithPath: crashes + "/" + name)), as: UTF8.self))
        }
        for text in malformed {
            try (valid + text).write(toFile: file, atomically: true, encoding: .utf8)
            let error = #expect(throws: ConfigError.self, "\(text.debugDescription)") { try gateway.reload().get() }
            #expect(error?.message.hasPrefix("TOML syntax error") == true, "\(error?.description ?? "")")
            try await stillServing()
        }

        // The same for a provider profile the config uses.
        try valid.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: Never.self) { try gateway.reload().get() }
        let stripe = try String(contentsOfFile: "\(Repo.root)/providers/stripe.toml", encoding: .utf8)
        try (stripe + "\n[[[signature]]]\n").write(toFile: providers + "/stripe.toml", atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigError.self) { try gateway.reload().get() }
        #expect(error?.file.hasSuffix("stripe.toml") == true)
        try await stillServing()

        try await destination.waitForRequests(sent)
        await gateway.shutdown()
        try await task.value
        await destination.stop()
    }
}
