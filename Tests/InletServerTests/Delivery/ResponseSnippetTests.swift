import Foundation
import InletServer
import NIOCore
import NIOPosix
import Testing

/// Issue 22: a worker reads a destination's answer only up to the snippet it logs (1 KiB), then drops the rest.
@Suite("Destination answers: read up to the snippet")
struct ResponseSnippetTests {
    /// A destination that answers `200`, sends 4 KiB of a chunked body, and then never finishes it. Before, the worker
    /// kept reading until the destination's timeout (30 s here) and recorded a failed attempt; now it stops at the
    /// snippet and the delivery counts as delivered at once.
    @Test func endlessAnswerIsCutAtTheSnippet() async throws {
        let destination = try await EndlessAnswerServer.start()
        let gw = try await RunningGateway.start(sourcesTOML: stripeSource, destinationURL: "http://127.0.0.1:\(destination.port)/events",
                                                destinationTimeoutSeconds: 30)
        let body = stripeEvent("evt_endless")
        let id = try #require(try await post(gw.baseURL + "/hooks/stripe", body: body, headers: stripeHeaders(body: body)).json["id"])
        try await eventually(timeout: .seconds(8), "delivered") { try gw.gateway.store.deliveries(eventID: id).first?.state == .delivered }
        let delivery = try #require(try gw.gateway.store.deliveries(eventID: id).first)
        let attempt = try #require(try gw.gateway.store.attempts(deliveryID: delivery.id).first)
        #expect(attempt.statusCode == 200)
        #expect(attempt.responseSnippet?.count == 1024)
        try await gw.stop()
        try await destination.channel.close()
    }
}

/// Answers every request with the start of a chunked `200` that never ends.
struct EndlessAnswerServer {
    let channel: Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start() async throws -> EndlessAnswerServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return EndlessAnswerServer(channel: channel)
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var answered = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            var out = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n")
            out.writeString(String(repeating: "z", count: 4096) + "\r\n")
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }
}
