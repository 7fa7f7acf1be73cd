import Benchmark
import Foundation
import InletCore
import InletStore

// Micro-benchmarks of Inlet's per-request work (issue 6). Each benchmark times one operation per iteration
// unless its name says otherwise ("×N" loops N times per iteration; benchmarks/load/run-micro.sh divides by N).
//
// Names are "<group> <case> <size>" and are read by benchmarks/load/run-micro.sh, which derives ns per KB and ns per record
// from them: keep sizes as "1KB", "16KB", "256KB" and batches as "batch=N".

/// How long each benchmark runs: `INLET_BENCH_MAX_MS` (milliseconds), default 400.
private let maxDuration: Duration = .milliseconds(Int(ProcessInfo.processInfo.environment["INLET_BENCH_MAX_MS"] ?? "") ?? 400)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        // No CPU-time metric: it reads /proc/self/stat around every iteration, which took more time than most
        // operations here and left the caches cold for the next one. Wall clock is taken tightly around the closure.
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 3,
        maxDuration: maxDuration,
        maxIterations: 1_000_000
    )
    signatureVerification()
    admission()
    signatureHeaderParsing()
    httpIngress()
    cloudEventEncoding()
    jsonPointerExtraction()
    groupCommitBatches()
}

// MARK: - Signature verification, per scheme family and body size

/// One provider per distinct scheme family, with the shipped profile of `providers/`.
private let schemeFamilies: [(provider: String, family: String)] = [
    ("stripe", "key-value t=,v1= HMAC-SHA256 hex over {t}.{body}"),
    ("github", "plain sha256= HMAC-SHA256 hex over {body}"),
    ("standard-webhooks", "versioned list v1, HMAC-SHA256 base64 over {id}.{t}.{body}"),
    ("shopify", "plain HMAC-SHA256 base64 over {body}"),
    ("slack", "plain v0= HMAC-SHA256 hex over v0:{t}:{body}"),
    ("twilio", "HMAC-SHA1 base64 over URL + sorted form params"),
    ("discord", "Ed25519 hex over {t}{body}"),
    ("sendgrid", "ECDSA P-256 base64 DER over {t}{body}"),
]

private let bodySizes: [(label: String, bytes: Int)] = [("1KB", 1024), ("16KB", 16 * 1024), ("256KB", 256 * 1024)]

private func signatureVerification() {
    for (provider, _) in schemeFamilies {
        for (label, bytes) in bodySizes {
            let body = provider == "twilio" ? Fixtures.formBody(size: bytes) : Fixtures.jsonBody(size: bytes)
            Benchmark("verify \(provider) \(label)") { benchmark, signed in
                for _ in benchmark.scaledIterations { blackHole(signed.verify()) }
            } setup: {
                SignedCase(provider: provider, body: body)
            }
        }
    }
}

// MARK: - The whole admission decision

/// `ResolvedSource.admit`, what the ingress handler calls per request: allowlist, body limit, signature with
/// freshness, event ID and type extraction and routing, for the shared 1.3 KB Stripe body.
private func admission() {
    for provider in ["stripe", "github", "standard-webhooks"] {
        Benchmark("admit \(provider) 1.3KB") { benchmark, state in
            let (policy, request) = state
            for _ in benchmark.scaledIterations { blackHole(policy.admit(request, now: Fixtures.now)) }
        } setup: { () -> (ResolvedSource, IncomingRequest) in
            let signed = SignedCase(provider: provider, body: Fixtures.eventBody)
            var request = signed.request
            if provider == "github" {  // GitHub names its delivery and event in headers, outside the signature
                request.headers.append("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
                request.headers.append("X-GitHub-Event", "issues")
            }
            let policy = ResolvedSource(name: provider, path: "/hooks/\(provider)", profile: signed.profile, keys: signed.keys,
                                      verification: signed.options, destinations: ["orders"])
            guard case .admit(let event) = policy.admit(request, now: Fixtures.now), event.keyOrigin == .provider, event.eventType != nil
            else { fatalError("\(provider): the signed 1.3 KB body is not admitted with its event ID and type") }
            return (policy, request)
        }
    }
}

// MARK: - HTTP request decoding on ingress

/// A 1.3 KB Stripe delivery through NIO's HTTP/1.1 decoder, into the `IncomingRequest` admission reads; and the same
/// through Inlet's whole server pipeline (pipelining handler, response encoder) including the 202 it writes.
private func httpIngress() {
    Benchmark("http decode request 1.3KB") { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(try! fixture.decodeOne()) }
    } setup: {
        try HTTPIngressFixture(body: Fixtures.eventBody, pipeline: false)
    }
    Benchmark("http decode request + encode 202 1.3KB") { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(try! fixture.decodeOne()) }
    } setup: {
        try HTTPIngressFixture(body: Fixtures.eventBody, pipeline: true)
    }
}

