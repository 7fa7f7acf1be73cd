import FuzzSupport
import InletConfig
import InletCore

/// The provider profile loader (`providers/*.toml`): TOML syntax, every key, value sources, signed-content
/// templates, handshakes, `[source_ips]`.
///
/// Input: a profile file's text. A profile that loads is then used the way the gateway and CLI use one: summarised,
/// given keys, made to sign a request which it then verifies, and its `[source_ips]` rewritten as
/// `inlet providers update-ips` does.

private let body = Array(#"{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1","status":"paid"}}}"#.utf8)
private let secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "0a1b2c3d", "fuzz-secret", ""]
private let ranges = [CIDR("192.0.2.0/24")!, CIDR("2001:db8::/32")!]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    let profile: ProviderProfile
    do {
        profile = try ProfileLoader.parse(text, file: "providers/fuzz.toml")
    } catch {
        _ = error.description
        return 0
    }
    _ = profile.schemeSummary
    _ = profile.keyDescription
    for s in secrets { _ = profile.makeKey(label: "s", secret: s) }

    let key = Array("fuzz-secret".utf8)
    let headers = profile.sign(body: body, key: key, timestampSeconds: FuzzFixtures.now / 1000, id: "msg_1", publicURL: FuzzFixtures.publicURL)
    for (_, value) in headers {
        for spec in profile.signatures { _ = SignatureHeaderParser.parse(value, format: spec.format) }
    }
    let request = IncomingRequest(method: "POST", path: "/hooks/fuzz", query: "a=1&b=%20", headers: HTTPHeaderList(headers.map { (name: $0.0, value: $0.1) }),
                                  body: body, peer: nil, receivedAt: FuzzFixtures.now)
    var policy = FuzzFixtures.policy(for: profile, secret: nil, allowLegacy: true, now: FuzzFixtures.now)
    policy.keys[0] = VerificationKey(label: "signer", keyBytes: key)
    _ = policy.admit(request, now: FuzzFixtures.now, signingCertificateKey: FuzzFixtures.rsaKey)
    _ = profile.verify(request, keys: policy.keys, options: policy.verification, now: FuzzFixtures.now)

    if profile.sourceIPs != nil {
        _ = try? ProfileLoader.rewriteSourceIPs(text, ranges: ranges, asOf: "2026-01-01")
    }
    return 0
}

@_cdecl("fuzz_profile_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz, warmUp: { _ = FuzzFixtures.profiles })
}
