import FuzzSupport
import InletCore

/// The byte-level JSON scanner (event ID/type extraction, routes, signed-content pointers, SNS fields, IP lists).
///
/// Input: a JSON document; or `pointer NUL document`, which adds that pointer to the fixed ones. Besides crashes
/// and hangs, the target checks the scanner against itself: on a document `isValidDocument` accepts, `find` never
/// throws, every value it returns is itself a valid document inside the input, every string value unescapes, and
/// the path `firstDuplicateKey` reports leads to a value.

private let fixedPointers: [JSONPointer] = [
    "", "/id", "/type", "/data/object/id", "/data/object/status", "/event/type", "/0", "/0/sg_event_id", "/a/0/b",
    "/~1/~0", "/Signature", "/MessageId", "/WEBHOOKS/1", "/hooks/0", "/payload/plainToken", "/-", "/",
].map { JSONPointer($0)! }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var bytes = fuzzBytes(data, size)
    var pointers = fixedPointers
    if let nul = bytes.firstIndex(of: 0) {
        let text = String(decoding: bytes[..<nul], as: UTF8.self)
        bytes = Array(bytes[(nul + 1)...])
        if let p = JSONPointer(text) {
            // Printing and re-parsing a pointer gives the same pointer.
            precondition(JSONPointer(p.description) == p, "JSONPointer round trip changed \(p.tokens)")
            pointers.append(p)
        }
        _ = ValueSource("json:" + text)
    }

    let valid = JSONScanner.isValidDocument(bytes)
    for pointer in pointers {
        let found: JSONValueSlice?
        do {
            found = try JSONScanner.find(pointer, in: bytes)
        } catch {
            precondition(!valid, "find(\(pointer)) threw \(error) on a document isValidDocument accepts")
            continue
        }
        let text = JSONScanner.scalarText(at: pointer, in: bytes)
        guard let slice = found else {
            precondition(text == nil, "scalarText found a value find did not")
            if pointer.tokens.isEmpty { precondition(!valid, "the whole of a valid document was not found") }
            continue
        }
        precondition(slice.range.lowerBound >= 0 && slice.range.upperBound <= bytes.count && !slice.range.isEmpty,
                     "slice \(slice.range) outside the \(bytes.count)-byte input")
        let value = Array(bytes[slice.range])
        precondition(JSONScanner.isValidDocument(value), "find returned a \(slice.kind) slice \(slice.range) that is not valid JSON")
        if slice.kind == .string || slice.kind == .number || slice.kind == .bool {
            precondition(text != nil, "scalarText is nil for a \(slice.kind) value")
        }
        _ = FieldCondition(pointer: pointer, test: .oneOf(["a", "1", "true"])).holds(in: bytes)
    }
    // A duplicated key's path exists (its first occurrence) and prints and parses back to itself.
    if let dup = JSONScanner.firstDuplicateKey(in: bytes) {
        precondition(JSONPointer(dup.description) == dup, "duplicate key path \(dup.tokens) does not round-trip")
        if valid { precondition((try? JSONScanner.find(dup, in: bytes)) != nil, "duplicate key \(dup) not found by find") }
    }
    // Downloaded provider IP lists go through the same scanner.
    _ = try? PublishedIPRanges.parse(bytes, format: .stripeJSON)
    _ = try? PublishedIPRanges.parse(bytes, format: .githubMeta)
    return 0
}

@_cdecl("fuzz_json_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzz)
}