// MARK: - Signature header parsing alone

/// `SignatureHeaderParser.parse`, the step of `verify` that splits the header into signatures and fields; run
/// 1,000 times per iteration because one parse is well under a microsecond.
private func signatureHeaderParsing() {
    for provider in ["stripe", "github", "standard-webhooks", "slack"] {
        Benchmark("parse \(provider) header ×1000") { benchmark, signed in
            for _ in 0..<1000 { blackHole(SignatureHeaderParser.parse(signed.signatureHeader, format: signed.format)) }
        } setup: {
            SignedCase(provider: provider, body: Fixtures.jsonBody(size: 1024))
        }
    }
    // A Stripe header during a secret rotation: two v1 signatures and a v0 the parser skips.
    Benchmark("parse stripe header (rotation: 2×v1 + v0) ×1000") { benchmark, header in
        let format = Fixtures.profile("stripe").signatures[0].format
        for _ in 0..<1000 { blackHole(SignatureHeaderParser.parse(header, format: format)) }
    } setup: { () -> String in
        let one = SignedCase(provider: "stripe", body: Fixtures.jsonBody(size: 1024)).signatureHeader  // t=…,v1=<hex>
        let signature = one.split(separator: "=").last!
        return one + ",v1=" + String(repeating: "0f", count: 32) + ",v0=" + signature
    }
}

// MARK: - CloudEvents encoding, as the delivery path builds each request

private struct DeliveryInput {
    let eventID: String
    let provider: String
    let source: String
    let eventKey: String
    let type: String
    let receivedAt: EpochMillis
    let body: [UInt8]
    let signer: StandardWebhooksSigner

    static func make() -> DeliveryInput {
        let body = Fixtures.eventBody
        let key = JSONScanner.scalarText(at: JSONPointer("/id")!, in: body)!
        let type = JSONScanner.scalarText(at: JSONPointer("/type")!, in: body)!
        let signer = try! StandardWebhooksSigner(secrets: ["whsec_" + Base64.encode((0..<32).map { UInt8($0 &* 5 &+ 1) })])
        return DeliveryInput(eventID: InletEventID.make(millis: Fixtures.now), provider: "stripe", source: "stripe", eventKey: key,
                             type: type, receivedAt: Fixtures.now, body: body, signer: signer)
    }

    /// The structured-mode document, built as `DeliveryService.payload` does for a `cloudevents` destination.
    @inline(__always)
    func envelope(attempt: Int) -> [UInt8] {
        let extensions = [("inletprovider", provider), ("inleteventkey", eventKey), ("inletattempt", String(attempt))]
        return CloudEvent(id: eventID, source: "/sources/\(source)", type: type, time: receivedAt, body: body,
                          bodyContentType: "application/json", extensions: extensions).encodeJSON()
    }
}

private func cloudEventEncoding() {
    Benchmark("cloudevent envelope 1.3KB") { benchmark, input in
        for _ in benchmark.scaledIterations { blackHole(input.envelope(attempt: 1)) }
    } setup: {
        DeliveryInput.make()
    }
    Benchmark("cloudevent signature 1.3KB") { (benchmark: Benchmark, state: (DeliveryInput, [UInt8])) in
        for _ in benchmark.scaledIterations {
            blackHole(state.0.signer.signature(id: state.0.eventID, timestampSeconds: Fixtures.timestampSeconds, body: state.1))
        }
    } setup: { () -> (DeliveryInput, [UInt8]) in
        let input = DeliveryInput.make()
        return (input, input.envelope(attempt: 1))
    }
    Benchmark("cloudevent envelope+signature 1.3KB") { benchmark, input in
        for _ in benchmark.scaledIterations {
            let body = input.envelope(attempt: 1)
            blackHole(input.signer.signature(id: input.eventID, timestampSeconds: Fixtures.timestampSeconds, body: body))
        }
    } setup: {
        DeliveryInput.make()
    }
}

// MARK: - JSON pointer extraction

