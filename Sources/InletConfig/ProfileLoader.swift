import Foundation
import InletCore

/// Loads provider profiles from `providers/*.toml`. A profile is data: adding an HMAC-style provider is a file.
public enum ProfileLoader {
    /// Parses one profile file's text.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ProviderProfile {
        let doc = try TOMLDocument(text: text, file: file)
        var r = TableReader(doc: doc, path: [], values: doc.root)
        let name = try r.requiredString("name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw r.error("name", "must be letters, digits, '-' or '_'")
        }
        let displayName = try r.string("display_name") ?? name
        let contentType = try r.string("content_type") ?? "application/json"
        _ = try r.string("description")
        _ = try r.strings("docs")

        let secretEncoding: SecretEncoding
        switch try r.string("secret_encoding") ?? "utf8" {
        case "utf8": secretEncoding = .utf8
        case "base64": secretEncoding = .base64(stripPrefix: try r.string("secret_prefix") ?? "")
        case "hex": secretEncoding = .hex
        case let other: throw r.error("secret_encoding", "unknown encoding '\(other)' (utf8, base64, hex)")
        }
        if case .base64 = secretEncoding {} else if r.values["secret_prefix"] != nil {
            throw r.error("secret_prefix", "only applies with secret_encoding = \"base64\"")
        }

        let signedID = try sources(&r, "signed_id") ?? []
        guard let sigTables = try r.tables("signature"), !sigTables.isEmpty else {
            throw r.error("signature", "at least one [[signature]] is required")
        }
        var specs: [SignatureSpec] = []
        for var s in sigTables { specs.append(try signature(&s)) }
        if specs.contains(where: { $0.signedContent.usesID }) && signedID.isEmpty {
            throw r.error("signed_id", "is required when signed_content uses {id}")
        }

        var timestamp: TimestampSpec?
        if var t = try r.table("timestamp") {
            guard let src = try sources(&t, "sources"), !src.isEmpty else { throw t.error("sources", "is required") }
            guard let unit = TimestampUnit(rawValue: try t.string("unit") ?? "seconds") else {
                throw t.error("unit", "must be seconds, milliseconds or rfc3339")
            }
            let tol = try t.int("tolerance_seconds", range: 1...31_536_000) ?? 300
            let future = try t.int("future_tolerance_seconds", range: 0...31_536_000) ?? tol
            try t.rejectUnknownKeys()
            timestamp = TimestampSpec(sources: src, unit: unit, toleranceSeconds: Int64(tol), futureToleranceSeconds: Int64(future))
        }
        if specs.contains(where: { $0.signedContent.usesTimestamp }) && timestamp == nil {
            throw r.error("timestamp", "a [timestamp] table is required when signed_content uses {timestamp}")
        }

        var handshakes: [Handshake] = []
        for h in try r.strings("handshakes") ?? [] {
            guard let kind = Handshake(rawValue: h) else {
                throw r.error("handshakes", "unknown handshake '\(h)' (\(Handshake.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            handshakes.append(kind)
        }

        var event = EventSpec(idSources: [], typeSources: [])
        if var e = try r.table("event") {
            event.idSources = try sources(&e, "id") ?? []
            event.typeSources = try sources(&e, "type") ?? []
            try e.rejectUnknownKeys()
        }
        try r.rejectUnknownKeys()
        return ProviderProfile(name: name, displayName: displayName, signatures: specs, signedIDSources: signedID,
                               secretEncoding: secretEncoding, timestamp: timestamp, event: event, contentType: contentType, handshakes: handshakes)
    }

    private static func sources(_ r: inout TableReader, _ key: String) throws(ConfigError) -> [ValueSource]? {
        guard let texts = try r.strings(key) else { return nil }
        var out: [ValueSource] = []
        for t in texts {
            guard let s = ValueSource(t) else {
                throw r.error(key, "'\(t)' is not a value source (header:NAME, json:/pointer, signature:KEY, query:NAME)")
            }
            out.append(s)
        }
        return out
    }

    private static func signature(_ s: inout TableReader) throws(ConfigError) -> SignatureSpec {
        var sources = (try s.strings("headers") ?? []).map { ValueSource.header($0) }
        sources += try Self.sources(&s, "from") ?? []
        guard !sources.isEmpty else { throw s.error("headers", "is required (or from = [\"json:/pointer\", …])") }
        let format: SignatureHeaderFormat
        switch try s.string("format") ?? "plain" {
        case "plain":
            format = .plain(prefix: try s.string("prefix") ?? "")
        case "key-value":
            guard let keys = try s.strings("signature_keys"), !keys.isEmpty else { throw s.error("signature_keys", "is required for format = \"key-value\"") }
            format = .keyValue(pairSeparator: try s.string("pair_separator") ?? ",", keyValueSeparator: try s.string("key_value_separator") ?? "=", signatureKeys: keys)
        case "versioned-list":
            guard let versions = try s.strings("versions"), !versions.isEmpty else { throw s.error("versions", "is required for format = \"versioned-list\"") }
            format = .versionedList(entrySeparator: try s.string("entry_separator") ?? " ", versionSeparator: try s.string("version_separator") ?? ",", versions: versions)
        case let other:
            throw s.error("format", "unknown format '\(other)' (plain, key-value, versioned-list)")
        }
        let algText = try s.requiredString("algorithm")
        guard let algorithm = SignatureAlgorithm(name: algText) else {
            throw s.error("algorithm", "unknown algorithm '\(algText)' (hmac-sha1, hmac-sha256, hmac-sha512, ed25519, ecdsa-p256-sha256, token, twilio)")
        }
        guard let encoding = ByteEncoding(rawValue: try s.string("encoding") ?? "hex") else {
            throw s.error("encoding", "must be hex or base64")
        }
        let templateText = try s.string("signed_content") ?? "{body}"
        let template: SignedContentTemplate
        do { template = try SignedContentTemplate(templateText) } catch {
            throw s.error("signed_content", "invalid template '\(templateText)': \(error)")
        }
        let legacy = try s.bool("legacy") ?? false
        try s.rejectUnknownKeys()
        return SignatureSpec(sources: sources, format: format, algorithm: algorithm, encoding: encoding, signedContent: template, legacy: legacy)
    }

    /// Loads every `*.toml` in `directory`, keyed by profile name. A file whose `name` differs from its file
    /// name is refused, so `provider = "stripe"` always means `providers/stripe.toml`.
    public static func loadDirectory(_ directory: String) throws(ConfigError) -> [String: ProviderProfile] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw ConfigError(file: directory, line: nil, key: "", message: "cannot read provider directory: \(error.localizedDescription)")
        }
        var out: [String: ProviderProfile] = [:]
        for file in names.sorted() where file.hasSuffix(".toml") {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError(file: path, line: nil, key: "", message: "cannot read file")
            }
            let profile = try parse(text, file: path)
            let stem = String(file.dropLast(5))
            guard profile.name == stem else {
                throw ConfigError(file: path, line: 1, key: "name", message: "is '\(profile.name)' but the file is named '\(file)'")
            }
            out[profile.name] = profile
        }
        return out
    }
}
