@preconcurrency import _CryptoExtras
@preconcurrency import Crypto
import Foundation
import InletCore
import InletServer
import NIOConcurrencyHelpers
import Testing
import X509

/// A root CA made for each run, issuing RSA leaves: what PayPal's certificate chain looks like, without the network.
struct TestCA: Sendable {
    let root: Certificate
    private let keyPEM: String

    init(name: String = "Inlet Test Root") throws {
        let key = P256.Signing.PrivateKey()
        let dn = try DistinguishedName { CommonName(name) }
        let now = Date()
        root = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400 * 30),
            issuer: dn, subject: dn, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                KeyUsage(keyCertSign: true)
            },
            issuerPrivateKey: .init(key))
        keyPEM = key.pemRepresentation
    }

    /// A leaf for `commonName` holding a fresh RSA key; returns its PEM.
    func issue(commonName: String) throws -> String {
        let issuerKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        let leafKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let now = Date()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
            issuer: root.subject, subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(), issuerPrivateKey: .init(issuerKey))
        return try leaf.serializeAsPEM().pemString
    }
}

/// Hands out one PEM to every URL, counting fetches; with a closed gate, each fetch waits until the test opens it.
final class GatedFetcher: CertificateFetcher {
    private struct State {
        var open: Bool
        var waiting: [CheckedContinuation<Void, Never>] = []
        var fetched: [String] = []
        var running = 0
        var mostRunning = 0
    }
    private let state: NIOLockedValueBox<State>
    let pem: String

    init(pem: String, open: Bool = true) {
        self.pem = pem
        state = NIOLockedValueBox(State(open: open))
    }

    var fetched: [String] { state.withLockedValue { $0.fetched } }
    var running: Int { state.withLockedValue { $0.running } }
    var mostRunning: Int { state.withLockedValue { $0.mostRunning } }

    func open() {
        let waiting = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiting = [] }
            return s.waiting
        }
        for w in waiting { w.resume() }
    }

    func fetchPEM(_ url: String) async throws -> String {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let proceed = state.withLockedValue { s -> Bool in
                s.fetched.append(url)
                s.running += 1
                s.mostRunning = max(s.mostRunning, s.running)
                if s.open { return true }
                s.waiting.append(c)
                return false
            }
            if proceed { c.resume() }
        }
        state.withLockedValue { $0.running -= 1 }
        return pem
    }
}

/// Waits (bounded) for a condition that another task brings about.
func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

@Suite("Signing certificate cache", .timeLimit(.minutes(1)))
struct SigningCertificateCacheTests {
    static let url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"

