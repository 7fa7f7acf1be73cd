import Crypto
import Foundation
import InletConfig
import InletCore

/// Inputs shared by the benchmarks: the shipped provider profiles, bodies of a given size and signed requests.
///
/// Everything here runs in a benchmark's setup, never inside the measured region. Each signed request is checked
/// once (`SignedCase.init` traps on a failed verification), so a benchmark can never time a rejection by mistake.
enum Fixtures {
    /// The repository root: `INLET_ROOT`, or two levels above this package (benchmarks/micro/ sits in the root).
    static let repositoryRoot: String = {
        if let root = ProcessInfo.processInfo.environment["INLET_ROOT"], !root.isEmpty { return root }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // InletMicro
            .deletingLastPathComponent()  // Benchmarks
            .deletingLastPathComponent()  // micro
            .deletingLastPathComponent()  // benchmarks
            .deletingLastPathComponent()  // root
            .path
    }()

    /// Every profile in `providers/`, loaded the way the gateway loads them.
    static let profiles: [String: ProviderProfile] = {
        do { return try ProfileLoader.loadDirectory(repositoryRoot + "/providers") } catch {
            fatalError("cannot load \(repositoryRoot)/providers: \(error)")
        }
    }()

    static func profile(_ name: String) -> ProviderProfile {
        guard let p = profiles[name] else { fatalError("no provider profile '\(name)' in \(repositoryRoot)/providers") }
        return p
    }

    /// The shared 1.3 KB Stripe `invoice.paid` body of the ingress benchmarks (`benchmarks/load/body.json`, 1,278 bytes).
    static let eventBody: [UInt8] = {
        guard let data = FileManager.default.contents(atPath: repositoryRoot + "/benchmarks/load/body.json") else {
            fatalError("cannot read \(repositoryRoot)/benchmarks/load/body.json")
        }
        return Array(data)
    }()

