import InletCore
import Logging

/// The development sink: verifies the Standard Webhooks signature of each forwarded event and logs it.
/// What a newcomer's own service would do, in a few lines.
public enum DevelopmentSink {
    /// - quiet: log only failures (for load tests, where a line per event would cost more than the delivery).
    public static func handler(signer: StandardWebhooksSigner, logger: Logger, clock: any WallClock = SystemClock(), quiet: Bool = false) -> ListenerServer.Handler {
        return { request in
            let id = request.headers.first(name: "webhook-id") ?? ""
            let ts = request.headers.first(name: "webhook-timestamp") ?? ""
            let sig = request.headers.first(name: "webhook-signature") ?? ""
            guard signer.verify(id: id, timestamp: ts, signatureHeader: sig, body: request.body, now: clock.now()) else {
                logger.warning("sink: signature check failed", metadata: ["webhook_id": "\(id)"])
                return SimpleResponse(status: 401, headers: [("Content-Type", "application/json")], body: Array(#"{"error":"invalid signature"}"#.utf8))
            }
            if quiet { return SimpleResponse(status: 204) }
            let type = JSONScanner.scalarText(at: JSONPointer(tokens: ["type"]), in: request.body) ?? "?"
            let source = JSONScanner.scalarText(at: JSONPointer(tokens: ["source"]), in: request.body) ?? "?"
            logger.notice("sink: event received, signature verified", metadata: [
                "webhook_id": "\(id)", "type": "\(type)", "source": "\(source)", "bytes": "\(request.body.count)",
                "attempt": "\(request.headers.first(name: "Inlet-Attempt") ?? "?")",
            ])
            return SimpleResponse(status: 204)
        }
    }
}
