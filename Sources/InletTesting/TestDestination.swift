import InletServer
import NIOConcurrencyHelpers

/// A real HTTP destination on loopback whose answers the test scripts.
public final class TestDestination: Sendable {
    public let server: ListenerServer
    private let received = NIOLockedValueBox<[SimpleRequest]>([])
    private let waiters = NIOLockedValueBox<[(Int, CheckedContinuation<Void, Never>)]>([])
    public let respond: NIOLockedValueBox<@Sendable (SimpleRequest, Int) async -> Int>

    public var url: String { "http://127.0.0.1:\(server.port)/events" }
    public var requests: [SimpleRequest] { received.withLockedValue { $0 } }

    public init(respond: @escaping @Sendable (SimpleRequest, Int) async -> Int = { _, _ in 204 }) async throws {
        let box = NIOLockedValueBox<@Sendable (SimpleRequest, Int) async -> Int>(respond)
        let received = self.received, waiters = self.waiters
        self.respond = box
        server = try await ListenerServer.start { request in
            let n = received.withLockedValue { $0.append(request); return $0.count }
            let ready = waiters.withLockedValue { ws -> [CheckedContinuation<Void, Never>] in
                let done = ws.filter { $0.0 <= n }.map(\.1)
                ws.removeAll { $0.0 <= n }
                return done
            }
            ready.forEach { $0.resume() }
            let status = await box.withLockedValue { $0 }(request, n)
            return SimpleResponse(status: status)
        }
    }

    /// Waits until at least `count` requests arrived (bounded by `timeout`).
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(15)) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { c in
                    let now = self.received.withLockedValue { $0.count >= count }
                    if now { c.resume() } else { self.waiters.withLockedValue { $0.append((count, c)) } }
                    // Re-check in case a request landed between the two locks.
                    if !now, self.received.withLockedValue({ $0.count >= count }) {
                        let w = self.waiters.withLockedValue { ws -> [CheckedContinuation<Void, Never>] in
                            let d = ws.filter { $0.0 <= count }.map(\.1); ws.removeAll { $0.0 <= count }; return d
                        }
                        w.forEach { $0.resume() }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut(what: "\(count) requests at the destination (have \(self.requests.count))")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    public func stop() async { await server.stop() }
}

public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}
