import InletCore
import NIOConcurrencyHelpers

/// Whether ingest commits are failing now, for `/readyz`. Its own probe is a one-row write, which can still fit on a
/// full disk while events of a few KB no longer do (each success takes a WAL frame): a probe alone would say
/// "ready" while every provider gets 503. A failed commit within `windowMillis`, with no successful one since, makes
/// the gateway unready; without traffic the answer falls back to the probe once the window has passed.
final class IngestHealth: Sendable {
    let windowMillis: Int64
    private let lastFailure = NIOLockedValueBox<EpochMillis?>(nil)

    init(windowMillis: Int64 = 5_000) { self.windowMillis = windowMillis }

    func committed() { lastFailure.withLockedValue { $0 = nil } }

    func failed(at now: EpochMillis) { lastFailure.withLockedValue { $0 = now } }

    func isFailing(now: EpochMillis) -> Bool {
        guard let t = lastFailure.withLockedValue({ $0 }) else { return false }
        let (age, overflow) = now.subtractingReportingOverflow(t)
        return now >= t && !overflow && age < windowMillis
    }
}
