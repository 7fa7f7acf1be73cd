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

/// Holds the current snapshot; swapped atomically on reload.
public final class LiveConfig: Sendable {
    private let box: NIOLockedValueBox<ConfigSnapshot>

    public init(_ resolved: ResolvedConfig) { box = NIOLockedValueBox(ConfigSnapshot(resolved)) }

    public var current: ConfigSnapshot { box.withLockedValue { $0 } }

    public func replace(with resolved: ResolvedConfig) { box.withLockedValue { $0 = ConfigSnapshot(resolved) } }
}
