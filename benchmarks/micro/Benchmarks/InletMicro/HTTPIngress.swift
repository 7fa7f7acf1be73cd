import InletCore
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// A webhook request decoded the way the ingress server decodes it: NIO's `HTTPRequestDecoder` (llhttp) in a
/// `ByteToMessageHandler`, then the head's headers copied into an `HTTPHeaderList` and the body into bytes, as
/// `IngressStateMachine` does before admission. With `pipeline`, the channel carries the whole server pipeline
/// Inlet configures (`configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)`) and
/// each iteration also writes the 202 acknowledgement, so request decoding and response encoding are timed together.
///
/// Not Sendable in spirit: the benchmark runner uses it from one thread only (setup, the measured loop, in turn).
final class HTTPIngressFixture: @unchecked Sendable {
    let channel = EmbeddedChannel()
    let wire: ByteBuffer
    let withResponse: Bool
    private let ackBody: ByteBuffer

    /// The request as Stripe's client sends it: a realistic header list and the shared 1.3 KB body.
    static func stripeRequest(body: [UInt8]) -> [UInt8] {
        let signature = "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
        var head = "POST /hooks/stripe HTTP/1.1\r\n"
        for (name, value) in [
            ("Host", "hooks.example.com"),
            ("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
            ("Content-Type", "application/json; charset=utf-8"),
            ("Cache-Control", "no-cache"),
            ("Accept", "*/*; q=0.5, application/xml"),
            ("Stripe-Signature", signature),
            ("Content-Length", String(body.count)),
            ("X-Forwarded-For", "203.0.113.7"),
            ("X-Forwarded-Proto", "https"),
            ("Connection", "keep-alive"),
        ] {
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    init(body: [UInt8], pipeline: Bool) throws {
        if pipeline {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
        } else {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        }
        try channel.connect(to: SocketAddress(ipAddress: "203.0.113.7", port: 443)).wait()
        wire = channel.allocator.buffer(bytes: Self.stripeRequest(body: body))
        withResponse = pipeline
        ackBody = channel.allocator.buffer(string: #"{"status":"accepted","event_id":"evt_0000000000000000000000000000"}"#)
        // One request outside the measured region: proves the bytes decode to the expected request.
        let request = try decodeOne()
        precondition(request.path == "/hooks/stripe" && request.body == body && request.headers.first("Stripe-Signature") != nil)
    }

    /// Feeds one request's bytes and returns the `IncomingRequest` admission would see.
    @inline(__always)
    func decodeOne() throws -> IncomingRequest {
        try channel.writeInbound(wire)
        var head: HTTPRequestHead?
        var body = channel.allocator.buffer(capacity: 0)
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let h):
                head = h
                body.reserveCapacity(h.headers.first(name: "content-length").flatMap(Int.init) ?? 0)
            case .body(var chunk): body.writeBuffer(&chunk)
            case .end: break
            }
        }
        guard let head else { fatalError("no request head decoded") }
        var headers = HTTPHeaderList()
        for h in head.headers { headers.append(h.name, h.value) }
        let (path, query): (String, String?) = {
            guard let q = head.uri.firstIndex(of: "?") else { return (head.uri, nil) }
            return (String(head.uri[..<q]), String(head.uri[head.uri.index(after: q)...]))
        }()
        let request = IncomingRequest(method: head.method.rawValue, path: path, query: query, headers: headers,
                                      body: body.readBytes(length: body.readableBytes) ?? [], peer: nil, receivedAt: Fixtures.now)
        if withResponse { try acknowledge() }
        return request
    }

    /// The 202 Inlet writes for an accepted event, encoded by the pipeline's `HTTPResponseEncoder`.
    private func acknowledge() throws {
        var headers = HTTPHeaders()
        headers.reserveCapacity(2)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(ackBody.readableBytes))
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .accepted, headers: headers)))
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ackBody)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        while let _ = try channel.readOutbound(as: IOData.self) {}
    }
}
