import Foundation
import InletCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import InletServer

/// The delivery engine's HTTP client against a raw loopback server whose answers are scripted byte for byte.
@Suite("Delivery HTTP client")
struct DeliveryHTTPClientTests {
    /// A TCP server that answers the n-th request (counted over all connections) with `answer(n)`: the bytes to
    /// write, and whether to close the connection after them. `nil` writes nothing (a destination that hangs).
    final class ScriptedServer: Sendable {
        let channel: any Channel
        let connections = NIOLockedValueBox(0)
        let requests = NIOLockedValueBox<[String]>([])
        var port: Int { channel.localAddress!.port! }
        var url: String { "http://127.0.0.1:\(port)/events?x=1" }

        init(_ answer: @escaping @Sendable (Int) -> (bytes: String, close: Bool)?) async throws {
            let connections = self.connections, requests = self.requests
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    connections.withLockedValue { $0 += 1 }
                    return child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(Handler(requests: requests, answer: answer))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        func stop() async { try? await channel.close() }

        /// Collects bytes until a request's head and its `Content-Length` body are complete, then answers it.
        final class Handler: ChannelInboundHandler, @unchecked Sendable {
            typealias InboundIn = ByteBuffer
            let requests: NIOLockedValueBox<[String]>
            let answer: @Sendable (Int) -> (bytes: String, close: Bool)?
            var pending = ""

            init(requests: NIOLockedValueBox<[String]>, answer: @escaping @Sendable (Int) -> (bytes: String, close: Bool)?) {
                self.requests = requests
                self.answer = answer
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                pending += String(buffer: unwrapInboundIn(data))
                while let end = pending.range(of: "\r\n\r\n") {
                    let head = String(pending[..<end.lowerBound])
                    let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    let total = pending.distance(from: pending.startIndex, to: end.upperBound) + length
                    guard pending.utf8.count >= total else { return }
                    let request = String(pending.prefix(total))
                    pending = String(pending.dropFirst(total))
                    let n = requests.withLockedValue { $0.append(request); return $0.count }
                    guard let (bytes, close) = answer(n) else { return }
                    context.writeAndFlush(NIOAny(ByteBuffer(string: bytes)), promise: nil)
                    if close { context.close(promise: nil) }
                }
            }
        }
    }

    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    func client(snippet: Int = 1024) -> DeliveryHTTPClient {
        DeliveryHTTPClient(group: MultiThreadedEventLoopGroup.singleton, snippetLimit: snippet)
    }

