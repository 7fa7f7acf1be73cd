extension AdminAPI {
    /// `GET /v1/destinations`: queue, dead letters, circuit and pause of each, by name.
    func listDestinations(_: AdminRequest) async throws -> SimpleResponse {
        let now = clock.now()
        let (pending, gauges, paused) = try await store { (try $0.pendingByDestination(), try $0.queueGauges(now: now), try $0.pausedDestinations()) }
        let circuits = circuitStates()
        let destinations = runtime.current.resolved.destinations.sorted { $0.key < $1.key }.map { name, d in
            Destination(name: name, url: d.config.url, payload: d.config.payload.rawValue, circuit: circuits.map { $0[name] ?? "closed" } ?? "unknown",
                        paused: paused.contains(name), pending: pending[name]?.count ?? 0, deadLetters: gauges[name]?.dead ?? 0,
                        maxConcurrency: d.config.maxConcurrency,
                        oldestPendingAgeSeconds: pending[name].map { max(0, (now - $0.oldestCreatedAt) / 1000) },
                        oldestDueAgeSeconds: gauges[name]?.oldestDueAt.map { max(0, (now - $0) / 1000) })
        }
        return .json(200, DestinationList(destinations: destinations))
    }

    /// `POST /v1/destinations/{name}/pause`: nothing is delivered to it until resumed; its queue keeps filling.
    func pauseDestination(_ request: AdminRequest) async throws -> SimpleResponse {
        try await setPaused(true, request.parameter("name"))
    }

    /// `POST /v1/destinations/{name}/resume`.
    func resumeDestination(_ request: AdminRequest) async throws -> SimpleResponse {
        try await setPaused(false, request.parameter("name"))
    }

    private func setPaused(_ paused: Bool, _ name: String) async throws -> SimpleResponse {
        guard runtime.current.destination(name) != nil else { throw Refusal(404, ErrorBody("unknown_destination", destination: name)) }
        let now = clock.now()
        try await store { try $0.setPaused(paused, destination: name, now: now) }
        if !paused { wake() }
        return .json(200, PauseState(name: name, paused: paused))
    }
}