    /// A JSON object of exactly `size` bytes with an `id` and a `type`, padded with a string field.
    static func jsonBody(size: Int) -> [UInt8] {
        let head = Array(#"{"id":"evt_1PbenchAAAAAAAAAAAAAAAA","object":"event","type":"invoice.paid","pad":""#.utf8)
        let tail = Array(#""}"#.utf8)
        precondition(size >= head.count + tail.count)
        var out = head
        out.reserveCapacity(size)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        while out.count < size - tail.count { out.append(alphabet[out.count % alphabet.count]) }
        return out + tail
    }

    /// An `application/x-www-form-urlencoded` body of exactly `size` bytes, as Twilio posts: a few real
    /// parameters, then `ExtraNNNNN=<value>` parameters of about 64 bytes each up to the size.
    static func formBody(size: Int) -> [UInt8] {
        var text = "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&Body=Hello+from+the+bench&From=%2B15005550006&To=%2B15005550001"
        var n = 0
        while text.utf8.count < size {
            let remaining = size - text.utf8.count
            let name = "&Extra" + String(100_000 + n).dropFirst() + "="
            let valueLength = min(max(remaining - name.utf8.count, 1), 52)
            text += name + String(repeating: "v", count: valueLength)
            n += 1
        }
        var bytes = Array(text.utf8)
        if bytes.count > size { bytes.removeLast(bytes.count - size) }
        // Never end on the '=' of a truncated parameter: the trimmed body must still parse the same way.
        if bytes.last == UInt8(ascii: "=") || bytes.last == UInt8(ascii: "&") { bytes[bytes.count - 1] = UInt8(ascii: "v") }
        return bytes
    }

    static let timestampSeconds: Int64 = 1_700_000_000
    /// The receive time: one second after the provider signed.
    static let now: EpochMillis = timestampSeconds * 1000 + 1000
    static let publicURL = "https://hooks.example.com/hooks/twilio"

    /// What a proxy and an HTTP client add to every request, so header lookups walk a realistic list.
    static let commonHeaders: [(String, String)] = [
        ("Host", "hooks.example.com"),
        ("User-Agent", "Provider-Webhooks/1.0"),
        ("Accept", "*/*"),
        ("X-Forwarded-For", "203.0.113.7"),
    ]
}

/// One provider's request, signed for a body size, with the key and options that verify it.
struct SignedCase: Sendable {
    let profile: ProviderProfile
    let request: IncomingRequest
    let keys: [VerificationKey]
    let options: VerificationOptions
    /// The raw signature header value, for the header-parsing benchmarks.
    let signatureHeader: String
    let format: SignatureHeaderFormat

    /// Signs `body` as `provider` would. HMAC, token and Twilio schemes sign with `ProviderProfile.sign`; the
    /// public-key schemes (Ed25519, ECDSA P-256) with a fresh key pair whose public half is the source's secret.
    init(provider: String, body: [UInt8]) {
        let profile = Fixtures.profile(provider)
        guard let spec = profile.signatures.first(where: { !$0.legacy }) else { fatalError("\(provider): no signature spec") }
        let tsText = String(Fixtures.timestampSeconds)
        var signed: [(String, String)]
        var secret: String
        var options = VerificationOptions()
        switch spec.algorithm {
        case .ed25519:
            let privateKey = Curve25519.Signing.PrivateKey()
            secret = Hex.string(privateKey.publicKey.rawRepresentation)
            let signature = try! privateKey.signature(for: Array(tsText.utf8) + body)
            signed = [("X-Signature-Ed25519", Hex.string(signature)), ("X-Signature-Timestamp", tsText)]
        case .ecdsaP256SHA256:
            let privateKey = P256.Signing.PrivateKey()
            secret = Base64.encode(privateKey.publicKey.derRepresentation)
            let signature = try! privateKey.signature(for: Array(tsText.utf8) + body)
            signed = [("X-Twilio-Email-Event-Webhook-Signature", Base64.encode(signature.derRepresentation)),
                      ("X-Twilio-Email-Event-Webhook-Timestamp", tsText)]
        default:
            switch profile.secretEncoding {
            case .base64(let prefix): secret = prefix + Base64.encode((0..<32).map { UInt8($0 &* 7 &+ 3) })
            case .hex: secret = Hex.string((0..<32).map { UInt8($0 &* 7 &+ 3) })
            case .utf8: secret = "whsec_benchBenchBenchBenchBenchBench01"
            case .pem: fatalError("\(provider): verifies with the provider's public key (PEM), which is not benchmarked here")
            case .keyPair: fatalError("\(provider): signs form fields with a key pair (Braintree), which is not benchmarked here")
            }
            guard let key = profile.makeKey(label: "primary", secret: secret) else { fatalError("\(provider): secret does not decode") }
            let url = spec.algorithm == .twilio ? Fixtures.publicURL : nil
            if url != nil { options.publicURL = url }
            signed = profile.sign(body: body, key: key.keyBytes, timestampSeconds: Fixtures.timestampSeconds, id: "msg_2bench0000000000000000", publicURL: url)
        }
        guard let key = profile.makeKey(label: "primary", secret: secret) else { fatalError("\(provider): key does not decode") }
        guard case .header(let signatureHeaderName)? = spec.sources.first,
              let value = signed.first(where: { $0.0.lowercased() == signatureHeaderName.lowercased() })?.1
        else { fatalError("\(provider): signing produced no signature header") }

        let contentType = spec.algorithm == .twilio ? "application/x-www-form-urlencoded" : "application/json"
        let headers = Fixtures.commonHeaders + [("Content-Type", contentType), ("Content-Length", String(body.count))] + signed
        self.profile = profile
        self.request = IncomingRequest(method: "POST", path: "/hooks/\(provider)", headers: HTTPHeaderList(headers.map { (name: $0.0, value: $0.1) }),
                                       body: body, peer: nil, receivedAt: Fixtures.now)
        self.keys = [key]
        self.options = options
        self.signatureHeader = value
        self.format = spec.format

        switch profile.verify(request, keys: keys, options: options, now: Fixtures.now) {
        case .success: break
        case .failure(let f): fatalError("\(provider) with a \(body.count)-byte body does not verify: \(f)")
        }
    }

    /// One verification, exactly as admission runs it.
    @inline(__always)
    func verify() -> Result<VerifiedSignature, VerificationFailure> {
        profile.verify(request, keys: keys, options: options, now: Fixtures.now)
    }
}
