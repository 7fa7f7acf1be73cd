/// What admission established about an event, recorded with it so that a consumer can decide what to trust.
///
/// Derived from what actually verified the request, not from the provider's name: the same profile gives
/// `body_signed` for a Twilio JSON request (its `bodySHA256` is signed) and `sender_authenticated` for a form post.
public enum Authenticity: String, Sendable, Equatable, CaseIterable {
    /// A signature over the exact bytes received (HMAC, Ed25519, ECDSA or RSA over a template with `{body}`, a JWT
    /// whose body-hash claim was checked, Twilio's signed `bodySHA256`): nobody without the key made this body.
    case bodySigned = "body_signed"
    /// The sender proved it holds the credential, but the bytes are not bound to it: a shared token or Basic
    /// credentials, a JWT without a body hash, a signature over other fields (Mailgun's timestamp and token, SNS's
    /// canonical fields, PayPal's CRC-32 of the body, Twilio's concatenated form pairs), or only the client address.
    case senderAuthenticated = "sender_authenticated"
    /// The source opts out of verification (`verify_signatures = false`) and allows every address.
    case unverified

    /// The CloudEvents extension attribute that carries it on forwarded events.
    public static let cloudEventsAttribute = "inletauthenticity"
}