    @Test func theQueryAndFragmentNeitherMissTheCacheNorReachTheServer() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let fetcher = GatedFetcher(pem: pki.leafPEM)
        let cache = SigningCertificateCache(fetcher: fetcher, clock: SystemClock())
        for suffix in ["", "?a=1", "?a=2", "#x", "?b#y"] {
            #expect(try await cache.publicKey(for: Self.url + suffix) == pki.signingKeyDER)
        }
        #expect(fetcher.fetched == [Self.url])
        #expect(cache.cachedKey(for: Self.url + "?other") == pki.signingKeyDER)
    }

    @Test func theCacheIsBoundedLeastRecentlyUsedFirst() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let fetcher = GatedFetcher(pem: pki.leafPEM)
        let cache = SigningCertificateCache(fetcher: fetcher, clock: SystemClock(), capacity: 2)
        let a = "https://sns.us-east-1.amazonaws.com/a.pem", b = "https://sns.us-east-1.amazonaws.com/b.pem", c = "https://sns.us-east-1.amazonaws.com/c.pem"
        _ = try await cache.publicKey(for: a)
        _ = try await cache.publicKey(for: b)
        _ = cache.cachedKey(for: a)  // a is now more recent than b
        _ = try await cache.publicKey(for: c)
        #expect(cache.count == 2)
        #expect(cache.cachedKey(for: a) != nil && cache.cachedKey(for: c) != nil && cache.cachedKey(for: b) == nil)
        for n in 0..<100 { _ = try await cache.publicKey(for: "https://sns.us-east-1.amazonaws.com/\(n).pem") }
        #expect(cache.count == 2)
    }

    @Test func concurrentRequestsForOneURLShareOneFetch() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let fetcher = GatedFetcher(pem: pki.leafPEM, open: false)
        defer { fetcher.open() }  // never leave a fetch waiting, whatever fails
        let cache = SigningCertificateCache(fetcher: fetcher, clock: SystemClock())
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for n in 0..<20 { group.addTask { try await cache.publicKey(for: Self.url + "?n=\(n)") } }
            do { try await waitUntil("the first fetch") { fetcher.running >= 1 } } catch { fetcher.open(); throw error }
            fetcher.open()
            for try await key in group { #expect(key == pki.signingKeyDER) }
        }
        #expect(fetcher.fetched.count == 1)
    }

    @Test func atMostFourFetchesRunAtOnce() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let fetcher = GatedFetcher(pem: pki.leafPEM, open: false)
        defer { fetcher.open() }  // never leave a fetch waiting, whatever fails
        let cache = SigningCertificateCache(fetcher: fetcher, clock: SystemClock())
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for n in 0..<12 { group.addTask { try await cache.publicKey(for: "https://sns.us-east-1.amazonaws.com/\(n).pem") } }
            do { try await waitUntil("four fetches") { fetcher.running >= 4 } } catch { fetcher.open(); throw error }
            try await Task.sleep(for: .milliseconds(50))  // room for a fifth to start, if the limit let it
            #expect(fetcher.fetched.count == 4)  // the other eight wait for a slot
            fetcher.open()
            for try await _ in group {}
        }
        #expect(fetcher.mostRunning == 4 && fetcher.fetched.count == 12)
    }

    @Test func beyondTheQueueAFetchFailsAtOnce() async throws {
        let pki = try LocalPKI(commonName: "sns.amazonaws.com")
        let fetcher = GatedFetcher(pem: pki.leafPEM, open: false)
        defer { fetcher.open() }  // never leave a fetch waiting, whatever fails
        let cache = SigningCertificateCache(fetcher: fetcher, clock: SystemClock(), maxConcurrentFetches: 1, maxWaitingFetches: 0)
        async let first = cache.publicKey(for: "https://sns.us-east-1.amazonaws.com/1.pem")
        do { try await waitUntil("the first fetch") { fetcher.running >= 1 } } catch { fetcher.open(); throw error }
        await #expect(throws: SigningCertificateError.self) { try await cache.publicKey(for: "https://sns.us-east-1.amazonaws.com/2.pem") }
        fetcher.open()
        #expect(try await first == pki.signingKeyDER)
        #expect(try await cache.publicKey(for: "https://sns.us-east-1.amazonaws.com/2.pem") == pki.signingKeyDER)  // the slot is free again
    }

    // MARK: PayPal: the chain and the subject

    static let paypal = SigningCertificateRequirement(chainToTrustedRoot: true, commonNames: ["messageverificationcerts.paypal.com"])
    static let paypalURL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"

    @Test func aPayPalCertificateMustChainToATrustedRoot() async throws {
        let ca = try TestCA()
        let good = try ca.issue(commonName: "messageverificationcerts.paypal.com")
        let trusted = SigningCertificateCache(fetcher: GatedFetcher(pem: good), clock: SystemClock(), trustRoots: CertificateStore([ca.root]))
        #expect(try await trusted.publicKey(for: Self.paypalURL, requirement: Self.paypal).isEmpty == false)

        // The forger's certificate: the right name, a chain of its own.
        let forger = try TestCA(name: "Inlet Test Root")
        let forged = try forger.issue(commonName: "messageverificationcerts.paypal.com")
        let fooled = SigningCertificateCache(fetcher: GatedFetcher(pem: forged), clock: SystemClock(), trustRoots: CertificateStore([ca.root]))
        await #expect(throws: SigningCertificateError.self) { try await fooled.publicKey(for: Self.paypalURL, requirement: Self.paypal) }
        // Self-signed in PayPal's name (LocalPKI's leaf has no CA certificate at all).
        let selfMade = try LocalPKI(commonName: "messageverificationcerts.paypal.com")
        let alone = SigningCertificateCache(fetcher: GatedFetcher(pem: selfMade.leafPEM), clock: SystemClock(), trustRoots: CertificateStore([ca.root]))
        await #expect(throws: SigningCertificateError.self) { try await alone.publicKey(for: Self.paypalURL, requirement: Self.paypal) }
    }

    @Test func aPayPalCertificateMustNamePayPalsSigningHost() async throws {
        let ca = try TestCA()
        for name in ["api.paypal.com", "messageverificationcerts.paypal.com.evil.example", "messageverificationcerts.sandbox.paypal.com"] {
            let cache = SigningCertificateCache(fetcher: GatedFetcher(pem: try ca.issue(commonName: name)), clock: SystemClock(), trustRoots: CertificateStore([ca.root]))
            await #expect(throws: SigningCertificateError.self, "\(name)") { try await cache.publicKey(for: Self.paypalURL, requirement: Self.paypal) }
        }
        let sandbox = SigningCertificateRequirement(chainToTrustedRoot: true, commonNames: Self.paypal.commonNames + ["messageverificationcerts.sandbox.paypal.com"])
        let cache = SigningCertificateCache(fetcher: GatedFetcher(pem: try ca.issue(commonName: "messageverificationcerts.sandbox.paypal.com")), clock: SystemClock(),
                                            trustRoots: CertificateStore([ca.root]))
        #expect(try await cache.publicKey(for: Self.paypalURL, requirement: sandbox).isEmpty == false)
    }
}
