import Foundation
import InletCore
import NIOConcurrencyHelpers
import NIOCore

/// Bounds how long a request's head may take to arrive, from its first byte: the idle timeout restarts on every
/// byte, so without this a client trickling a header a byte at a time (slowloris) would hold its connection for as
/// long as the header size limit allows. Sits below the HTTP codec; the handler behind the codec tells it when a head
/// is complete and when its response went out. A head that does not complete in time gets `408` and the connection
/// closes.
///
/// Optionally it also keeps the ingress's other two clocks, so a connection has one timer instead of two armed and
/// cancelled per request: the body deadline (from the head, `bodyTimeout`; on expiry it sends `BodyTimedOut` inbound
/// and the ingress answers `408` with its request's context) and the idle timeout (no byte for `idleTimeout`: the
/// connection closes, as `IdleStateHandler` did). The timer is armed for the earliest deadline and, when it fires
/// early (deadlines only move later while requests succeed), re-armed for what is left: under load it fires about once
/// per timeout period, not twice per request.
final class RequestHeadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Outbound user events from the handler behind the codec.
    enum Progress { case headReceived, responseSent }

    /// Inbound user event: the current request's body did not finish arriving within `bodyTimeout`.
    struct BodyTimedOut: Sendable {}

    private enum Phase { case awaitingHead, head, body, waiting }

    private let timeout: TimeAmount
    private let bodyTimeout: TimeAmount?
    private let idleTimeout: TimeAmount?
    private let onTimeout: @Sendable () -> Void
    private let answer: String
    private var phase = Phase.awaitingHead
    /// When the current head or body phase runs out; nil between requests.
    private var phaseDeadline: NIODeadline?
    private var lastRead = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline?

    /// - answer: the 408's JSON body (the ingress's rejection shape by default; the admin API's errors differ).
    init(timeout: TimeAmount, bodyTimeout: TimeAmount? = nil, idleTimeout: TimeAmount? = nil,
         answer: String = RejectionReason.requestTimeout.answerBody, onTimeout: @escaping @Sendable () -> Void) {
        self.timeout = timeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.answer = answer
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startIdleClock(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startIdleClock(context)
        context.fireChannelActive()
    }

    private func startIdleClock(_ context: ChannelHandlerContext) {
        guard let idle = idleTimeout else { return }
        lastRead = .now()
        arm(context, at: lastRead + idle)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if idleTimeout != nil || phase == .awaitingHead {
            let now = NIODeadline.now()
            lastRead = now
            if phase == .awaitingHead {
                phase = .head
                phaseDeadline = now + timeout
                arm(context, at: now + timeout)
            }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? Progress else { return context.triggerUserOutboundEvent(event, promise: promise) }
        switch progress {
        case .headReceived:
            if let bodyTimeout {
                phase = .body
                let deadline = NIODeadline.now() + bodyTimeout
                phaseDeadline = deadline
                arm(context, at: deadline)
            } else {
                phase = .waiting
                phaseDeadline = nil
                if idleTimeout == nil { cancelTimer() }
            }
        case .responseSent:
            // The next request's deadline starts with its first byte.
            phase = .awaitingHead
            phaseDeadline = nil
        }
        promise?.succeed(())
    }

    /// Makes sure the timer fires no later than `deadline`. An earlier timer is kept: it re-arms when it fires.
    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        if let at = timerAt, at <= deadline { return }
        timer?.cancel()
        timerAt = deadline
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.fire(context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerAt = nil
    }

    private func fire(_ context: ChannelHandlerContext) {
        timer = nil
        timerAt = nil
        guard context.channel.isActive else { return }
        let now = NIODeadline.now()
        if let idle = idleTimeout, now >= lastRead + idle {
            context.close(promise: nil)
            return
        }
        if let deadline = phaseDeadline, now >= deadline {
            phaseDeadline = nil
            switch phase {
            case .head: expireHead(context)
            case .body:
                phase = .waiting
                context.fireUserInboundEventTriggered(BodyTimedOut())
            case .awaitingHead, .waiting: break
            }
        }
        guard context.channel.isActive else { return }
        let next = [phaseDeadline, idleTimeout.map { lastRead + $0 }].compactMap { $0 }.min()
        if let next { arm(context, at: next) }
    }

    private func expireHead(_ context: ChannelHandlerContext) {
        phase = .waiting
        onTimeout()
        let body = answer
        let response = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(string: response)))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
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
