import _CryptoExtras
import AsyncHTTPClient
import Foundation
import InletCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import X509

/// Fetches a signing certificate's PEM (the leaf, possibly followed by intermediates), or a JWT source's key set
/// (JWKS JSON). The URL has already been checked against the provider's hosts, or comes from configuration.
public protocol CertificateFetcher: Sendable {
    func fetchPEM(_ url: String) async throws -> String
    /// A key-by-id API call (`KeyFetchPlan`): any method, headers and body, with the status returned rather than
    /// thrown (a 404 means "no such key"). The request's headers and body carry credentials: never log them.
    func fetch(_ request: KeyFetchRequest) async throws -> KeyFetchResponse
}

extension CertificateFetcher {
    /// Fetchers made for certificates and key sets only (test doubles) send no key API calls.
    public func fetch(_ request: KeyFetchRequest) async throws -> KeyFetchResponse {
        throw SigningCertificateError.fetchFailed("this fetcher does not call key APIs (\(request))")
    }
}

/// Fetches over HTTPS with the system's trust roots (the TLS check is what ties the key to the provider's host).
public struct HTTPCertificateFetcher: CertificateFetcher {
    let client: HTTPClient

    public init(client: HTTPClient) { self.client = client }

    public func fetchPEM(_ url: String) async throws -> String {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        guard response.status == .ok else { throw SigningCertificateError.fetchFailed("HTTP \(response.status.code)") }
        return String(buffer: try await response.body.collect(upTo: 64 * 1024))
    }

