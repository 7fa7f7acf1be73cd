import FuzzSupport
import InletCore

/// A destination's answer as the delivery worker reads it: the status code, `Retry-After`, and the attempt count and
/// receive time from the claimed row (a stored row is outside input too).
///
/// Input: four lines, then anything: `status\nRetry-After\nattempts-made\nreceived-at-millis\n<answer body>`. Each
/// number is the sender's text, parsed as the worker parses it (any length, any sign). Every policy below, from the
/// defaults to the config's extremes, must decide without trapping, and its decision must respect the policy: a
/// retry is never scheduled in the past nor later than the maximum delay, and `Retry-After` counts only on 429/503.

private let now: EpochMillis = FuzzFixtures.now

private let policies: [DeliveryPolicy] = [
    DeliveryPolicy(),
    // The config reader's extremes (`max_backoff_ms` 604,800,000, `initial_backoff_ms` 86,400,000, 1,000 attempts).
    DeliveryPolicy(retry: RetryPolicy(initialDelayMillis: 86_400_000, maxDelayMillis: 604_800_000, maxAttempts: 1_000),
                   retryStatuses: RetryStatuses(["4xx", "5xx"])!, maxAgeMillis: 31_536_000_000),
    DeliveryPolicy(retry: RetryPolicy(initialDelayMillis: 1, maxDelayMillis: 1, maxAttempts: 1),
                   retryStatuses: RetryStatuses(statuses: []), maxAgeMillis: 1),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    var lines = bytes.split(separator: 0x0A, maxSplits: 4, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    while lines.count < 5 { lines.append("") }
    // AsyncHTTPClient hands the worker a status as an integer; any the parser produced, even outside 100...599.
    let status = Int(lines[0])
    let header: String? = lines[1].isEmpty ? nil : lines[1]
    let attemptsMade = Int(lines[2]) ?? 0
    let receivedAt = Int64(lines[3]) ?? now

    let parsed = DeliveryPolicy.parseRetryAfter(header, now: now)
    if let parsed { precondition(parsed >= 0, "Retry-After parsed to a negative delay \(parsed)") }
    let retryAfter = DeliveryPolicy.retryAfterMillis(status: status, header: header, now: now)
    if status != 429 && status != 503 { precondition(retryAfter == nil, "Retry-After read on status \(String(describing: status))") }

    let attempt = attemptsMade < Int.max ? attemptsMade + 1 : Int.max
    for policy in policies {
        for unitRandom in [0.0, 0.5, 1.0] {
            switch policy.next(attempt: attempt, status: status, retryAfterMillis: retryAfter, receivedAt: receivedAt, now: now, unitRandom: unitRandom) {
            case .retry(let at):
                precondition(at >= now && at - now <= policy.retry.maxDelayMillis, "retry at \(at) outside [now, now + max delay]")
            case .delivered:
                precondition(status.map { (200..<300).contains($0) } == true, "delivered on status \(String(describing: status))")
            case .dead: break
            }
        }
        if let status { _ = policy.retryStatuses.verdict(forStatus: status) }
    }
    // The answer's body is kept only as a snippet of bytes; its size never matters to the policy.
    _ = lines[4].utf8.prefix(1024).count
    return 0
}

@_cdecl("fuzz_delivery_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz, warmUp: { _ = policies })
}
