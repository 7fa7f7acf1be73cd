/// Signs requests for the internal hop with the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature: v1,<base64 HMAC-SHA256>`), so services verify with any Standard Webhooks library.
public struct StandardWebhooksSigner: Sendable {
    public let keys: [[UInt8]]
    public let windows: [SecretWindow]

    /// `secrets` are `whsec_<base64>` strings (or bare base64); throws if one does not decode. `windows` (one per
    /// secret, optional) limit when each secret signs: during a rotation overlap both sign.
    public init(secrets: [String], windows: [SecretWindow]? = nil) throws {
        keys = try secrets.map {
            guard let k = SecretEncoding.base64(stripPrefix: "whsec_").decode($0) else { throw SignerError.undecodableSecret }
            return k
        }
        self.windows = windows ?? Array(repeating: SecretWindow(), count: secrets.count)
    }

    public enum SignerError: Error, CustomStringConvertible {
        case undecodableSecret
        public var description: String { "destination secret is not whsec_<base64>" }
    }

    /// The `webhook-signature` value: one `v1,<sig>` per key active at `timestampSeconds`, space-separated. When no
    /// key is active (all expired), every key signs rather than none, so the receiver's error says "mismatch".
    public func signature(id: String, timestampSeconds: Int64, body: [UInt8]) -> String {
        let message = Array("\(id).\(timestampSeconds).".utf8) + body
        let now = timestampSeconds * 1000
        var active = keys.indices.filter { windows[$0].isActive(at: now) }
        if active.isEmpty { active = Array(keys.indices) }
        return active.map { "v1," + Base64.encode(HashFunction.sha256.mac(key: keys[$0], message: message)) }.joined(separator: " ")
    }

    /// Verifies a Standard Webhooks signature header (used by the built-in sink and tests).
    public func verify(id: String, timestamp: String, signatureHeader: String, body: [UInt8], now: EpochMillis, toleranceSeconds: Int64 = 300) -> Bool {
        // The timestamp is the sender's text: digits only, at most 16 of them (as `ProviderProfile.parseTimestamp`),
        // and compared in seconds, so no value of it can overflow.
        guard !timestamp.isEmpty, timestamp.utf8.count <= 16, timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let ts = Int64(timestamp) else { return false }
        let nowSeconds = now / 1000
        guard ts >= nowSeconds - toleranceSeconds, ts <= nowSeconds + toleranceSeconds else { return false }
        let message = Array("\(id).\(timestamp).".utf8) + body
        guard case .success(let parsed) = SignatureHeaderParser.parse(signatureHeader, format: .versionedList(entrySeparator: " ", versionSeparator: ",", versions: ["v1"])) else { return false }
        var ok = false
        for key in keys {
            let expected = Array(Base64.encode(HashFunction.sha256.mac(key: key, message: message)).utf8)
            for candidate in parsed.signatures where constantTimeEquals(expected, candidate) { ok = true }
        }
        return ok
    }
}
