import _CryptoExtras
import AsyncHTTPClient
import Foundation
import InletCore
import NIOConcurrencyHelpers
import NIOCore
import X509

/// Fetches a signing certificate's PEM. The URL has already been checked against the provider's hosts.
public protocol CertificateFetcher: Sendable {
    func fetchPEM(_ url: String) async throws -> String
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
}

public enum SigningCertificateError: Error, CustomStringConvertible {
    case fetchFailed(String), unreadable(String), expired, notRSA
    public var description: String {
        switch self {
        case .fetchFailed(let m): return "cannot fetch signing certificate: \(m)"
        case .unreadable(let m): return "signing certificate is not a PEM certificate: \(m)"
        case .expired: return "signing certificate is outside its validity period"
        case .notRSA: return "signing certificate does not hold an RSA key"
        }
    }
}

/// Signing certificates by URL: fetched once, kept until they expire (at most a day), so a burst of SNS or PayPal
/// deliveries costs one fetch.
public final class SigningCertificateCache: Sendable {
    private struct Entry { let keyDER: [UInt8]; let until: EpochMillis }
    private let fetcher: any CertificateFetcher
    private let clock: any WallClock
    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    static let maxAge: EpochMillis = 86_400_000

    public init(fetcher: any CertificateFetcher, clock: any WallClock) {
        self.fetcher = fetcher
        self.clock = clock
    }

    /// The cached key, if fresh: lets the ingress skip the async hop on the common path.
    public func cachedKey(for url: String) -> [UInt8]? {
        let now = clock.now()
        return entries.withLockedValue { e in e[url].flatMap { $0.until > now ? $0.keyDER : nil } }
    }

    /// The RSA public key (DER) of the certificate at `url`.
    public func publicKey(for url: String) async throws -> [UInt8] {
        if let k = cachedKey(for: url) { return k }
        let pem: String
        do { pem = try await fetcher.fetchPEM(url) } catch let e as SigningCertificateError { throw e } catch {
            throw SigningCertificateError.fetchFailed("\(error)")
        }
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: pem) } catch { throw SigningCertificateError.unreadable("\(error)") }
        let now = clock.now()
        let notBefore = EpochMillis(certificate.notValidBefore.timeIntervalSince1970 * 1000)
        let notAfter = EpochMillis(certificate.notValidAfter.timeIntervalSince1970 * 1000)
        guard notBefore <= now, now <= notAfter else { throw SigningCertificateError.expired }
        guard let rsa = _RSA.Signing.PublicKey(certificate.publicKey) else { throw SigningCertificateError.notRSA }
        let der = Array(rsa.derRepresentation)
        entries.withLockedValue { $0[url] = Entry(keyDER: der, until: min(notAfter, now + Self.maxAge)) }
        return der
    }
}
