import Crypto

/// Plivo's V3 request signature (plivo-python 4.63.0 `plivo/utils/signature_v3.py`): HMAC-SHA256, base64, keyed with
/// the (sub)account auth token, over
///
///     <scheme://host/path>[?<query, sorted as name=value&…>][.]<POST parameters, sorted, as name+value…>.<nonce>
///
/// where the `?` appears when there is a query or POST parameters, the `.` only between a query and POST parameters,
/// and the nonce is the `X-Plivo-Signature-V3-Nonce` header. `X-Plivo-Signature-V3` is a comma-separated list (one
/// entry per auth token Plivo signs with); any entry may match. A GET callback signs the URL and its query only.
enum PlivoSignature {
    static let nonceHeader = "X-Plivo-Signature-V3-Nonce"

    /// The comma-separated signatures of the header.
    static func signatures(in header: String) -> [[UInt8]] {
        header.split(separator: ",").map { Array($0.trimmingASCIIWhitespace().utf8) }.filter { !$0.isEmpty }
    }

    /// The bytes signed before `.nonce` is appended (the SDK's `construct_get_url` / `construct_post_url`).
    static func baseURL(publicURL: String, query: String?, method: String, formBody: [UInt8]) -> [UInt8] {
        // The configured URL may carry a query of its own; the request's query is what the caller actually sent.
        var url = publicURL
        if let q = query, !q.isEmpty { url += (url.contains("?") ? "&" : "?") + q }
        let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? url.endIndex
        var queryText = ""
        if cut < url.endIndex, url[cut] == "?" {
            let afterQ = url[url.index(after: cut)...]
            queryText = String(afterQ[..<(afterQ.firstIndex(of: "#") ?? afterQ.endIndex)])
        }
        var out = Array(url[..<cut].utf8)
        let sortedQuery = grouped(TwilioSignature.formParameters(Array(queryText.utf8)))
            .flatMap { name, values in values.map { name + "=" + $0 } }.joined(separator: "&")
        let post = method.uppercased() == "GET" ? [] : TwilioSignature.formParameters(formBody)
        if !sortedQuery.isEmpty || !post.isEmpty { out += Array("?".utf8) + Array(sortedQuery.utf8) }
        if !sortedQuery.isEmpty && !post.isEmpty { out.append(UInt8(ascii: ".")) }
        for (name, values) in grouped(post) {
            for v in values { out += Array(name.utf8) + Array(v.utf8) }
        }
        return out
    }

    /// Names in code-point order, each name's values likewise (Python's `sorted` on str).
    private static func grouped(_ params: [(String, String)]) -> [(String, [String])] {
        var byName: [String: [String]] = [:]
        for (k, v) in params { byName[k, default: []].append(v) }
        let order: (String, String) -> Bool = { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        return byName.keys.sorted(by: order).map { ($0, byName[$0]!.sorted(by: order)) }
    }

    /// The index (into `keys`) of the first key that produced one of `signatures`. Every key is tried against every
    /// signature, with no early exit.
    static func verify(request: IncomingRequest, publicURL: String, nonce: String, signatures: [[UInt8]], keys: [VerificationKey]) -> Int? {
        let message = baseURL(publicURL: publicURL, query: request.query, method: request.method, formBody: request.body) + Array(".\(nonce)".utf8)
        var matched: Int?
        for (index, key) in keys.enumerated() {
            let expected = Array(Base64.encode(HashFunction.sha256.mac(key: key.keyBytes, message: message)).utf8)
            for candidate in signatures where constantTimeEquals(expected, candidate) && matched == nil { matched = index }
        }
        return matched
    }

    static func sign(url: String, method: String, formBody: [UInt8], nonce: String, key: [UInt8]) -> String {
        let cut = url.firstIndex(of: "?")
        let base = cut.map { String(url[..<$0]) } ?? url
        let query = cut.map { String(url[url.index(after: $0)...]) }
        let message = baseURL(publicURL: base, query: query, method: method, formBody: formBody) + Array(".\(nonce)".utf8)
        return Base64.encode(HashFunction.sha256.mac(key: key, message: message))
    }
}

extension KeyedHashFunction {
    /// The digest of the key followed by the bytes `feed` hands over, chunk by chunk.
    func digest(key: [UInt8], feed: ((UnsafeRawBufferPointer) -> Void) -> Void) -> [UInt8] {
        switch self {
        case .sha256:
            var h = SHA256()
            h.update(data: key)
            feed { h.update(bufferPointer: $0) }
            return Array(h.finalize())
        case .md5:
            var h = Insecure.MD5()
            h.update(data: key)
            feed { h.update(bufferPointer: $0) }
            return Array(h.finalize())
        }
    }
}
