import InletCore
import InletStore

extension IngestRecord {
    /// The store record for an admitted request: what ingress commits, and what a re-admitted quarantine entry commits.
    static func admitted(_ admitted: AdmittedEvent, request: IncomingRequest, source: ResolvedSource, snapshot: ConfigSnapshot,
                         receivedAt: EpochMillis) -> IngestRecord {
        // A token scheme's secret, or a bearer JWT, is never stored: the headers and query keep a marker in its place.
        let stored = CredentialRedaction.redactingStoredEvent(request, profile: source.profile)
        var record = IngestRecord(
            id: InletEventID.make(millis: receivedAt), source: source.name, provider: source.profile.name,
            eventKey: admitted.eventKey, keyOrigin: admitted.keyOrigin, eventType: admitted.eventType,
            receivedAt: receivedAt, providerTimestamp: admitted.providerTimestamp,
            peer: request.peer?.description, clientAddress: admitted.clientAddress?.description,
            method: request.method, path: request.path, query: stored.query, headers: stored.headers,
            body: request.body, secretLabel: admitted.secretLabel, destinations: admitted.destinations.filter { !RouteTarget.isStream($0) })
        // `stream:NAME` targets are appended to the stream in the same commit; the rest get queue rows.
        record.streams = admitted.destinations.compactMap(RouteTarget.streamName)
        for d in record.destinations {
            if let ordering = snapshot.destination(d)?.config.ordering { record.orderingKeys[d] = ordering.key(source: source.name, body: request.body) }
        }
        return record
    }
}
