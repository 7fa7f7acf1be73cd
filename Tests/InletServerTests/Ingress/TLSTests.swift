@preconcurrency import Crypto
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import Testing
import X509

/// A self-signed certificate for 127.0.0.1 made for the test, written as PEM files.
struct LocalCertificate {
    let certificatePath: String
    let keyPath: String
    let certificatePEM: String

    init(in dir: URL, name: String) throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName("inlet-test-\(name)") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(key))
        certificatePEM = try certificate.serializeAsPEM().pemString
        certificatePath = dir.appendingPathComponent("\(name).crt").path
        keyPath = dir.appendingPathComponent("\(name).key").path
        try certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        try key.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
    }

    /// A client that trusts only this certificate.
    func client() throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)))
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.connectionPool = .init(idleTimeout: .milliseconds(1))
        config.connectionPool.retryConnectionEstablishment = false  // a refused handshake fails now, not at the timeout
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: config)
    }
}

@Suite("TLS termination")
struct TLSTests {
    @Test func servesHTTPSAndPicksUpARenewedCertificateOnReload() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let first = try LocalCertificate(in: dir, name: "first"), second = try LocalCertificate(in: dir, name: "second")
        let destination = try await TestDestination()
        let file = dir.appendingPathComponent("inlet.toml").path
        func config(_ cert: LocalCertificate) -> String {
            """
            providers_dir = "\(Repo.root)/providers"
            [server]
            listen = "127.0.0.1:0"
            [server.tls]
            certificate = "\(cert.certificatePath)"
            key = "\(cert.keyPath)"
            [store]
            path = "\(dir.path)/inlet.sqlite"
            \(destinationTOML("svc", url: destination.url))
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            destinations = ["svc"]
            """
        }
        try config(first).write(toFile: file, atomically: true, encoding: .utf8)
        let gateway = try Gateway(resolved: try GatewayConfig.load(file: file).resolve(environment: [:]), logger: quietLogger,
                                  reload: { try GatewayConfig.load(file: file).resolve(environment: [:]) })
        let task = Task { try await gateway.run() }
        let url = "https://127.0.0.1:\(try await gateway.ingress.listeningPort())/hooks/stripe"

        func send(_ client: HTTPClient, _ key: String) async throws -> Int {
            let body = stripeEvent(key)
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            for (n, v) in stripeHeaders(body: body) { request.headers.add(name: n, value: v) }
            request.body = .bytes(Array(body.utf8))
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 16)
            return Int(response.status.code)
        }
        let trustsFirst = try first.client(), trustsSecond = try second.client()
        #expect(try await send(trustsFirst, "evt_tls_1") == 200)
        await #expect(throws: (any Error).self) { try await send(trustsSecond, "evt_tls_x") }

        // Renew: a reload re-reads the certificate; new connections get the new one.
        try config(second).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: Never.self) { try gateway.reload().get() }
        #expect(try await send(trustsSecond, "evt_tls_2") == 200)

        // A broken certificate is refused with the reload, and the running one stays.
        try "not a certificate".write(toFile: second.certificatePath, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try gateway.reload().get() }
        #expect(try await send(trustsSecond, "evt_tls_3") == 200)

        try await destination.waitForRequests(3)
        await gateway.shutdown()
        try await task.value
        try await trustsFirst.shutdown()
        try await trustsSecond.shutdown()
        await destination.stop()
    }
}
