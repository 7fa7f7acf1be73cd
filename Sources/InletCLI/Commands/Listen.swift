import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import NIOCore
import NIOHTTP1

/// `inlet listen`: a developer's laptop consumes a stream and forwards each event to a local URL. Unlike tunnels that
/// push to the laptop, it pulls as a consumer group with a durable cursor: an event is acknowledged only after the
/// local server answered 2xx, so nothing is lost across a local server that is down, a gateway restart, a laptop
/// asleep or `inlet listen` itself restarted (the group's cursor is on the gateway).
struct Listen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull a stream's events and forward each to a local URL (acknowledged only after a 2xx).",
        discussion: """
            inlet listen ledger --forward-to http://localhost:3000/webhooks
            inlet listen ledger --forward-to http://localhost:3000/stripe --payload raw --resign
            inlet listen ledger --forward-to http://localhost:3000/webhooks --admin https://inlet.internal:9190 --token env:LEDGER_TOKEN
            The consumer token is one of the stream's `tokens` (--token, or $INLET_STREAM_TOKEN; env:/file: references work).
            The gateway's admin listener is --admin, $INLET_ADMIN_URL, or the [admin] listen address of the local config.
            `--payload cloudevents` (default) posts each event as a structured CloudEvent; `raw` sends the provider's
            original request (method, headers, exact bytes), so local code can verify it with the provider's SDK;
            `--resign` signs it again with the source's current secret from the local config (fresh timestamp).
            Events are forwarded in stream order, one at a time; a failed forward is retried with backoff until it
            succeeds (Ctrl-C stops; the unacknowledged event is served again on the next start).
            """)

    enum Payload: String, ExpressibleByArgument, CaseIterable { case cloudevents, raw }

    @Argument(help: "The stream to consume.") var stream: String
    @Option(name: .customLong("forward-to"), help: "Local URL each event is POSTed to.") var forwardTo: String
    @Option(help: "Consumer group (default: listen-<hostname>, so a restart resumes where it stopped).") var group: String?
    @Option(help: "What is forwarded: cloudevents or raw.") var payload: Payload = .cloudevents
    @Flag(help: "With --payload raw: sign the request again with the source's current secret.") var resign = false
    @Option(help: "Where a new group starts: oldest (every retained event) or now.") var start: String = "oldest"
    @Option(help: "Events per pull (1-1000).") var max: Int = 100
    @Option(name: .customLong("admin"), help: "The gateway's admin URL (default: $INLET_ADMIN_URL, else the local config's [admin] listen).")
    var adminURL: String?
    @Option(help: "The stream's consumer token: the token, env:NAME or file:PATH (default: $INLET_STREAM_TOKEN).") var token: String?
    @OptionGroup var options: ConfigOption
    @Option(help: "Stop after forwarding this many events (for scripts and tests).") var count: Int?

    func validate() throws {
        if resign && payload != .raw { throw ValidationError("--resign only applies to --payload raw") }
        if !(1...1000).contains(max) { throw ValidationError("--max must be 1-1000") }
        if start != "oldest" && start != "now" { throw ValidationError("--start is oldest or now") }
        guard let url = URL(string: forwardTo), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("--forward-to must be an http(s) URL, e.g. http://localhost:3000/webhooks")
        }
        if let group, !RouteTarget.isValidName(group) { throw ValidationError("--group: 1-64 characters of A-Z a-z 0-9 . _ -") }
    }

    func run() async throws {
        let consumer = StreamConsumer(baseURL: try gatewayURL(), stream: stream, token: try consumerToken(), client: OutboundHTTP.shared)
        let group = self.group ?? StreamConsumer.defaultGroup(hostname: ProcessInfo.processInfo.hostName)
        let resolved = resign ? try options.resolve() : nil
        let forwarder = LocalForwarder(url: forwardTo, payload: payload, resolved: resolved, client: LocalForwarder.client)
        print("listening to stream \(stream) as group \(group); forwarding to \(forwardTo) (\(payload.rawValue)). Ctrl-C to stop.")
        var forwarded = 0
        var pullBackoff = Backoff()
        while count.map({ forwarded < $0 }) ?? true {
            let batch: StreamBatch
            do {
                batch = try await consumer.pull(group: group, max: Swift.min(max, count.map { $0 - forwarded } ?? max), waitSeconds: 30,
                                                start: start, includeRaw: payload == .raw)
                pullBackoff.reset()
            } catch let error as StreamConsumer.Failure where error.isPermanent {
                throw CLIError(error.description)
            } catch {
                let delay = pullBackoff.next()
                print("\(Self.timestamp()) gateway unreachable (\(error)); retrying in \(Backoff.describe(delay))")
                try await Task.sleep(for: delay)
                continue
            }
            batchLoop: for item in batch.items {
                var forwardBackoff = Backoff()
                while true {
                    let started = ContinuousClock.now
                    let outcome = await forwarder.forward(item)
                    let took = Backoff.describe(ContinuousClock.now - started)
                    if case .delivered(let status) = outcome {
                        print("\(Self.timestamp()) --> \(item.summary)  <-- \(status) (\(took))")
                        break
                    }
                    let delay = forwardBackoff.next()
                    print("\(Self.timestamp()) --> \(item.summary)  <-- \(outcome.description); waiting for \(forwardTo), retry in \(Backoff.describe(delay))")
                    try await Task.sleep(for: delay)
                }
                // One acknowledgement per forwarded event: a kill between two loses nothing and repeats at most the
                // event whose forward had not been acknowledged yet.
                let acknowledged = try await acknowledge(item, consumer: consumer, group: group)
                forwarded += 1
                // The gateway refused the acknowledgement as expired (409): the rest of this batch may be another
                // worker's now, so pull afresh. (Acknowledging by sequence is accepted after a lease ran out; the
                // gateway answers 409 only where it cannot take it.)
                if !acknowledged { break batchLoop }
            }
        }
    }

    /// Acknowledges one forwarded event; a gateway that is down is waited for (the event was delivered, so giving up
    /// would forward it again on the next start). False: the gateway no longer holds the lease (409).
    private func acknowledge(_ item: StreamItem, consumer: StreamConsumer, group: String) async throws -> Bool {
        var backoff = Backoff()
        while true {
            do {
                try await consumer.acknowledge(group: group, sequences: [item.sequence])
                return true
            } catch StreamConsumer.Failure.transient(409, let code) {
                print("\(Self.timestamp()) lease of \(item.sequence) expired (\(code)): it will be served again; pulling afresh")
                return false
            } catch let error as StreamConsumer.Failure where error.isPermanent {
                throw CLIError(error.description)
            } catch {
                let delay = backoff.next()
                print("\(Self.timestamp()) cannot acknowledge \(item.sequence) (\(error)); retrying in \(Backoff.describe(delay))")
                try await Task.sleep(for: delay)
            }
        }
    }

    private func gatewayURL() throws -> String {
        if let url = adminURL ?? ProcessInfo.processInfo.environment["INLET_ADMIN_URL"] { return url }
        guard let admin = try options.load().admin else {
            throw CLIError("no gateway to pull from: give --admin URL (or $INLET_ADMIN_URL), or a config with an [admin] listener")
        }
        let host = admin.host == "0.0.0.0" || admin.host == "::" ? "127.0.0.1" : admin.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(admin.port)"
    }

    private func consumerToken() throws -> String {
        guard let reference = token ?? ProcessInfo.processInfo.environment["INLET_STREAM_TOKEN"] else {
            throw CLIError("the stream's consumer token is needed: --token, or $INLET_STREAM_TOKEN")
        }
        return try resolveTokenReference(reference, noun: "stream token")
    }

    static func timestamp() -> String { RFC3339.format(SystemClock().now()) }
}

