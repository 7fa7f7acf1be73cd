import AsyncHTTPClient
import Foundation
import InletCore
@testable import InletServer
import InletTesting
import NIOCore
import NIOHTTP1
import Testing

/// The operator console's page and the endpoints behind it: `/` and `/console/*`, `GET /v1/stats`, the live tail
/// (`GET /v1/tail`), the body condition of `GET /v1/events`, and the dry runs and verdicts.
@Suite("Operator console")
struct ConsoleTests {
    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try AdminJSON.decode(type, from: body) }
        var error: String? { (try? decode(AdminAPI.ErrorBody.self))?.error }
    }

    static func call(_ url: String, method: HTTPMethod = .GET, token: String? = "t0k", headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (n, v) in headers { request.headers.add(name: n, value: v) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 8 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
    }

    static func gateway(_ destination: TestDestination, extra: String = "") async throws -> (RunningGateway, String) {
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + adminSection + stripeSource + extra)
        return (gw, "http://127.0.0.1:\(try await gw.gateway.adminPort())")
    }

    @Test func servesThePageWithoutATokenAndRevalidatesByETag() async throws {
        let destination = try await TestDestination()
        let (gw, admin) = try await Self.gateway(destination)
        let page = try await Self.call(admin + "/", token: nil)
        #expect(page.status == 200)
        #expect(page.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
        #expect(page.text.contains(#"<script src="/console/app.js" defer></script>"#))
        #expect(page.headers.first(name: "Cache-Control") == "no-cache")
        let csp = try #require(page.headers.first(name: "Content-Security-Policy"))
        #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"))
        #expect(!csp.contains("unsafe-inline") && !csp.contains("http"))
        let etag = try #require(page.headers.first(name: "ETag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))

        let again = try await Self.call(admin + "/", token: nil, headers: [("If-None-Match", etag)])
        #expect(again.status == 304 && again.body.isEmpty && again.headers.first(name: "ETag") == etag)
        let weak = try await Self.call(admin + "/", token: nil, headers: [("If-None-Match", "\"other\", W/\(etag)")])
        #expect(weak.status == 304)
        #expect(try await Self.call(admin + "/", token: nil, headers: [("If-None-Match", "\"stale\"")]).status == 200)

        let script = try await Self.call(admin + "/console/app.js", token: nil)
        #expect(script.status == 200 && script.headers.first(name: "Content-Type") == "text/javascript; charset=utf-8")
        #expect(script.text.contains("Authorization") && script.headers.first(name: "X-Content-Type-Options") == "nosniff")
        let style = try await Self.call(admin + "/console/console.css", token: nil)
        #expect(style.status == 200 && style.headers.first(name: "Content-Type") == "text/css; charset=utf-8")
        #expect(try await Self.call(admin + "/console/missing.js", token: nil).status == 404)
        #expect(try await Self.call(admin + "/console/..%2Fapp.js", token: nil).status == 404)
        // The page is open; the data is not.
        #expect(try await Self.call(admin + "/v1/stats", token: nil).status == 401)
        #expect(try await Self.call(admin + "/", method: .POST, token: nil).status == 405)
        try await gw.stop()
        await destination.stop()
    }

    @Test func embeddedAssetsMatchTheRepositoryFiles() throws {
        let directory = URL(fileURLWithPath: Repo.root + "/Sources/InletServer/Console")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(files == ConsoleAssets.all.keys.sorted())
        for name in files {
            let bytes = try Array(Data(contentsOf: directory.appendingPathComponent(name)))
            #expect(ConsoleAssets.named(name)?.bytes == bytes, "\(name) is embedded as it is in the repository")
        }
    }

    @Test func ifNoneMatchFollowsTheWeakComparison() {
        #expect(AdminAPI.matches(ifNoneMatch: ["\"a\""], etag: "\"a\""))
        #expect(AdminAPI.matches(ifNoneMatch: ["W/\"a\""], etag: "\"a\""))
        #expect(AdminAPI.matches(ifNoneMatch: ["\"b\" , \"a\""], etag: "\"a\""))
        #expect(AdminAPI.matches(ifNoneMatch: ["*"], etag: "\"a\""))
        #expect(!AdminAPI.matches(ifNoneMatch: ["\"b\""], etag: "\"a\""))
        #expect(!AdminAPI.matches(ifNoneMatch: [], etag: "\"a\""))
    }

    @Test func sourcesSayWhichSecretsExpireWithinTheWarningHorizon() async throws {
        let format = ISO8601DateFormatter()
        let soon = format.string(from: Date().addingTimeInterval(2 * 86_400)), later = format.string(from: Date().addingTimeInterval(30 * 86_400))
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + adminSection + """
            [sources.stripe]
            provider = "stripe"
            secrets = [{ label = "current", value = "\(stripeSecret)", expires_at = \(later) },
                       { label = "old", value = "whsec_old_secret_value", expires_at = \(soon) },
                       { label = "plain", value = "whsec_plain_secret_value" }]
            destinations = ["svc"]
            """)
        let admin = "http://127.0.0.1:\(try await gw.gateway.adminPort())"
        let sources = try await Self.call(admin + "/v1/sources").decode(AdminAPI.SourceList.self)
        let secrets = try #require(sources.sources.first).secrets
        #expect(secrets.map(\.label) == ["current", "old", "plain"])
        #expect(secrets.map(\.expiringSoon) == [false, true, false], "the default horizon is 7 days")
        try await gw.stop()
        await destination.stop()
    }

    @Test func statsCountStoredDuplicateAndRefusedPerSource() async throws {
        let destination = try await TestDestination()
        let (gw, admin) = try await Self.gateway(destination)
        let hook = gw.baseURL + "/hooks/stripe"
        for n in 0..<2 {
            let body = stripeEvent("evt_stats_\(n)")
            #expect(try await post(hook, body: body, headers: stripeHeaders(body: body)).status == 200)
        }
        let again = stripeEvent("evt_stats_0")
        #expect(try await post(hook, body: again, headers: stripeHeaders(body: again)).json["status"] == "duplicate")
        let forged = stripeEvent("evt_stats_forged")
        #expect(try await post(hook, body: forged, headers: stripeHeaders(body: forged, secret: "whsec_wrong")).status == 401)
        try await destination.waitForRequests(2)

        var stats = try await Self.call(admin + "/v1/stats?window=1h&step=1m").decode(AdminAPI.Stats.self)
        // A delivery is counted when its answer is judged and leaves the queue when its completion commits, a moment
        // later: wait for both.
        for _ in 0..<100 where stats.destinations.first.map({ $0.delivered.reduce(0, +) < 2 || $0.queueDepth != 0 }) ?? true {
            try await Task.sleep(for: .milliseconds(50))
            stats = try await Self.call(admin + "/v1/stats?window=1h&step=1m").decode(AdminAPI.Stats.self)
        }
        #expect(stats.steps == 60 && stats.stepSeconds == 60 && stats.windowSeconds == 3600 && stats.liveCounters)
        let source = try #require(stats.sources.first { $0.name == "stripe" })
        #expect(source.accepted.count == 60)
        #expect(source.totals == AdminAPI.StatsTotals(accepted: 2, duplicate: 1, refused: 1))
        #expect(source.accepted.last! + source.accepted.dropLast().last! == 2, "the events are in the newest steps")
        #expect(source.refusalsByReason == ["signature_mismatch": 1])
        #expect(source.ackLatency.count == 3 && source.ackLatency.p50Ms != nil && source.ackLatency.p99Ms! >= source.ackLatency.p50Ms!)
        let svc = try #require(stats.destinations.first { $0.name == "svc" })
        #expect(svc.delivered.reduce(0, +) == 2 && svc.failed.reduce(0, +) == 0 && svc.queueDepth == 0 && !svc.paused && svc.circuit == "closed")
        #expect(svc.deliveredPerMinute > 0)

        // Parameters: specific refusals, never a crash on overflow.
        let cases: [(String, String)] = [
            ("window=1x", "invalid_window"), ("window=9999999999999999999999h", "invalid_window"), ("window=30s", "invalid_window"),
            ("window=8d", "invalid_window"), ("step=15s", "invalid_step"), ("step=2h", "invalid_step"), ("window=7d&step=10s", "too_many_steps"),
            ("step=", "invalid_step"), ("step=-1m", "invalid_step"), ("window=%E2%82%AC", "invalid_window"),
        ]
        for (query, error) in cases {
            let answer = try await Self.call(admin + "/v1/stats?" + query)
            #expect(answer.status == 400 && answer.error == error, "\(query)")
        }
        #expect(try await Self.call(admin + "/v1/stats?window=15m&step=10s").decode(AdminAPI.Stats.self).steps == 90)
        try await gw.stop()
        await destination.stop()
    }

    @Test func tailStreamsNewEventsAndRefusals() async throws {
        let destination = try await TestDestination()
        let (gw, admin) = try await Self.gateway(destination)
        let hook = gw.baseURL + "/hooks/stripe"
        let before = stripeEvent("evt_tail_before")
        #expect(try await post(hook, body: before, headers: stripeHeaders(body: before)).status == 200)

        var request = HTTPClientRequest(url: admin + "/v1/tail?seconds=10")
        request.headers.add(name: "Authorization", value: "Bearer t0k")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        #expect(response.status == .ok && response.headers.first(name: "Content-Type") == "application/x-ndjson")
        var lines: [AdminAPI.TailLine] = [], buffered: [UInt8] = []
        var sent = false
        let started = ContinuousClock.now
        reading: for try await chunk in response.body {
            buffered += Array(buffer: chunk)
            while let newline = buffered.firstIndex(of: 0x0A) {
                lines.append(try AdminJSON.decode(AdminAPI.TailLine.self, from: Array(buffered[..<newline])))
                buffered.removeSubrange(...newline)
            }
            if !sent, lines.first?.kind == "ready" {
                sent = true
                let body = stripeEvent("evt_tail_new")
                #expect(try await post(hook, body: body, headers: stripeHeaders(body: body)).status == 200)
                #expect(try await post(hook, body: body, headers: stripeHeaders(body: body, secret: "whsec_wrong")).status == 401)
            }
            if lines.contains(where: { $0.kind == "event" }) && lines.contains(where: { $0.kind == "refusal" }) { break reading }
        }
        #expect(ContinuousClock.now - started < .seconds(5), "new lines arrive within a poll or two")
        #expect(lines.first?.kind == "ready")
        let events = lines.compactMap(\.event)
        #expect(events.map(\.eventKey) == ["evt_tail_new"], "only events after the tail started")
        let refusal = try #require(lines.compactMap(\.refusal).first)
        #expect(refusal.source == "stripe" && refusal.reason == "signature_mismatch" && refusal.sequence >= 1)

        // Bad parameters are refused before anything streams.
        for (query, error) in [("seconds=0", "invalid_seconds"), ("seconds=3601", "invalid_seconds"), ("seconds=99999999999999999999", "invalid_seconds"),
                               ("since=yesterday", "invalid_time"), ("after_refusal=-1", "invalid_cursor"), ("after_refusal=1e3", "invalid_cursor")] {
            let answer = try await Self.call(admin + "/v1/tail?" + query)
            #expect(answer.status == 400 && answer.error == error, "\(query)")
        }
        // A tail that asks from before the event sees it; one that ends returns.
        let replayed = try await Self.call(admin + "/v1/tail?seconds=1&since=2000-01-01T00:00:00Z&after_refusal=0")
        #expect(replayed.status == 200)
        let text = replayed.text
        #expect(text.contains("evt_tail_before") && text.contains("evt_tail_new") && text.contains(#""kind":"refusal""#))
        try await gw.stop()
        await destination.stop()
    }

    @Test func bodyConditionFindsExactlyTheMatchingEvents() async throws {
        let destination = try await TestDestination()
        let (gw, admin) = try await Self.gateway(destination)
        let hook = gw.baseURL + "/hooks/stripe"
        let bodies = [
            #"{"id":"evt_c1","type":"charge.succeeded","data":{"object":{"customer":"cus_123","amount":100}}}"#,
            #"{"id":"evt_c2","type":"charge.succeeded","data":{"object":{"customer":"cus_456","amount":100.0}}}"#,
            #"{"id":"evt_c3","type":"charge.succeeded","data":{"object":{"customer":"cus_123","amount":250,"paid":true,"note":null}}}"#,
            #"{"id":"evt_c4","type":"charge.succeeded","data":{"object":{"customer":"cus_1234"}}}"#,
        ]
        for body in bodies { #expect(try await post(hook, body: body, headers: stripeHeaders(body: body)).status == 200) }
        func keys(_ query: String) async throws -> [String] {
            let answer = try await Self.call(admin + "/v1/events?" + query)
            #expect(answer.status == 200, "\(query): \(answer.text)")
            return try answer.decode(AdminAPI.EventList.self).events.map(\.eventKey)
        }
        let pointer = "body_pointer=/data/object/customer"
        #expect(try await keys("source=stripe&\(pointer)&body_value=%22cus_123%22") == ["evt_c3", "evt_c1"])
        #expect(try await keys("since=2000-01-01T00:00:00Z&\(pointer)&body_value=%22cus_456%22") == ["evt_c2"])
        #expect(try await keys("source=stripe&body_pointer=/data/object/amount&body_value=100") == ["evt_c2", "evt_c1"], "numbers by value")
        #expect(try await keys("source=stripe&body_pointer=/data/object/paid&body_value=true") == ["evt_c3"])
        #expect(try await keys("source=stripe&body_pointer=/data/object/note&body_value=null") == ["evt_c3"])
        #expect(try await keys("source=stripe&\(pointer)&body_value=%22nobody%22").isEmpty)
        // Paging: one per page, the cursor carries on where the scan stopped.
        let first = try await Self.call(admin + "/v1/events?source=stripe&\(pointer)&body_value=%22cus_123%22&limit=1").decode(AdminAPI.EventList.self)
        #expect(first.events.map(\.eventKey) == ["evt_c3"])
        let cursor = try #require(first.nextCursor)
        #expect(try await keys("source=stripe&\(pointer)&body_value=%22cus_123%22&limit=1&cursor=\(cursor)") == ["evt_c1"])

        for (query, error) in [
            ("\(pointer)&body_value=%22cus_123%22", "body_condition_needs_filter"),
            ("source=stripe&\(pointer)", "incomplete_body_condition"),
            ("source=stripe&body_value=1", "incomplete_body_condition"),
            ("source=stripe&body_pointer=data&body_value=1", "invalid_body_pointer"),
            ("source=stripe&body_pointer=&body_value=1", "invalid_body_pointer"),
            ("source=stripe&\(pointer)&body_value=cus_123", "invalid_body_value"),
            ("source=stripe&\(pointer)&body_value=%7B%7D", "invalid_body_value"),
            ("source=stripe&\(pointer)&body_value=%22a%22%22b%22", "invalid_body_value"),
            ("source=stripe&body_pointer=/\(String(repeating: "a", count: 1100))&body_value=1", "invalid_body_pointer"),
        ] {
            let answer = try await Self.call(admin + "/v1/events?" + query)
            #expect(answer.status == 400 && answer.error == error, "\(query)")
        }
        try await gw.stop()
        await destination.stop()
    }

    @Test func dryRunsCountAndVerdictsChangeNothing() async throws {
        let destination = try await TestDestination { _, _ in 500 }
        let (gw, admin) = try await Self.gateway(destination, extra: "")
        let hook = gw.baseURL + "/hooks/stripe"
        let forged = stripeEvent("evt_dry_forged")
        #expect(try await post(hook, body: forged, headers: stripeHeaders(body: forged, secret: "whsec_wrong")).status == 401)
        try await eventually("quarantined") { try gw.gateway.store.quarantineSize() == 1 }
        let list = try await Self.call(admin + "/v1/quarantine").decode(AdminAPI.QuarantineList.self)
        let id = try #require(list.quarantine.first?.id)
        let verdict = try await Self.call(admin + "/v1/quarantine/\(id)/verdict").decode(AdminAPI.QuarantineVerdict.self)
        #expect(verdict.outcome == "rejected" && verdict.reason == "signature_mismatch" && verdict.originalReason == "signature_mismatch")
        let dry = try await Self.call(admin + "/v1/quarantine/readmit?dry_run=true", method: .POST).decode(AdminAPI.ReadmitDryRun.self)
        #expect(dry == AdminAPI.ReadmitDryRun(dryRun: true, matched: 1, wouldAdmit: 0, rejected: 1))
        #expect(try gw.gateway.store.quarantineSize() == 1)
        #expect(try await Self.call(admin + "/v1/quarantine/99999/verdict").status == 404)
        #expect(try await Self.call(admin + "/v1/quarantine/readmit?dry_run=yes", method: .POST).error == "invalid_dry_run")
        #expect(try await Self.call(admin + "/v1/dead-letters/redeliver?dry_run=1", method: .POST).error == "invalid_dry_run")
        let deadCount = try await Self.call(admin + "/v1/dead-letters/redeliver?dry_run=true&destination=svc", method: .POST)
        #expect(try deadCount.decode(AdminAPI.RedeliverDryRun.self) == AdminAPI.RedeliverDryRun(dryRun: true, matched: 0))

        // The CloudEvent the first attempt forwards.
        let body = stripeEvent("evt_ce")
        let id2 = try #require(try await post(hook, body: body, headers: stripeHeaders(body: body)).json["id"])
        let ce = try await Self.call(admin + "/v1/events/\(id2)/cloudevent")
        #expect(ce.status == 200 && ce.headers.first(name: "Content-Type") == "application/cloudevents+json; charset=utf-8")
        #expect(ce.text.hasPrefix(#"{"specversion":"1.0","id":"\#(id2)","source":"/sources/stripe","type":"invoice.paid""#))
        #expect(ce.text.hasSuffix(#","data":\#(body)}"#) && ce.text.contains(#""inletattempt":"1""#))
        #expect(try await Self.call(admin + "/v1/events/evt_none/cloudevent").status == 404)
        try await gw.stop()
        await destination.stop()
    }
}

