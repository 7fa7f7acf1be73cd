import NIOCore

/// What a lingering close does next, as a value (nginx's `lingering_close`): after an early final answer (413 before
/// the body, 404 on a POST) the connection is half-closed and what the client still sends is read and dropped, within a
/// byte and a time budget, so that a client which writes its whole body before reading (Python's urllib, most
/// providers' HTTP clients) reads the answer and its reason instead of a connection reset: closing a socket with unread
/// bytes in its receive buffer makes the kernel send RST, and the client's unread answer is discarded with it.
struct LingeringCloseState {
    enum State: Equatable {
        /// Closes pass straight through.
        case open
        /// The response being written ends the connection early; the next close lingers.
        case armed
        /// Output is closed; input is drained until the client closes, or the budget runs out.
        case draining(bytesLeft: Int)
        case closed
    }

    enum Action: Equatable {
        case passThrough
        case halfCloseAndDrain
        case drop
        case closeNow
    }

    let maxBytes: Int
    private(set) var state: State = .open

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    mutating func arm() {
        if state == .open { state = .armed }
    }

    /// A full close was requested by a handler behind this one.
    mutating func close() -> Action {
        switch state {
        case .open, .closed:
            state = .closed
            return .passThrough
        case .armed:
            state = .draining(bytesLeft: maxBytes)
            return .halfCloseAndDrain
        case .draining:
            // A second close (an idle timeout, shutdown) while draining ends the linger.
            state = .closed
            return .closeNow
        }
    }

    /// Bytes arrived. While draining they are dropped, and past the budget the connection closes.
    mutating func read(_ count: Int) -> Action {
        guard case .draining(let left) = state else { return .passThrough }
        if count >= left {
            state = .closed
            return .closeNow
        }
        state = .draining(bytesLeft: left - count)
        return .drop
    }

    /// The linger's time is up (or half-closing failed).
    mutating func expire() -> Action {
        guard case .draining = state else { return .drop }
        state = .closed
        return .closeNow
    }
}

/// Performs `LingeringCloseState`'s actions. Sits below the HTTP codec (after TLS, if any): while draining, bytes stop
/// here, so the codec never parses the rest of a refused body. A handler behind it arms it with the outbound user
/// event `LingeringCloseHandler.Arm` before the write whose completion closes the connection.
final class LingeringCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The outbound user event that arms the linger for the next close.
    struct Arm: Sendable {}

    static let defaultMaxBytes = 8 << 20
    static let defaultTimeout = TimeAmount.seconds(5)

    private var machine: LingeringCloseState
    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?

    init(maxBytes: Int = LingeringCloseHandler.defaultMaxBytes, timeout: TimeAmount = LingeringCloseHandler.defaultTimeout) {
        machine = LingeringCloseState(maxBytes: maxBytes)
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        switch machine.read(count) {
        case .passThrough: context.fireChannelRead(data)
        case .drop: return
        case .closeNow, .halfCloseAndDrain: closeFully(context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard case .draining = machine.state else { return context.fireChannelReadComplete() }
        // The HTTP pipelining handler behind us holds reads back while a response is pending; the drain must go on.
        context.read()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is Arm else { return context.triggerUserOutboundEvent(event, promise: promise) }
        machine.arm()
        promise?.succeed(())
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else { return context.close(mode: mode, promise: promise) }
        switch machine.close() {
        case .passThrough, .drop:
            context.close(mode: mode, promise: promise)
        case .closeNow:
            closeFully(context, promise: promise)
        case .halfCloseAndDrain:
            closePromise = promise
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                if handler.machine.expire() == .closeNow { handler.closeFully(context) }
            }
            let halfClosed = context.eventLoop.makePromise(of: Void.self)
            halfClosed.futureResult.assumeIsolated().whenFailure { _ in
                // Half-closure unsupported here (or the socket is gone): close as before.
                let (handler, context) = loopBound.value
                if handler.machine.expire() == .closeNow { handler.closeFully(context) }
            }
            context.close(mode: .output, promise: halfClosed)
            context.read()
        }
    }

    private func closeFully(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        deadline?.cancel()
        deadline = nil
        let waiting = closePromise
        closePromise = nil
        if let promise { waiting?.futureResult.cascade(to: promise) }
        context.close(mode: .all, promise: waiting ?? promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let waiting = closePromise {
            closePromise = nil
            waiting.succeed(())
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}
