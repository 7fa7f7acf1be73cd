@testable import InletServer
import Foundation
import InletConfig
import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

/// Issue 20: a TLS handshake that does not complete within `[server] tls_handshake_timeout_seconds` closes the
/// connection (the head and idle timeouts only see decrypted bytes).
@Suite("TLS handshake deadline")
struct TLSHandshakeDeadlineTests {
    @Test func closesWhenTheHandshakeIsLate() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: TLSHandshakeDeadlineHandler(timeout: .seconds(2)), loop: loop)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        loop.advanceTime(by: .seconds(1))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aCompletedHandshakeDisarmsIt() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: TLSHandshakeDeadlineHandler(timeout: .seconds(2)), loop: loop)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: "http/1.1"))
        loop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    /// End to end: a client that sends the first bytes of a ClientHello and stops is closed after the deadline (1 s),
    /// long before the idle timeout (30 s) that bounded it before.
    @Test func aStalledHandshakeIsClosedOnTheRealListener() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-tls-deadline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cert = try LocalCertificate(in: dir, name: "deadline")
        let destination = try await TestDestination()
        let toml = """
            providers_dir = "\(Repo.root)/providers"
            [server]
            listen = "127.0.0.1:0"
            idle_timeout_seconds = 30
            tls_handshake_timeout_seconds = 1
            [server.tls]
            certificate = "\(cert.certificatePath)"
            key = "\(cert.keyPath)"
            [store]
            path = "\(dir.path)/inlet.sqlite"
            \(destinationTOML("svc", url: destination.url))
            \(stripeSource)
            """
        let gateway = try Gateway(resolved: try GatewayConfig.parse(toml, file: dir.appendingPathComponent("inlet.toml").path).resolve(environment: [:]),
                                  logger: quietLogger)
        let task = Task { try await gateway.run() }
        let port = try await gateway.ingress.listeningPort()
        let started = ContinuousClock.now
        // A TLS record header and the start of a ClientHello, then nothing.
        let outcome = await sendThenWaitForClose(port: port, prefix: [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00], readTimeout: 8)
        #expect(outcome.closed, "the stalled handshake was still open after 8 s")
        #expect(ContinuousClock.now - started < .seconds(5))
        await gateway.shutdown()
        try await task.value
        await destination.stop()
    }
}
