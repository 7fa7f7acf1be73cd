import Foundation
import InletConfig
import InletCore

/// The repository the tests run in: its root (found from this file's path, so tests run from any directory), the
/// shipped provider profiles and the known-answer fixtures.
public enum Repo {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static let profiles: [String: ProviderProfile] = {
        do { return try ProfileLoader.loadDirectory(root + "/providers") } catch { fatalError("shipped profiles do not load: \(error)") }
    }()

    /// A known-answer file: those shipped with the profiles (`providers/fixtures/`, read by `inlet providers test`)
    /// first, then the test-only ones (`Tests/InletCoreTests/Verification/Fixtures/`, e.g. provider_vectors.json).
    public static func fixture(_ name: String) -> Data {
        FileManager.default.contents(atPath: root + "/providers/fixtures/" + name)
            ?? FileManager.default.contents(atPath: root + "/Tests/InletCoreTests/Verification/Fixtures/" + name) ?? Data()
    }
}

/// A POST to `/hooks/x` from 127.0.0.1 with these headers and body, for verification tests.
public func makeRequest(headers: [String: String], body: String, query: String? = nil, receivedAt: EpochMillis = 0) -> IncomingRequest {
    IncomingRequest(method: "POST", path: "/hooks/x", query: query, headers: HTTPHeaderList(headers.map { ($0.key, $0.value) }),
                    body: Array(body.utf8), peer: IPAddress("127.0.0.1"), receivedAt: receivedAt)
}
