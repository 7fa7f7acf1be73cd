/// Signs requests for the internal hop with the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature: v1,<base64 HMAC-SHA256>`), so services verify with any Standard Webhooks library.
public struct StandardWebhooksSigner: Sendable {
    public let keys: [[UInt8]]
    public let windows: [SecretWindow]
    /// Each key's HMAC state, prepared once: every attempt signs, and a key schedule per signature was a tenth of
    /// an attempt's signing cost.
    private let prepared: [PreparedHMAC]

    /// `secrets` are `whsec_<base64>` strings (or bare base64); throws if one does not decode. `windows` (one per
    /// secret, optional) limit when each secret signs: during a rotation overlap both sign.
    public init(secrets: [String], windows: [SecretWindow]? = nil) throws {
        keys = try secrets.map {
            guard let k = SecretEncoding.base64(stripPrefix: "whsec_").decode($0) else { throw SignerError.undecodableSecret }
            return k
        }
        self.windows = windows ?? Array(repeating: SecretWindow(), count: secrets.count)
        prepared = keys.map { PreparedHMAC(key: $0) }
    }

    public enum SignerError: Error, CustomStringConvertible {
        case undecodableSecret
        public var description: String { "destination secret is not whsec_<base64>" }
    }

    /// The `webhook-signature` value: one `v1,<sig>` per key active at `timestampSeconds`, space-separated. When no
    /// key is active (all expired), every key signs rather than none, so the receiver's error says "mismatch".
    public func signature(id: String, timestampSeconds: Int64, body: [UInt8]) -> String {
        let prefix = Array("\(id).\(timestampSeconds).".utf8)
        let now = timestampSeconds.multipliedReportingOverflow(by: 1000).overflow ? Int64.max : timestampSeconds * 1000
        var active = keys.indices.filter { windows[$0].isActive(at: now) }
        if active.isEmpty { active = Array(keys.indices) }
        return active.map { "v1," + mac(key: $0, prefix: prefix, body: body) }.joined(separator: " ")
    }

    /// The base64 HMAC of `prefix` and `body` under key `index`, from its prepared state (no concatenated message).
    private func mac(key index: Int, prefix: [UInt8], body: [UInt8]) -> String {
        Base64.encode(HashFunction.sha256.mac(prepared[index]) { update in
            prefix.withUnsafeBytes(update)
            body.withUnsafeBytes(update)
        })
    }

    /// Verifies a Standard Webhooks signature header (used by the built-in sink and tests).
    public func verify(id: String, timestamp: String, signatureHeader: String, body: [UInt8], now: EpochMillis, toleranceSeconds: Int64 = 300) -> Bool {
        // The timestamp is the sender's text: digits only, at most 16 of them (as `ProviderProfile.parseTimestamp`),
        // and compared in seconds, so no value of it can overflow.
        guard !timestamp.isEmpty, timestamp.utf8.count <= 16, timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let ts = Int64(timestamp) else { return false }
        let nowSeconds = now / 1000
        guard ts >= nowSeconds - toleranceSeconds, ts <= nowSeconds + toleranceSeconds else { return false }
        let prefix = Array("\(id).\(timestamp).".utf8)
        guard case .success(let parsed) = SignatureHeaderParser.parse(signatureHeader, format: .versionedList(entrySeparator: " ", versionSeparator: ",", versions: ["v1"])) else { return false }
        var ok = false
        for key in keys.indices {
            let expected = Array(mac(key: key, prefix: prefix, body: body).utf8)
            for candidate in parsed.signatures where constantTimeEquals(expected, candidate) { ok = true }
        }
        return ok
    }
}
