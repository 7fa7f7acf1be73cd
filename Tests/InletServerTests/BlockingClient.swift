import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a client that writes its whole request before reading anything (Python's urllib, most providers' HTTP clients)
/// got back: the bytes it read, and whether the connection was reset under it.
struct WriteFirstOutcome {
    var received: String
    var reset: Bool
    var bytesWritten: Int
    /// The peer closed (or reset) before `readTimeout` passed.
    var closed: Bool
    var status: Int? { received.hasPrefix("HTTP/1.1 ") ? Int(received.dropFirst(9).prefix(3)) : nil }
}

/// Connects to 127.0.0.1:`port`, writes `head` and then `bodyBytes` bytes (ignoring write errors, as such clients do
/// until they read), then reads until the peer closes or `readTimeout` passes. Blocking sockets on a thread of its
/// own, so that the test's cooperative threads stay free for the server under test.
func writeEverythingThenRead(port: Int, head: String, bodyBytes: Int, readTimeout: Double = 10) async -> WriteFirstOutcome {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: blockingExchange(port: port, head: Array(head.utf8), bodyBytes: bodyBytes, readTimeout: readTimeout))
        }
        thread.start()
    }
}

/// Opens a connection and sends `prefix`, then reads until the peer closes or `readTimeout` passes.
func sendThenWaitForClose(port: Int, prefix: [UInt8], readTimeout: Double) async -> WriteFirstOutcome {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: blockingExchange(port: port, head: prefix, bodyBytes: 0, readTimeout: readTimeout))
        }
        thread.start()
    }
}

private func blockingExchange(port: Int, head: [UInt8], bodyBytes: Int, readTimeout: Double) -> WriteFirstOutcome {
    var outcome = WriteFirstOutcome(received: "", reset: false, bytesWritten: 0, closed: false)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return outcome }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { outcome.reset = true; return outcome }
    var sendTimeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
    func sendAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
            outcome.bytesWritten += n
        }
        return true
    }
    if sendAll(head) {
        let chunk = [UInt8](repeating: 0x61, count: 64 << 10)
        var left = bodyBytes
        while left > 0, sendAll(Array(chunk.prefix(left))) { left -= min(left, chunk.count) }
    }
    let deadline = Date().addingTimeInterval(readTimeout)
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while Date() < deadline {
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            outcome.received += String(decoding: buffer[0..<n], as: UTF8.self)
        } else if n == 0 {
            outcome.closed = true
            break
        } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
            continue
        } else {
            outcome.reset = errno == ECONNRESET
            outcome.closed = true
            break
        }
    }
    return outcome
}
