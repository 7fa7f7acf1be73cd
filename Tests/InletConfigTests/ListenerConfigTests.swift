import InletConfig
import Testing

/// The resource-limit settings (issues 17-20): defaults, parsing, and ranges that name the key.
@Suite("Config: listener, budget and quarantine limits")
struct ListenerConfigTests {
    func parse(_ text: String) throws(ConfigError) -> GatewayConfig { try GatewayConfig.parse(text, file: "/tmp/limits.toml") }

    @Test func defaults() throws {
        let c = try parse("[admin]\nlisten = \"127.0.0.1:9090\"\ntokens = [\"t\"]\n")
        #expect(c.admin?.maxBodyBytes == 1 << 20)
        #expect(c.admin?.maxConnections == 64)
        #expect(c.server.maxInFlightBytes == 256 << 20)
        #expect(c.server.tlsHandshakeTimeoutSeconds == 10)
        #expect(c.quarantine.maxEntriesPerSourceReason == 1_000)
        #expect(c.quarantine.skipReasons == ["missing_signature", "ip_not_allowed"])
        #expect(c.quarantine.perPeerPerMinute == 60)
    }

    @Test func parsesEachSetting() throws {
        let c = try parse("""
            [server]
            max_in_flight_bytes = 67108864
            tls_handshake_timeout_seconds = 3
            [admin]
            listen = "127.0.0.1:9090"
            tokens = ["t"]
            max_body_bytes = 65536
            max_connections = 8
            [quarantine]
            max_entries_per_source_reason = 50
            skip_reasons = []
            per_peer_per_minute = 5
            """)
        #expect(c.server.maxInFlightBytes == 64 << 20 && c.server.tlsHandshakeTimeoutSeconds == 3)
        #expect(c.admin?.maxBodyBytes == 65536 && c.admin?.maxConnections == 8)
        #expect(c.quarantine.maxEntriesPerSourceReason == 50 && c.quarantine.skipReasons.isEmpty && c.quarantine.perPeerPerMinute == 5)
    }

    @Test(arguments: [
        ("[server]\nmax_in_flight_bytes = 1000", "max_in_flight_bytes"),
        ("[server]\ntls_handshake_timeout_seconds = 0", "tls_handshake_timeout_seconds"),
        ("[admin]\nlisten = \"127.0.0.1:1\"\ntokens = [\"t\"]\nmax_body_bytes = 10", "max_body_bytes"),
        ("[admin]\nlisten = \"127.0.0.1:1\"\ntokens = [\"t\"]\nmax_connections = 0", "max_connections"),
        ("[quarantine]\nmax_entries_per_source_reason = 0", "max_entries_per_source_reason"),
        ("[quarantine]\nper_peer_per_minute = 0", "per_peer_per_minute"),
        ("[quarantine]\nskip_reasons = [\"store_unavailable\"]", "skip_reasons"),
    ])
    func outOfRangeNamesTheKey(_ text: String, _ key: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.key.hasSuffix(key), "\(error)")
        }
    }
}
