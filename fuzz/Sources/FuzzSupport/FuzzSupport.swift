import CFuzzerDriver
import Foundation
import InletConfig
import InletCore

/// What every fuzz target shares: the shipped provider profiles, fixed keys and clock, and the text format the
/// signature target's inputs are written in.
public enum FuzzFixtures {
    /// The repository's `providers/` folder: `INLET_FUZZ_PROVIDERS` if set, else found from this source file.
    public static let providersDirectory: String = {
        if let dir = ProcessInfo.processInfo.environment["INLET_FUZZ_PROVIDERS"], !dir.isEmpty { return dir }
        // fuzz/Sources/FuzzSupport/FuzzSupport.swift -> ../../../providers
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("providers").path
    }()

    /// Every shipped profile, loaded once. A failure here is a broken harness or tree, not a finding: exit, no crash.
    public static let profiles: [String: ProviderProfile] = {
        do {
            let loaded = try ProfileLoader.loadDirectory(providersDirectory)
            guard !loaded.isEmpty else { throw ConfigError(file: providersDirectory, line: nil, key: "", message: "no profiles") }
            return loaded
        } catch {
            FileHandle.standardError.write(Data("fuzz harness: cannot load provider profiles from \(providersDirectory): \(error)\n".utf8))
            exit(2)
        }
    }()

    public static let sortedProfiles: [ProviderProfile] = profiles.keys.sorted().map { profiles[$0]! }

    /// 2026-01-01T00:00:00Z, the `now` of most test fixtures.
    public static let now: EpochMillis = 1_767_225_600_000

    public static let publicURL = "https://inlet.example/hooks/fuzz"
    public static let verifyToken = "fuzz-verify-token"
    public static let webhookID = "WH-FUZZ-0001"

    /// Discord's test-vector application key (Ed25519, raw 32 bytes).
    public static let ed25519Key: [UInt8] = Hex.decode("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")!
    /// SendGrid's test-vector verification key (P-256, DER SubjectPublicKeyInfo).
    public static let p256Key: [UInt8] = Base64.decode(
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
    )!
    /// A throwaway RSA-2048 public key (DER SubjectPublicKeyInfo) standing in for a fetched SNS/PayPal certificate.
    public static let rsaKey: [UInt8] = Base64.decode(
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7qDHOAb/64fpf9UPQUfb9SeTKRNWNYHtDAlUfYSJxrkxNuXjXAySKdGHDiIGpvg4vVJQSGHvtq6hy0GVOCo268ITQj6nkCyDuRVLZ+A6A0w1lXLBh1A03eQsbrMaxLQ3H+nvnT3ZeT084h+/fKnIGbGXtDQ2avRS8b8mFl2b6ZXP78iqA9d1Jyfxr2Q3adgaQG33PjWZYECPdlSqY6JB9/IqhqA4fMQ4pNGyqYcBhPhBU6Mk+vNCdSh8vzUF6BGpO0Rv7C1UtUCdYeV1YsE9aVuCCtfs8mNewAbhFpdwW9sRTOGtx3OYBqv4OoGsbPf8us/bgq4K3FjExepHWTxINQIDAQAB"
    )!

    /// A key that fits `profile` when the input names no secret (or one the profile cannot decode).
    public static func defaultKey(for profile: ProviderProfile, label: String = "fuzz", window: SecretWindow = SecretWindow()) -> VerificationKey {
        switch profile.signatures.first?.algorithm {
        case .ed25519?: return VerificationKey(label: label, material: .ed25519(raw: ed25519Key), window: window)
        case .ecdsaP256SHA256?: return VerificationKey(label: label, material: .p256(der: p256Key), window: window)
        default: return VerificationKey(label: label, keyBytes: Array("fuzz-secret".utf8), window: window)
        }
    }

    /// The admission policy a source of `profile` would have, with every optional knob set so that no scheme stops
    /// early at "not configured". The second key has expired, so the `secretExpired` path is reachable too.
    public static func policy(for profile: ProviderProfile, secret: String?, allowLegacy: Bool, now: EpochMillis) -> ResolvedSource {
        let current = secret.flatMap { profile.makeKey(label: "input", secret: $0) } ?? defaultKey(for: profile)
        let retired = defaultKey(for: profile, label: "retired", window: SecretWindow(notBefore: nil, expiresAt: now - 1))
        let options = VerificationOptions(toleranceSeconds: nil, allowLegacySignatures: allowLegacy, publicURL: publicURL,
                                          verifyToken: verifyToken, webhookID: webhookID, snsAutoConfirm: true)
        let routes = [
            Route(destination: "typed", types: [TypePattern("invoice.*"), TypePattern("push")]),
            Route(destination: "where", conditions: [FieldCondition(pointer: JSONPointer("/data/object/status")!, test: .equals("paid"))]),
        ]
        // The peer is a trusted proxy, so X-Forwarded-For chains are parsed; nothing is refused by address.
        let allowlist = IPAllowlist(allowed: [], trustedProxies: [CIDR("203.0.113.0/24")!, CIDR("10.0.0.0/8")!, CIDR("::1/128")!])
        return ResolvedSource(name: "fuzz", path: "/hooks/fuzz", profile: profile, keys: [current, retired], allowlist: allowlist,
                            verification: options, destinations: ["typed", "where"], routes: routes)
    }

