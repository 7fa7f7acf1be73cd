import Foundation

/// The operator console's static files, embedded in the binary at build time (`ConsoleAssetsPlugin` turns
/// `Sources/InletServer/Console/` into `EmbeddedConsoleFiles`), decoded once on first use.
struct ConsoleAsset: Sendable {
    let name: String
    let contentType: String
    let etag: String
    let bytes: [UInt8]
}

enum ConsoleAssets {
    static let all: [String: ConsoleAsset] = {
        var assets: [String: ConsoleAsset] = [:]
        for file in EmbeddedConsoleFiles.files {
            guard let data = Data(base64Encoded: file.base64) else { continue }
            assets[file.name] = ConsoleAsset(name: file.name, contentType: contentType(of: file.name), etag: file.etag, bytes: Array(data))
        }
        return assets
    }()

    static func named(_ name: String) -> ConsoleAsset? { all[name] }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "json": return "application/json"
        case "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }

    /// The page's own files only: no inline script or style, no other origin. `connect-src 'self'` is the admin API
    /// the page calls; `img-src data:` is the favicon-less page's downloads; frames and forms are refused outright.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Headers every console answer carries. `no-cache`: the browser keeps the file and revalidates it by ETag on
    /// each load, so a new binary's page is never mixed with an old one's script.
    static func headers(for asset: ConsoleAsset) -> [(String, String)] {
        [("Content-Type", asset.contentType), ("Cache-Control", "no-cache"), ("ETag", asset.etag),
         ("Content-Security-Policy", contentSecurityPolicy), ("X-Content-Type-Options", "nosniff"),
         ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")]
    }
}
