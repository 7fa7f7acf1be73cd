import Foundation
import NIOHTTP1

extension AdminAPI {
    /// `GET /` (the page) and `GET /console/{file}` (its script and style): the operator console's static files, open
    /// like the probes (they hold no data; every API call the page makes carries the token). `304` when the
    /// browser's `If-None-Match` names the current ETag.
    func consoleAsset(_ request: AdminRequest) -> SimpleResponse {
        let name = request.path.isEmpty ? "index.html" : request.parameter("file")
        guard let asset = ConsoleAssets.named(name) else {
            return SimpleResponse(status: 404, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("not found\n".utf8))
        }
        let headers = ConsoleAssets.headers(for: asset)
        if Self.matches(ifNoneMatch: request.headers[canonicalForm: "If-None-Match"].map(String.init), etag: asset.etag) {
            return SimpleResponse(status: 304, headers: headers.filter { $0.0 != "Content-Type" })
        }
        return SimpleResponse(status: 200, headers: headers, body: asset.bytes)
    }

    /// RFC 9110 §13.1.2: `*`, or any listed tag equal to ours under the weak comparison (`W/` ignored).
    static func matches(ifNoneMatch values: [String], etag: String) -> Bool {
        values.contains { value in
            let tags = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return tags.contains { $0 == "*" || ($0.hasPrefix("W/") ? String($0.dropFirst(2)) : $0) == etag }
        }
    }
}
