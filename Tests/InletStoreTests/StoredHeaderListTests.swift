import InletCore
@testable import InletStore
import Testing

@Suite("Stored header lists")
struct StoredHeaderListTests {
    /// What the store writes, it reads back exactly, on the fast path (no Foundation JSON parser).
    @Test func encodedHeadersRoundTripOnTheFastPath() {
        let headers = HTTPHeaderList([
            ("Content-Type", "application/json"), ("X-Quote", #"a "quoted" \ value"#), ("X-Control", "tab\there\r\nnul\u{0}\u{1F}"),
            ("X-Unicode", "café ✓ 🚀"), ("X-Empty", ""), ("x-dup", "1"), ("x-dup", "2"),
        ])
        let text = SQLiteEventStore.encodeHeaders(headers)
        let fast = SQLiteEventStore.decodeEncodedHeaders(Array(text.utf8))
        #expect(fast == headers)
        #expect(SQLiteEventStore.decodeHeaders(text) == headers)
        #expect(SQLiteEventStore.decodeEncodedHeaders(Array(SQLiteEventStore.encodeHeaders(HTTPHeaderList()).utf8)) == HTTPHeaderList())
    }

    /// JSON the fast path does not expect (whitespace, other escapes) still decodes, through Foundation.
    @Test func otherJSONFallsBackToTheFullParser() {
        let text = #"[ ["A", "\u00e9"], ["B","x\/y"] ]"#
        #expect(SQLiteEventStore.decodeEncodedHeaders(Array(text.utf8)) == nil)
        #expect(SQLiteEventStore.decodeHeaders(text) == HTTPHeaderList([("A", "é"), ("B", "x/y")]))
        #expect(SQLiteEventStore.decodeEncodedHeaders(Array(#"[["A","b"]"#.utf8)) == nil)
    }
}
