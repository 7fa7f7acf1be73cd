import FuzzSupport
import InletConfig
import InletCore

/// The gateway configuration (`config/inlet.toml`): `GatewayConfig.parse`, then `resolve` against the shipped
/// profiles and a fixed environment, as `inlet serve` and `inlet check-config` do.
///
/// Input: a config file's text. `file:` secret references are turned into `env:` ones before resolving: the
/// harness must not read arbitrary paths (a fuzzed `file:/dev/stdin` would hang it, not the gateway).

private let environment = [
    "INLET_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
    "GITHUB_WEBHOOK_SECRET": "gh-webhook-secret",
    "HEX_SECRET": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
    "EMPTY": "",
    "FILE_SECRET": "whsec_ZGV2ZWxvcG1lbnQtb25seS1zaW5rLXNlY3JldCEhIQ==",
]

private func withoutFiles(_ refs: [SecretReference]) -> [SecretReference] {
    refs.map { ref in
        guard ref.reference.hasPrefix("file:") else { return ref }
        var r = ref
        r.reference = "env:FILE_SECRET"
        return r
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    var config: GatewayConfig
    do {
        // A path that does not exist: resolve re-reads the file only to place error lines.
        config = try GatewayConfig.parse(text, file: "/nonexistent/inlet-fuzz/inlet.toml")
    } catch {
        _ = error.description
        return 0
    }
    _ = config.storePath
    _ = config.providersPath
    for i in config.sources.indices {
        config.sources[i].secrets = withoutFiles(config.sources[i].secrets)
        if let t = config.sources[i].verifyToken { config.sources[i].verifyToken = withoutFiles([t])[0] }
    }
    for name in config.destinations.keys { config.destinations[name]!.secrets = withoutFiles(config.destinations[name]!.secrets) }
    if config.sink != nil { config.sink!.secrets = withoutFiles(config.sink!.secrets) }
    if config.admin != nil { config.admin!.tokens = withoutFiles(config.admin!.tokens) }
    for s in config.sources { for r in s.secrets { _ = r.description } }

    do {
        let resolved = try config.resolve(environment: environment, profiles: FuzzFixtures.profiles, now: FuzzFixtures.now)
        _ = resolved.expiryWarnings(now: FuzzFixtures.now)
        for d in resolved.destinations.values { _ = d.config.policy }
    } catch {
        _ = error.description
    }
    return 0
}

@_cdecl("fuzz_config_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz, warmUp: { _ = FuzzFixtures.profiles })
}
