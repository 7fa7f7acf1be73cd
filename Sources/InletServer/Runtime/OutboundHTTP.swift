import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix

/// The one place HTTP clients are made, for everything the gateway and the CLI send or fetch: deliveries,
/// `replay --to`, signing certificates, SNS confirmations, `providers update-ips`, `send-test` and the CLI's admin
/// calls. Redirects are never followed: AsyncHTTPClient's default follows them, across origins and from https to http,
/// re-sending the original headers and body, so a redirecting URL would carry a stored request (or a bearer token) to
/// wherever it points, and a fetched certificate or address list could come from a host nobody checked. A redirect
/// is an answer like any other: a failed attempt for a delivery, an error for a fetch.
public enum OutboundHTTP {
    /// A client whose configuration `tune` may adjust (timeouts, pool); redirects stay disallowed whatever it sets.
    /// The caller shuts it down.
    public static func makeClient(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger? = nil,
                                  tune: (inout HTTPClient.Configuration) -> Void = { _ in }) -> HTTPClient {
        var config = HTTPClient.Configuration()
        config.timeout = .init(connect: .seconds(10), read: .seconds(60))
        tune(&config)
        config.redirectConfiguration = .disallow
        // Inlet bootstraps no tracer: without this, every request still made (and dropped) spans for the no-op one.
        config.tracing.tracer = nil
        if let logger { return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: config, backgroundActivityLogger: logger) }
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: config)
    }

    /// A process-wide client for the CLI, in place of `HTTPClient.shared` (which follows redirects). Like it, never
    /// shut down: it lives as long as the process.
    public static let shared: HTTPClient = makeClient { $0.timeout = .init(connect: .seconds(10), read: .seconds(300)) }
}
