import Foundation

// Writes a Swift file that holds the given files, base64-encoded, with an ETag each: run by ConsoleAssetsPlugin at
// build time. Base64 string literals, not byte-array literals: the compiler takes a long time over large array literals.
//
//   ConsoleAssetEmbedder OUTPUT.swift FILE...

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: ConsoleAssetEmbedder OUTPUT.swift FILE...\n".utf8))
    exit(2)
}

/// FNV-1a, 64 bits: an ETag only has to change when the bytes do.
func fnv1a(_ data: Data) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in data {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

var lines = [
    "// Generated at build time by ConsoleAssetEmbedder from Sources/InletServer/Console/. Do not edit.",
    "enum EmbeddedConsoleFiles {",
    "    static let files: [(name: String, etag: String, base64: String)] = [",
]
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let data = try Data(contentsOf: url)
    let name = url.lastPathComponent
    let etag = "\"" + String(fnv1a(data), radix: 16) + "-" + String(data.count) + "\""
    lines.append("        (name: \(String(reflecting: name)), etag: \(String(reflecting: etag)), base64: \"\(data.base64EncodedString())\"),")
}
lines += ["    ]", "}", ""]
try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
