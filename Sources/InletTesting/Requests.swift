import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

public struct Reply: Sendable {
    public let status: Int
    public let body: String
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
    /// The answer's string fields (a split batch's answer also has numbers and an array, left out here).
    public var json: [String: String] {
        ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
    }
}

public func post(_ url: String, body: String, headers: [(String, String)], method: HTTPMethod = .POST, timeout: Int64 = 10) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (n, v) in headers { request.headers.add(name: n, value: v) }
    if method == .POST { request.body = .bytes(Array(body.utf8)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return Reply(status: Int(response.status.code), body: String(buffer: bytes))
}

/// Sends raw bytes on one TCP connection and reads until the peer closes or `until` is satisfied.
public func rawExchange(port: Int, _ payload: String, until: @escaping (String) -> Bool) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: payload))
        var text = ""
        for try await chunk in inbound {
            text += String(buffer: chunk)
            if until(text) { break }
        }
        return text
    }
}

/// Polls `condition` (a store read) until it holds, up to `timeout`: for states with no request to wait on.
public func eventually(timeout: Duration = .seconds(15), _ what: String, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}
