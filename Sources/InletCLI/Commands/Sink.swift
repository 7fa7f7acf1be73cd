import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import Logging
import NIOCore
import NIOPosix
import UnixSignals

struct Sink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a development sink that verifies and logs forwarded events.")
    @Option(help: "Address to listen on.") var listen: String = "127.0.0.1:8091"
    @Option(help: "Standard Webhooks secret (whsec_…, or env:NAME).") var secret: String
    @Flag(help: "Log only signature failures (for load tests).") var quiet = false

    func run() async throws {
        bootstrapLogging(level: "info", format: "text")
        guard let (host, port) = GatewayConfig.parseHostPort(listen) else { throw CLIError("--listen must be HOST:PORT") }
        let value: String
        switch SecretReference(label: "sink", reference: secret).resolve(environment: ProcessInfo.processInfo.environment, baseDirectory: ".") {
        case .success(let v): value = v
        case .failure(let e): throw CLIError("--secret: \(e)")
        }
        guard let signer = try? StandardWebhooksSigner(secrets: [value]) else { throw CLIError("--secret must be whsec_<base64>") }
        let logger = Logger(label: "inlet.sink")
        // Events of any source's largest body reach the sink, wrapped (and base64-encoded) in a CloudEvent.
        let server = try await ListenerServer.start(host: host, port: port, limits: .init(maxBodyBytes: 64 << 20),
                                                      handler: DevelopmentSink.handler(signer: signer, logger: logger, quiet: quiet))
        logger.notice("development sink listening on \(host):\(server.port)")
        try await server.closeFuture.get()
    }
}
