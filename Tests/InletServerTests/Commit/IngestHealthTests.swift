import Testing
@testable import InletServer

/// `/readyz` also reflects the ingest commits themselves: a failing commit makes the gateway unready at once (its
/// own one-row probe may still fit on a full disk), a successful one clears it, and without traffic the signal
/// expires so the probe decides again.
@Suite("Ingest health for readiness")
struct IngestHealthTests {
    @Test func aFailedCommitIsUnreadyUntilASuccessOrTheWindowPasses() {
        let health = IngestHealth(windowMillis: 5_000)
        #expect(!health.isFailing(now: 1_000))
        health.failed(at: 1_000)
        #expect(health.isFailing(now: 1_000) && health.isFailing(now: 5_999))
        #expect(!health.isFailing(now: 6_000))  // no traffic since: the probe decides again
        health.failed(at: 7_000)
        health.committed()
        #expect(!health.isFailing(now: 7_001))
        health.failed(at: Int64.max)  // extreme clocks do not trap
        #expect(health.isFailing(now: Int64.max) && !health.isFailing(now: Int64.min))
        health.failed(at: Int64.min)
        #expect(!health.isFailing(now: Int64.max))
    }
}
