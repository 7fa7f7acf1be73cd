/// What an internal destination (or a stream's consumer) is told about one stored event: the fields the outbound
/// payload is built from, free of the store's record type.
public struct OutboundEvent: Sendable {
    public var id: String
    public var source: String
    public var provider: String
    public var eventKey: String
    public var eventType: String?
    public var receivedAt: EpochMillis
    public var body: [UInt8]
    public var contentType: String?
    /// The provider's request headers as received (used by the `raw` payload mode).
    public var headers: HTTPHeaderList
    /// What admission verified (`Authenticity`), sent as `inletauthenticity`; nil for events stored before it was.
    public var authenticity: String?

    public init(id: String, source: String, provider: String, eventKey: String, eventType: String?, receivedAt: EpochMillis,
                body: [UInt8], contentType: String?, headers: HTTPHeaderList) {
        self.id = id
        self.source = source
        self.provider = provider
        self.eventKey = eventKey
        self.eventType = eventType
        self.receivedAt = receivedAt
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }

    /// The CloudEvents `type`: the provider's event type, or `<provider>.webhook` when it names none.
    public var cloudEventType: String { eventType ?? "\(provider).webhook" }

    /// The CloudEvents `source`: `/sources/<name>`.
    public var cloudEventSource: String { Self.cloudEventSourcePrefix + source }

    static let cloudEventSourcePrefix = "/sources/"

    /// The Inlet source a CloudEvents `source` names, or nil when it is not one of Inlet's.
    public static func sourceName(fromCloudEventSource text: String) -> String? {
        text.hasPrefix(cloudEventSourcePrefix) ? String(text.dropFirst(cloudEventSourcePrefix.count)) : nil
    }

    /// Inlet's CloudEvents extension attributes, in the order they are written.
    public func cloudEventExtensions(attempt: Int?, isReplay: Bool) -> [(String, String)] {
        var extensions = [("inletprovider", provider), ("inleteventkey", eventKey)]
        if let attempt { extensions.append(("inletattempt", String(attempt))) }
        if let authenticity { extensions.append((Authenticity.cloudEventsAttribute, authenticity)) }
        if isReplay { extensions.append(("inletreplay", "true")) }
        return extensions
    }

    /// The event as a structured-mode CloudEvent (what `payload = "cloudevents"` sends).
    public func cloudEvent(attempt: Int?, isReplay: Bool) -> CloudEvent {
        CloudEvent(id: id, source: cloudEventSource, type: cloudEventType, time: receivedAt, body: body, bodyContentType: contentType,
                   extensions: cloudEventExtensions(attempt: attempt, isReplay: isReplay))
    }
}

/// One delivery attempt's request, minus the URL and method (always `POST` to the destination's URL): the body in the
/// destination's payload mode and every header. Every mode carries the Standard Webhooks signature over the bytes
/// actually sent, and `Inlet-Event-Id` for tracing. Pure, so the exact bytes a destination receives are unit-tested.
public struct OutboundRequest: Sendable, Equatable {
    public var headers: HTTPHeaderList
    public var body: [UInt8]

    public init(event: OutboundEvent, payload: PayloadMode, attempt: Int, deliveryID: Int64, isReplay: Bool, signer: StandardWebhooksSigner,
                timestampSeconds: Int64, userAgent: String) {
        var headers = HTTPHeaderList()
        switch payload {
        case .cloudevents:
            body = event.cloudEvent(attempt: attempt, isReplay: isReplay).encodeJSON()
            headers.append("Content-Type", CloudEvent.jsonContentType)
        case .cloudeventsBinary:
            body = event.body
            headers.append("Content-Type", event.contentType ?? "application/octet-stream")
            headers.append("ce-specversion", "1.0")
            headers.append("ce-id", event.id)
            headers.append("ce-source", event.cloudEventSource)
            headers.append("ce-type", event.cloudEventType)
            headers.append("ce-time", RFC3339.format(event.receivedAt))
            for (k, v) in event.cloudEventExtensions(attempt: attempt, isReplay: isReplay) { headers.append("ce-" + k, v) }
        case .raw:
            // The provider's own headers, minus connection-level ones and any `webhook-*` the internal signature
            // below replaces; its User-Agent is replaced by Inlet's.
            body = event.body
            for h in event.headers {
                let name = h.name.lowercased()
                if HTTPHeaderList.connectionLevel.contains(name) || name.hasPrefix("webhook-") || name == "user-agent" { continue }
                headers.append(h.name, h.value)
            }
        }
        headers.append("User-Agent", userAgent)
        headers.append("webhook-id", event.id)
        headers.append("webhook-timestamp", String(timestampSeconds))
        headers.append("webhook-signature", signer.signature(id: event.id, timestampSeconds: timestampSeconds, body: body))
        headers.append("Inlet-Event-Id", event.id)
        headers.append("Inlet-Delivery-Id", String(deliveryID))
        headers.append("Inlet-Attempt", String(attempt))
        if isReplay { headers.append("Inlet-Replay", "true") }
        self.headers = headers
    }
}
