import InletCore

extension ProfileLoader {
    /// The profile's `[handshake]` / `[[handshake]]` tables (see `HandshakeRule` and the README's "Handshakes").
    static func handshakeRules(_ r: inout TableReader) throws(ConfigError) -> [HandshakeRule] {
        var out: [HandshakeRule] = []
        for var t in try r.tables("handshake") ?? [] {
            var rule = HandshakeRule(name: try t.requiredString("name"))
            guard !out.contains(where: { $0.name == rule.name }) else { throw t.error("name", "'\(rule.name)' is used by another handshake of the profile") }
            rule.method = try t.string("method") ?? "POST"
            guard ["POST", "GET", "HEAD", "OPTIONS"].contains(rule.method) else { throw t.error("method", "must be POST, GET, HEAD or OPTIONS") }
            // Equality first: it is what rules out an ordinary event, usually on its first field (Slack's `type`), before
            // a presence test scans the whole body for a key that is not there.
            rule.when = try pairs(&t, "when_equals").map { .equals($0.0, $0.1) } + values(&t, "when").map { .present($0) }
                + values(&t, "when_absent").map { .absent($0) }
            rule.whenAny = try values(&t, "when_any")
            rule.require = try pairs(&t, "require_equals").map { .equals($0.0, $0.1) }
            for (v, text) in try pairs(&t, "require_pattern") {
                guard let pattern = CharacterPattern(text) else { throw t.error("require_pattern", "'\(text)' is not a pattern ([a-f0-9]{20,32})") }
                rule.require.append(.matches(v, pattern))
            }
            let verify = try t.string("verify") ?? "signature"
            guard let v = HandshakeRule.Verification(rawValue: verify) else {
                throw t.error("verify", "must be \(HandshakeRule.Verification.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            rule.verification = v
            rule.verifyTokenFrom = try values(&t, "verify_token_from").first
            if (v == .verifyToken) != (rule.verifyTokenFrom != nil) {
                throw t.error("verify_token_from", "is required with verify = \"verify_token\", and only then")
            }
            rule.status = try t.int("status", range: 200...299) ?? 200
            rule.contentType = try t.string("content_type")
            if let text = try t.string("body") { rule.body = try template(&t, "body", text) }
            rule.json = try namedTemplates(&t, "json")
            rule.headers = try namedTemplates(&t, "headers")
            if rule.body != nil && !rule.json.isEmpty { throw t.error("json", "a handshake answers with body or json, not both") }
            if !rule.json.isEmpty && rule.contentType != nil { throw t.error("content_type", "a json answer is application/json") }
            rule.establishesSecret = try values(&t, "establishes_secret").first
            if rule.establishesSecret != nil && v == .signature {
                throw t.error("establishes_secret", "a handshake that hands over the secret cannot be signed with it: set verify = \"none\"")
            }
            if rule.method == "POST" && rule.when.isEmpty && rule.whenAny.isEmpty {
                throw t.error("when", "a POST handshake needs a condition, or it would answer every event")
            }
            try t.rejectUnknownKeys()
            out.append(rule)
        }
        return out
    }

    private static func values(_ t: inout TableReader, _ key: String) throws(ConfigError) -> [HandshakeValue] {
        var out: [HandshakeValue] = []
        for text in try t.strings(key) ?? [] {
            guard let v = HandshakeValue(text) else {
                throw t.error(key, "'\(text)' is not a handshake value (query:NAME, header:NAME, json:/pointer, form:NAME, verify_token, public_url, key_id)")
            }
            out.append(v)
        }
        return out
    }

    /// `[["json:/type", "url_verification"], …]`: pairs of strings, in order.
    private static func stringPairs(_ t: inout TableReader, _ key: String) throws(ConfigError) -> [(String, String)] {
        guard let node = t.raw(key) else { return [] }
        guard case .array(let items) = node else { throw t.error(key, "expected an array of [\"…\", \"…\"] pairs") }
        var out: [(String, String)] = []
        for (n, item) in items.enumerated() {
            guard case .array(let pair) = item, pair.count == 2, case .string(let a) = pair[0], case .string(let b) = pair[1] else {
                throw t.error(key, "item \(n + 1): expected a pair of strings [\"…\", \"…\"]")
            }
            out.append((a, b))
        }
        return out
    }

    private static func pairs(_ t: inout TableReader, _ key: String) throws(ConfigError) -> [(HandshakeValue, String)] {
        var out: [(HandshakeValue, String)] = []
        for (a, b) in try stringPairs(&t, key) {
            guard let v = HandshakeValue(a) else { throw t.error(key, "'\(a)' is not a handshake value (query:NAME, header:NAME, json:/pointer, form:NAME)") }
            out.append((v, b))
        }
        return out
    }

    private static func namedTemplates(_ t: inout TableReader, _ key: String) throws(ConfigError) -> [HandshakeRule.NamedTemplate] {
        var out: [HandshakeRule.NamedTemplate] = []
        for (name, text) in try stringPairs(&t, key) {
            guard !name.isEmpty else { throw t.error(key, "a name is empty") }
            out.append(.init(name, try template(&t, key, text)))
        }
        return out
    }

    private static func template(_ t: inout TableReader, _ key: String, _ text: String) throws(ConfigError) -> HandshakeTemplate {
        do { return try HandshakeTemplate(text) } catch { throw t.error(key, "invalid template '\(text)': \(error)") }
    }
}
