extension AdminAPI {
    /// `GET /healthz`: the process answers.
    func health(_: AdminRequest) -> SimpleResponse {
        .json(200, HealthStatus(status: "ok"))
    }

    /// `GET /readyz`: the store takes a write and ingest commits are not failing; answered from a 1 s cache.
    func readinessProbe(_: AdminRequest) async -> SimpleResponse {
        let store = self.store, storeThreads = self.storeThreads, clock = self.clock, ingestFailing = self.ingestFailing
        let ready = await readiness.ready {
            let now = clock.now()
            guard !ingestFailing(now) else { return false }
            return (try? await storeThreads.runIfActive { try store.checkWritable(now: now) }) != nil
        }
        return ready ? .json(200, HealthStatus(status: "ready")) : .json(503, HealthStatus(status: "unavailable", reason: "store_unavailable"))
    }
}
