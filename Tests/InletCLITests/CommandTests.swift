import ArgumentParser
import Foundation
import InletTesting
import Testing
@testable import InletCLI

@Suite("CLI commands")
struct CommandTests {
    @Test func argumentsSelectTheirCommand() throws {
        #expect(try Inlet.parseAsRoot(["events", "show", "evt_1"]) is Events.Show)
        #expect(try Inlet.parseAsRoot(["check-config", "-c", "x.toml"]) is CheckConfig)
        #expect(try Inlet.parseAsRoot([]) is Serve)  // serve is the default
        #expect(throws: (any Error).self) { try Inlet.parseAsRoot(["no-such-command"]) }
    }

    /// `inlet events show` says what each authenticity value means, and that older events have none.
    @Test func eventDisplayExplainsAuthenticity() {
        #expect(Events.Show.authenticityText("body_signed").hasPrefix("body_signed (a signature covers the exact body bytes"))
        #expect(Events.Show.authenticityText("sender_authenticated").contains("the body is not signed"))
        #expect(Events.Show.authenticityText("unverified").contains("does not verify"))
        #expect(Events.Show.authenticityText(nil).hasPrefix("- (not recorded"))
    }

    @Test func checkConfigAcceptsTheDefaultConfig() async throws {
        let command = try #require(try Inlet.parseAsRoot(["check-config", "-c", Repo.root + "/config/inlet.toml"]) as? CheckConfig)
        try await command.run()
    }

    /// `--token` takes the config's secret-reference forms: an unset variable is named, a `file:` path is read
    /// (relative to the current directory) and trimmed; the value itself never appears in an error.
    @Test func adminTokenReferencesResolveLikeTheConfigsSecrets() async throws {
        func access(_ token: String) throws -> AdminAccess {
            try AdminAccess.parse(["--admin", "http://127.0.0.1:1", "--token", token])
        }
        let unset = "INLET_TEST_UNSET_\(UInt32.random(in: 0...UInt32.max))"
        let error = await #expect(throws: CLIError.self) { _ = try await access("env:\(unset)").call(.GET, "/v1/sources") }
        #expect(error?.description.contains(unset) == true)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "s3cret-token\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        // A relative `file:` path is read from the current directory (passed here: changing the process's directory
        // would break every test running beside this one that reads a relative path).
        #expect(try access("file:token").resolvedToken(currentDirectory: dir.path) == "s3cret-token")
        // The token resolves, so the call gets as far as the (closed) port: the error is about reaching the API.
        let tokenFile = dir.appendingPathComponent("token").path
        let unreachable = await #expect(throws: CLIError.self) { _ = try await access("file:\(tokenFile)").call(.GET, "/v1/sources") }
        #expect(unreachable?.description.contains("cannot reach the admin API") == true)
        #expect(unreachable?.description.contains("s3cret-token") == false)
        let missing = await #expect(throws: CLIError.self) { _ = try await access("file:nope").call(.GET, "/v1/sources") }
        #expect(missing?.description.contains("cannot read the admin token file") == true)
    }
}
