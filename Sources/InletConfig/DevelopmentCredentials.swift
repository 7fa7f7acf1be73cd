import Foundation
import InletCore

/// The credentials shipped in `config/inlet.toml` and printed in the README, so that the default config runs as is.
/// Anyone can read them, so they protect nothing: the gateway warns whenever one is configured, and refuses to start
/// when one guards something reachable from other machines (a listener not bound to loopback, or a destination
/// elsewhere that trusts the signatures).
public enum DevelopmentCredentials {
    /// Each known value with where it comes from. Kept in step with `config/inlet.toml` by a test.
    public static let known: [(value: String, origin: String)] = [
        ("dev-admin-token", "the development admin token of config/inlet.toml"),
        ("whsec_ZGVtby1zb3VyY2UtZGV2ZWxvcG1lbnQtc2VjcmV0", "the demo source's development secret in config/inlet.toml"),
        ("whsec_ZGV2ZWxvcG1lbnQtb25seS1zaW5rLXNlY3JldCEhIQ==", "the development sink's secret in config/inlet.toml"),
    ]

    /// Where `value` comes from, if it is a known development credential. A `whsec_` secret also matches without its
    /// prefix or padding, which decode to the same key.
    public static func origin(of value: String) -> String? {
        let v = normalized(value)
        return known.first { normalized($0.value) == v }?.origin
    }

    static func normalized(_ value: String) -> String {
        var v = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if v.hasPrefix("whsec_") { v.removeFirst(6) }
        while v.hasSuffix("=") { v.removeLast() }
        return v
    }

    /// Whether a listener bound to `host` (or a URL naming it) is reachable from this machine only.
    public static func isLoopback(host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        return IPAddress(host)?.isLoopback ?? false
    }
}

/// One place a known development credential is configured, and what it guards.
public struct DevelopmentCredentialUse: Sendable, Equatable, CustomStringConvertible {
    /// The config key, e.g. `["admin", "tokens"]`.
    public var keyPath: [String]
    public var label: String
    public var origin: String
    /// What trusts the credential and where it is reachable, e.g. "the admin API on 127.0.0.1:9190".
    public var guards: String
    /// Whether only this machine can reach what it guards.
    public var loopbackOnly: Bool

    public var description: String {
        "\(keyPath.joined(separator: ".")): secret '\(label)' is \(origin), published with Inlet; it guards \(guards)"
    }

    /// The start-up error for a use that is reachable from other machines.
    public var refusal: String {
        "secret '\(label)' is \(origin), published with Inlet, and \(guards) is reachable from other machines: "
            + "refusing to start. Set a secret of your own (`inlet secrets generate`, then env:NAME or file:PATH)."
    }
}

extension GatewayConfig {
    /// Every configured credential whose value is a known development one, with what trusts it. References that do
    /// not resolve are skipped (`resolve` reports them).
    public func developmentCredentialUses(environment: [String: String]) -> [DevelopmentCredentialUse] {
        var out: [DevelopmentCredentialUse] = []
        func check(_ refs: [SecretReference], _ keyPath: [String], guards: String, loopbackOnly: Bool) {
            for ref in refs {
                guard case .success(let value) = ref.resolve(environment: environment, baseDirectory: baseDirectory),
                      let origin = DevelopmentCredentials.origin(of: value) else { continue }
                out.append(DevelopmentCredentialUse(keyPath: keyPath, label: ref.label, origin: origin, guards: guards, loopbackOnly: loopbackOnly))
            }
        }
        func listener(_ host: String, _ port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
        if let admin {
            check(admin.tokens, ["admin", "tokens"], guards: "the admin API on \(listener(admin.host, admin.port))",
                  loopbackOnly: DevelopmentCredentials.isLoopback(host: admin.host))
            // Stream consumers read on the admin listener: a published token there hands out every streamed event.
            for name in streams.keys.sorted() {
                check(streams[name]!.tokens, ["streams", name, "tokens"], guards: "stream '\(name)' on the admin API at \(listener(admin.host, admin.port))",
                      loopbackOnly: DevelopmentCredentials.isLoopback(host: admin.host))
            }
        }
        let ingress = listener(server.host, server.port), ingressLoopback = DevelopmentCredentials.isLoopback(host: server.host)
        for s in sources {
            check(s.secrets, ["sources", s.name, "secrets"], guards: "source '\(s.name)' on the ingress listener \(ingress)", loopbackOnly: ingressLoopback)
            if let t = s.verifyToken {
                check([t], ["sources", s.name, "verify_token"], guards: "source '\(s.name)' on the ingress listener \(ingress)", loopbackOnly: ingressLoopback)
            }
        }
        if let sink {
            check(sink.secrets, ["sink", "secrets"], guards: "the development sink on \(listener(sink.host, sink.port))",
                  loopbackOnly: DevelopmentCredentials.isLoopback(host: sink.host))
        }
        for name in destinations.keys.sorted() {
            let d = destinations[name]!
            // The receiver behind the destination trusts this signing secret: anyone knowing it can forge events to it.
            let host = URL(string: d.url)?.host ?? ""
            check(d.secrets, ["destinations", name, "secrets"], guards: "the receiver of destination '\(name)' at \(d.url)",
                  loopbackOnly: DevelopmentCredentials.isLoopback(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host))
        }
        return out
    }
}
