import Foundation
import InletConfig
import InletCore
import InletStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin API: JSON over HTTP on its own listener, bearer-token auth. Sources (with which secret label verifies
/// how much), destinations (queue, circuit, pause), stored events, replay (one or in bulk), dead letters and the
/// quarantine. The `inlet` CLI runs this same handler in-process against the store, so the API and the CLI cannot
/// disagree. Never returns a secret's value: sources list labels and windows only. Described in `openapi/inlet-admin.yaml`.
public struct AdminAPI: Sendable {
    /// Every store role but the delivery queue's: the API reads and acts on events, dead letters, pauses and the
    /// quarantine, ingests what it re-admits, and checks readiness; it never claims or completes a delivery.
    public typealias Store = EventCatalog & QuarantineStore & IngestStore & StoreMaintenance & StreamStore

    let runtime: LiveConfig
    let store: any Store
    let storeThreads: NIOThreadPool
    let clock: any WallClock
    /// Circuit state per destination; nil when not known (the CLI, outside the gateway process).
    let circuitStates: @Sendable () -> [String: String]?
    /// Wakes the delivery workers after rows were queued.
    let wake: @Sendable () -> Void
    let certificates: SigningCertificateCache?
    /// False only for the CLI's in-process use, whose caller already holds the config and the store file.
    let requiresToken: Bool
    let readiness: ReadinessCache
    /// Whether ingest commits are failing now (see `IngestHealth`); never, for the CLI's in-process use.
    let ingestFailing: @Sendable (EpochMillis) -> Bool
    /// The gateway's own counters behind `/v1/stats` and the tail's refusals; nil outside the gateway process.
    let traffic: TrafficLog?
    /// Rung after commits that appended to streams: wakes long-polls and SSE connections.
    let streamBell: StreamBell
    let streamObserver: StreamObserver

    public init(runtime: LiveConfig, store: any Store, storeThreads: NIOThreadPool, clock: any WallClock,
                circuitStates: @escaping @Sendable () -> [String: String]? = { nil }, wake: @escaping @Sendable () -> Void = {},
                certificates: SigningCertificateCache? = nil, requiresToken: Bool = true,
                ingestFailing: @escaping @Sendable (EpochMillis) -> Bool = { _ in false }, traffic: TrafficLog? = nil,
                streamBell: StreamBell = StreamBell(), streamObserver: StreamObserver = StreamObserver()) {
        self.streamBell = streamBell
        self.streamObserver = streamObserver
        self.requiresToken = requiresToken
        self.traffic = traffic
        self.ingestFailing = ingestFailing
        readiness = ReadinessCache(clock: clock)
        self.runtime = runtime
        self.store = store
        self.storeThreads = storeThreads
        self.clock = clock
        self.circuitStates = circuitStates
        self.wake = wake
        self.certificates = certificates
    }

    /// The admin listener's head check: a request without a valid token is answered `401` on its head, before any
    /// of its body is read or buffered. The probes stay open (orchestrators call them without a token).
    public func checkHead(_ request: SimpleRequest) -> SimpleResponse? {
        guard requiresToken, !authorized(method: request.method, path: AdminRequest.segments(of: request.uri), request.headers) else { return nil }
        return Self.unauthorized
    }

    static let unauthorized = SimpleResponse(status: 401, headers: [("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer")],
                                             body: AdminJSON.encode(ErrorBody("unauthorized")))

    /// Every route the API answers, one line each; one file per resource under `Routes/` holds the handlers. `405`
    /// and its `Allow` come from this table too.
    static let router = AdminRouter([
        AdminRoute(.GET, "/healthz", open: true) { api, r in api.health(r) },
        AdminRoute(.GET, "/readyz", open: true) { api, r in await api.readinessProbe(r) },
        // The operator console's page and files (Routes/ConsoleRoutes.swift): open, they hold no data.
        AdminRoute(.GET, "/", open: true) { api, r in api.consoleAsset(r) },
        AdminRoute(.GET, "/console/{file}", open: true) { api, r in api.consoleAsset(r) },
        AdminRoute(.GET, "/v1/sources") { api, r in try await api.listSources(r) },
        AdminRoute(.GET, "/v1/destinations") { api, r in try await api.listDestinations(r) },
        AdminRoute(.POST, "/v1/destinations/{name}/pause") { api, r in try await api.pauseDestination(r) },
        AdminRoute(.POST, "/v1/destinations/{name}/resume") { api, r in try await api.resumeDestination(r) },
        AdminRoute(.GET, "/v1/events") { api, r in try await api.listEvents(r) },
        AdminRoute(.GET, "/v1/events/{id}") { api, r in try await api.showEvent(r) },
        AdminRoute(.GET, "/v1/events/{id}/body") { api, r in try await api.eventBody(r) },
        AdminRoute(.POST, "/v1/events/{id}/replay") { api, r in try await api.replayEvent(r) },
        AdminRoute(.POST, "/v1/replays") { api, r in try await api.bulkReplay(r) },
        AdminRoute(.GET, "/v1/dead-letters") { api, r in try await api.listDeadLetters(r) },
        AdminRoute(.POST, "/v1/dead-letters/redeliver") { api, r in try await api.redeliverDeadLetters(r) },
        AdminRoute(.POST, "/v1/dead-letters/{id}/redeliver") { api, r in try await api.redeliverDeadLetter(r) },
        AdminRoute(.DELETE, "/v1/dead-letters/{id}") { api, r in try await api.discardDeadLetter(r) },
        AdminRoute(.GET, "/v1/quarantine") { api, r in try await api.listQuarantine(r) },
        AdminRoute(.POST, "/v1/quarantine/readmit") { api, r in try await api.readmitAllQuarantined(r) },
        AdminRoute(.GET, "/v1/quarantine/{id}") { api, r in try await api.showQuarantined(r) },
        AdminRoute(.DELETE, "/v1/quarantine/{id}") { api, r in try await api.discardQuarantined(r) },
        AdminRoute(.POST, "/v1/quarantine/{id}/readmit") { api, r in try await api.readmitQuarantined(r) },
        // The console's (Routes/StatsRoutes.swift, TailRoutes.swift, ConsoleSupportRoutes.swift).
        AdminRoute(.GET, "/v1/stats") { api, r in try await api.stats(r) },
        AdminRoute(.GET, "/v1/tail") { api, r in try await api.tail(r) },
        AdminRoute(.GET, "/v1/events/{id}/cloudevent") { api, r in try await api.cloudEvent(r) },
        AdminRoute(.GET, "/v1/quarantine/{id}/verdict") { api, r in try await api.quarantineVerdict(r) },
        AdminRoute(.GET, "/v1/streams") { api, r in try await api.listStreams(r) },
        AdminRoute(.GET, "/v1/streams/{name}/events", access: .consumer) { api, r in try await api.streamEvents(r) },
        AdminRoute(.POST, "/v1/streams/{name}/ack", access: .consumer) { api, r in try await api.acknowledgeStream(r) },
        AdminRoute(.GET, "/v1/streams/{name}/sse", access: .consumer) { api, r in try await api.streamSSE(r) },
        AdminRoute(.GET, "/v1/streams/{name}/groups") { api, r in try await api.listStreamGroups(r) },
        AdminRoute(.POST, "/v1/streams/{name}/groups/{group}/rewind") { api, r in try await api.rewindStreamGroup(r) },
        AdminRoute(.DELETE, "/v1/streams/{name}/groups/{group}") { api, r in try await api.deleteStreamGroup(r) },
    ])

    /// Answers one request: the token (unless the path is open), then the table: `404` for a path it does not
    /// know, `405` with `Allow` for a method the path does not take. A handler's `Refusal` becomes its error body;
    /// any other error is the store's, `503`.
    public func handle(_ request: SimpleRequest) async -> SimpleResponse {
        var parsed = AdminRequest(request)
        if requiresToken, !authorized(method: parsed.method, path: parsed.path, request.headers) { return Self.unauthorized }
        switch Self.router.resolve(method: parsed.method, path: parsed.path) {
        case .notFound:
            return .json(404, ErrorBody("not_found"))
        case .methodNotAllowed(let allow):
            var response = SimpleResponse.json(405, ErrorBody("method_not_allowed"))
            response.headers.append(("Allow", allow.joined(separator: ", ")))
            return response
        case .route(let route, let parameters):
            parsed.parameters = parameters
            do {
                return try await route.handler(self, parsed)
            } catch let refusal as Refusal {
                return .json(refusal.status, refusal.body)
            } catch {
                return .json(503, ErrorBody("store_unavailable"))
            }
        }
    }

    /// Whether the request may reach its route: open routes always; a stream's consumer routes with one of that
    /// stream's tokens (an unknown stream: any admin or stream token, so that the caller learns `unknown_stream` and
    /// nobody else learns which streams exist); everything else, including paths no route takes, with an admin token.
    private func authorized(method: String, path: [String], _ headers: HTTPHeaders) -> Bool {
        let resolved = runtime.current.resolved
        switch Self.router.resolve(method: method, path: path) {
        case .route(let route, _) where route.access == .open:
            return true
        case .route(let route, let parameters) where route.access == .consumer:
            if let stream = resolved.streams[parameters["name"] ?? ""] { return Self.bearer(headers, matchesAnyOf: stream.tokens) }
            return Self.bearer(headers, matchesAnyOf: resolved.adminTokens + resolved.streams.values.flatMap(\.tokens))
        default:
            if Self.router.isOpen(path) { return true }
            return Self.bearer(headers, matchesAnyOf: resolved.adminTokens)
        }
    }

    /// Every token is compared (no early exit), by digest, so timing reveals neither which one nor its length.
    static func bearer(_ headers: HTTPHeaders, matchesAnyOf tokens: [String]) -> Bool {
        guard let header = headers.first(name: "Authorization"), header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst(7).utf8)
        var ok = false
        for token in tokens where secretsEqual(Array(token.utf8), given) { ok = true }
        return ok
    }

    /// What stream consumers did that the metrics count.
    public struct StreamObserver: Sendable {
        /// (stream, group, how many): entries served again because their lease ran out unacknowledged.
        public var leaseExpired: @Sendable (String, String, Int) -> Void
        public init(leaseExpired: @escaping @Sendable (String, String, Int) -> Void = { _, _, _ in }) { self.leaseExpired = leaseExpired }
    }

    /// Runs a store call on the store's threads.
    func store<T: Sendable>(_ body: @escaping @Sendable (any Store) throws -> T) async throws -> T {
        let store = self.store
        return try await storeThreads.runIfActive { try body(store) }
    }
}
