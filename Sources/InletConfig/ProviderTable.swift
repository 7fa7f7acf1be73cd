import Foundation
import InletCore

/// The README's providers table, made from the profiles themselves (`inlet providers table`), so it lists every
/// profile and cannot drift from them (a test compares the README with it).
public enum ProviderTable {
    public static let header = """
    | profile | scheme | event ID (dedup key) | type | handshake | tolerance | replay window | confidence | source IPs |
    |---|---|---|---|---|---|---|---|---|
    """

    /// The table: the header, then one row per profile in name order.
    public static func markdown(_ profiles: [String: ProviderProfile]) -> String {
        ([header] + profiles.values.sorted { $0.name < $1.name }.map(row)).joined(separator: "\n")
    }

    static func row(_ p: ProviderProfile) -> String {
        let scheme = p.summary.isEmpty ? p.schemeSummary : p.summary
        let cells = [code(p.name), cell(scheme), eventID(p), list(p.event.typeSources), handshakes(p), tolerance(p), replayWindow(p), p.confidence.rawValue, sourceIPs(p)]
        return "| " + cells.joined(separator: " | ") + " |"
    }

    public static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    static func code(_ text: String) -> String { "`" + cell(text) + "`" }

    static func source(_ s: ValueSource) -> String {
        switch s {
        case .header(let h): return code(h)
        case .json(let p): return "body " + code(p.tokens.joined(separator: "."))
        case .query(let q): return "query " + code(q)
        case .signatureField(let f): return "signature " + code(f)
        case .form(let f): return "form " + code(f)
        case .body: return "body"
        case .jwtClaim(let p): return "JWT claim " + code(p.tokens.joined(separator: "."))
        case .formBase64XML(let f, let path): return "form " + code(f) + " XML " + code(path.joined(separator: "."))
        }
    }

    static func list(_ sources: [ValueSource]) -> String {
        sources.isEmpty ? "—" : sources.map(source).joined(separator: ", else ")
    }

    static func eventID(_ p: ProviderProfile) -> String {
        if p.event.idSources.isEmpty { return "body SHA-256" }
        let ids = list(p.event.idSources)
        return p.dedupOnBodyHash ? "body SHA-256 (\(ids) with `dedup_on_body_hash = false`)" : ids
    }

    static func handshakes(_ p: ProviderProfile) -> String {
        // Coded handshakes and those described as data in the profile (`[[handshake]]`).
        let names = p.handshakes.map(\.rawValue) + p.handshakeRules.map(\.name)
        return names.isEmpty ? "—" : names.joined(separator: ", ")
    }

    /// The published sender list's size and date (its provenance is in the profile and `inlet providers`).
    static func sourceIPs(_ p: ProviderProfile) -> String {
        guard let ips = p.sourceIPs else { return "—" }
        return "\(ips.ranges.count), \(ips.asOf)" + (ips.urls.isEmpty ? "" : " (update-ips)")
    }

    /// A year or more: the profile signs a timestamp but its reference checks no freshness.
    static let unchecked: Int64 = 31_536_000

    static func duration(_ seconds: Int64) -> String {
        if seconds >= 3600 && seconds % 3600 == 0 { return "\(seconds / 3600) h" }
        if seconds >= 60 && seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }

    static func tolerance(_ p: ProviderProfile) -> String {
        guard let ts = p.timestamp else {
            guard let jwt = p.jwt else { return "—" }
            if let age = jwt.maxAgeSeconds { return "JWT `iat` ≤ " + duration(age) + ", `exp`/`nbf`" }
            return jwt.requiredClaims.contains("exp") ? "JWT `exp`/`nbf`" : "JWT `exp`/`nbf` when present"
        }
        let unit: String
        switch ts.unit {
        case .seconds: unit = ""
        case .milliseconds: unit = " (ms)"
        case .rfc3339: unit = " (RFC 3339)"
        }
        if ts.toleranceSeconds >= unchecked { return "not checked (1 year)" + unit }
        if ts.toleranceSeconds == ts.futureToleranceSeconds { return "±" + duration(ts.toleranceSeconds) + unit }
        // ² (README): the SDK bounds only the past; an hour ahead is allowed for clock skew.
        let mark = ts.futureToleranceSeconds == 3600 ? "²" : ""
        return "\(duration(ts.toleranceSeconds)) past, \(duration(ts.futureToleranceSeconds)) ahead\(mark)" + unit
    }

    /// How long a captured, genuinely signed request could be stored again as a new event (README, Replay window).
    static func replayWindow(_ p: ProviderProfile) -> String {
        let spec = p.signatures.first { !$0.legacy } ?? p.signatures[0]
        let template = spec.signedContent.text
        let bodySigned = template.contains("{body}") || spec.items != nil || p.jwt?.bodyHash != nil
            || spec.algorithm == .twilio || spec.algorithm == .plivoV3 || spec.algorithm.usesSigningCertificate
        let idSigned: Bool
        switch p.dedupOnBodyHash ? nil : p.event.idSources.first {
        case nil: idSigned = bodySigned
        case .json?: idSigned = bodySigned
        case .signatureField?, .jwtClaim?, .body?: idSigned = true
        case .formBase64XML(let f, _)?: idSigned = template.contains("{form:\(f)}")
        case .form(let f)?:
            // Signed when the template covers it by name, or covers every field it does not exclude (Alipay).
            idSigned = template.contains("{form:\(f)}") || spec.signedContent.segments.contains {
                if case .formSorted(let excluded) = $0 { return !excluded.contains(f) }
                return false
            }
        case .query(let q)?: idSigned = template.contains("{query:\(q)}")
        case .header(let h)?:
            idSigned = template.lowercased().contains("{header:\(h.lowercased())}")
                || (template.contains("{id}") && p.signedIDSources.contains { if case .header(let s) = $0 { return s.lowercased() == h.lowercased() }; return false })
        }
        // A JWT bounds replays in time only when the token must say when it expires or was issued.
        let fresh = (p.timestamp.map { $0.toleranceSeconds < unchecked } ?? false)
            || (p.jwt.map { $0.requiredClaims.contains("exp") || $0.maxAgeSeconds != nil } ?? false)
        if fresh { return idSigned ? "none" : "within tolerance, with a fresh ID" }
        return p.dedupOnBodyHash ? "after retention¹" : "after retention"
    }
}

extension ProviderTable {
    /// The table found in `text` (from its header row to the first line that is not a table row).
    public static func current(in text: String) -> String? {
        let lines = text.components(separatedBy: "\n")
        // Found by its first two column names, so a table written before a column was added is still replaced.
        guard let start = lines.firstIndex(where: { $0.hasPrefix("| profile | scheme |") }) else { return nil }
        var end = start
        while end < lines.count && lines[end].hasPrefix("|") { end += 1 }
        return lines[start..<end].joined(separator: "\n")
    }

    /// `text` with its table replaced by `table`; nil when it has none.
    public static func replacing(in text: String, with table: String) -> String? {
        guard let old = current(in: text), let range = text.range(of: old) else { return nil }
        return text.replacingCharacters(in: range, with: table)
    }
}
