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
        let dedupOnBodyHash = try r.bool("dedup_on_body_hash") ?? false
        let summary = try r.string("description") ?? ""
        let ackBody = try r.string("ack_body")
        if let a = ackBody, a.isEmpty || a.utf8.count > 256 || a.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            throw r.error("ack_body", "must be 1 to 256 characters of text on one line")
        }
        _ = try r.strings("docs")

        let secretEncoding: SecretEncoding
        switch try r.string("secret_encoding") ?? "utf8" {
        case "utf8": secretEncoding = .utf8
        case "base64": secretEncoding = .base64(stripPrefix: try r.string("secret_prefix") ?? "")
        case "hex": secretEncoding = .hex
        case "pem": secretEncoding = .pem
        case "key-pair":
            var digest: HashFunction?
            if let d = try r.string("secret_digest") {
                guard let h = HashFunction(rawValue: d) else { throw r.error("secret_digest", "must be sha1, sha256 or sha512") }
                digest = h
            }
            secretEncoding = .keyPair(digest: digest)
        case let other: throw r.error("secret_encoding", "unknown encoding '\(other)' (utf8, base64, hex, pem, key-pair)")
        }
        if case .keyPair = secretEncoding {} else if r.values["secret_digest"] != nil {
            throw r.error("secret_digest", "only applies with secret_encoding = \"key-pair\"")
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
        let keyed = specs.contains { if case .keyedPairs = $0.format { return true }; return false }
        if case .keyPair = secretEncoding {
            guard keyed else { throw r.error("secret_encoding", "key-pair secrets name their signature: use format = \"keyed-pairs\"") }
        } else if keyed {
            throw r.error("secret_encoding", "format = \"keyed-pairs\" needs secret_encoding = \"key-pair\" (KEY_ID:SECRET)")
        }
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

        let handshakeRules = try handshakeRules(&r)
        var handshakes: [Handshake] = []
        for h in try r.strings("handshakes") ?? [] {
            guard let kind = Handshake(rawValue: h) else {
                throw r.error("handshakes", "unknown handshake '\(h)' (\(Handshake.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            handshakes.append(kind)
        }

        var sourceIPs: PublishedIPRanges?
        if var t = try r.table("source_ips") {
            var ranges: [CIDR] = []
            for text in try t.strings("ranges") ?? [] {
                guard let c = CIDR(text) else { throw t.error("ranges", "'\(text)' is not an IP address or CIDR") }
                if c.isTooBroadForSenderList { throw t.error("ranges", "\(PublishedIPRanges.ParseError.tooBroad(text))") }
                ranges.append(c)
            }
            let asOf = try t.requiredString("as_of")
            let reference = try t.string("reference")
            if let reference, reference.trimmingCharacters(in: .whitespaces).isEmpty { throw t.error("reference", "must name where the list was read") }
            // One list, or several whose union is the sender list (US and EU regions, live and sandbox).
            let urls = try t.strings("url") ?? []
            for u in urls where !u.hasPrefix("https://") { throw t.error("url", "'\(u)' is not an https URL") }
            var format: PublishedIPRanges.Format?
            if let f = try t.string("format") {
                guard let parsed = PublishedIPRanges.Format(rawValue: f) else {
                    throw t.error("format", "must be one of \(PublishedIPRanges.Format.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                format = parsed
            }
            if !urls.isEmpty && format == nil { throw t.error("format", "is required with url") }
            var pointer: JSONPointer?
            if let text = try t.string("pointer") {
                guard format == .jsonArray else { throw t.error("pointer", "only applies with format = \"json-array\"") }
                guard let p = JSONPointer(text), !p.tokens.isEmpty else { throw t.error("pointer", "'\(text)' is not a JSON pointer (e.g. \"/data/ipv4_cidrs\")") }
                pointer = p
            }
            if format == .jsonArray && pointer == nil { throw t.error("pointer", "is required with format = \"json-array\"") }
            _ = try t.string("note")
            try t.rejectUnknownKeys()
            sourceIPs = PublishedIPRanges(ranges: ranges, asOf: asOf, reference: reference, urls: urls, format: format, pointer: pointer)
        }

        var jwt: JWTSpec?
        if var t = try r.table("jwt") { jwt = try jwtSpec(&t) }
        if specs.contains(where: { $0.algorithm == .jwt }) {
            guard jwt != nil else { throw r.error("jwt", "a [jwt] table is required with algorithm = \"jwt\"") }
            guard specs.allSatisfy({ $0.algorithm == .jwt }) else { throw r.error("signature", "a jwt profile's signatures are all algorithm = \"jwt\"") }
        } else if jwt != nil {
            throw r.error("jwt", "only applies with algorithm = \"jwt\"")
        }

        var keyFetch: KeyFetchSpec?
        if var t = try r.table("key_fetch") {
            keyFetch = try keyFetchSpec(&t, jwt: jwt != nil)
            guard specs.allSatisfy({ $0.algorithm.verifiesWithFetchedKey }) else {
                throw r.error("key_fetch", "applies to jwt, ecdsa-p256-sha256, ecdsa-p256-sha1 and rsa-* signatures")
            }
            if let jwt {
                if jwt.jwksURL != nil { throw r.error("key_fetch", "a profile fetches keys by id or from jwks_url, not both") }
                if !jwt.acceptsPublicKeys { throw r.error("key_fetch", "a fetched key verifies RS256 or ES256: list one in [jwt] algorithms") }
            }
        }

        var event = EventSpec(idSources: [], typeSources: [])
        var split: SplitSpec?
        if let pointerText = try r.string("split") {
            guard let pointer = JSONPointer(pointerText) else {
                throw r.error("split", "'\(pointerText)' is not a JSON pointer (e.g. \"/events\")")
            }
            split = SplitSpec(pointer: pointer, idSources: [], typeSources: [])
        }
        if var e = try r.table("event") {
            event.idSources = try sources(&e, "id") ?? []
            event.typeSources = try sources(&e, "type") ?? []
            let itemID = try sources(&e, "item_id"), itemType = try sources(&e, "item_type")
            if split == nil && (itemID != nil || itemType != nil) { throw e.error(itemID != nil ? "item_id" : "item_type", "only applies with split") }
            split?.idSources = itemID ?? []
            split?.typeSources = itemType ?? []
            try e.rejectUnknownKeys()
        }
        // Checked last, so a profile with a broken scheme is told about the scheme first.
        guard let confidenceText = try r.string("confidence") else {
            throw r.error("confidence", "is required: what the scheme was read in (\(ProfileConfidence.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let confidence = ProfileConfidence(rawValue: confidenceText) else {
            throw r.error("confidence", "unknown confidence '\(confidenceText)' (\(ProfileConfidence.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let reference = try r.string("reference"), !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw r.error("reference", "is required: where the scheme was read (SDK file, documentation URL or sources)")
        }
        try r.rejectUnknownKeys()
        var profile = ProviderProfile(name: name, displayName: displayName, signatures: specs, signedIDSources: signedID,
                                      secretEncoding: secretEncoding, timestamp: timestamp, event: event, contentType: contentType, handshakes: handshakes)
        profile.sourceIPs = sourceIPs
        profile.handshakeRules = handshakeRules
        profile.split = split
        profile.dedupOnBodyHash = dedupOnBodyHash
        profile.confidence = confidence
        profile.reference = reference
        profile.summary = summary
        profile.jwt = jwt
        profile.keyFetch = keyFetch
        profile.ackBody = ackBody
        return profile
    }

    /// The `[key_fetch]` table: the provider's key-by-id API (see `KeyFetchSpec`). Every URL is https on a host
    /// `hosts` lists; the key id's place is fixed here, never taken as a URL from the request.
    private static func keyFetchSpec(_ t: inout TableReader, jwt: Bool) throws(ConfigError) -> KeyFetchSpec {
        let url = try t.requiredString("url")
        guard let host = KeyFetchSpec.host(of: url) else { throw t.error("url", "must be an https URL on the default port, without credentials or fragment") }
        let hosts = (try t.strings("hosts") ?? [host]).map { $0.lowercased() }
        guard hosts.contains(host) else { throw t.error("hosts", "must list the host of url (\(host))") }
        for h in hosts where KeyFetchSpec.host(of: "https://\(h)/") != h { throw t.error("hosts", "'\(h)' is not a host name") }
        guard let method = KeyFetchSpec.Method(rawValue: try t.string("method") ?? "GET") else { throw t.error("method", "must be GET or POST") }
        let body = try t.string("body")
        if body != nil && method != .post { throw t.error("body", "only applies with method = \"POST\"") }
        guard url.contains("{kid}") || (body ?? "").contains("{kid}") else { throw t.error("url", "{kid} must be in url or body") }
        if let body {
            // The template with empty values must be a JSON object: values are inserted as string content only.
            let probe = body.replacingOccurrences(of: "{kid}", with: "").replacingOccurrences(of: "{client_id}", with: "").replacingOccurrences(of: "{secret}", with: "")
            guard probe.hasPrefix("{"), JSONScanner.isValidDocument(Array(probe.utf8)) else {
                throw t.error("body", "must be a JSON object whose placeholders ({kid}, {client_id}, {secret}) sit inside strings")
            }
        }
        guard let auth = KeyFetchSpec.Auth(rawValue: try t.string("auth") ?? "none") else {
            throw t.error("auth", "must be one of \(KeyFetchSpec.Auth.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let tokenURL = try t.string("token_url")
        let tokenScope = try t.string("token_scope")
        if auth == .oauthClientCredentials {
            guard let tokenURL, let tokenHost = KeyFetchSpec.host(of: tokenURL), !tokenURL.contains("{kid}") else {
                throw t.error("token_url", "is required with auth = \"oauth-client-credentials\": an https URL")
            }
            guard hosts.contains(tokenHost) else { throw t.error("token_url", "must be on one of hosts") }
        } else if tokenURL != nil || tokenScope != nil {
            throw t.error(tokenURL != nil ? "token_url" : "token_scope", "only applies with auth = \"oauth-client-credentials\"")
        }
        guard let pointerText = try t.string("key_pointer"), let pointer = JSONPointer(pointerText), !pointer.tokens.isEmpty else {
            throw t.error("key_pointer", "is required: the JSON pointer of the key in the answer (e.g. \"/data/publicKey\")")
        }
        guard let format = KeyFetchSpec.KeyFormat(rawValue: try t.string("key_format") ?? "spki") else {
            throw t.error("key_format", "must be one of \(KeyFetchSpec.KeyFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let keyID: KeyIDSource
        switch try t.string("key_id") {
        case "jwt:kid"?:
            guard jwt else { throw t.error("key_id", "jwt:kid applies to jwt profiles") }
            keyID = .jwtHeader
        case let text?:
            guard let source = ValueSource(text), { if case .json = source { return false }; if case .query = source { return false }; return true }() else {
                throw t.error("key_id", "'\(text)' must be header:NAME, signature:FIELD or jwt:kid")
            }
            keyID = .value(source)
        case nil:
            guard jwt else { throw t.error("key_id", "is required (header:NAME or signature:FIELD)") }
            keyID = .jwtHeader
        }
        if jwt, keyID != .jwtHeader { throw t.error("key_id", "a jwt profile's key id is the token's kid (jwt:kid)") }
        try t.rejectUnknownKeys()
        return KeyFetchSpec(url: url, hosts: hosts, method: method, body: body, auth: auth, tokenURL: tokenURL, tokenScope: tokenScope,
                            keyPointer: pointer, keyFormat: format, keyID: keyID)
    }

    /// The `[jwt]` table: which algorithms, which claims, where the keys are (see `JWTSpec`).
    private static func jwtSpec(_ t: inout TableReader) throws(ConfigError) -> JWTSpec {
        guard let names = try t.strings("algorithms"), !names.isEmpty else { throw t.error("algorithms", "is required (e.g. [\"HS256\"])") }
        var algorithms: [JWTAlgorithm] = []
        for n in names {
            guard let a = JWTAlgorithm(rawValue: n) else {
                throw t.error("algorithms", "'\(n)' is not accepted (\(JWTAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")); never none)")
            }
            algorithms.append(a)
        }
        var spec = JWTSpec(algorithms: algorithms)
        spec.issuers = try t.strings("issuers") ?? []
        spec.requireAudience = try t.bool("require_audience") ?? false
        spec.requiredClaims = try t.strings("required_claims") ?? []
        spec.leewaySeconds = Int64(try t.int("leeway_seconds", range: 0...3600) ?? 0)
        spec.maxAgeSeconds = try t.int("max_age_seconds", range: 1...86_400).map(Int64.init)
        if let claim = try t.string("body_hash_claim") {
            guard let enc = DigestEncoding(rawValue: try t.string("body_hash_encoding") ?? "hex") else {
                throw t.error("body_hash_encoding", "must be hex, base64 or base64url")
            }
            guard let presence = JWTSpec.BodyHashPresence(rawValue: try t.string("body_hash") ?? "required") else {
                throw t.error("body_hash", "must be required, non-empty-body or optional")
            }
            spec.bodyHash = .init(claim: claim, encoding: enc, presence: presence)
        } else if t.values["body_hash_encoding"] != nil || t.values["body_hash"] != nil {
            throw t.error("body_hash_claim", "is required with body_hash_encoding / body_hash")
        }
        spec.urlHashClaim = try t.string("url_hash_claim")
        spec.subjectIsURL = try t.bool("subject_is_url") ?? false
        spec.jwksHosts = try t.strings("jwks_hosts") ?? []
        spec.sourceClaims = try t.strings("source_claims") ?? []
        if var c = try t.table("claims") {
            for key in c.values.keys.sorted() { spec.claims[key] = try c.requiredString(key) }
            try c.rejectUnknownKeys()
        }
        if let url = try t.string("jwks_url") {
            guard spec.acceptsPublicKeys, let host = JWTKeySetURL.host(of: url) else {
                throw t.error("jwks_url", "must be an https URL, with RS256 or ES256 among the algorithms")
            }
            if !spec.jwksHosts.isEmpty && !spec.jwksHosts.contains(host) { throw t.error("jwks_url", "is not on one of jwks_hosts") }
            spec.jwksURL = url
        }
        try t.rejectUnknownKeys()
        return spec
    }

    private static func sources(_ r: inout TableReader, _ key: String) throws(ConfigError) -> [ValueSource]? {
        guard let texts = try r.strings(key) else { return nil }
        var out: [ValueSource] = []
        for t in texts {
            guard let s = ValueSource(t) else {
                throw r.error(key, "'\(t)' is not a value source (header:NAME, json:/pointer, signature:KEY, query:NAME, form:NAME, body, jwt:/pointer, form-base64-xml:FIELD:/path)")
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
        case "positional":
            format = .positional(separator: try s.string("separator") ?? ",", leadingFields: try s.strings("leading_fields") ?? [])
        case "base64-json":
            format = .base64JSON(signatureField: try s.string("signature_field") ?? "signature", fields: try s.strings("fields") ?? [])
        case "keyed-pairs":
            let pairSep = try s.string("pair_separator") ?? "&", keySep = try s.string("key_separator") ?? "|"
            guard !pairSep.isEmpty, !keySep.isEmpty, pairSep != keySep else { throw s.error("key_separator", "the separators must be distinct and not empty") }
            format = .keyedPairs(pairSeparator: pairSep, keySeparator: keySep)
        case let other:
            throw s.error("format", "unknown format '\(other)' (plain, key-value, versioned-list, positional, base64-json, keyed-pairs)")
        }
        let algText = try s.requiredString("algorithm")
        guard let algorithm = SignatureAlgorithm(name: algText) else {
            throw s.error("algorithm", "unknown algorithm '\(algText)' (hmac-sha1, hmac-sha256, hmac-sha512, keyed-sha256, keyed-md5, ed25519, ecdsa-p256-sha256, ecdsa-p256-sha1, rsa-sha1, rsa-sha256, rsa-sha512, jwt, token, twilio, plivo-v3)")
        }
        guard let encoding = ByteEncoding(rawValue: try s.string("encoding") ?? "hex") else {
            throw s.error("encoding", "must be \(ByteEncoding.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let templateText = try s.string("signed_content") ?? "{body}"
        var template: SignedContentTemplate
        do { template = try SignedContentTemplate(templateText) } catch {
            throw s.error("signed_content", "invalid template '\(templateText)': \(error)")
        }
        let sortsForm = template.segments.contains { if case .formSorted = $0 { return true }; return false }
        if let excluded = try s.strings("form_exclude") {
            guard sortsForm else { throw s.error("form_exclude", "only applies when signed_content uses {form_sorted}") }
            template = template.excludingFormFields(excluded)
        }
        var alternates: [SignedContentTemplate] = []
        for text in try s.strings("alternate_signed_content") ?? [] {
            guard case .hmac = algorithm else { throw s.error("alternate_signed_content", "applies to hmac algorithms only") }
            do { alternates.append(try SignedContentTemplate(text)) } catch {
                throw s.error("alternate_signed_content", "invalid template '\(text)': \(error)")
            }
        }
        // The whole body as the signature is a JWT sent as the body (Kinde); for anything else it would sign itself.
        if sources.contains(.body) && algorithm != .jwt { throw s.error("from", "\"body\" is a signature source only with algorithm = \"jwt\"") }
        let legacy = try s.bool("legacy") ?? false
        let everySource = try s.bool("every_header") ?? false
        if everySource && sources.count < 2 { throw s.error("every_header", "needs two or more headers (one per key)") }
        var items: JSONPointer?
        if let text = try s.string("for_each") {
            guard let p = JSONPointer(text), !p.tokens.isEmpty else { throw s.error("for_each", "must be a JSON pointer to an array, e.g. \"/notificationItems\"") }
            guard case .hmac = algorithm else { throw s.error("for_each", "applies to hmac algorithms only") }
            guard sources.allSatisfy({ if case .json = $0 { return true }; return false }) else {
                throw s.error("from", "with for_each, signatures are json: pointers relative to each item")
            }
            items = p
        }
        var signedHeaders: SignedHeaderList?
        if let from = try s.string("signed_headers_from") {
            guard let source = ValueSource(from) else { throw s.error("signed_headers_from", "'\(from)' is not a value source (header:NAME, signature:KEY)") }
            let render: SignedHeaderList.Render
            switch try s.string("signed_headers_render") ?? "values" {
            case "values": render = .values(join: try s.string("signed_headers_join") ?? ".")
            case "pairs": render = .pairs(separator: try s.string("signed_headers_pair_separator") ?? ":", join: try s.string("signed_headers_join") ?? ";")
            case let other: throw s.error("signed_headers_render", "unknown rendering '\(other)' (values, pairs)")
            }
            let missing = try s.string("signed_headers_missing") ?? "refuse"
            guard missing == "refuse" || missing == "skip" else { throw s.error("signed_headers_missing", "must be refuse or skip") }
            signedHeaders = SignedHeaderList(namesFrom: source, separator: try s.string("signed_headers_separator") ?? ",",
                                             sorted: try s.bool("signed_headers_sorted") ?? false, alwaysInclude: try s.strings("signed_headers_include") ?? [],
                                             refuseMissing: missing == "refuse", render: render)
        }
        let usesList = template.segments.contains(.signedHeaders) || template.segments.contains(.signedHeaderNames)
        if usesList != (signedHeaders != nil) {
            throw s.error("signed_headers_from", "is required exactly when signed_content uses {signed_headers} or {signed_header_names}")
        }
        try s.rejectUnknownKeys()
        var spec = SignatureSpec(sources: sources, format: format, algorithm: algorithm, encoding: encoding, signedContent: template, legacy: legacy)
        spec.everySource = everySource
        spec.items = items
        spec.signedHeaders = signedHeaders
        spec.alternateContents = alternates
        return spec
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

extension ProfileLoader {
    /// Rewrites the `ranges` and `as_of` of a profile file's `[source_ips]` table, leaving every other line (and
    /// comment) as it was. Used by `inlet providers update-ips`.
    public static func rewriteSourceIPs(_ text: String, ranges: [CIDR], asOf: String) throws(ConfigError) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "[source_ips]" }) else {
            throw ConfigError(file: "", line: nil, key: "source_ips", message: "the profile has no [source_ips] table")
        }
        var end = lines.count
        for i in (start + 1)..<lines.count where lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("[") { end = i; break }
        var i = start + 1
        var out: [String] = []
        let rangesText = "ranges = [\n" + ranges.map { "  \"\($0.text)\"," }.joined(separator: "\n") + "\n]"
        while i < end {
            let t = lines[i].trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("ranges") {
                // Skip the old array, possibly spanning lines.
                while i < end && !lines[i].contains("]") { i += 1 }
                i += 1
                continue
            }
            if t.hasPrefix("as_of") { i += 1; continue }
            out.append(lines[i])
            i += 1
        }
        while let last = out.last, last.trimmingCharacters(in: .whitespaces).isEmpty { out.removeLast() }
        out += ["as_of = \"\(asOf)\"", rangesText]
        out.append("")  // a blank line before the next table, or the file's final newline
        lines.replaceSubrange((start + 1)..<end, with: out)
        return lines.joined(separator: "\n")
    }
}