    public func fetch(_ request: KeyFetchRequest) async throws -> KeyFetchResponse {
        var r = HTTPClientRequest(url: request.url)
        r.method = HTTPMethod(rawValue: request.method)
        for h in request.headers { r.headers.add(name: h.name, value: h.value) }
        if let body = request.body { r.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(r, timeout: .seconds(10))
        // An answer past the limit throws here (NIOTooManyBytesError): a failed fetch, never read whole.
        var buffer = try await response.body.collect(upTo: KeyFetchPlan.maxResponseBytes)
        return KeyFetchResponse(status: Int(response.status.code), body: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}

public enum SigningCertificateError: Error, CustomStringConvertible {
    case fetchFailed(String), unreadable(String), expired, notRSA, untrustedChain, wrongSubject(String?), busy
    public var description: String {
        switch self {
        case .fetchFailed(let m): return "cannot fetch signing certificate: \(m)"
        case .unreadable(let m): return "signing certificate is not a PEM certificate: \(m)"
        case .expired: return "signing certificate is outside its validity period"
        case .notRSA: return "signing certificate does not hold an RSA key"
        case .untrustedChain: return "signing certificate does not chain to a trusted root"
        case .wrongSubject(let cn): return "signing certificate's common name \(cn.map { "'\($0)'" } ?? "(none)") is not the provider's"
        case .busy: return "too many signing certificate fetches are waiting"
        }
    }
}

/// Signing certificates by URL: fetched once, kept until they expire (at most a day), so a burst of SNS or PayPal
/// deliveries costs one fetch.
///
/// The URL comes from the request, so the cache is built to be driven by strangers: it is keyed by the URL without
/// query or fragment (varying them neither misses the cache nor reaches another document), holds at most
/// `capacity` certificates (least recently used out first), fetches each URL once however many requests wait for
/// it, and runs at most `maxConcurrentFetches` fetches at a time, with a bounded queue behind them.
public final class SigningCertificateCache: Sendable {
    private struct Entry {
        let keyDER: [UInt8]
        let until: EpochMillis
        let commonName: String?
        let chainVerified: Bool
        var lastUsed: UInt64

        func satisfies(_ r: SigningCertificateRequirement) -> Bool {
            (!r.chainToTrustedRoot || chainVerified) && (r.commonNames.isEmpty || commonName.map(r.commonNames.contains) == true)
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var tick: UInt64 = 0
        /// One fetch per URL in flight; every request for that URL awaits the same task.
        var inFlight: [String: Task<Entry, any Error>] = [:]
    }

    private let fetcher: any CertificateFetcher
    private let clock: any WallClock
    private let trustRoots: CertificateStore
    private let capacity: Int
    private let state = NIOLockedValueBox(State())
    private let slots: FetchSlots
    /// JWT sources' key sets, asked for through the same two calls (`requirement.keySet`), so ingress and quarantine
    /// re-admission fetch them exactly as they fetch certificates.
    public let keySets: KeySetCache
    /// Keys fetched by id from a provider's key API (Circle, eBay, Plaid), asked for the same way
    /// (`requirement.keyFetch`).
    public let fetchedKeys: FetchedKeyCache
    static let maxAge: EpochMillis = 86_400_000

    /// `trustRoots`: what a certificate that must chain (PayPal) may chain to; the system's roots by default.
    public init(fetcher: any CertificateFetcher, clock: any WallClock, trustRoots: CertificateStore = CertificateStore.systemTrustRoots,
                capacity: Int = 64, maxConcurrentFetches: Int = 4, maxWaitingFetches: Int = 64) {
        self.fetcher = fetcher
        self.clock = clock
        self.trustRoots = trustRoots
        self.capacity = max(1, capacity)
        self.slots = FetchSlots(limit: max(1, maxConcurrentFetches), maxWaiting: maxWaitingFetches)
        self.keySets = KeySetCache(fetcher: fetcher, clock: clock)
        self.fetchedKeys = FetchedKeyCache(fetcher: fetcher, clock: clock)
    }

    /// The cache key, and the URL actually fetched: the URL without its query and fragment.
    public static func normalized(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return url }
        c.query = nil
        c.fragment = nil
        return c.string ?? url
    }

    /// How many certificates are cached (for tests and metrics).
    public var count: Int { state.withLockedValue { $0.entries.count } }

    /// The cached key, if fresh and good for `requirement`: lets the ingress skip the async hop on the common path.
    public func cachedKey(for url: String, requirement: SigningCertificateRequirement = .init()) -> [UInt8]? {
        if let plan = requirement.keyFetch { return fetchedKeys.cachedKey(for: url, plan: plan) }
        if requirement.keySet { return keySets.cachedKeys(for: url) }
        let key = Self.normalized(url), now = clock.now()
        return state.withLockedValue { s in
            guard var e = s.entries[key], e.until > now, e.satisfies(requirement) else { return nil }
            s.tick += 1
            e.lastUsed = s.tick
            s.entries[key] = e
            return e.keyDER
        }
    }

    /// The RSA public key (DER) of the certificate at `url`, checked against `requirement`.
    public func publicKey(for url: String, requirement: SigningCertificateRequirement = .init()) async throws -> [UInt8] {
        if let plan = requirement.keyFetch { return try await fetchedKeys.key(for: url, plan: plan) }
        if requirement.keySet { return try await keySets.keys(for: url) }
        if let k = cachedKey(for: url, requirement: requirement) { return k }
        let key = Self.normalized(url)
        let task: Task<Entry, any Error> = state.withLockedValue { s in
            if let running = s.inFlight[key] { return running }
            // Unstructured, but owned: the in-flight table holds it until it finishes and every caller awaits it,
            // so one caller going away does not cancel the fetch the others wait for.
            let t = Task { [self] in
                defer { _ = state.withLockedValue { $0.inFlight.removeValue(forKey: key) } }
                try await slots.acquire()
                do {
                    let entry = try await load(key, requirement: requirement)
                    await slots.release()
                    return entry
                } catch {
                    await slots.release()
                    throw error
                }
            }
            s.inFlight[key] = t
            return t
        }
        let entry = try await task.value
        guard entry.satisfies(requirement) else {
            // Another source with a looser requirement fetched it (never the case for one URL in practice).
            throw entry.chainVerified || !requirement.chainToTrustedRoot ? SigningCertificateError.wrongSubject(entry.commonName) : .untrustedChain
        }
        return entry.keyDER
    }

    private func load(_ url: String, requirement: SigningCertificateRequirement) async throws -> Entry {
        let pem: String
        do { pem = try await fetcher.fetchPEM(url) } catch let e as SigningCertificateError { throw e } catch {
            throw SigningCertificateError.fetchFailed("\(error)")
        }
        let chain: [Certificate]
        do { chain = try Self.pemBlocks(pem).map { try Certificate(pemEncoded: $0) } } catch {
            throw SigningCertificateError.unreadable("\(error)")
        }
        guard let leaf = chain.first else { throw SigningCertificateError.unreadable("no certificate") }
        let now = clock.now()
        let notBefore = EpochMillis(leaf.notValidBefore.timeIntervalSince1970 * 1000)
        let notAfter = EpochMillis(leaf.notValidAfter.timeIntervalSince1970 * 1000)
        guard notBefore <= now, now <= notAfter else { throw SigningCertificateError.expired }
        guard let rsa = _RSA.Signing.PublicKey(leaf.publicKey) else { throw SigningCertificateError.notRSA }
        let commonName = leaf.subject.commonName
        if !requirement.commonNames.isEmpty, !requirement.commonNames.contains(commonName ?? "") {
            throw SigningCertificateError.wrongSubject(commonName)
        }
        if requirement.chainToTrustedRoot {
            // The chain's validity periods are judged against the system clock (the leaf's was checked above
            // against ours); the library offers a fixed time only behind an SPI.
            var verifier = Verifier(rootCertificates: trustRoots) { RFC5280Policy() }
            guard case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst())) else {
                throw SigningCertificateError.untrustedChain
            }
        }
        let entry = Entry(keyDER: Array(rsa.derRepresentation), until: min(notAfter, now + Self.maxAge), commonName: commonName,
                          chainVerified: requirement.chainToTrustedRoot, lastUsed: 0)
        state.withLockedValue { s in
            s.tick += 1
            var e = entry
            e.lastUsed = s.tick
            s.entries[url] = e
            while s.entries.count > capacity, let oldest = s.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                s.entries.removeValue(forKey: oldest)
            }
        }
        return entry
    }

    /// The `CERTIFICATE` blocks of a PEM bundle, in order (the leaf first, as PayPal serves it).
    static func pemBlocks(_ pem: String) -> [String] {
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        var out: [String] = []
        var rest = Substring(pem)
        while let b = rest.range(of: begin), let e = rest[b.upperBound...].range(of: end) {
            out.append(String(rest[b.lowerBound..<e.upperBound]))
            rest = rest[e.upperBound...]
        }
        return out
    }
}

/// At most `limit` fetches at once; up to `maxWaiting` more wait their turn, any beyond fail at once (the provider
/// gets 503 and retries), so a flood of distinct certificate URLs costs bounded memory and bounded outbound load.
actor FetchSlots {
    private let limit: Int
    private let maxWaiting: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int, maxWaiting: Int) {
        self.limit = limit
        self.maxWaiting = maxWaiting
    }

    func acquire() async throws {
        if running < limit { running += 1; return }
        guard waiting.count < maxWaiting else { throw SigningCertificateError.busy }
        // The slot is handed over by `release`, so `running` already counts this fetch when it resumes.
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }
}

extension DistinguishedName {
    /// The subject's (last) common name.
    var commonName: String? {
        var found: String?
        for rdn in self {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                found = String(attribute.value)
            }
        }
        return found
    }
}
