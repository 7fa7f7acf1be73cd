import InletConfig
import InletCore

/// Decides how much work a delivery round does; pure, so its choices are tested without a store or a clock.
///
/// After an ingest commit the only new rows are due at once and belong to destinations some source routes to, so a
/// round woken by ingest commits alone claims for those destinations only and does not read the store's next-due time
/// again: a destination nothing routes to (the bench's `[destinations.null]`) costs nothing per event. Every other wake
/// (a completion, an operator's replay or redelivery, another instance's rows, the timeout) runs a full round: every
/// destination is asked, and the next-due time is read. A full round also runs once `fullRoundBy` passes, however
/// often ingest rings, so a retry or an expired lease of an unrouted destination is never starved by a busy ingress.
struct DeliveryRoundSchedule: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// Every configured destination.
        case full
        /// The destinations some source routes to.
        case routedOnly

        /// The destinations this round claims for, in name order.
        func destinations(in snapshot: ConfigSnapshot) -> [(String, ResolvedDestination)] {
            let all = snapshot.resolved.destinations.sorted(by: { $0.key < $1.key })
            switch self {
            case .full: return all
            case .routedOnly: return all.filter { snapshot.routedDestinations.contains($0.0) }
            }
        }
    }

    /// When the next full round is due at the latest: the earliest pending row's due time or the poll interval after
    /// the last read of the store, whichever comes first. Before any read: now (the first round is full).
    private(set) var fullRoundBy: EpochMillis = .min

    /// The kind of the round that follows `wake`.
    func kind(after wake: Doorbell.Wake, now: EpochMillis) -> Kind {
        wake == .ingestCommits && now < fullRoundBy ? .routedOnly : .full
    }

    /// Records what a full round read: the earliest due row (nil: none pending).
    mutating func readStore(nextDueAt: EpochMillis?, now: EpochMillis, pollMillis: Int64) {
        fullRoundBy = min(now + pollMillis, nextDueAt ?? .max)
    }
}
