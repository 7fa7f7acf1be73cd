import InletCore

extension AdminAPI {
    /// `GET /v1/sources`: each source with its secrets' labels, windows and use in the last 24 hours; never a value.
    func listSources(_: AdminRequest) async throws -> SimpleResponse {
        let now = clock.now()
        let warnUntil = now + Int64(runtime.current.resolved.config.secretExpiryWarningDays) * 86_400_000
        let usage = try await store { try $0.secretUsage(since: now - 86_400_000) }
        let sources = runtime.current.resolved.sources.map { s in
            Source(name: s.name, path: s.path, provider: s.profile.name, destinations: s.destinations, secrets: s.keys.map { k in
                let used = usage.first { $0.source == s.name && $0.secretLabel == k.label }
                let state: SecretUsage.State = k.window.isActive(at: now) ? .active : (k.window.hasExpired(at: now) ? .expired : .notYetValid)
                return SecretUsage(label: k.label, state: state, verified24h: used?.verifiedSince ?? 0,
                                   notBefore: k.window.notBefore.map(RFC3339.format), expiresAt: k.window.expiresAt.map(RFC3339.format),
                                   lastVerifiedAt: used.map { RFC3339.format($0.lastVerifiedAt) },
                                   expiringSoon: k.window.expiresAt.map { $0 > now && $0 <= warnUntil } ?? false)
            })
        }
        return .json(200, SourceList(sources: sources))
    }
}
