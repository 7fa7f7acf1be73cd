import InletCore
@testable import InletStore
import Testing

@Suite("Stored header lists")
struct StoredHeaderListTests {
    /// What the store writes, it reads back exactly, through the byte-level scanner.
    @Test func encodedHeadersRoundTrip() {
        let headers = HTTPHeaderList([
            ("Content-Type", "application/json"), ("X-Quote", #"a "quoted" \ value"#), ("X-Control", "tab\there\r\nnul\u{0}\u{1F}"),
            ("X-Unicode", "café ✓ 🚀"), ("X-Empty", ""), ("x-dup", "1"), ("x-dup", "2"),
        ])
        let text = SQLiteEventStore.encodeHeaders(headers)
        #expect(SQLiteEventStore.decodeHeaders(text) == headers)
        #expect(SQLiteEventStore.decodeHeaders(SQLiteEventStore.encodeHeaders(HTTPHeaderList())) == HTTPHeaderList())
    }

    /// Any JSON of that shape decodes (whitespace, every escape); anything else is no pair list.
    @Test func otherJSONOfTheSameShapeDecodesAndOtherShapesDoNot() {
        let text = #"[ ["A", "\u00e9"], ["B","x\/y"] , ["C" ,"\ud83d\ude80"]]"#
        #expect(SQLiteEventStore.decodeHeaders(text) == HTTPHeaderList([("A", "é"), ("B", "x/y"), ("C", "🚀")]))
        for other in [#"[["A","b"]"#, #"[["A","b","c"]]"#, #"[["A",1]]"#, #"{"A":"b"}"#, #"[["A","b"]] x"#, #"[["A","b"],]"#, ""] {
            #expect(JSONScanner.stringPairs(Array(other.utf8)) == nil, "\(other)")
            #expect(SQLiteEventStore.decodeHeaders(other) == HTTPHeaderList(), "\(other)")
        }
    }
}
