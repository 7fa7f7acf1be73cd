import NIOConcurrencyHelpers

/// Wakes the consumers waiting on a stream (long-polls, server-sent-events connections) when entries were appended:
/// rung by the ingest committer right after a commit that appended to the stream (and, on PostgreSQL, by other
/// instances' appends through NOTIFY). Unlike `Doorbell` it has any number of waiters.
///
/// A waiter reads the stream's generation BEFORE it looks at the store, and waits for a generation past it: an append
/// that commits between its read and its wait ends the wait at once, so no wake-up is lost.
public final class StreamBell: Sendable {
    private struct Waiter {
        var stream: String
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var generations: [String: UInt64] = [:]
        /// Rung for every stream at once (a NOTIFY from another instance does not say which).
        var everything: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0

        func generation(_ stream: String) -> UInt64 { (generations[stream] ?? 0) &+ everything }
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// The stream's generation now: pass it to `wait`.
    public func generation(_ stream: String) -> UInt64 { state.withLockedValue { $0.generation(stream) } }

    /// Entries were appended to `streams` and are committed.
    public func ring<S: Sequence>(_ streams: S) where S.Element == String {
        let woken = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            var names = Set<String>()
            for stream in streams where names.insert(stream).inserted { s.generations[stream, default: 0] &+= 1 }
            guard !names.isEmpty else { return [] }
            var out: [CheckedContinuation<Void, Never>] = []
            for (id, w) in s.waiters where names.contains(w.stream) {
                out.append(w.continuation)
                s.waiters[id] = nil
            }
            return out
        }
        for c in woken { c.resume() }
    }

    /// Something may have been appended to any stream.
    public func ringAll() {
        let woken = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.everything &+= 1
            defer { s.waiters = [:] }
            return s.waiters.values.map(\.continuation)
        }
        for c in woken { c.resume() }
    }

    /// Returns once the stream's generation is past `generation`, after `timeout`, or on cancellation.
    public func wait(_ stream: String, since generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForRing(stream, since: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing(_ stream: String, since generation: UInt64) async {
        let id = state.withLockedValue { s -> UInt64 in
            s.nextID &+= 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { s -> Bool in
                    if s.generation(stream) != generation || Task.isCancelled { return true }
                    s.waiters[id] = Waiter(stream: stream, continuation: c)
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let w = state.withLockedValue { s -> Waiter? in
                defer { s.waiters[id] = nil }
                return s.waiters[id]
            }
            w?.continuation.resume()
        }
    }

    /// How many consumers wait now (tests).
    var waiting: Int { state.withLockedValue { $0.waiters.count } }
}