/// Retry delays for the listener: 0.5 s doubling to 30 s. A local server restarting is back within a few seconds;
/// one down for long is asked twice a minute.
struct Backoff {
    private(set) var attempt = 0

    mutating func next() -> Duration {
        let millis = Swift.min(30_000, 500 << attempt)
        // Held at the step that reaches the 30 s cap: a wait of any length never grows the counter further.
        if attempt < 6 { attempt += 1 }
        return .milliseconds(millis)
    }

    mutating func reset() { attempt = 0 }

    static func describe(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms < 10_000 ? "\(ms) ms" : "\(ms / 1000) s"
    }
}

/// One event of a pulled batch: its sequence, the CloudEvent's exact bytes, and the provider's request when asked for.
struct StreamItem: Sendable, Equatable {
    var sequence: Int64
    var cloudEvent: [UInt8]
    var raw: RawRequest?

    struct RawRequest: Sendable, Equatable {
        var method: String
        var headers: [(String, String)]
        var body: [UInt8]

        static func == (l: RawRequest, r: RawRequest) -> Bool {
            l.method == r.method && l.body == r.body && l.headers.map { "\($0.0):\($0.1)" } == r.headers.map { "\($0.0):\($0.1)" }
        }
    }

    /// `stripe invoice.paid evt_… (seq 17)`: the line the listener prints.
    var summary: String {
        let source = sourceName ?? JSONScanner.scalarText(at: JSONPointer("/source")!, in: cloudEvent)
        let type = JSONScanner.scalarText(at: JSONPointer("/type")!, in: cloudEvent)
        let id = JSONScanner.scalarText(at: JSONPointer("/id")!, in: cloudEvent)
        return "\(source ?? "-") \(type ?? "-") \(id ?? "-") (seq \(sequence))"
    }

