import Foundation
import InletCore
import Logging
import NIOConcurrencyHelpers

/// One JSON object per line on standard error: `ts`, `level`, `msg`, `logger`, then metadata.
/// Values are strings; callers never put secrets or bodies in metadata.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let lock = NIOLock()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += Array(#"{"ts":"#.utf8); JSONString.append(RFC3339.format(SystemClock().now()), to: &out)
        out += Array(#","level":"#.utf8); JSONString.append(event.level.rawValue, to: &out)
        out += Array(#","msg":"#.utf8); JSONString.append(event.message.description, to: &out)
        out += Array(#","logger":"#.utf8); JSONString.append(label, to: &out)
        var merged = metadata
        if let m = event.metadata { merged.merge(m) { $1 } }
        for key in merged.keys.sorted() {
            out.append(UInt8(ascii: ","))
            JSONString.append(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONString.append("\(merged[key]!)", to: &out)
        }
        out += Array("}\n".utf8)
        Self.lock.withLock {
            _ = out.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
    }
}
