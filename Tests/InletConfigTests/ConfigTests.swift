import Foundation
import InletConfig
import InletCore
import Testing

@Suite("Profiles and gateway config")
struct ConfigTests {
    @Test func shippedProfilesLoadWithTheirFileNames() {
        let names = Set(Repo.profiles.keys)
        for required in ["stripe", "github", "standard-webhooks", "svix", "slack", "shopify", "generic-hmac"] {
            #expect(names.contains(required), "missing profile \(required)")
        }
    }

    @Test func githubRefusesSHA1AloneUnlessAllowed() throws {
        let github = try #require(Repo.profiles["github"])
        let body = "{\"zen\":\"Keep it logically awesome.\"}"
        let sha1 = Hex.string(hmacSHA1(key: "s3cret", body: body))
        let request = makeRequest(headers: ["X-Hub-Signature": "sha1=" + sha1, "X-GitHub-Delivery": "d-1"], body: body)
        let key = VerificationKey(label: "k", keyBytes: Array("s3cret".utf8))
        #expect(github.verify(request, keys: [key], now: 0) == .failure(.legacySignatureRefused))
        #expect(throws: Never.self) { try github.verify(request, keys: [key], options: .init(allowLegacySignatures: true), now: 0).get() }
    }

    @Test func defaultConfigRunsAsIs() throws {
        let config = try GatewayConfig.load(file: Repo.root + "/config/inlet.toml")
        let resolved = try config.resolve(environment: [:])
        #expect(resolved.sources.map(\.name) == ["demo"])
        #expect(resolved.sources[0].path == "/hooks/demo")
        #expect(resolved.sources[0].profile.name == "standard-webhooks")
        #expect(resolved.destinations["log-sink"] != nil)
        #expect(config.store.durability == .fsync)
        #expect(resolved.sinkSigner != nil)
    }

    static let minimal = """
    providers_dir = "providers"

    [destinations.svc]
    url = "http://127.0.0.1:9000/hook"
    secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

    [sources.stripe]
    provider = "stripe"
    secrets = ["env:STRIPE_SECRET"]
    destinations = ["svc"]
    """