    /// The source's name and the provider's event ID, from the CloudEvent (what `--resign` signs with).
    var sourceName: String? {
        JSONScanner.scalarText(at: JSONPointer("/source")!, in: cloudEvent).flatMap(OutboundEvent.sourceName(fromCloudEventSource:))
    }
    var eventKey: String? { JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: cloudEvent) }
}

struct StreamBatch: Sendable, Equatable {
    var items: [StreamItem]

    /// Reads the pull endpoint's answer. The CloudEvents are taken as the exact bytes the gateway wrote (a decode and
    /// re-encode could change numbers in the provider's payload).
    static func parse(_ body: [UInt8]) throws -> StreamBatch {
        guard let events = try? JSONScanner.find(JSONPointer("/events")!, in: body), events.kind == .array else {
            throw StreamConsumer.Failure.malformedAnswer("no events array")
        }
        var items: [StreamItem] = []
        var index = 0
        while let event = try? JSONScanner.find(JSONPointer(tokens: ["events", String(index), "event"]), in: body) {
            let base = ["events", String(index)]
            guard event.kind == .object,
                  let sequenceText = JSONScanner.scalarText(at: JSONPointer(tokens: base + ["sequence"]), in: body),
                  let sequence = Int64(sequenceText), sequence >= 0 else {
                throw StreamConsumer.Failure.malformedAnswer("event \(index) has no sequence or CloudEvent")
            }
            var raw: StreamItem.RawRequest?
            if let method = JSONScanner.scalarText(at: JSONPointer(tokens: base + ["raw", "method"]), in: body) {
                let encoded = JSONScanner.scalarText(at: JSONPointer(tokens: base + ["raw", "body_base64"]), in: body) ?? ""
                guard let bytes = Base64.decode(encoded),
                      let headerSlice = try? JSONScanner.find(JSONPointer(tokens: base + ["raw", "headers"]), in: body),
                      let headers = JSONScanner.stringPairs(Array(body[headerSlice.range])) else {
                    throw StreamConsumer.Failure.malformedAnswer("event \(index)'s raw request is malformed")
                }
                raw = .init(method: method, headers: headers, body: bytes)
            }
            items.append(StreamItem(sequence: sequence, cloudEvent: Array(body[event.range]), raw: raw))
            index += 1
        }
        return StreamBatch(items: items)
    }
}

/// The stream consumer API of a gateway (the admin listener's `/v1/streams/{name}/…`), as a client.
struct StreamConsumer: Sendable {
    let baseURL: String
    let stream: String
    let token: String
    let client: HTTPClient

    enum Failure: Error, CustomStringConvertible, Equatable {
        /// The gateway answered with a refusal that retrying will not change (wrong token, unknown stream, bad parameter).
        case refused(status: Int, code: String)
        /// The gateway answered 5xx or a 409 for an expired lease: worth retrying.
        case transient(status: Int, code: String)
        case malformedAnswer(String)

        var isPermanent: Bool {
            if case .refused = self { return true }
            return false
        }

        var description: String {
            switch self {
            case .refused(401, _): return "the gateway refused the stream token (401): check --token against the stream's tokens"
            case .refused(404, let code): return "the gateway has no such stream (404 \(code))"
            case .refused(let status, let code): return "the gateway refused the request: \(status) \(code)"
            case .transient(let status, let code): return "\(status) \(code)"
            case .malformedAnswer(let why): return "the gateway's answer is malformed: \(why)"
            }
        }
    }

