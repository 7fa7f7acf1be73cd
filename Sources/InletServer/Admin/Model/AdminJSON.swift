import Foundation

/// The admin API's JSON: keys sorted, so an answer's bytes depend only on its values. The server encodes with it,
/// and the CLI and the tests decode with it, into the types of `Admin/Model/`.
public enum AdminJSON {
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Only a non-finite number can fail, and no admin answer carries one.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
