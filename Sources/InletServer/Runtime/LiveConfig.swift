import InletConfig
import InletCore
import NIOConcurrencyHelpers

/// The configuration the gateway is running now, as one immutable snapshot. Requests read the snapshot once
/// at their start, so a reload (which swaps the whole snapshot) never mixes two configs within a request.
public struct ConfigSnapshot: Sendable {
    public let resolved: ResolvedConfig
    public let sourcesByPath: [String: ResolvedSource]
    /// The destinations some source routes to (unfiltered or by a route): the only ones ingress queues rows for.
    public let routedDestinations: Set<String>

    public init(_ resolved: ResolvedConfig) {
        self.resolved = resolved
        var byPath: [String: ResolvedSource] = [:]
        for s in resolved.sources { byPath[s.path] = s }
        sourcesByPath = byPath
        routedDestinations = Set(resolved.sources.flatMap(\.destinations))
    }

    public func destination(_ name: String) -> ResolvedDestination? { resolved.destinations[name] }
}

/// Holds the current snapshot; swapped atomically on reload. Secrets sources took from handshakes (kept in the store)
/// are part of every snapshot: a reload keeps them, and a new one applies at once.
public final class LiveConfig: Sendable {
    private struct State {
        var resolved: ResolvedConfig
        /// By source name.
        var handshakeKeys: [String: VerificationKey]
        var snapshot: ConfigSnapshot
    }

    private let box: NIOLockedValueBox<State>

    public init(_ resolved: ResolvedConfig, handshakeKeys: [String: VerificationKey] = [:]) {
        box = NIOLockedValueBox(State(resolved: resolved, handshakeKeys: handshakeKeys,
                                      snapshot: ConfigSnapshot(resolved.addingHandshakeKeys(handshakeKeys))))
    }

    public var current: ConfigSnapshot { box.withLockedValue { $0.snapshot } }

    public func replace(with resolved: ResolvedConfig) {
        box.withLockedValue { s in
            s.resolved = resolved
            s.snapshot = ConfigSnapshot(resolved.addingHandshakeKeys(s.handshakeKeys))
        }
    }

    /// A secret a handshake handed over (and the store kept): the source verifies with it from the next request on.
    public func addHandshakeKey(_ key: VerificationKey, source: String) {
        box.withLockedValue { s in
            s.handshakeKeys[source] = key
            s.snapshot = ConfigSnapshot(s.resolved.addingHandshakeKeys(s.handshakeKeys))
        }
    }
}

extension ResolvedConfig {
    /// Each handshake secret added to its source, where the source still takes one (`accept_handshake_secret`) and
    /// has no configured secret: a secret written into the config later wins.
    func addingHandshakeKeys(_ keys: [String: VerificationKey]) -> ResolvedConfig {
        guard !keys.isEmpty else { return self }
        var out = self
        for i in out.sources.indices {
            let s = out.sources[i]
            if s.acceptsHandshakeSecret, s.keys.isEmpty, let key = keys[s.name] { out.sources[i].keys = [key] }
        }
        return out
    }
}
