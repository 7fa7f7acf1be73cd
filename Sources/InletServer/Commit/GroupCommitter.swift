import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Commits items in batches from one dedicated thread: whatever arrived while the previous batch was being
/// written (and fsynced) becomes the next batch, so throughput is not capped at the disk's fsync rate and an
/// fsync never blocks an event loop or the Swift concurrency pool.
public final class GroupCommitter<Item: Sendable, Output: Sendable>: Service, Sendable {
    public enum Waiter: Sendable {
        case promise(EventLoopPromise<Output>)
        case continuation(CheckedContinuation<Output, Error>)

        func succeed(_ o: Output) {
            switch self {
            case .promise(let p): p.succeed(o)
            case .continuation(let c): c.resume(returning: o)
            }
        }

        func fail(_ e: Error) {
            switch self {
            case .promise(let p): p.fail(e)
            case .continuation(let c): c.resume(throwing: e)
            }
        }
    }

    public struct Stopped: Error, Sendable {}

    /// What submitters hand the committer thread; guarded by `signal`'s lock (the only lock on the path of a submit).
    private final class Pending: @unchecked Sendable {
        var items: [Item] = []
        var waiters: [Waiter] = []
        var stopping = false
        var stopped = false
    }

    private let name: String
    private let maxBatch: Int
    private let commit: @Sendable ([Item]) throws -> [Output]
    private let afterCommit: @Sendable (Int) -> Void
    private let betweenBatches: @Sendable () -> Void
    private let observe: @Sendable (_ size: Int, _ seconds: Double) -> Void
    private let pending = Pending()
    // Its lock guards `pending`; its value is 1 while there is work or a stop request: the committer thread sleeps on 0.
    private let signal = ConditionLock(value: 0)
    private let thread = NIOThreadPool(numberOfThreads: 1)

    /// - commit: writes one batch in one transaction; returns one output per item, in order.
    /// - afterCommit: called with the batch size after each successful commit (e.g. to wake delivery workers).
    /// - observe: called with each committed batch's size and duration (metrics).
    /// - betweenBatches: upkeep run on the committer thread after each batch's waiters are completed, before the next
    ///   batch (the store's WAL checkpoint): never on the path of an ack.
    public init(name: String, maxBatch: Int, commit: @escaping @Sendable ([Item]) throws -> [Output], afterCommit: @escaping @Sendable (Int) -> Void = { _ in },
                observe: @escaping @Sendable (_ size: Int, _ seconds: Double) -> Void = { _, _ in },
                betweenBatches: @escaping @Sendable () -> Void = {}) {
        self.betweenBatches = betweenBatches
        self.observe = observe
        self.name = name
        self.maxBatch = maxBatch
        self.commit = commit
        self.afterCommit = afterCommit
    }

    /// Queues `item`; `waiter` is completed after the batch holding it committed (or failed).
    public func submit(_ item: Item, waiter: Waiter) {
        signal.lock()
        let refused = pending.stopped
        if !refused {
            pending.items.append(item)
            pending.waiters.append(waiter)
        }
        signal.unlock(withValue: 1)
        if refused { waiter.fail(Stopped()) }
    }

    public func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { c in submit(item, waiter: .continuation(c)) }
    }

    /// Runs the commit loop until graceful shutdown; items submitted before the stop are still committed.
    public func run() async throws {
        thread.start()
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let done = thread.runIfActive(eventLoop: loop) { self.commitLoop() }
        // Cancellation (another service failed) stops the loop as graceful shutdown does: without it, the group
        // waited here for ever and the process never exited.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await done.get()
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
        try await thread.shutdownGracefully()
    }

    /// Asks the loop to finish what is queued and exit.
    public func stop() {
        signal.lock()
        pending.stopping = true
        signal.unlock(withValue: 1)
    }

    private func commitLoop() {
        // The batch's buffers are swapped with the pending ones, not copied: submitters append to last batch's emptied
        // arrays (their capacity kept), and a batch is handed to `commit` without a copy.
        var items: [Item] = []
        var waiters: [Waiter] = []
        while true {
            items.removeAll(keepingCapacity: true)
            waiters.removeAll(keepingCapacity: true)
            signal.lock(whenValue: 1)
            let p = pending
            if p.items.count <= maxBatch {
                swap(&items, &p.items)
                swap(&waiters, &p.waiters)
            } else {
                // More than a batch waits (rare: commits fell behind): take the oldest, leave the rest queued.
                items.append(contentsOf: p.items[..<maxBatch])
                waiters.append(contentsOf: p.waiters[..<maxBatch])
                p.items.removeFirst(maxBatch)
                p.waiters.removeFirst(maxBatch)
            }
            let exit = p.stopping && p.items.isEmpty && items.isEmpty
            if exit { p.stopped = true }
            signal.unlock(withValue: !p.items.isEmpty || p.stopping ? 1 : 0)
            if exit { return }
            if items.isEmpty { continue }
            do {
                let started = ContinuousClock.now
                let outputs = try commit(items)
                let took = ContinuousClock.now - started
                observe(items.count, Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
                precondition(outputs.count == items.count, "\(name): commit returned \(outputs.count) outputs for \(items.count) items")
                afterCommit(items.count)
                for n in waiters.indices { waiters[n].succeed(outputs[n]) }
            } catch {
                for waiter in waiters { waiter.fail(error) }
            }
            betweenBatches()
        }
    }
}