@Suite("Traffic log")
struct TrafficLogTests {
    final class ManualClock: WallClock, @unchecked Sendable {
        // Only the test's own task moves it.
        var millis: EpochMillis = 1_700_000_000_000
        func now() -> EpochMillis { millis }
    }

    @Test func countsPerSlotAndForgetsAfterADay() {
        let clock = ManualClock()
        let log = TrafficLog(clock: clock)
        log.acked(source: "a", duplicate: false, seconds: 0.001)
        log.acked(source: "a", duplicate: true, seconds: 0.001)
        log.refused(source: "a", reason: "signature_mismatch")
        clock.millis += 10_000
        log.acked(source: "a", duplicate: false, seconds: 0.001)
        log.attempt(destination: "d", outcome: "delivered")
        log.attempt(destination: "d", outcome: "retry")
        log.attempt(destination: "d", outcome: "dead")
        let slots = log.sources(from: clock.millis - 20_000, until: clock.millis + 10_000)["a"] ?? [:]
        #expect(slots.count == 2)
        #expect(slots.values.map(\.accepted).reduce(0, +) == 2 && slots.values.map(\.duplicate).reduce(0, +) == 1)
        #expect(slots.values.compactMap { $0.refused["signature_mismatch"] }.reduce(0, +) == 1)
        let d = log.destinations(from: clock.millis - 20_000, until: clock.millis + 10_000)["d"]?.values.first
        #expect(d == TrafficLog.DestinationSlot(delivered: 1, retried: 1, dead: 1))
        // A day later, a write prunes what is past the retention.
        clock.millis += TrafficLog.retainedSlots * TrafficLog.slotMillis + 60_000
        log.acked(source: "a", duplicate: false, seconds: 0.001)
        let all = log.sources(from: 0, until: clock.millis + 10_000)["a"] ?? [:]
        #expect(all.count == 1)
    }