private func jsonPointerExtraction() {
    Benchmark("json id+type 1.3KB") { (benchmark: Benchmark, state: ([UInt8], JSONPointer, JSONPointer)) in
        // Stripe's profile: id = json:/id, type = json:/type, each found by its own scan, as admission does.
        let (body, id, type) = state
        for _ in benchmark.scaledIterations {
            blackHole(JSONScanner.scalarText(at: id, in: body))
            blackHole(JSONScanner.scalarText(at: type, in: body))
        }
    } setup: { () -> ([UInt8], JSONPointer, JSONPointer) in
        let event = Fixtures.profile("stripe").event
        guard case .json(let id)? = event.idSources.first, case .json(let type)? = event.typeSources.first else {
            fatalError("stripe's event id and type are not JSON pointers")
        }
        precondition(JSONScanner.scalarText(at: id, in: Fixtures.eventBody) != nil && JSONScanner.scalarText(at: type, in: Fixtures.eventBody) != nil)
        return (Fixtures.eventBody, id, type)
    }
    // /data/object/customer_email: three levels down, past most of the document.
    Benchmark("json deep pointer 1.3KB") { benchmark, body in
        let pointer = JSONPointer("/data/object/customer_email")!
        for _ in benchmark.scaledIterations { blackHole(JSONScanner.scalarText(at: pointer, in: body)) }
    } setup: { () -> [UInt8] in
        let body = Fixtures.eventBody
        precondition(JSONScanner.scalarText(at: JSONPointer("/data/object/customer_email")!, in: body) != nil)
        return body
    }
    Benchmark("json validate document 1.3KB") { benchmark, body in
        for _ in benchmark.scaledIterations { blackHole(JSONScanner.isValidDocument(body)) }
    } setup: {
        Fixtures.eventBody
    }
    // Admission walks the whole body once for repeated keys wherever it reads a field (duplicate_json_key).
    Benchmark("json duplicate keys 1.3KB") { benchmark, body in
        for _ in benchmark.scaledIterations { blackHole(JSONScanner.firstDuplicateKey(in: body)) }
    } setup: { () -> [UInt8] in
        let body = Fixtures.eventBody
        precondition(JSONScanner.firstDuplicateKey(in: body) == nil)
        return body
    }
}

// MARK: - One group-commit batch

/// A store in a fresh temporary directory, removed at teardown.
private final class StoreFixture: @unchecked Sendable {
    // Only touched by the benchmark runner's one thread, in setup, the measured closure and teardown, in turn.
    var directory: String?
    var store: SQLiteEventStore?
    var next = 0
    let headers = HTTPHeaderList([
        (name: "Host", value: "hooks.example.com"), (name: "User-Agent", value: "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
        (name: "Content-Type", value: "application/json; charset=utf-8"), (name: "Content-Length", value: String(Fixtures.eventBody.count)),
        (name: "Stripe-Signature", value: "t=1700000000,v1=" + String(repeating: "ab", count: 32)),
    ])

    func open(_ durability: StoreDurability) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-micro-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        directory = dir
        store = try SQLiteEventStore(path: dir + "/inlet.sqlite", durability: durability)
        next = 0
    }

    func close() {
        store = nil  // closes the pool
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        directory = nil
    }

    /// `count` new events, each with a unique key and one destination, as the ingress writer builds them.
    func records(_ count: Int) -> [IngestRecord] {
        (0..<count).map { _ in
            next += 1
            return IngestRecord(id: InletEventID.make(millis: Fixtures.now), source: "stripe", provider: "stripe",
                                eventKey: "evt_bench\(next)", keyOrigin: .provider, eventType: "invoice.paid",
                                receivedAt: Fixtures.now, providerTimestamp: Fixtures.timestampSeconds * 1000, peer: "127.0.0.1",
                                clientAddress: "127.0.0.1", method: "POST", path: "/hooks/stripe", query: nil, headers: headers,
                                body: Fixtures.eventBody, secretLabel: "primary", destinations: ["orders"])
        }
    }
}

private func groupCommitBatches() {
    for (name, durability) in [("relaxed", StoreDurability.relaxed), ("fsync", StoreDurability.fsync)] {
        for size in [1, 64, 512] {
            let fixture = StoreFixture()
            Benchmark("store ingest \(name) batch=\(size)", configuration: .init(warmupIterations: 2)) { benchmark in
                let batch = fixture.records(size)
                benchmark.startMeasurement()
                let results = try! fixture.store!.ingest(batch)
                benchmark.stopMeasurement()
                precondition(results.count == size && results.allSatisfy { if case .accepted = $0 { true } else { false } })
            } setup: {
                try fixture.open(durability)
            } teardown: {
                fixture.close()
            }
        }
    }
}