    @Test func requestsReuseOneKeepAliveConnectionAndCarryTheirHeadersAndBody() async throws {
        let server = try await ScriptedServer { _ in (Self.ok, false) }
        let http = client()
        for n in 1...3 {
            let answer = try await http.send(url: server.url, headers: HTTPHeaderList([("Content-Type", "application/json"), ("webhook-id", "msg_\(n)")]),
                                             body: Array(#"{"n":\#(n)}"#.utf8), timeout: .seconds(30))
            #expect(answer == .init(status: 200, retryAfter: nil, snippet: Array("ok".utf8)))
        }
        #expect(server.connections.withLockedValue { $0 } == 1)
        let first = try #require(server.requests.withLockedValue { $0.first })
        #expect(first.hasPrefix("POST /events?x=1 HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nContent-Length: 7\r\n"))
        #expect(first.contains("\r\nwebhook-id: msg_1\r\n") && first.hasSuffix("\r\n\r\n{\"n\":1}"))
        http.shutdown()
        await server.stop()
    }

    @Test func statusRetryAfterAndOnlyTheSnippetOfALongAnswer() async throws {
        let long = String(repeating: "x", count: 5000)
        let server = try await ScriptedServer { n in
            n == 1 ? ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy", false)
                   : ("HTTP/1.1 500 Internal Server Error\r\nContent-Length: \(long.utf8.count)\r\n\r\n\(long)", false)
        }
        let http = client(snippet: 16)
        let busy = try await http.send(url: server.url, headers: HTTPHeaderList(), body: [], timeout: .seconds(30))
        #expect(busy == .init(status: 503, retryAfter: "7", snippet: Array("busy".utf8)))
        let failed = try await http.send(url: server.url, headers: HTTPHeaderList(), body: [], timeout: .seconds(30))
        #expect(failed.status == 500 && failed.snippet == Array(long.utf8.prefix(16)))
        // The rest of the long answer was not drained: that connection is dropped, the next request opens another.
        _ = try? await http.send(url: server.url, headers: HTTPHeaderList(), body: [], timeout: .seconds(30))
        #expect(server.connections.withLockedValue { $0 } == 2)
        http.shutdown()
        await server.stop()
    }

    @Test func aDestinationThatNeverAnswersTimesOut() async throws {
        let server = try await ScriptedServer { _ in nil }
        let http = client()
        let started = ContinuousClock.now
        await #expect(throws: DeliveryHTTPClient.Failure.timeout) {
            _ = try await http.send(url: server.url, headers: HTTPHeaderList(), body: [], timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(15))  // the deadline, not the 30 s a retry loop would take
        http.shutdown()
        await server.stop()
    }

    @Test func aRefusedConnectionIsAConnectFailure() async throws {
        let server = try await ScriptedServer { _ in (Self.ok, false) }
        let url = server.url
        await server.stop()
        let http = client()
        await #expect {
            _ = try await http.send(url: url, headers: HTTPHeaderList(), body: [], timeout: .seconds(30))
        } throws: { error in
            if case DeliveryHTTPClient.Failure.connectFailed = error { return true }
            return false
        }
        http.shutdown()
    }

    @Test func anIdleConnectionThePeerClosedIsReplacedWithoutFailingTheAttempt() async throws {
        // Every answer closes its connection without saying so (no `Connection: close`): the client's idle connection
        // is dead when it is reused.
        let server = try await ScriptedServer { _ in (Self.ok, true) }
        let http = client()
        for _ in 1...3 {
            try await Task.sleep(for: .milliseconds(50))
            let answer = try await http.send(url: server.url, headers: HTTPHeaderList(), body: [], timeout: .seconds(30))
            #expect(answer.status == 200)
        }
        #expect(server.requests.withLockedValue { $0.count } == 3)
        http.shutdown()
        await server.stop()
    }

    @Test func anAnswerCutOffMidBodyIsJudgedByItsStatusAndSaysSo() async throws {
        let server = try await ScriptedServer { _ in ("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", true) }
        let http = client()
        let answer = try await http.send(url: server.url, headers: HTTPHeaderList(), body: [], timeout: .seconds(30))
        #expect(answer.status == 200 && answer.snippet == Array("partial".utf8))
        #expect(answer.brokenOff != nil)
        http.shutdown()
        await server.stop()
    }

    @Test func aMalformedAnswerIsAnError() async throws {
        let server = try await ScriptedServer { _ in ("SMTP ready\r\n\r\n", false) }
        let http = client()
        await #expect {
            _ = try await http.send(url: server.url, headers: HTTPHeaderList(), body: [], timeout: .seconds(30))
        } throws: { error in
            if case DeliveryHTTPClient.Failure.malformedAnswer = error { return true }
            return false
        }
        http.shutdown()
        await server.stop()
    }

    @Test func headersThatWouldSplitTheRequestOrAreTheClientsOwnAreNotWritten() async throws {
        let server = try await ScriptedServer { _ in (Self.ok, false) }
        let http = client()
        _ = try await http.send(url: server.url, headers: HTTPHeaderList([("X-Ok", "1"), ("X-Evil", "a\r\nInjected: yes"), ("Host", "elsewhere"),
                                                           ("Content-Length", "0"), ("Transfer-Encoding", "chunked"), ("Bad Name", "x")]),
                                body: Array("body".utf8), timeout: .seconds(30))
        let request = try #require(server.requests.withLockedValue { $0.first })
        #expect(request.contains("X-Ok: 1"))
        #expect(!request.contains("Injected") && !request.contains("elsewhere") && !request.contains("chunked") && !request.contains("Bad Name"))
        #expect(request.components(separatedBy: "Content-Length").count == 2)
        http.shutdown()
        await server.stop()
    }

    @Test func destinationURLs() {
        let plain = DeliveryOrigin(url: "http://svc.internal/hooks/a%20b?x=1")
        #expect(plain?.target == "/hooks/a%20b?x=1" && plain?.hostHeader == "svc.internal" && plain?.port == 80 && plain?.secure == false)
        let tls = DeliveryOrigin(url: "https://[::1]:8443")
        #expect(tls?.target == "/" && tls?.hostHeader == "[::1]:8443" && tls?.secure == true)
        #expect(DeliveryOrigin(url: "ftp://x/y") == nil)
        #expect(DeliveryOrigin(url: "http://x:70000/") == nil)
        #expect(DeliveryOrigin(url: "not a url") == nil)
    }
}