    /// Every distinct signature header layout the shipped profiles use, plus a few edge cases the loader accepts
    /// (empty or multi-byte separators, empty prefix).
    public static let headerFormats: [SignatureHeaderFormat] = {
        var out: [SignatureHeaderFormat] = []
        for p in sortedProfiles { for s in p.signatures where !out.contains(s.format) { out.append(s.format) } }
        let extra: [SignatureHeaderFormat] = [
            .plain(prefix: ""),
            .plain(prefix: "sha256="),
            .keyValue(pairSeparator: ",", keyValueSeparator: "=", signatureKeys: ["v1", "v0"]),
            .keyValue(pairSeparator: "", keyValueSeparator: "", signatureKeys: [""]),
            .keyValue(pairSeparator: ";;", keyValueSeparator: "é", signatureKeys: ["h1"]),
            .versionedList(entrySeparator: " ", versionSeparator: ",", versions: ["v1", "v1a"]),
            .versionedList(entrySeparator: "", versionSeparator: "", versions: [""]),
        ]
        for f in extra where !out.contains(f) { out.append(f) }
        return out
    }()
}

/// A fuzz input read as an HTTP request in plain text:
///
///     POST /hooks/x?query
///     Header-Name: value
///     X-Fuzz-Secret: whsec_…      (optional: the source's secret, as configured)
///     X-Fuzz-Now: 1767225600      (optional: the receive time, epoch seconds)
///
///     body bytes…
///
/// The head is decoded as UTF-8 (lossy); the body after the first blank line is kept as raw bytes. Anything
/// malformed still yields a request, so every input reaches the code under test.
public struct FuzzRequest {
    public var request: IncomingRequest
    public var secret: String?
    public var now: EpochMillis

    public init(_ bytes: [UInt8]) {
        var split = bytes.count
        var bodyStart = bytes.count
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { split = i; bodyStart = i + 2; break }
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0D && i + 2 < bytes.count && bytes[i + 2] == 0x0A { split = i; bodyStart = i + 3; break }
            i += 1
        }
        let head = String(decoding: bytes[..<split], as: UTF8.self)
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map { l -> Substring in
            l.hasSuffix("\r") ? l.dropLast() : l
        }
        let requestLine = lines.isEmpty ? "" : lines.removeFirst()
        let parts = requestLine.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        let method = parts.first.map(String.init) ?? "POST"
        let target = parts.count > 1 ? String(parts[1]) : "/"
        var path = target, query: String?
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        }
        var headers = HTTPHeaderList()
        var secret: String?
        var now = FuzzFixtures.now
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
            switch name.lowercased() {
            case "x-fuzz-secret": secret = value
            case "x-fuzz-now":
                // The receive time comes from the system clock in production: keep it within 1970…2100 so the
                // harness does not invent overflows no request could cause.
                if let s = Int64(value), (0...4_102_444_800).contains(s) { now = s * 1000 }
            default: headers.append(name, value)
            }
        }
        self.request = IncomingRequest(method: method, path: path, query: query, headers: headers,
                                       body: Array(bytes[bodyStart...]), peer: IPAddress("203.0.113.7"), receivedAt: now)
        self.secret = secret
        self.now = now
    }
}

/// Inputs that trigger a bug already reported and reproduced by a committed file in `fuzz/crashes/`. While
/// `INLET_FUZZ_SKIP_KNOWN=1` (what `scripts/fuzz` sets for fuzzing, not for replaying the reproducers) the targets
/// skip them, so one known bug that the fuzzer hits within seconds does not stop it from looking for the next.
///
/// No bug is open now. For the next one, add a predicate that recognises its inputs (over-approximating is fine),
/// for example
///
///     public static func someBug(_ bytes: [UInt8]) -> Bool {
///         guard skip else { return false }
///         return bytes.starts(with: Array("[[{".utf8))
///     }
///
/// and call it first thing in the target (`if KnownBugs.someBug(bytes) { return -1 }`: -1 also keeps the input out of
/// the corpus). Delete both when the bug is fixed; the reproducer then passes and stays as a regression test.
public enum KnownBugs {
    public static let skip = ProcessInfo.processInfo.environment["INLET_FUZZ_SKIP_KNOWN"] == "1"
}

/// The bytes libFuzzer hands a target.
@inline(__always)
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Starts libFuzzer with `target` as `LLVMFuzzerTestOneInput`. SwiftPM links each executable target's
/// `<module>_main` as the program's `main` (so tests can import executables), which hides libFuzzer's own `main`;
/// every fuzz target therefore defines `<module>_main` and calls this.
///
/// `warmUp` builds the target's fixed state (profiles, policies) before the first input, so one-time allocations
/// are not mistaken for a leak of that input.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                         _ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt, warmUp: () -> Void = {}) -> CInt {
    warmUp()
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, target)
}
