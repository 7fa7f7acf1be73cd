import Foundation
import InletConfig
import InletCore
import Testing

@Suite("Stream config")
struct StreamConfigTests {
    static let base = """
    [admin]
    listen = "127.0.0.1:9190"
    tokens = ["admin-token"]

    [destinations.svc]
    url = "http://127.0.0.1:9000/hook"
    secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

    [streams.ledger]
    tokens = ["env:LEDGER_TOKEN", "literal-consumer-token"]
    retention_hours = 24
    lease_seconds = 10
    max_batch = 500

    [streams.audit]
    tokens = ["audit-token"]

    """

    static func source(_ destinations: String, routes: String = "") -> String {
        """
        [sources.stripe]
        provider = "stripe"
        secrets = ["whsec_test_secret"]
        destinations = \(destinations)
        \(routes)
        """
    }

    /// `stream:NAME` routes like a destination, unfiltered or through a route; the tokens resolve like any secret.
    @Test func streamsAreRouteTargets() throws {
        let text = Self.base + Self.source(#"["svc", "stream:ledger"]"#, routes: """
            [[sources.stripe.routes]]
            destination = "stream:audit"
            types = ["invoice.*"]
            """)
        let config = try GatewayConfig.parse(text, file: "t.toml")
        let ledger = try #require(config.streams["ledger"])
        #expect(ledger.retentionHours == 24 && ledger.leaseSeconds == 10 && ledger.maxBatch == 500)
        #expect(config.streams["audit"].map { ($0.retentionHours, $0.leaseSeconds, $0.maxBatch, $0.sseHeartbeatSeconds) } ?? (0, 0, 0, 0) == (168, 30, 1000, 15))
        let resolved = try config.resolve(environment: ["LEDGER_TOKEN": "from-env"], profiles: Repo.profiles)
        #expect(resolved.streams["ledger"]?.tokens == ["from-env", "literal-consumer-token"])
        let routes = resolved.sources[0].routes
        #expect(routes.destinations(eventType: "invoice.paid", body: []) == ["svc", "stream:ledger", "stream:audit"])
        #expect(routes.destinations(eventType: "charge.failed", body: []) == ["svc", "stream:ledger"])
        #expect(RouteTarget.streamName("stream:ledger") == "ledger" && RouteTarget.streamName("svc") == nil)
    }

    @Test func unknownStreamIsAConfigErrorNamingTheKey() {
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(Self.base + Self.source(#"["stream:ledgr"]"#), file: "t.toml") }
        #expect(error?.key == "sources.stripe.destinations")
        #expect(error?.message.contains("unknown stream 'ledgr'") == true)
        #expect(error?.message.contains("audit, ledger") == true)
        let inRoute = #expect(throws: ConfigError.self) {
            try GatewayConfig.parse(Self.base + Self.source("[]", routes: "[[sources.stripe.routes]]\ndestination = \"stream:nope\""), file: "t.toml")
        }
        #expect(inRoute?.message.contains("unknown stream 'nope'") == true)
    }

    @Test func badStreamSettingsAreRefused() {
        for (bad, key) in [("tokens = []", "tokens"), ("tokens = [\"t\"]\nmax_batch = 1001", "max_batch"), ("tokens = [\"t\"]\nlease_seconds = 0", "lease_seconds"),
                           ("tokens = [\"t\"]\nretention = 3", "retention")] {
            let error = #expect(throws: ConfigError.self, "\(bad)") { try GatewayConfig.parse(Self.base + "[streams.x]\n\(bad)\n", file: "t.toml") }
            #expect(error?.key == "streams.x.\(key)", "\(bad)")
        }
        let badName = #expect(throws: ConfigError.self) { try GatewayConfig.parse(Self.base + "[streams.\"a b\"]\ntokens = [\"t\"]\n", file: "t.toml") }
        #expect(badName?.message.contains("stream names") == true)
    }

    /// Consumers read on the admin listener, so a stream without one could never be read.
    @Test func streamsNeedTheAdminListener() {
        let text = Self.base.replacingOccurrences(of: "[admin]\nlisten = \"127.0.0.1:9190\"\ntokens = [\"admin-token\"]\n", with: "")
        let error = #expect(throws: ConfigError.self) { try GatewayConfig.parse(text, file: "t.toml") }
        #expect(error?.message.contains("[admin] listen") == true)
    }

    @Test func namesAreCheckedByteWise() {
        #expect(RouteTarget.isValidName("billing-v2.workers_1"))
        for bad in ["", "a b", "ä", "a/b", String(repeating: "x", count: 65), "a\u{0}"] { #expect(!RouteTarget.isValidName(bad), "\(bad)") }
    }
}
