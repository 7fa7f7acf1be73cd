import NIOConcurrencyHelpers

/// Wakes a sleeping worker: rung after commits and completions, awaited with a timeout. One waiter at a time.
///
/// A ring says why: an ingest commit only adds rows that are due at once for destinations some source routes to, so a
/// wake by ingest commits alone lets the delivery loop claim for those destinations only, and skip the store's next-due
/// read (`DeliveryService`). Anything else (a completion, an operator's action, another instance's rows, shutdown, the
/// timeout) may have changed anything.
public final class Doorbell: Sendable {
    public enum Reason: Sendable, Equatable {
        /// An ingest batch committed.
        case ingestCommit
        /// Anything else that may have queued or changed rows.
        case other
    }

    /// Why a wait returned.
    public enum Wake: Sendable, Equatable {
        /// Only ingest commits rang since the last wait.
        case ingestCommits
        /// Something else rang, or the wait timed out or was cancelled.
        case other
    }

    private struct State {
        var rungByIngest = false
        var rungByOther = false
        var waiter: CheckedContinuation<Void, Never>?
        var rung: Bool { rungByIngest || rungByOther }
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    public func ring(_ reason: Reason = .other) {
        let w = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            switch reason {
            case .ingestCommit: s.rungByIngest = true
            case .other: s.rungByOther = true
            }
            let w = s.waiter
            s.waiter = nil
            return w
        }
        w?.resume()
    }

    /// Returns when rung, after `timeout`, or on cancellation, consuming every ring so far; says whether only ingest
    /// commits rang.
    @discardableResult
    public func wait(timeout: Duration) async -> Wake {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForRing() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        // Rings are consumed here, after the wake and before the caller's next round: a ring that arrives in between is
        // covered by that round, and a later one wakes the next wait.
        return state.withLockedValue { s -> Wake in
            let wake: Wake = s.rungByIngest && !s.rungByOther ? .ingestCommits : .other
            s.rungByIngest = false
            s.rungByOther = false
            return wake
        }
    }

    private func waitForRing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { s -> Bool in
                    if s.rung || Task.isCancelled { return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let w = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
                let w = s.waiter
                s.waiter = nil
                return w
            }
            w?.resume()
        }
    }
}
