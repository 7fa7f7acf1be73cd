import NIOConcurrencyHelpers

/// One budget for the request bytes held in memory across every ingress connection: received, and not yet committed
/// or refused. Each connection may buffer up to its source's `max_body_bytes`, and the commit queue holds what was
/// admitted until its batch commits, so without a shared bound 10,000 connections × 1 MiB is 10 GiB. A request whose
/// next chunk does not fit is answered `503 over_capacity` with `Retry-After: 1`: providers retry 5xx, and the
/// gateway stays within its memory.
final class InFlightBudget: Sendable {
    let limit: Int
    // A lock, not an atomic: held for an add and a compare, once per body chunk, which costs less than the chunk's copy.
    private let used = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        used.withLockedValue { used in
            guard bytes <= limit - used else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLockedValue { $0 = max(0, $0 - bytes) }
    }

    /// Bytes held now.
    var inUse: Int { used.withLockedValue { $0 } }
}