    /// `listen-<hostname>` cut to what a group name allows.
    static func defaultGroup(hostname: String) -> String {
        let cleaned = String(hostname.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") ? c : "-"
        }.prefix(57))
        return "listen-" + (cleaned.isEmpty ? "local" : cleaned)
    }

    func pull(group: String, max: Int, waitSeconds: Int, start: String, includeRaw: Bool) async throws -> StreamBatch {
        var pairs: [(String, String?)] = [("group", group), ("max", String(max)), ("wait", String(waitSeconds)), ("start", start)]
        if includeRaw { pairs.append(("include", "raw")) }
        let body = try await call(.GET, "/events" + queryString(pairs), timeout: .seconds(Int64(waitSeconds) + 30))
        return try StreamBatch.parse(body)
    }

    func acknowledge(group: String, sequences: [Int64]) async throws {
        let payload = try JSONSerialization.data(withJSONObject: ["group": group, "sequences": sequences.map { NSNumber(value: $0) }] as [String: Any])
        _ = try await call(.POST, "/ack", body: Array(payload), timeout: .seconds(30))
    }

    private func call(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, timeout: TimeAmount) async throws -> [UInt8] {
        let escaped = stream.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? stream
        var request = HTTPClientRequest(url: baseURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v1/streams/\(escaped)" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: timeout)
        let answer = Array(buffer: try await response.body.collect(upTo: 64 << 20))
        let status = Int(response.status.code)
        guard status >= 300 else { return answer }
        let code = JSONScanner.scalarText(at: JSONPointer("/error")!, in: answer) ?? "-"
        if status == 409 || status == 429 || status >= 500 { throw Failure.transient(status: status, code: code) }
        throw Failure.refused(status: status, code: code)
    }
}

/// Sends one stream item to the developer's local server.
struct LocalForwarder: Sendable {
    /// A refused connection fails the attempt at once (the listener prints what it waits for and backs off), instead
    /// of the client retrying the connection inside one attempt until the local server is back.
    static let client: HTTPClient = OutboundHTTP.makeClient {
        $0.timeout = .init(connect: .seconds(5), read: .seconds(30))
        $0.connectionPool.retryConnectionEstablishment = false
    }

    let url: String
    let payload: Listen.Payload
    /// The local config, when `--resign` signs raw requests again.
    let resolved: ResolvedConfig?
    let client: HTTPClient

    enum Outcome: Equatable, CustomStringConvertible {
        case delivered(status: Int)
        case refused(status: Int)
        case unreachable(String)

        var description: String {
            switch self {
            case .delivered(let s), .refused(let s): return "\(s)"
            case .unreachable(let why): return why
            }
        }
    }

    /// The request the local server receives for `item`: method, headers and body.
    func request(for item: StreamItem, now: EpochMillis) throws -> (method: String, headers: [(String, String)], body: [UInt8]) {
        switch payload {
        case .cloudevents:
            return ("POST", [("Content-Type", CloudEvent.jsonContentType), ("User-Agent", "inlet-listen/\(InletVersion.current)")], item.cloudEvent)
        case .raw:
            guard let raw = item.raw else { throw CLIError("the gateway sent no raw request for sequence \(item.sequence)") }
            var signing: RawResend.Signing?
            if let resolved {
                guard let name = item.sourceName, let source = resolved.sources.first(where: { $0.name == name }),
                      let key = source.keys.first(where: { $0.window.isActive(at: now) }) else {
                    throw CLIError("sequence \(item.sequence): its source has no active secret in the local config to sign with")
                }
                signing = RawResend.Signing(profile: source.profile, key: key.keyBytes, eventID: item.eventKey ?? "", nowSeconds: now / 1000)
            }
            let headers = RawResend.headers(original: raw.headers, body: raw.body, method: raw.method, url: url, resign: signing)
            return (raw.method, headers, raw.body)
        }
    }

    func forward(_ item: StreamItem) async -> Outcome {
        do {
            let built = try request(for: item, now: SystemClock().now())
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: built.method)
            for (name, value) in built.headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: built.body))
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            return (200..<300).contains(status) ? .delivered(status: status) : .refused(status: status)
        } catch {
            return .unreachable("\(error)")
        }
    }
}
