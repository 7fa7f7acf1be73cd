import Foundation
import NIOHTTP1

/// An admin request, parsed once: the path as percent-decoded segments, the query's pairs in order, and (once
/// routed) the path parameters. Parsing never fails: a segment that does not decode (`%FF`, a lone `%`) is kept as
/// it came, so it matches no literal and names nothing that exists.
struct AdminRequest: Sendable {
    let method: String
    /// Empty segments are dropped, so `//v1/sources/` is `/v1/sources`.
    let path: [String]
    let queryItems: [(name: String, value: String)]
    let headers: HTTPHeaders
    let body: [UInt8]
    /// Filled in by the router from the route's `{name}` segments.
    var parameters: [String: String] = [:]

    init(_ request: SimpleRequest) {
        method = request.method
        headers = request.headers
        body = request.body
        let (path, query) = Self.split(request.uri)
        self.path = Self.segments(path)
        queryItems = Self.pairs(query)
    }

    /// The path (without its query) as decoded segments: what the router matches.
    static func segments(of uri: String) -> [String] { segments(split(uri).path) }

    /// The first value of a query parameter.
    func query(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }

    /// Every value of a repeatable query parameter, in order.
    func queryAll(_ name: String) -> [String] { queryItems.filter { $0.name == name }.map(\.value) }

    /// A path parameter; the route's pattern guarantees it is there.
    func parameter(_ name: String) -> String { parameters[name] ?? "" }

    private static func split(_ uri: String) -> (path: Substring, query: Substring?) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return (parts.first ?? "", parts.count > 1 ? parts[1] : nil)
    }

    private static func segments(_ path: Substring) -> [String] {
        path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
    }

    /// `a=1&b=x+y&c` → `[(a, 1), (b, "x y"), (c, "")]`; `+` is a space, as in HTML forms.
    private static func pairs(_ query: Substring?) -> [(name: String, value: String)] {
        guard let query else { return [] }
        return query.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }
}