    @Test func unknownKeyNamesFileLineAndKey() {
        let text = Self.minimal + "\nmax_bodyy = 12\n"
        #expect(throws: ConfigError(file: "t.toml", line: 11, key: "sources.stripe.max_bodyy", message: "unknown key")) {
            try GatewayConfig.parse(text, file: "t.toml")
        }
    }

    @Test func wrongTypeNamesTheLine() throws {
        let text = "[server]\nlisten = 8080\n"
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(text, file: "t.toml") }
        #expect(error?.line == 2)
        #expect(error?.key == "server.listen")
    }

    /// TOML allows `inf` and `nan`: a rate the token bucket cannot turn into whole tokens is a config error, not a trap.
    @Test func rateLimitMustBeAFiniteBoundedNumber() throws {
        for bad in ["inf", "nan", "-1", "0", "1e300", "9223372036854775807"] {
            let text = "[destinations.svc]\nurl = \"http://127.0.0.1:9/\"\nsecrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\nrate_limit_per_second = \(bad)\n"
            let error = #expect(throws: ConfigError.self, "\(bad)") { try GatewayConfig.parse(text, file: "t.toml") }
            #expect(error?.key == "destinations.svc.rate_limit_per_second", "\(bad)")
        }
        let ok = try GatewayConfig.parse("[destinations.svc]\nurl = \"http://127.0.0.1:9/\"\nsecrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\nrate_limit_per_second = 0.5\n", file: "t.toml")
        #expect(ok.destinations["svc"]?.rateLimitPerSecond == 0.5)
    }

    @Test func syntaxErrorNamesTheLine() {
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse("[server]\nlisten = \"x\n", file: "t.toml") }
        #expect(error?.line == 2)
    }

    @Test func unknownDestinationIsRefused() {
        let text = Self.minimal.replacingOccurrences(of: "destinations = [\"svc\"]", with: "destinations = [\"nope\"]")
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(text, file: "t.toml") }
        #expect(error?.key == "sources.stripe.destinations")
        #expect(error?.line == 10)
    }

    @Test func secretsResolveFromEnvFileOrLiteral_andNeverAppearInErrors() throws {
        let config = try GatewayConfig.parse(Self.minimal, file: Repo.root + "/inline.toml")
        let resolved = try config.resolve(environment: ["STRIPE_SECRET": "whsec_abc"], profiles: Repo.profiles)
        #expect(resolved.sources[0].keys.map(\.keyBytes) == [Array("whsec_abc".utf8)])
        #expect(!"\(resolved.sources[0].keys)".contains("whsec_abc"))

        let missing = #expect(throws: ConfigError.self) { try config.resolve(environment: [:], profiles: Repo.profiles) }
        #expect(missing?.description.contains("STRIPE_SECRET is not set") == true)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "whsec_from_file\n".write(to: dir.appendingPathComponent("stripe.secret"), atomically: true, encoding: .utf8)
        let fileConfig = try GatewayConfig.parse(Self.minimal.replacingOccurrences(of: "env:STRIPE_SECRET", with: "file:stripe.secret"), file: dir.appendingPathComponent("c.toml").path)
        #expect(try fileConfig.resolve(environment: [:], profiles: Repo.profiles).sources[0].keys[0].keyBytes == Array("whsec_from_file".utf8))
    }

    @Test func undecodableSecretIsRefusedWithoutEchoingIt() throws {
        let text = Self.minimal.replacingOccurrences(of: "provider = \"stripe\"", with: "provider = \"standard-webhooks\"")
            .replacingOccurrences(of: "env:STRIPE_SECRET", with: "whsec_!!not-base64!!")
        let config = try GatewayConfig.parse(text, file: "t.toml")
        let error = #expect(throws: ConfigError.self) { try config.resolve(environment: [:], profiles: Repo.profiles) }
        #expect(error?.key == "sources.stripe.secrets")
        #expect(error?.description.contains("!!not-base64!!") == false)
    }

    @Test func labelledSecretsKeepTheirLabels() throws {
        let text = Self.minimal.replacingOccurrences(of: "secrets = [\"env:STRIPE_SECRET\"]", with: "secrets = [{ label = \"2026-q4\", value = \"whsec_new\" }, \"whsec_old\"]")
        let resolved = try GatewayConfig.parse(text, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles)
        #expect(resolved.sources[0].keys.map(\.label) == ["2026-q4", "secret-2"])
    }

    @Test func unknownProviderIsRefused() throws {
        let config = try GatewayConfig.parse(Self.minimal.replacingOccurrences(of: "\"stripe\"\nsecrets", with: "\"strype\"\nsecrets"), file: "t.toml")
        let error = #expect(throws: ConfigError.self) { try config.resolve(environment: ["STRIPE_SECRET": "x"], profiles: Repo.profiles) }
        #expect(error?.description.contains("unknown provider 'strype'") == true)
    }

    /// `resolve()` names the line from the parse's own key map: the text need not be a file on disk (it read the
    /// file again before, so a config parsed from text, or a file edited since, gave no line or a wrong one).
    @Test func resolveErrorsNameTheLineWithoutRereadingTheFile() throws {
        let text = Self.minimal.replacingOccurrences(of: "\"stripe\"\nsecrets", with: "\"strype\"\nsecrets")
        let config = try GatewayConfig.parse(text, file: "/nonexistent/inlet.toml")
        let error = #expect(throws: ConfigError.self) { try config.resolve(environment: ["STRIPE_SECRET": "x"], profiles: Repo.profiles) }
        let expected = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("strype") }.map { $0 + 1 }
        #expect(error?.line != nil && error?.line == expected)
    }

    @Test func duplicatePathsAreRefused() {
        let text = Self.minimal + "\npath = \"/in\"\n\n[sources.other]\nprovider = \"github\"\nsecrets = [\"x\"]\npath = \"/in\"\n"
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(text, file: "t.toml") }
        #expect(error?.message.contains("already used") == true)
    }

    @Test func profileErrorsNameTheKey() {
        let bad = """
        name = "acme"
        [[signature]]
        headers = ["X-Sig"]
        algorithm = "hmac-md5"
        """
        let e1 = #expect(throws: ConfigError.self) { try ProfileLoader.parse(bad, file: "acme.toml") }
        #expect(e1?.key == "signature.algorithm")
        #expect(e1?.line == 4)

        let badTemplate = bad.replacingOccurrences(of: "hmac-md5", with: "hmac-sha256") + "\nsigned_content = \"{nonce}.{body}\""
        let e2 = #expect(throws: ConfigError.self) { try ProfileLoader.parse(badTemplate, file: "acme.toml") }
        #expect(e2?.key == "signature.signed_content")

        let needsTimestamp = bad.replacingOccurrences(of: "hmac-md5", with: "hmac-sha256") + "\nsigned_content = \"{timestamp}.{body}\""
        let e3 = #expect(throws: ConfigError.self) { try ProfileLoader.parse(needsTimestamp, file: "acme.toml") }
        #expect(e3?.key == "timestamp")
    }

    @Test func aProfileMustSayWhatItsSchemeWasReadIn() throws {
        let scheme = """
        name = "acme"
        [[signature]]
        headers = ["X-Sig"]
        algorithm = "hmac-sha256"
        """
        let noConfidence = #expect(throws: ConfigError.self) { try ProfileLoader.parse("reference = \"docs.acme.test\"\n" + scheme, file: "providers/acme.toml") }
        #expect(noConfidence?.key == "confidence" && noConfidence?.message.contains("is required") == true)
        #expect(noConfidence?.description.hasPrefix("providers/acme.toml") == true, "\(noConfidence?.description ?? "")")

        let unknown = #expect(throws: ConfigError.self) {
            try ProfileLoader.parse("confidence = \"hearsay\"\nreference = \"docs.acme.test\"\n" + scheme, file: "providers/acme.toml")
        }
        #expect(unknown?.key == "confidence" && unknown?.line == 1 && unknown?.message.contains("sdk, docs, secondary") == true)

        let noReference = #expect(throws: ConfigError.self) { try ProfileLoader.parse("confidence = \"sdk\"\n" + scheme, file: "providers/acme.toml") }
        #expect(noReference?.key == "reference" && noReference?.description.hasPrefix("providers/acme.toml") == true)
        #expect(throws: ConfigError.self) { try ProfileLoader.parse("confidence = \"sdk\"\nreference = \"  \"\n" + scheme, file: "providers/acme.toml") }

        let profile = try ProfileLoader.parse("confidence = \"secondary\"\nreference = \"public receivers\"\n" + scheme, file: "providers/acme.toml")
        #expect(profile.confidence == .secondary && profile.reference == "public receivers")
    }

    @Test func everyShippedProfileStatesItsConfidenceAndReference() {
        for profile in Repo.profiles.values {
            #expect(!profile.reference.isEmpty, "\(profile.name)")
        }
        #expect(Set(Repo.profiles.values.map(\.confidence)) == Set(ProfileConfidence.allCases))
    }

    @Test func aNewHMACProviderIsJustAFile() throws {
        let text = """
        name = "acme"
        confidence = "docs"
        reference = "docs.acme.test/webhooks"
        [[signature]]
        headers = ["X-Acme-Signature"]
        format = "key-value"
        pair_separator = ";"
        signature_keys = ["s1"]
        algorithm = "hmac-sha512"
        encoding = "base64"
        signed_content = "acme:{timestamp}:{header:X-Acme-Id}:{body}"
        [timestamp]
        sources = ["signature:ts"]
        tolerance_seconds = 60
        [event]
        id = ["header:X-Acme-Id"]
        type = ["json:/kind"]
        """
        let profile = try ProfileLoader.parse(text, file: "acme.toml")
        let key = Array("acme-secret".utf8)
        let body = Array(#"{"kind":"order.created"}"#.utf8)
        var headers = profile.sign(body: body, key: key, timestampSeconds: 1_700_000_000, id: "a-1")
        headers.append(("X-Acme-Id", "a-1"))
        // The signed content reads X-Acme-Id from the request, so sign again with it present.
        let req0 = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList([("X-Acme-Id", "a-1")]), body: body, peer: nil, receivedAt: 0)
        let message = Array("acme:1700000000:a-1:".utf8) + body
        let sig = Base64.encode(hmacSHA512(key: key, message: message))
        let request = IncomingRequest(method: "POST", path: "/", headers: HTTPHeaderList([("X-Acme-Signature", "ts=1700000000;s1=\(sig)"), ("X-Acme-Id", "a-1")]),
                                      body: body, peer: nil, receivedAt: 1_700_000_000_000)
        _ = req0
        #expect(try profile.verify(request, keys: [VerificationKey(label: "k", keyBytes: key)], now: 1_700_000_010_000).get().keyIndex == 0)
        let policy = ResolvedSource(name: "acme", path: "/hooks/acme", profile: profile, keys: [VerificationKey(label: "k", keyBytes: key)], destinations: [])
        guard case .admit(let admitted) = policy.admit(request, now: 1_700_000_010_000) else { Issue.record("not admitted"); return }
        #expect(admitted.eventKey == "a-1")
        #expect(admitted.eventType == "order.created")
        #expect(profile.verify(request, keys: [VerificationKey(label: "k", keyBytes: key)], now: 1_700_000_061_000) == .failure(.timestampOutsideTolerance(skewSeconds: -61)))
    }
}

