import InletConfig
import InletCore
import InletStore
import Logging
import NIOPosix

/// Takes a secret a handshake hands over (Asana's `X-Hook-Secret`): stores it with an audit record, once per source,
/// then makes the running config verify with it. The admission core already checked that the source opts in and has
/// no secret; the store's unique row decides between racing requests (and instances).
struct HandshakeSecretKeeper: Sendable {
    let store: any HandshakeSecretStore
    let runtime: LiveConfig
    let storeThreads: NIOThreadPool
    let clock: any WallClock
    let logger: Logger

    /// The label an established secret gets among the source's keys.
    static func label(for handshake: String) -> String { "handshake:" + handshake }

    /// True when the secret was stored now and is in use; false when the source had one already or the value does
    /// not decode as the profile's key (then nothing is stored).
    func establish(_ secret: EstablishedSecret, source: ResolvedSource, peer: IPAddress?) async throws -> Bool {
        let label = Self.label(for: secret.handshake)
        guard let key = source.profile.makeKey(label: label, secret: secret.value) else {
            logger.warning("handshake secret refused: it does not decode as the profile's key",
                           metadata: ["source": "\(source.name)", "handshake": "\(secret.handshake)"])
            return false
        }
        let record = HandshakeSecretRecord(source: source.name, label: label, secret: secret.value, handshake: secret.handshake,
                                           establishedAt: clock.now(), peer: peer?.description)
        let store = self.store
        guard try await storeThreads.runIfActive({ try store.establishSecret(record) }) else { return false }
        runtime.addHandshakeKey(key, source: source.name)
        logger.notice("secret established by handshake", metadata: [
            "source": "\(source.name)", "label": "\(label)", "handshake": "\(secret.handshake)", "peer": "\(peer?.description ?? "-")",
        ])
        return true
    }

    /// The stored handshake secrets as keys by source, for the config the gateway starts with.
    static func keys(from records: [HandshakeSecretRecord], config: ResolvedConfig, logger: Logger) -> [String: VerificationKey] {
        var out: [String: VerificationKey] = [:]
        for r in records {
            guard let source = config.sources.first(where: { $0.name == r.source }) else { continue }
            guard let key = source.profile.makeKey(label: r.label, secret: r.secret) else {
                logger.warning("stored handshake secret no longer decodes for its source's profile", metadata: ["source": "\(r.source)"])
                continue
            }
            out[r.source] = key
        }
        return out
    }
}
