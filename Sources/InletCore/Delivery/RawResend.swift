/// A stored request prepared for sending again as it was received (`inlet replay --to URL`): the original headers
/// minus the connection-level ones, which belong to the original connection, and optionally a fresh signature by the
/// source's scheme, so a receiver that checks freshness accepts it.
public enum RawResend {
    public struct Signing: Sendable {
        public var profile: ProviderProfile
        public var key: [UInt8]
        /// The ID the scheme signs where it signs one (Standard Webhooks' `webhook-id`): the provider's event ID.
        public var eventID: String
        public var nowSeconds: Int64

        public init(profile: ProviderProfile, key: [UInt8], eventID: String, nowSeconds: Int64) {
            self.profile = profile
            self.key = key
            self.eventID = eventID
            self.nowSeconds = nowSeconds
        }
    }

    /// The headers to send with `body` to `url`.
    public static func headers(original: [(String, String)], body: [UInt8], method: String, url: String, resign: Signing?) -> [(String, String)] {
        var headers = original.filter { !HTTPHeaderList.connectionLevel.contains($0.0.lowercased()) }
        if let s = resign {
            let signed = s.profile.sign(body: body, key: s.key, timestampSeconds: s.nowSeconds, id: s.eventID, publicURL: url, method: method)
            headers.removeAll { h in signed.contains { $0.0.lowercased() == h.0.lowercased() } }
            headers += signed
        }
        return headers
    }
}
