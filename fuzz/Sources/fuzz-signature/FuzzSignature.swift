import FuzzSupport
import InletCore

/// Signature headers and the whole verification path of every shipped profile.
///
/// Input: a request in `FuzzRequest`'s text format. Each header value is parsed with every `SignatureHeaderFormat`
/// the profiles use; then the request is admitted by a source of every profile in `providers/` (signature parse,
/// timestamp parse and tolerance, signed-content assembly, HMAC/Ed25519/P-256/RSA/Twilio checks, handshakes,
/// event ID/type extraction, routes, X-Forwarded-For).

/// Policies with the default keys, built once: one set refusing legacy variants, one allowing them.
private let defaultPolicies: [Bool: [ResolvedSource]] = [
    false: FuzzFixtures.sortedProfiles.map { FuzzFixtures.policy(for: $0, secret: nil, allowLegacy: false, now: FuzzFixtures.now) },
    true: FuzzFixtures.sortedProfiles.map { FuzzFixtures.policy(for: $0, secret: nil, allowLegacy: true, now: FuzzFixtures.now) },
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let input = FuzzRequest(bytes)
    let request = input.request

    for (_, value) in request.headers {
        for format in FuzzFixtures.headerFormats { _ = SignatureHeaderParser.parse(value, format: format) }
    }

    // Legacy variants on or off by body length, so both branches get inputs without a format change.
    let allowLegacy = request.body.count % 2 == 1
    let policies: [ResolvedSource]
    if input.secret != nil || input.now != FuzzFixtures.now {
        policies = FuzzFixtures.sortedProfiles.map { FuzzFixtures.policy(for: $0, secret: input.secret, allowLegacy: allowLegacy, now: input.now) }
    } else {
        policies = defaultPolicies[allowLegacy]!
    }
    for policy in policies {
        // The server asks for the certificate URL first and passes the fetched key in; do the same.
        let certificate = CertificateSchemes.certificateURL(for: policy.profile, in: request)
        var certKey: [UInt8]?
        var certFailure: VerificationFailure?
        switch certificate {
        case .success?: certKey = FuzzFixtures.rsaKey
        case .failure(let f)?: certFailure = f
        case nil: break
        }
        _ = policy.admit(request, now: input.now, signingCertificateKey: certKey, rejectWith: certFailure)
        // Straight into verify as well: admit stops early for GET and for certificate failures.
        _ = policy.profile.verify(request, keys: policy.keys, options: policy.verification, now: input.now)
    }
    return 0
}

@_cdecl("fuzz_signature_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz, warmUp: { _ = defaultPolicies; _ = FuzzFixtures.headerFormats })
}
