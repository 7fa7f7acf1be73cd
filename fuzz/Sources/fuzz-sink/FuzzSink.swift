import FuzzSupport
import InletCore

/// The development sink's verifier (`StandardWebhooksSigner.verify`), which runs inside the gateway in the default
/// config and reads `webhook-id`, `webhook-timestamp` and `webhook-signature` from whoever connects to it.
///
/// Input: `id\ntimestamp\nsignature-header\nnow-seconds\n<body>`. Besides crashes, the target checks the signer
/// against itself: when the timestamp is a plain number of seconds the signer's own signature for it verifies at
/// that time, and a signature for a different body never does.

private let signer = try! StandardWebhooksSigner(secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25kLWZ1enota2V5"])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let parts = bytes.split(separator: 0x0A, maxSplits: 4, omittingEmptySubsequences: false)
    func text(_ i: Int) -> String { i < parts.count ? String(decoding: parts[i], as: UTF8.self) : "" }
    let id = text(0), timestamp = text(1), header = text(2)
    let body = parts.count > 4 ? Array(parts[4]) : []
    let nowSeconds = Int64(text(3)) ?? FuzzFixtures.now / 1000
    let (nowMillis, overflow) = nowSeconds.multipliedReportingOverflow(by: 1000)
    let now = overflow ? FuzzFixtures.now : nowMillis

    _ = signer.verify(id: id, timestamp: timestamp, signatureHeader: header, body: body, now: now)

    if timestamp.utf8.count <= 16, !timestamp.isEmpty, timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let ts = Int64(timestamp),
       ts <= Int64.max / 1000, String(ts) == timestamp {
        // (The signer writes the canonical decimal; "0123" is signed as "123", so only canonical texts round-trip.)
        let signature = signer.signature(id: id, timestampSeconds: ts, body: body)
        precondition(signer.verify(id: id, timestamp: timestamp, signatureHeader: signature, body: body, now: ts * 1000),
                     "the signer's own signature did not verify")
        precondition(!signer.verify(id: id, timestamp: timestamp, signatureHeader: signature, body: body + [0x20], now: ts * 1000),
                     "a signature verified for a different body")
    }
    return 0
}

@_cdecl("fuzz_sink_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz, warmUp: { _ = signer })
}
