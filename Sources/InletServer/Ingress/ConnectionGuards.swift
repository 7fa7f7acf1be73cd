import Foundation
import InletCore
import NIOConcurrencyHelpers
import NIOCore

/// Bounds how long a request's head may take to arrive, from its first byte: the idle timeout restarts on every
/// byte, so without this a client trickling a header a byte at a time (slowloris) would hold its connection for as
/// long as the header size limit allows. Sits below the HTTP codec; the ingress handler tells it when a head is
/// complete and when its response went out. A head that does not complete in time gets `408` and the connection closes.
final class RequestHeadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Outbound user events from the ingress handler.
    enum Progress { case headReceived, responseSent }

    private let timeout: TimeAmount
    private let onTimeout: @Sendable () -> Void
    private let answer: String
    private var awaitingHead = true
    private var deadline: Scheduled<Void>?

    /// - answer: the 408's JSON body (the ingress's rejection shape by default; the admin API's errors differ).
    init(timeout: TimeAmount, answer: String = RejectionReason.requestTimeout.answerBody, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout
        self.answer = answer
        self.onTimeout = onTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingHead && deadline == nil {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                handler.expire(context)
            }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? Progress else { return context.triggerUserOutboundEvent(event, promise: promise) }
        switch progress {
        case .headReceived:
            awaitingHead = false
            deadline?.cancel()
            deadline = nil
        case .responseSent:
            // The next request's deadline starts with its first byte.
            awaitingHead = true
        }
        promise?.succeed(())
    }

    private func expire(_ context: ChannelHandlerContext) {
        deadline = nil
        guard awaitingHead, context.channel.isActive else { return }
        onTimeout()
        let body = answer
        let response = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(string: response)))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}

/// Caps open ingress connections below the process's file-descriptor limit: past the cap a new connection is closed
/// at once, so a flood of idle or slow connections cannot exhaust descriptors (which the runtime itself needs, and
/// without which the store cannot open files).
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let open = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// Counts a new connection; false (and not counted) when the cap is reached.
    func admit() -> Bool {
        open.withLockedValue { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    func release() { open.withLockedValue { $0 -= 1 } }

    var current: Int { open.withLockedValue { $0 } }

    /// Raises the soft descriptor limit to the hard one (a server should not run out earlier than it must) and
    /// returns the connection cap that leaves room for the store, the delivery client and the runtime.
    static func capForProcess(configured: Int, reserve: Int = 256) -> Int {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return configured }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limits = raised }
        }
        let available = limits.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limits.rlim_cur)
        return min(configured, max(16, available - reserve))
    }
}
