import AsyncHTTPClient
import Foundation
import InletCore
import InletServer
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

@Suite("Admin API")
struct AdminAPITests {
    func get(_ url: String, token: String? = "admin-token-for-tests") async throws -> (Int, [UInt8], String?) {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Array(buffer: body), response.headers.first(name: "content-type"))
    }


    @Test func endpointsAuthAndNoSecrets() async throws {
        let healthy = NIOLockedValueBox(false)
        let destination = try await TestDestination { _, _ in healthy.withLockedValue { $0 } ? 204 : 500 }
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url, "max_attempts = 1000\ncircuit_failure_threshold = 1\ncircuit_open_ms = 60000") + """
            [admin]
            listen = "127.0.0.1:0"
            tokens = ["admin-token-for-tests"]

            [sources.stripe]
            provider = "stripe"
            secrets = [{ label = "current", value = "\(stripeSecret)" }, { label = "next", value = "whsec_next_secret_value", not_before = 2099-01-01T00:00:00Z }]
            destinations = ["svc"]
            """)
        let admin = "http://127.0.0.1:\(try await gw.gateway.adminPort())"
        let body = stripeEvent("evt_admin")
        let id = try #require(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).json["id"])
        try await destination.waitForRequests(1)
        try await eventually("circuit open") { gw.gateway.circuitStates()["svc"] == "open" }

        // Health needs no token; everything else does.
        #expect(try await get(admin + "/healthz", token: nil).0 == 200)
        #expect(try await get(admin + "/readyz", token: nil).0 == 200)
        for path in ["/v1/sources", "/v1/destinations", "/v1/events/\(id)", "/v1/events/\(id)/body"] {
            #expect(try await get(admin + path, token: nil).0 == 401, "\(path) without a token")
            #expect(try await get(admin + path, token: "admin-token-for-test").0 == 401, "\(path) with a wrong token")
        }

        let (sStatus, sBody, _) = try await get(admin + "/v1/sources")
        #expect(sStatus == 200)
        let sourcesText = String(decoding: sBody, as: UTF8.self)
        #expect(!sourcesText.contains(stripeSecret) && !sourcesText.contains("whsec_next_secret_value"))
        let source = try #require(try AdminJSON.decode(AdminAPI.SourceList.self, from: sBody).sources.first)
        let secrets = source.secrets
        #expect(secrets.map(\.label) == ["current", "next"])
        #expect(secrets.map(\.state.rawValue) == ["active", "not_yet_valid"])
        #expect(secrets[0].verified24h == 1 && secrets[0].lastVerifiedAt != nil)

        let (dStatus, dBody, _) = try await get(admin + "/v1/destinations")
        #expect(dStatus == 200)
        let dest = try #require(try AdminJSON.decode(AdminAPI.DestinationList.self, from: dBody).destinations.first)
        #expect(dest.circuit == "open")
        #expect(dest.pending == 1)

        let (eStatus, eBody, _) = try await get(admin + "/v1/events/\(id)")
        #expect(eStatus == 200)
        let event = try AdminJSON.decode(AdminAPI.EventDetail.self, from: eBody)
        #expect(event.verifiedBy == "current")
        #expect(event.authenticity == "body_signed")
        #expect(event.eventKey == "evt_admin")
        #expect(Base64.decode(event.bodyBase64) == Array(body.utf8))
        let delivery = try #require(event.deliveries.first)
        #expect(delivery.state == "pending" && delivery.attemptLog.first?.status == 500)

        let (bStatus, raw, contentType) = try await get(admin + "/v1/events/\(id)/body")
        #expect(bStatus == 200 && raw == Array(body.utf8) && contentType == "application/json")
        #expect(try await get(admin + "/v1/events/evt_nope").0 == 404)
        #expect(try await get(admin + "/v1/nothing").0 == 404)

        healthy.withLockedValue { $0 = true }
        try await gw.stop()
        await destination.stop()
    }
}

