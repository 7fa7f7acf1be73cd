import Foundation
import InletCore
import NIOConcurrencyHelpers

public enum FetchedKeyError: Error, CustomStringConvertible {
    case fetchFailed(String), unreadable(String), recentlyFailed, badLocator, timedOut, tooManyFetches, noToken(String)
    /// Says what failed and where, never a header, body or token: those carry the source's credentials.
    public var description: String {
        switch self {
        case .fetchFailed(let m): return "cannot fetch the signing key: \(m)"
        case .unreadable(let m): return "the signing key is unreadable: \(m)"
        case .recentlyFailed: return "the key API failed moments ago for this key; not retried yet"
        case .badLocator: return "not a key locator"
        case .timedOut: return "the key API did not answer in time"
        case .tooManyFetches: return "too many keys of unknown id asked for this minute; not fetched"
        case .noToken(let m): return "cannot get an access token for the key API: \(m)"
        }
    }
}

/// Public keys fetched by id from a provider's key API (Circle, eBay, Plaid), for sources whose profile has
/// `[key_fetch]`. The plan (URL template, pinned host, credentials) comes from configuration; the request contributes
/// only the key id, already checked as plain text before it reaches here.
///
/// - Keys are cached by (source, key URL), for `maxAge`; at most `capacity` (least recently used out first).
/// - One fetch per key at a time, however many requests wait for it (single flight).
/// - A provider that says it has no such key (HTTP 404) is believed for `unknownKeyTTL`: admission refuses the
///   request as `signing_key_unknown` without asking again.
/// - Any other failure (the host down, slow, 5xx, unreadable) is `certificate_unavailable` (503: the provider retries,
///   the request is quarantined) and is not retried for `failureBackoff`.
/// - A source may start at most `maxNewKeysPerMinute` fetches for ids not cached: a stream of forged ids costs a
///   few fetches a minute with the receiver's credentials, not one per request.
/// - Each fetch (token and key) is bounded by `fetchTimeout` and the answer by `KeyFetchPlan.maxResponseBytes`.
/// - An OAuth application token (eBay) is fetched once per source and kept until shortly before it expires.
public final class FetchedKeyCache: Sendable {
    private struct Entry {
        /// What admission gets: DER SPKI or a one-key JWKS; empty (or an empty JWKS) for "no such key".
        var answer: [UInt8]
        var until: EpochMillis
        var lastUsed: UInt64
    }

    private struct Token {
        var value: String
        var until: EpochMillis
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var failedAt: [String: EpochMillis] = [:]
        var tick: UInt64 = 0
        var inFlight: [String: Task<[UInt8], any Error>] = [:]
        var tokens: [String: Token] = [:]
        var tokenInFlight: [String: Task<Token, any Error>] = [:]
        /// Fetches started per source in the current minute: (minute, count).
        var budget: [String: (EpochMillis, Int)] = [:]
    }

    private let fetcher: any CertificateFetcher
    private let clock: any WallClock
    private let state = NIOLockedValueBox(State())
    let capacity: Int
    let maxAge: EpochMillis
    let unknownKeyTTL: EpochMillis
    let failureBackoff: EpochMillis
    let maxNewKeysPerMinute: Int
    let fetchTimeout: Duration

    public init(fetcher: any CertificateFetcher, clock: any WallClock, capacity: Int = 256, maxAge: EpochMillis = 86_400_000,
                unknownKeyTTL: EpochMillis = 60_000, failureBackoff: EpochMillis = 5_000, maxNewKeysPerMinute: Int = 30,
                fetchTimeout: Duration = .seconds(10)) {
        self.fetcher = fetcher
        self.clock = clock
        self.capacity = max(1, capacity)
        self.maxAge = maxAge
        self.unknownKeyTTL = unknownKeyTTL
        self.failureBackoff = failureBackoff
        self.maxNewKeysPerMinute = max(1, maxNewKeysPerMinute)
        self.fetchTimeout = fetchTimeout
    }

    /// How many keys (known and unknown) are cached.
    public var count: Int { state.withLockedValue { $0.entries.count } }

    /// The source, the URL and the id: Plaid's URL is the same for every id (the id is in the POST body).
    private static func cacheKey(_ plan: KeyFetchPlan, _ locator: KeySetLocator) -> String {
        plan.source + "\u{0}" + locator.url + "\u{0}" + (locator.keyID ?? "")
    }

    /// The key for `locatorText` without waiting, when it is cached and fresh.
    public func cachedKey(for locatorText: String, plan: KeyFetchPlan) -> [UInt8]? {
        guard let locator = KeySetLocator(locatorText) else { return nil }
        let key = Self.cacheKey(plan, locator), now = clock.now()
        return state.withLockedValue { s in
            guard var e = s.entries[key], e.until > now else { return nil }
            s.tick += 1
            e.lastUsed = s.tick
            s.entries[key] = e
            return e.answer
        }
    }

