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
        record.authenticity = admitted.authenticity
        // `stream:NAME` targets are appended to the stream in the same commit; the rest get queue rows.
        record.streams = admitted.destinations.compactMap(RouteTarget.streamName)
        for d in record.destinations {
            if let ordering = snapshot.destination(d)?.config.ordering { record.orderingKeys[d] = ordering.key(source: source.name, body: request.body) }
        }
        return record
    }

    /// The records for an admitted request: one, or one per item of a split batch, each with its own ID, key, type,
    /// routes and body (the item's exact bytes), all naming the batch whose request the first accepted one stores.
    static func admittedAll(_ admitted: AdmittedEvent, request: IncomingRequest, source: ResolvedSource, snapshot: ConfigSnapshot,
                            receivedAt: EpochMillis) -> [IngestRecord] {
        guard !admitted.items.isEmpty else { return [Self.admitted(admitted, request: request, source: source, snapshot: snapshot, receivedAt: receivedAt)] }
        let batchID = "req_" + InletEventID.make(millis: receivedAt).dropFirst(4)
        return admitted.items.enumerated().map { n, item in
            var one = admitted
            one.eventKey = item.eventKey
            one.keyOrigin = item.keyOrigin
            one.eventType = item.eventType
            one.destinations = item.destinations
            one.items = []
            var itemRequest = request
            itemRequest.body = Array(request.body[item.range])
            var record = Self.admitted(one, request: itemRequest, source: source, snapshot: snapshot, receivedAt: receivedAt)
            record.batch = BatchReference(id: batchID, index: n, count: admitted.items.count, body: request.body)
            return record
        }
    }
}
