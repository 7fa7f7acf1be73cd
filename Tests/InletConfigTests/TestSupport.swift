import Foundation
import InletConfig
import InletCore

enum Repo {
    /// The repository root, found from this file's path so tests run from any directory.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let profiles: [String: ProviderProfile] = {
        do { return try ProfileLoader.loadDirectory(root + "/providers") } catch { fatalError("shipped profiles do not load: \(error)") }
    }()

    static func fixture(_ name: String) -> Data {
        FileManager.default.contents(atPath: root + "/Tests/InletConfigTests/Fixtures/" + name) ?? Data()
    }
}

func makeRequest(headers: [String: String], body: String, query: String? = nil, receivedAt: EpochMillis = 0) -> IncomingRequest {
    IncomingRequest(method: "POST", path: "/hooks/x", query: query, headers: HTTPHeaderList(headers.map { ($0.key, $0.value) }),
                    body: Array(body.utf8), peer: IPAddress("127.0.0.1"), receivedAt: receivedAt)
}
