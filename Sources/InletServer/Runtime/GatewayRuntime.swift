import InletConfig
import InletCore
import NIOConcurrencyHelpers

/// The configuration the gateway is running now, as one immutable snapshot. Requests read the snapshot once
/// at their start, so a reload (which swaps the whole snapshot) never mixes two configs within a request.
public struct GatewaySnapshot: Sendable {
    public let resolved: ResolvedGateway
    public let sourcesByPath: [String: SourcePolicy]

    public init(_ resolved: ResolvedGateway) {
        self.resolved = resolved
        var byPath: [String: SourcePolicy] = [:]
        for s in resolved.sources { byPath[s.path] = s }
        sourcesByPath = byPath
    }

    public func destination(_ name: String) -> ResolvedDestination? { resolved.destinations[name] }
}

/// Holds the current snapshot; swapped atomically on reload.
public final class GatewayRuntime: Sendable {
    private let box: NIOLockedValueBox<GatewaySnapshot>

    public init(_ resolved: ResolvedGateway) { box = NIOLockedValueBox(GatewaySnapshot(resolved)) }

    public var current: GatewaySnapshot { box.withLockedValue { $0 } }

    public func replace(with resolved: ResolvedGateway) { box.withLockedValue { $0 = GatewaySnapshot(resolved) } }
}
