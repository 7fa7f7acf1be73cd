import InletConfig
import NIOConcurrencyHelpers
import NIOSSL

/// The ingress TLS context, swappable: a reload with a renewed certificate applies to new connections while open
/// ones keep the context they started with.
final class TLSContextBox: Sendable {
    private let box: NIOLockedValueBox<NIOSSLContext>

    init(_ settings: TLSSettings) throws {
        box = NIOLockedValueBox(try Self.makeContext(settings))
    }

    var current: NIOSSLContext { box.withLockedValue { $0 } }

    func reload(_ settings: TLSSettings) throws {
        let next = try Self.makeContext(settings)
        box.withLockedValue { $0 = next }
    }

    /// TLS 1.2 and later, HTTP/1.1 offered through ALPN (the list is where `h2` will go).
    static func makeContext(_ settings: TLSSettings) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(settings.certificatePath) } catch {
            throw TLSSetupError("cannot read certificate \(settings.certificatePath): \(error)")
        }
        guard !chain.isEmpty else { throw TLSSetupError("no certificate in \(settings.certificatePath)") }
        do { key = try NIOSSLPrivateKey(file: settings.keyPath, format: .pem) } catch {
            throw TLSSetupError("cannot read private key \(settings.keyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw TLSSetupError("certificate and key do not make a TLS context: \(error)")
        }
    }
}

struct TLSSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
