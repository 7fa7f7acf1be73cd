import Foundation
import InletCore
import NIOConcurrencyHelpers

public enum KeySetError: Error, CustomStringConvertible {
    case fetchFailed(String), unreadable(String), recentlyFailed, badLocator, timedOut
    public var description: String {
        switch self {
        case .fetchFailed(let m): return "cannot fetch the key set: \(m)"
        case .unreadable(let m): return "the key set is unreadable: \(m)"
        case .recentlyFailed: return "the key set's last fetch failed moments ago; not retried yet"
        case .badLocator: return "not a key set locator"
        case .timedOut: return "the key set's host did not answer in time"
        }
    }
}

/// JSON Web Key Sets by URL (Google's certs, a FusionAuth tenant's), for JWT sources. The URLs come from
/// configuration only; the request contributes the `kid`, which decides nothing but whether to refresh.
///
/// - A set is kept for `maxAge`, then fetched again on the next request.
/// - A `kid` the set lacks refreshes it, at most once per `refreshInterval` per URL: a stream of forged kids costs
///   one fetch a minute, not one per request. After that the answer is the set as it is, and admission refuses the
///   token as `signing_key_unknown`.
/// - A failed fetch is not retried for `failureBackoff`: a host that is down or hangs (each fetch is bounded by the
///   fetcher's timeout) costs one attempt per interval, and requests meanwhile get `certificate_unavailable` at once.
/// - One fetch per URL at a time, however many requests wait for it; at most `capacity` sets are kept.
///
/// What admission gets back is the part of the set matching the `kid` (the whole set for a token without one), as
/// a JWKS document: an empty one means "asked, and the provider has no such key".
public final class KeySetCache: Sendable {
    private struct Entry {
        var set: JSONWebKeySet
        var fetchedAt: EpochMillis
        var lastUsed: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var failedAt: [String: EpochMillis] = [:]
        var tick: UInt64 = 0
        var inFlight: [String: Task<JSONWebKeySet, any Error>] = [:]
    }

    private let fetcher: any CertificateFetcher
    private let clock: any WallClock
    private let capacity: Int
    private let state = NIOLockedValueBox(State())
    let maxAge: EpochMillis
    let refreshInterval: EpochMillis
    let failureBackoff: EpochMillis
    let fetchTimeout: Duration

    public init(fetcher: any CertificateFetcher, clock: any WallClock, capacity: Int = 16, maxAge: EpochMillis = 3_600_000,
                refreshInterval: EpochMillis = 60_000, failureBackoff: EpochMillis = 5_000, fetchTimeout: Duration = .seconds(10)) {
        self.fetchTimeout = fetchTimeout
        self.fetcher = fetcher
        self.clock = clock
        self.capacity = max(1, capacity)
        self.maxAge = maxAge
        self.refreshInterval = refreshInterval
        self.failureBackoff = failureBackoff
    }

    /// How many key sets are cached.
    public var count: Int { state.withLockedValue { $0.entries.count } }

    /// The keys for `locator` without waiting, when the cache can answer: the set is fresh, and either holds the kid
    /// or was refreshed too recently to be asked again.
    public func cachedKeys(for locatorText: String) -> [UInt8]? {
        guard let locator = KeySetLocator(locatorText) else { return nil }
        let now = clock.now()
        return state.withLockedValue { s in
            guard var e = s.entries[locator.url], now - e.fetchedAt < maxAge else { return nil }
            let keys = e.set.keys(for: locator.keyID)
            if keys.isEmpty && now - e.fetchedAt >= refreshInterval { return nil }
            s.tick += 1
            e.lastUsed = s.tick
            s.entries[locator.url] = e
            return JSONWebKeySet(keys: keys).encoded
        }
    }

    /// The keys for `locator`, fetching the set when it is missing, stale, or lacks the kid (rate-limited).
    public func keys(for locatorText: String) async throws -> [UInt8] {
        guard let locator = KeySetLocator(locatorText) else { throw KeySetError.badLocator }
        if let cached = cachedKeys(for: locatorText) { return cached }
        let url = locator.url
        let now = clock.now()
        let task: Task<JSONWebKeySet, any Error> = try state.withLockedValue { s in
            if let running = s.inFlight[url] { return running }
            if let failed = s.failedAt[url], now - failed < failureBackoff {
                // Serve a set that is still within its age rather than nothing; else refuse at once.
                if let e = s.entries[url], now - e.fetchedAt < maxAge { return Task { e.set } }
                throw KeySetError.recentlyFailed
            }
            // Owned by the in-flight table until done, awaited by every caller: one caller leaving cancels nothing.
            let t = Task { [self] in
                defer { _ = state.withLockedValue { $0.inFlight.removeValue(forKey: url) } }
                return try await load(url)
            }
            s.inFlight[url] = t
            return t
        }
        return JSONWebKeySet(keys: try await task.value.keys(for: locator.keyID)).encoded
    }

    private func load(_ url: String) async throws -> JSONWebKeySet {
        let text: String
        do { text = try await fetchBounded(url) } catch {
            state.withLockedValue { $0.failedAt[url] = clock.now() }
            throw KeySetError.fetchFailed("\(error)")
        }
        let set: JSONWebKeySet
        do { set = try JSONWebKeySet.parse(Array(text.utf8)) } catch {
            state.withLockedValue { $0.failedAt[url] = clock.now() }
            throw KeySetError.unreadable("\(error)")
        }
        state.withLockedValue { s in
            s.failedAt[url] = nil
            s.tick += 1
            s.entries[url] = Entry(set: set, fetchedAt: clock.now(), lastUsed: s.tick)
            while s.entries.count > capacity, let oldest = s.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                s.entries.removeValue(forKey: oldest)
            }
        }
        return set
    }

    /// The fetch, abandoned after `fetchTimeout` even if the fetcher ignores cancellation: a host that hangs holds
    /// its requests for the timeout, not for ever.
    private func fetchBounded(_ url: String) async throws -> String {
        let fetcher = self.fetcher
        return try await abandoning(after: fetchTimeout, with: KeySetError.timedOut) { try await fetcher.fetchPEM(url) }
    }
}

/// The result of `work`, or `timeout` thrown once `deadline` has passed, even if `work` ignores its cancellation: a key
/// host that hangs holds the requests waiting for it until the deadline, not for ever. Shared by the key-set and
/// fetched-key caches.
func abandoning<T: Sendable>(after deadline: Duration, with timeout: any Error,
                             _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let resumed = NIOLockedValueBox(false)
        @Sendable func finish(_ result: Result<T, any Error>) {
            guard resumed.withLockedValue({ done in defer { done = true }; return !done }) else { return }
            continuation.resume(with: result)
        }
        let running = Task {
            do { finish(.success(try await work())) } catch { finish(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: deadline)
            running.cancel()
            finish(.failure(timeout))
        }
    }
}