import Crypto

func hmacSHA1(key: String, body: String) -> [UInt8] {
    Array(HMAC<Insecure.SHA1>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(key.utf8))))
}

func hmacSHA512(key: [UInt8], message: [UInt8]) -> [UInt8] {
    Array(HMAC<SHA512>.authenticationCode(for: message, using: SymmetricKey(data: key)))
}

@Suite("Published source IPs")
struct PublishedIPTests {
    @Test func shippedListsLoadWithTheirDates() throws {
        let stripe = try #require(Repo.profiles["stripe"]?.sourceIPs)
        #expect(stripe.ranges.count >= 10 && stripe.format == .stripeJSON && !stripe.asOf.isEmpty)
        #expect(Repo.profiles["github"]?.sourceIPs?.ranges.contains { $0.contains(IPAddress("140.82.115.1")!) } == true)
        #expect(Repo.profiles["pagerduty"]?.sourceIPs?.ranges.count == 28)
    }

    @Test func listsParseByFormatAndRefuseGarbage() throws {
        #expect(try PublishedIPRanges.parse(Array(#"{"WEBHOOKS":["1.2.3.4","5.6.7.8"],"API":["9.9.9.9"]}"#.utf8), format: .stripeJSON).map(\.text) == ["1.2.3.4", "5.6.7.8"])
        #expect(try PublishedIPRanges.parse(Array(#"{"hooks":["192.30.252.0/22","2606:50c0::/32"],"web":[]}"#.utf8), format: .githubMeta).count == 2)
        #expect(try PublishedIPRanges.parse(Array("# comment\n1.2.3.4\n\n10.0.0.0/8 # office\n".utf8), format: .text).map(\.text) == ["1.2.3.4", "10.0.0.0/8"])
        #expect(throws: PublishedIPRanges.ParseError.missingKey("hooks")) { try PublishedIPRanges.parse(Array(#"{"WEBHOOKS":[]}"#.utf8), format: .githubMeta) }
        #expect(throws: PublishedIPRanges.ParseError.notAnAddress("<html>")) { try PublishedIPRanges.parse(Array("<html>".utf8), format: .text) }
        #expect(throws: PublishedIPRanges.ParseError.empty) { try PublishedIPRanges.parse(Array("\n".utf8), format: .text) }
    }