    /// The key for `locatorText`, fetched with `plan` when it is not cached.
    public func key(for locatorText: String, plan: KeyFetchPlan) async throws -> [UInt8] {
        guard let locator = KeySetLocator(locatorText), let kid = locator.keyID, KeyFetchSpec.isSafeKeyID(kid),
              plan.spec.keyURL(kid: kid, host: plan.host) == locator.url else { throw FetchedKeyError.badLocator }
        if let cached = cachedKey(for: locatorText, plan: plan) { return cached }
        let key = Self.cacheKey(plan, locator), now = clock.now()
        let task: Task<[UInt8], any Error> = try state.withLockedValue { s in
            if let running = s.inFlight[key] { return running }
            if let failed = s.failedAt[key], now - failed < failureBackoff { throw FetchedKeyError.recentlyFailed }
            let minute = now / 60_000
            var (at, used) = s.budget[plan.source] ?? (minute, 0)
            if at != minute { (at, used) = (minute, 0) }
            guard used < maxNewKeysPerMinute else { throw FetchedKeyError.tooManyFetches }
            s.budget[plan.source] = (at, used + 1)
            // Owned by the in-flight table until done and awaited by every caller: one caller leaving cancels nothing.
            let t = Task { [self] in
                defer { _ = state.withLockedValue { $0.inFlight.removeValue(forKey: key) } }
                return try await load(key, kid: kid, plan: plan)
            }
            s.inFlight[key] = t
            return t
        }
        return try await task.value
    }

    private func load(_ key: String, kid: String, plan: KeyFetchPlan) async throws -> [UInt8] {
        func fail(_ error: FetchedKeyError) -> FetchedKeyError {
            let now = clock.now()
            state.withLockedValue { s in
                s.failedAt[key] = now
                // Failures older than the back-off decide nothing: dropped, so ids that keep failing (a host down for
                // a day) do not pile up.
                if s.failedAt.count > capacity { s.failedAt = s.failedAt.filter { now - $0.value < failureBackoff } }
            }
            return error
        }
        var token: String?
        if plan.spec.auth == .oauthClientCredentials {
            do { token = try await applicationToken(plan) } catch let e as FetchedKeyError { throw fail(e) } catch { throw fail(.noToken("\(error)")) }
        }
        guard let request = plan.keyRequest(kid: kid, token: token) else { throw fail(.badLocator) }
        let response: KeyFetchResponse
        do { response = try await fetchBounded(request) } catch let e as FetchedKeyError { throw fail(e) } catch {
            throw fail(.fetchFailed("\(request): \(error)"))
        }
        let answer: [UInt8]
        let lifetime: EpochMillis
        switch response.status {
        case 200:
            do { answer = try plan.parseKey(response.body, kid: kid) } catch { throw fail(.unreadable("\(request): \(error)")) }
            lifetime = maxAge
        case 404:
            // The provider has no key of that id: admission refuses the request as `signing_key_unknown`.
            answer = plan.forJWT ? JSONWebKeySet(keys: []).encoded : []
            lifetime = unknownKeyTTL
        case 401, 403:
            // The receiver's credentials were refused: an operator's problem, not the request's. A cached token may
            // have been revoked: the next attempt gets a new one.
            _ = state.withLockedValue { $0.tokens.removeValue(forKey: Self.tokenKey(plan)) }
            throw fail(.fetchFailed("\(request): HTTP \(response.status) (check key_fetch_client_id / key_fetch_secret)"))
        default:
            throw fail(.fetchFailed("\(request): HTTP \(response.status)"))
        }
        state.withLockedValue { s in
            s.failedAt[key] = nil
            s.tick += 1
            s.entries[key] = Entry(answer: answer, until: clock.now() + lifetime, lastUsed: s.tick)
            while s.entries.count > capacity, let oldest = s.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                s.entries.removeValue(forKey: oldest)
            }
        }
        return answer
    }

    /// A token belongs to the source and the credentials it was granted to: after a reload with other credentials,
    /// the next fetch asks for a new one.
    private static func tokenKey(_ plan: KeyFetchPlan) -> String { plan.source + "\u{0}" + String(plan.credentials.hashValue) }

    /// The source's OAuth application token, fetched when missing or about to expire; one fetch at a time per source.
    private func applicationToken(_ plan: KeyFetchPlan) async throws -> String {
        let now = clock.now(), tokenKey = Self.tokenKey(plan)
        let task: Task<Token, any Error> = state.withLockedValue { s in
            if let t = s.tokens[tokenKey], t.until > now { return Task { t } }
            if let running = s.tokenInFlight[tokenKey] { return running }
            let t = Task { [self] in
                defer { _ = state.withLockedValue { $0.tokenInFlight.removeValue(forKey: tokenKey) } }
                guard let request = plan.tokenRequest() else { throw FetchedKeyError.noToken("the source has no key_fetch_client_id / key_fetch_secret") }
                let response = try await fetchBounded(request)
                guard response.status == 200 else { throw FetchedKeyError.noToken("\(request): HTTP \(response.status)") }
                guard let (value, seconds) = KeyFetchPlan.parseToken(response.body) else { throw FetchedKeyError.noToken("\(request): no access_token in the answer") }
                // Renewed a minute early, so a token never expires between the check and the key request.
                let token = Token(value: value, until: clock.now() + max(0, seconds - 60) * 1000)
                state.withLockedValue { s in
                    // One token per source: an older one (other credentials, before a reload) is dropped.
                    s.tokens = s.tokens.filter { !$0.key.hasPrefix(plan.source + "\u{0}") }
                    s.tokens[tokenKey] = token
                }
                return token
            }
            s.tokenInFlight[tokenKey] = t
            return t
        }
        return try await task.value.value
    }

    /// The fetch, abandoned after `fetchTimeout` even if the fetcher ignores cancellation; an answer past
    /// `KeyFetchPlan.maxResponseBytes` is refused.
    private func fetchBounded(_ request: KeyFetchRequest) async throws -> KeyFetchResponse {
        let fetcher = self.fetcher
        return try await abandoning(after: fetchTimeout, with: FetchedKeyError.timedOut) {
            let r = try await fetcher.fetch(request)
            guard r.body.count <= KeyFetchPlan.maxResponseBytes else { throw FetchedKeyError.unreadable("\(request): the answer is too large") }
            return r
        }
    }
}
