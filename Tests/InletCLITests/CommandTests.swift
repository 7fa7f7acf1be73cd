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
        // `inlet streams [NAME]`: one stream's groups; names that would leave the path segment are refused by name.
        #expect(try (Inlet.parseAsRoot(["streams", "ledger"]) as? Streams.List)?.stream == "ledger")
        #expect(try (Inlet.parseAsRoot(["streams"]) as? Streams.List)?.stream == nil)
        for bad in [["streams", "led/ger"], ["streams", "rewind", "ledger", "g?x", "--sequence", "1"], ["streams", "delete-group", "ledger", "a b"]] {
            #expect(throws: (any Error).self, "\(bad)") { try Inlet.parseAsRoot(bad) }
        }
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

@Suite("inlet providers test")
struct ProvidersTestCommandTests {
    func command(_ arguments: [String]) throws -> Providers.Test {
        try #require(try Inlet.parseAsRoot(["providers", "test"] + arguments) as? Providers.Test)
    }

    @Test func everyCaseOfAShippedProfilePasses() throws {
        let report = try command(["stripe", "--dir", Repo.root + "/providers"]).report()
        #expect(report.failed == 0)
        #expect(report.lines.count > 10)
        #expect(report.lines.dropLast().allSatisfy { $0.hasPrefix("PASS ") }, "\(report.lines)")
        #expect(report.lines.contains { $0.hasPrefix("PASS valid") && $0.contains("accepted id=evt_") })
        #expect(report.lines.last?.contains("passed, 0 failed") == true)
    }

    @Test func aCaseTheVerifierAnswersOtherwiseFailsAndTheCommandExitsNonZero() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-fixtures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A genuine case, and the same request said to be refused: the second must fail.
        let cases = try JSONSerialization.jsonObject(with: Repo.fixture("catalog_more_fixtures.json")) as! [[String: Any]]
        var valid = try #require(cases.first { $0["provider"] as? String == "recurly" && $0["case"] as? String == "valid" })
        var wrong = valid
        wrong["case"] = "said_to_be_refused"
        wrong["expected"] = "signature_mismatch"
        valid["case"] = "valid"
        try JSONSerialization.data(withJSONObject: [valid, wrong]).write(to: dir.appendingPathComponent("cases.json"))
        let test = try command(["recurly", "--dir", Repo.root + "/providers", "--fixtures", dir.path])
        let report = try test.report()
        #expect(report.failed == 1)
        #expect(report.lines[0].hasPrefix("PASS valid"))
        #expect(report.lines[1] == "FAIL said_to_be_refused: expected signature_mismatch, got accepted id=rc-evt-1 type=created (expected signature_mismatch)")
        await #expect(throws: ExitCode.failure) { try await test.run() }
        // The report never shows the secrets the cases carry.
        #expect(!report.lines.joined().contains("recurly-secret"))
    }

    @Test func aProfileWithoutFixturesOrAnUnknownNameIsAnError() throws {
        #expect(throws: CLIError.self) { try command(["no-such-provider", "--dir", Repo.root + "/providers"]).report() }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: CLIError.self) { try command(["stripe", "--dir", Repo.root + "/providers", "--fixtures", empty.path]).report() }
    }
}