    @Test func rewriteReplacesOnlyRangesAndDate() throws {
        let text = try String(contentsOfFile: Repo.root + "/providers/stripe.toml", encoding: .utf8)
        let updated = try ProfileLoader.rewriteSourceIPs(text, ranges: [CIDR("3.18.12.63")!, CIDR("9.9.9.9")!], asOf: "2030-01-01")
        let profile = try ProfileLoader.parse(updated, file: "stripe.toml")
        #expect(profile.sourceIPs?.ranges.map(\.text) == ["3.18.12.63", "9.9.9.9"])
        #expect(profile.sourceIPs?.asOf == "2030-01-01")
        #expect(profile.signatures == Repo.profiles["stripe"]!.signatures)
        #expect(updated.hasSuffix("\n"))
        #expect(updated.contains("# Stripe's webhook sender addresses"))
    }

    @Test func sourceCanAllowTheProviderAddressesWithOneKey() throws {
        let toml = """
        [sources.stripe]
        provider = "stripe"
        secrets = ["whsec_x"]
        allow_provider_ips = true
        allow_ips = ["10.0.0.0/8"]
        """
        let resolved = try GatewayConfig.parse(toml, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles)
        let allowlist = resolved.sources[0].allowlist
        #expect(allowlist.permits(IPAddress("3.18.12.63")))
        #expect(allowlist.permits(IPAddress("10.1.1.1")))
        #expect(!allowlist.permits(IPAddress("8.8.8.8")))
        let noList = toml.replacingOccurrences(of: "provider = \"stripe\"", with: "provider = \"shopify\"")
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(noList, file: "t.toml").resolve(environment: [:], profiles: Repo.profiles) }
        #expect(error?.key == "sources.stripe.allow_provider_ips")
    }
}
