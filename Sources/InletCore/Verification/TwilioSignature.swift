import Crypto
import Foundation

/// Twilio's request validation (twilio-python `RequestValidator`): HMAC-SHA1, base64, keyed with the auth token,
/// over the full URL Twilio requested followed by each POST parameter as `name + value`, names sorted, each
/// name's distinct values sorted. JSON bodies: Twilio appends `bodySHA256=<hex>` to the URL, signs the URL only,
/// and the body is checked against that hash. The URL is tried with and without its port, as the SDK does,
/// because Twilio is inconsistent about including `:443`.
///
/// Webhooks signed with a SharedKey carry `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256`
/// (twilio-python `get_signature_algorithm`): the same string is then signed with HMAC-SHA256, keyed with that
/// SharedKey's secret. A missing header, or one without `algorithm=`, means the Auth Token's HMAC-SHA1.
enum TwilioSignature {
    static let settingsHeader = "X-Twilio-Webhooks-Signature-Settings"

    /// The hash the request says it was signed with; nil when it names one the SDK does not support (refused, as the
    /// SDK refuses it).
    static func algorithm(settings: String?) -> HashFunction? {
        for part in (settings ?? "").split(separator: ",", omittingEmptySubsequences: false) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let name = part[..<eq].trimmingASCIIWhitespace()
            let value = part[part.index(after: eq)...].trimmingASCIIWhitespace()
            guard name == "algorithm", !value.isEmpty else { continue }
            switch value.uppercased() {
            case "HMAC_SHA1": return .sha1
            case "HMAC_SHA256": return .sha256
            default: return nil
            }
        }
        return .sha1
    }

    static func verify(request: IncomingRequest, publicURL: String, signatures: [[UInt8]], keys: [VerificationKey], hash: HashFunction = .sha1) -> Int? {
        let url = request.query.map { publicURL + "?" + $0 } ?? publicURL
        var bodyHashOK = true
        let suffix: [UInt8]
        if let declared = request.queryParameter("bodySHA256") {
            bodyHashOK = constantTimeEquals(Hex.encode(SHA256.hash(data: request.body)), Array(declared.utf8))
            suffix = []
        } else {
            suffix = sortedParameterBytes(formParameters(request.body))
        }
        var variants = [withoutPort(url), withPort(url)]
        if variants[0] == variants[1] { variants.removeLast() }
        var matched: Int?
        for (index, key) in keys.enumerated() {
            for v in variants {
                let expected = Array(Base64.encode(hash.mac(key: key.keyBytes, message: Array(v.utf8) + suffix)).utf8)
                for candidate in signatures where constantTimeEquals(expected, candidate) && matched == nil { matched = index }
            }
        }
        return bodyHashOK ? matched : nil
    }

    static func sign(url: String, formBody: [UInt8], key: [UInt8], hash: HashFunction = .sha1) -> String {
        Base64.encode(hash.mac(key: key, message: Array(url.utf8) + sortedParameterBytes(formParameters(formBody))))
    }

    /// `application/x-www-form-urlencoded` pairs, decoded (`+` is a space).
    static func formParameters(_ body: [UInt8]) -> [(String, String)] {
        guard !body.isEmpty else { return [] }
        let text = String(decoding: body, as: UTF8.self)
        return text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (kv[0].removingPercentEncodingPlus, kv.count > 1 ? kv[1].removingPercentEncodingPlus : "")
        }
    }

    /// Names in code-point order (UTF-8 byte order equals it), each name's distinct values likewise.
    static func sortedParameterBytes(_ params: [(String, String)]) -> [UInt8] {
        var byName: [String: Set<String>] = [:]
        for (k, v) in params { byName[k, default: []].insert(v) }
        var out: [UInt8] = []
        for name in byName.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            for value in byName[name]!.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                out += Array(name.utf8) + Array(value.utf8)
            }
        }
        return out
    }

    static func splitAuthority(_ url: String) -> (prefix: String, host: String, port: String?, rest: String)? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let rest = String(afterScheme[authorityEnd...])
        let prefix = String(url[..<schemeEnd.upperBound])
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            return (prefix, String(authority[..<colon]), String(authority[authority.index(after: colon)...]), rest)
        }
        return (prefix, String(authority), nil, rest)
    }

    static func withPort(_ url: String) -> String {
        guard let p = splitAuthority(url), p.port == nil else { return url }
        return p.prefix + p.host + (p.prefix.hasPrefix("https") ? ":443" : ":80") + p.rest
    }

    static func withoutPort(_ url: String) -> String {
        guard let p = splitAuthority(url), p.port != nil else { return url }
        return p.prefix + p.host + p.rest
    }
}
