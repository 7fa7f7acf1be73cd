import NIOHTTP1

/// A route's path as data: literal segments and `{name}` parameters, e.g. `/v1/events/{id}/replay`.
struct PathPattern: Sendable, Equatable, CustomStringConvertible {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let segments: [Segment]
    let description: String

    init(_ pattern: String) {
        description = pattern
        segments = pattern.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    /// The parameters, when `path` (decoded segments) has this shape; nil otherwise.
    func match(_ path: [String]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let text): guard text == part else { return nil }
            case .parameter(let name): parameters[name] = part
            }
        }
        return parameters
    }
}

/// One entry of the admin API's route table: a method, a path pattern, and the handler that answers it.
struct AdminRoute: Sendable {
    typealias Handler = @Sendable (AdminAPI, AdminRequest) async throws -> SimpleResponse

    /// Which token a route takes.
    enum Access: Sendable, Equatable {
        /// None (the probes, which orchestrators call without one).
        case open
        /// An admin token.
        case admin
        /// A consumer token of the stream named by the route's `{name}` (admin tokens do not read events).
        case consumer
    }

    let method: HTTPMethod
    let pattern: PathPattern
    let access: Access
    var isOpen: Bool { access == .open }
    let handler: Handler

    init(_ method: HTTPMethod, _ pattern: String, open: Bool = false, access: Access = .admin, _ handler: @escaping Handler) {
        self.method = method
        self.pattern = PathPattern(pattern)
        self.access = open ? .open : access
        self.handler = handler
    }
}

/// The route table, and what it answers for a path: the route for the method, or the methods the path does take
/// (for `405`'s `Allow`), or nothing (`404`). Everything is derived from the table, so a new route cannot be
/// forgotten in `Allow`.
struct AdminRouter: Sendable {
    let routes: [AdminRoute]

    init(_ routes: [AdminRoute]) { self.routes = routes }

    /// Routes whose pattern fits `path`, in table order, with their parameters.
    func matches(_ path: [String]) -> [(route: AdminRoute, parameters: [String: String])] {
        routes.compactMap { route in route.pattern.match(path).map { (route, $0) } }
    }

    /// Whether `path` is answered without a token: it names only open routes.
    func isOpen(_ path: [String]) -> Bool {
        let found = matches(path)
        return !found.isEmpty && found.allSatisfy { $0.route.isOpen }
    }

    enum Resolution {
        case route(AdminRoute, parameters: [String: String])
        /// A known path that does not take this method; `allow` lists those it takes, in table order.
        case methodNotAllowed(allow: [String])
        case notFound
    }

    func resolve(method: String, path: [String]) -> Resolution {
        let found = matches(path)
        guard !found.isEmpty else { return .notFound }
        if let hit = found.first(where: { $0.route.method.rawValue == method }) { return .route(hit.route, parameters: hit.parameters) }
        var allow: [String] = []
        for (route, _) in found where !allow.contains(route.method.rawValue) { allow.append(route.method.rawValue) }
        return .methodNotAllowed(allow: allow)
    }
}