@Suite("Admin API: replay and dead letters")
struct AdminReplayTests {
    func call(_ method: HTTPMethod, _ url: String) async throws -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer t0k")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Array(buffer: body))
    }

    @Test func replayDeadLettersRedeliverAndDiscard() async throws {
        let accept = NIOLockedValueBox(false)
        let destination = try await TestDestination { _, _ in accept.withLockedValue { $0 } ? 204 : 400 }  // 400: dead at once
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + adminSection + stripeSource)
        let admin = "http://127.0.0.1:\(try await gw.gateway.adminPort())"
        var ids: [String] = []
        for n in 0..<2 {
            let body = stripeEvent("evt_dl_\(n)")
            ids.append(try #require(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).json["id"]))
        }
        try await eventually("two dead letters") { try gw.gateway.store.counts().dead == 2 }

        let (listStatus, listBody) = try await call(.GET, admin + "/v1/dead-letters?limit=1")
        #expect(listStatus == 200)
        let list = try AdminJSON.decode(AdminAPI.DeadLetterList.self, from: listBody)
        let first = try #require(list.deadLetters.first)
        #expect(first.lastStatus == 400 && first.eventID == ids[0])
        let cursor = try #require(list.nextCursor)
        let page2 = try AdminJSON.decode(AdminAPI.DeadLetterList.self, from: try await call(.GET, admin + "/v1/dead-letters?limit=1&cursor=\(cursor)").1)
        #expect(page2.deadLetters.first?.eventID == ids[1])

        accept.withLockedValue { $0 = true }
        let deliveryA = first.deliveryID
        #expect(try await call(.POST, admin + "/v1/dead-letters/\(deliveryA)/redeliver").0 == 200)
        #expect(try await call(.POST, admin + "/v1/dead-letters/\(deliveryA)/redeliver").0 == 404)  // no longer dead
        let deliveryB = try #require(page2.deadLetters.first?.deliveryID)
        #expect(try await call(.DELETE, admin + "/v1/dead-letters/\(deliveryB)").0 == 200)
        #expect(try await call(.GET, admin + "/v1/dead-letters/\(deliveryB)").0 == 405)

        // Replay: the same bytes again, marked as a replay.
        let (replayStatus, replay) = try await call(.POST, admin + "/v1/events/\(ids[1])/replay")
        #expect(try replayStatus == 202 && AdminJSON.decode(AdminAPI.ReplayQueued.self, from: replay).destinations == ["svc"])
        #expect(try await call(.POST, admin + "/v1/events/\(ids[1])/replay?destination=nope").0 == 422)
        #expect(try await call(.POST, admin + "/v1/events/evt_missing/replay").0 == 404)
        try await eventually("redelivered and replayed") { try gw.gateway.store.counts().delivered == 2 }
        try await gw.stop()

        let replayed = try #require(destination.requests.last { $0.headers.first(name: "Inlet-Replay") == "true" })
        #expect(JSONScanner.scalarText(at: JSONPointer("/inletreplay")!, in: replayed.body) == "true")
        let original = try #require(destination.requests.first { JSONScanner.scalarText(at: JSONPointer("/inleteventkey")!, in: $0.body) == "evt_dl_1" })
        let data = { (b: [UInt8]) in try JSONScanner.find(JSONPointer("/data")!, in: b).map { Array(b[$0.range]) } }
        #expect(try data(replayed.body) == data(original.body))
        #expect(try data(replayed.body) == Array(stripeEvent("evt_dl_1").utf8))
        await destination.stop()
    }
}

@Suite("Admin API: event listing")
struct AdminListTests {
    @Test func filtersAndCursorPagination() async throws {
        let destination = try await TestDestination()
        let gw = try await RunningGateway.start(configBody: destinationTOML("svc", url: destination.url) + adminSection + """
            [sources.stripe]
            provider = "stripe"
            secrets = ["\(stripeSecret)"]
            [[sources.stripe.routes]]
            destination = "svc"
            types = ["invoice.*"]
            """)
        let admin = "http://127.0.0.1:\(try await gw.gateway.adminPort())"
        for n in 0..<5 {
            let body = stripeEvent("evt_list_\(n)", type: n == 4 ? "customer.created" : "invoice.paid")
            #expect(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).status == 200)
        }
        func list(_ query: String) async throws -> (Int, AdminAPI.EventList?) {
            var request = HTTPClientRequest(url: admin + "/v1/events" + query)
            request.headers.add(name: "Authorization", value: "Bearer t0k")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), try? AdminJSON.decode(AdminAPI.EventList.self, from: Array(buffer: body)))
        }
        func keys(_ r: AdminAPI.EventList?) -> [String] { r?.events.map(\.eventKey) ?? [] }

        let (_, page1) = try await list("?limit=2")
        #expect(keys(page1) == ["evt_list_4", "evt_list_3"])  // newest first
        let (_, page2) = try await list("?limit=2&cursor=\(try #require(page1?.nextCursor))")
        #expect(keys(page2) == ["evt_list_2", "evt_list_1"])
        #expect(keys(try await list("?type=customer.created").1) == ["evt_list_4"])
        #expect(keys(try await list("?unrouted=true").1) == ["evt_list_4"])
        #expect(keys(try await list("?event_key=evt_list_0").1) == ["evt_list_0"])
        #expect(keys(try await list("?source=other").1).isEmpty)
        #expect(keys(try await list("?until=2000-01-01T00:00:00Z").1).isEmpty)
        #expect(try await list("?since=yesterday").0 == 400)
        try await gw.stop()
        await destination.stop()
    }
}