    @Test func keepsTheLastRefusalsInOrder() {
        let log = TrafficLog(clock: ManualClock())
        #expect(log.lastRefusalSequence == 0)
        for n in 0..<(TrafficLog.recentRefusalCapacity + 10) { log.refused(source: "s", reason: "r\(n)") }
        let kept = log.refusals(after: 0, limit: 10_000)
        #expect(kept.count == TrafficLog.recentRefusalCapacity)
        #expect(kept.first?.sequence == 11 && kept.last?.sequence == Int64(TrafficLog.recentRefusalCapacity + 10))
        #expect(log.refusals(after: kept.last!.sequence - 2, limit: 10).map(\.reason) == ["r\(TrafficLog.recentRefusalCapacity + 8)", "r\(TrafficLog.recentRefusalCapacity + 9)"])
        #expect(log.refusals(after: 0, limit: 3).count == 3)
    }

    @Test func percentilesAreBucketBounds() {
        var histogram = Array(repeating: 0, count: TrafficLog.latencyBoundsMillis.count)
        #expect(TrafficLog.percentile(0.5, of: histogram) == nil)
        histogram[2] = 98  // ≤ 1 ms
        histogram[9] = 2   // ≤ 20 ms
        #expect(TrafficLog.percentile(0.5, of: histogram) == 1)
        #expect(TrafficLog.percentile(0.99, of: histogram) == 20)
        histogram[histogram.count - 1] = 1000
        #expect(TrafficLog.percentile(0.99, of: histogram) == 10_000, "the open bucket reports the largest bound")
    }

    @Test func ackLatencyLandsInItsBucket() {
        let clock = ManualClock()
        let log = TrafficLog(clock: clock)
        log.acked(source: "a", duplicate: false, seconds: 0.0009)
        log.acked(source: "a", duplicate: true, seconds: 0.004)
        log.acked(source: "a", duplicate: false, seconds: 99)
        let slot = log.sources(from: clock.millis - 10_000, until: clock.millis + 10_000)["a"]?.values.first
        let latency = slot?.latency ?? []
        #expect(latency[2] == 1 && latency[5] == 1 && latency[latency.count - 1] == 1)
        #expect(slot?.accepted == 2 && slot?.duplicate == 1)
    }
}
