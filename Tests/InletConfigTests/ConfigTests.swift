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
        // PagerDuty's page of 2026-03-05: 13 US and 12 EU addresses (three US addresses of 2022 were withdrawn).
        #expect(Repo.profiles["pagerduty"]?.sourceIPs?.ranges.count == 25)
        #expect(Repo.profiles["pagerduty"]?.sourceIPs?.ranges.contains { $0.text == "34.202.21.89" } == false)
    }

    /// Every shipped list says when it was taken and where it was read, and a refreshable one says how.
    @Test func everyShippedListHasItsDateAndProvenance() throws {
        let lists = Repo.profiles.values.compactMap { p in p.sourceIPs.map { (p.name, $0) } }
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        #expect(lists.count >= 10)
        for (name, ips) in lists {
            #expect(!ips.ranges.isEmpty, "\(name): an empty list")
            let date = ips.asOf.split(separator: "-")
            #expect(date.count == 3 && date[0].count == 4 && date.allSatisfy { Int($0) != nil }, "\(name): as_of '\(ips.asOf)' is not YYYY-MM-DD")
            #expect(ips.asOf <= today, "\(name): as_of '\(ips.asOf)' is in the future")
            let reference = try #require(ips.reference, "\(name): [source_ips] has no reference")
            #expect(reference.contains("https://") || reference.contains("@"), "\(name): the reference '\(reference)' names no page or repository")
            if !ips.urls.isEmpty { #expect(ips.format != nil, "\(name)") }
            #expect(Set(ips.ranges.map(\.text)).count == ips.ranges.count, "\(name): a range is listed twice")
        }
    }

    @Test func sourceIPsTableReadsReferenceURLsAndPointer() throws {
        func load(_ table: String) throws(ConfigError) -> PublishedIPRanges? {
            try ProfileLoader.parse("""
                name = "x"
                confidence = "docs"
                reference = "https://example.com/webhooks"
                [[signature]]
                headers = ["X-Sig"]
                algorithm = "hmac-sha256"
                [source_ips]
                as_of = "2026-01-01"
                ranges = ["192.0.2.1"]
                \(table)
                """, file: "x.toml").sourceIPs
        }
        let ips = try #require(try load("""
            reference = "https://example.com/ips"
            url = ["https://example.com/us.json", "https://example.com/eu.json"]
            format = "json-array"
            pointer = "/data/ipv4_cidrs"
            """))
        #expect(ips.reference == "https://example.com/ips")
        #expect(ips.urls == ["https://example.com/us.json", "https://example.com/eu.json"])
        #expect(ips.pointer == JSONPointer(tokens: ["data", "ipv4_cidrs"]))
        #expect(ips.summary == "1 as of 2026-01-01 (https://example.com/ips)")
        #expect(try load(#"url = "https://example.com/ips.txt""# + "\nformat = \"text\"")?.urls == ["https://example.com/ips.txt"])
        for (bad, key) in [(#"format = "json-array""#, "source_ips.pointer"),
                           ("format = \"text\"\npointer = \"/a\"", "source_ips.pointer"),
                           ("format = \"json-array\"\npointer = \"a\"", "source_ips.pointer"),
                           (#"url = "http://example.com/ips.txt""# + "\nformat = \"text\"", "source_ips.url"),
                           (#"url = "https://example.com/ips.txt""#, "source_ips.format"),
                           (#"reference = " ""#, "source_ips.reference"),
                           (#"format = "atlassian""#, "source_ips.format")] {
            do {
                _ = try load(bad)
                Issue.record("loaded: \(bad)")
            } catch {
                #expect(error.key == key, "\(bad): \(error)")
            }
        }
    }

    /// Svix's webhook-ips.json as published (svix/svix-docs public/webhook-ips.json, 2026-07-02).
    static let svixSample = """
        {
          "us": ["44.228.126.217", "50.112.21.217", "52.24.126.164", "54.148.139.208", "2600:1f24:64:8000::/56"],
          "us-east": ["54.164.207.221", "54.90.7.123", "2600:1f28:37:4000::/56"],
          "eu": ["52.215.16.239", "54.216.8.72", "63.33.109.123", "2a05:d028:17:8000::/56"],
          "au": ["13.239.204.236", "54.66.246.217", "54.252.65.96", "2406:da2c:13:4000::/56"],
          "ca": ["52.60.44.49", "3.98.68.230", "3.96.105.27", "2600:1f21:1c:4000::/56"]
        }
        """

    @Test func regionListsAreTakenWholeAndRefusedWhenTheirShapeChanges() throws {
        let all = try PublishedIPRanges.parse(Array(Self.svixSample.utf8), format: .regionsJSON)
        #expect(all.count == 20)
        #expect(all.contains { $0.text == "54.164.207.221" } && all.contains { $0.text == "2a05:d028:17:8000::/56" })
        // The shipped svix profile is this list.
        #expect(Set(all.map(\.text)) == Set(try #require(Repo.profiles["svix"]?.sourceIPs).ranges.map(\.text)))
        // A duplicate across regions is listed once.
        #expect(try PublishedIPRanges.parse(Array(#"{"us":["192.0.2.1"],"eu":["192.0.2.1","192.0.2.2"]}"#.utf8), format: .regionsJSON).count == 2)
        #expect(throws: PublishedIPRanges.ParseError.notAList("us")) {
            try PublishedIPRanges.parse(Array(#"{"us":{"ipv4":["192.0.2.1"]}}"#.utf8), format: .regionsJSON)
        }
        #expect(throws: PublishedIPRanges.ParseError.notAList("eu")) { try PublishedIPRanges.parse(Array(#"{"eu":["192.0.2.1", 7]}"#.utf8), format: .regionsJSON) }
        #expect(throws: PublishedIPRanges.ParseError.missingKey("region")) { try PublishedIPRanges.parse(Array(#"["192.0.2.1"]"#.utf8), format: .regionsJSON) }
        #expect(throws: PublishedIPRanges.ParseError.missingKey("region")) { try PublishedIPRanges.parse(Array("<html>".utf8), format: .regionsJSON) }
        #expect(throws: PublishedIPRanges.ParseError.empty) { try PublishedIPRanges.parse(Array(#"{"us":[]}"#.utf8), format: .regionsJSON) }
        #expect(throws: PublishedIPRanges.ParseError.tooBroad("::/0")) { try PublishedIPRanges.parse(Array(#"{"us":["192.0.2.1"],"eu":["::/0"]}"#.utf8), format: .regionsJSON) }
    }

    @Test func aListPublishedInPartsIsTheirUnion() throws {
        let us = try PublishedIPRanges.parse(Array("44.242.69.192\n52.89.71.166\n".utf8), format: .text)
        let eu = try PublishedIPRanges.parse(Array("18.192.91.93\n52.89.71.166\n".utf8), format: .text)
        #expect(PublishedIPRanges.union([us, eu]).map(\.text) == ["44.242.69.192", "52.89.71.166", "18.192.91.93"])
        #expect(PublishedIPRanges.union([]).isEmpty)
    }

    @Test func jsonArrayListsAreReadAtTheirPointer() throws {
        // Paddle's GET /ips answer, as its API reference shows it.
        let paddle = #"{"data":{"ipv4_cidrs":["34.194.127.46/32","54.234.237.108/32","3.208.120.145/32"]},"meta":{"request_id":"ceca4b2f"}}"#
        let at = JSONPointer(tokens: ["data", "ipv4_cidrs"])
        #expect(try PublishedIPRanges.parse(Array(paddle.utf8), format: .jsonArray, pointer: at).map(\.text) == ["34.194.127.46/32", "54.234.237.108/32", "3.208.120.145/32"])
        #expect(throws: PublishedIPRanges.ParseError.missingKey("/data/ipv4_cidrs")) {
            try PublishedIPRanges.parse(Array(#"{"data":{"ipv4":["34.194.127.46/32"]}}"#.utf8), format: .jsonArray, pointer: at)
        }
        #expect(throws: PublishedIPRanges.ParseError.notAList("/data/ipv4_cidrs")) {
            try PublishedIPRanges.parse(Array(#"{"data":{"ipv4_cidrs":[{"cidr":"34.194.127.46/32"}]}}"#.utf8), format: .jsonArray, pointer: at)
        }
        #expect(throws: PublishedIPRanges.ParseError.tooBroad("0.0.0.0/0")) {
            try PublishedIPRanges.parse(Array(#"{"data":{"ipv4_cidrs":["0.0.0.0/0"]}}"#.utf8), format: .jsonArray, pointer: at)
        }
        #expect(throws: PublishedIPRanges.ParseError.missingKey("pointer")) { try PublishedIPRanges.parse(Array(paddle.utf8), format: .jsonArray) }
        // Escaped strings are unescaped like any JSON reader would.
        #expect(try PublishedIPRanges.parse(Array(#"{"n":["192.0.2.0\/24"]}"#.utf8), format: .jsonArray, pointer: JSONPointer(tokens: ["n"])).map(\.text) == ["192.0.2.0/24"])
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
        // A list published in parts keeps its URLs, format and provenance; only the ranges and date change.
        let pagerduty = try String(contentsOfFile: Repo.root + "/providers/pagerduty.toml", encoding: .utf8)
        let refreshed = try ProfileLoader.parse(ProfileLoader.rewriteSourceIPs(pagerduty, ranges: [CIDR("44.242.69.192")!], asOf: "2030-01-01"), file: "pagerduty.toml")
        let before = try #require(Repo.profiles["pagerduty"]?.sourceIPs), after = try #require(refreshed.sourceIPs)
        #expect(after.urls == before.urls && after.urls.count == 2 && after.format == .text && after.reference == before.reference)
        #expect(after.ranges.map(\.text) == ["44.242.69.192"] && after.asOf == "2030-01-01")
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
