@testable import InletCore
import Testing

/// Item 5 of the hardening issue: the scanner reads a key's first occurrence, the consumer's parser its last.
@Suite("Duplicate JSON keys")
struct DuplicateKeyTests {
    func dup(_ json: String) -> String? { JSONScanner.firstDuplicateKey(in: Array(json.utf8))?.description }

    @Test func distinctKeysHaveNoDuplicate() {
        #expect(dup(#"{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]},"c":"a"}"#) == nil)
        #expect(dup(#"[{"a":1},{"a":1}]"#) == nil)  // the same key in two objects is not a duplicate
        #expect(dup("{}") == nil && dup("[]") == nil && dup(#""x""#) == nil && dup("12") == nil)
    }

    @Test func theFirstRepeatedKeyIsReportedWithItsPath() {
        #expect(dup(#"{"Message":"signed","Type":"Notification","Message":"forged"}"#) == "/Message")
        #expect(dup(#"{"signature":{"token":"t","timestamp":"1","token":"u"}}"#) == "/signature/token")
        #expect(dup(#"{"events":[{"id":1},{"id":2,"type":"a","type":"b"}]}"#) == "/events/1/type")
        #expect(dup(#"{"a/b":{"x":1,"x":2}}"#) == "/a~1b/x")
        // Deep in the document, after the fields admission reads.
        #expect(dup(#"{"id":"evt_1","type":"t","data":{"object":{"metadata":{"k":1,"k":1}}}}"#) == "/data/object/metadata/k")
    }

    @Test func keysCompareAfterUnescaping() {
        #expect(dup(#"{"Message":"signed","Mess\u0061ge":"forged"}"#) == "/Message")
        #expect(dup(#"{"a\/b":1,"a/b":2}"#) == "/a~1b")
        #expect(dup(#"{"Message":1,"message":2}"#) == nil)  // keys are case-sensitive in every parser
    }

    @Test func largeObjectsAreCheckedByHash() {
        // Past the linear limit keys are indexed by hash: same answers, escaped or not, at any position.
        let many = (0..<200).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        #expect(dup("{" + many + "}") == nil)
        #expect(dup("{" + many + #","k7":1}"#) == "/k7")
        #expect(dup("{" + many + #","k\u0031\u0039\u0039":1}"#) == "/k199")
        #expect(dup(#"{"\u006b0":1,"# + many + "}") == "/k0")
        #expect(dup(#"{"big":{"# + many + #"},"big":1}"#) == "/big")
        #expect(dup(#"{"a":{"# + many + #"},"b":{"# + many + #","k150":{"x":1,"x":2}}}"#) == "/b/k150")
    }

    @Test func documentsThatAreNotJSONHaveNoDuplicate() {
        #expect(dup("MessageSid=SM1&MessageSid=SM2") == nil)
        #expect(dup(#"{"a":1,"b":"#) == nil)
        #expect(dup(String(repeating: "[", count: 300) + String(repeating: "]", count: 300)) == nil)  // too deep: not walked
    }

    @Test func theScannerStillReadsTheFirstOccurrence() {
        // Why duplicates must be refused rather than resolved: this scanner and Python/JS/Go disagree.
        let body = Array(#"{"Message":"signed","Message":"forged"}"#.utf8)
        #expect(JSONScanner.scalarText(at: JSONPointer("/Message")!, in: body) == "signed")
    }
}

/// Item 4: `topic_arns` entries and what they match.
@Suite("SNS topic patterns")
struct SNSTopicPatternTests {
    @Test(arguments: [
        ("arn:aws:sns:us-east-1:123456789012:orders", "arn:aws:sns:us-east-1:123456789012:orders", true),
        ("arn:aws:sns:us-east-1:123456789012:orders", "arn:aws:sns:us-east-1:123456789012:orders2", false),
        ("arn:aws:sns:us-east-1:123456789012:orders", "arn:aws:sns:us-east-1:210987654321:orders", false),
        ("arn:aws:sns:us-east-1:123456789012:orders", "arn:aws:sns:eu-west-1:123456789012:orders", false),
        ("arn:aws:sns:*:123456789012:orders", "arn:aws:sns:eu-west-1:123456789012:orders", true),
        ("arn:aws:sns:*:123456789012:orders", "arn:aws:sns:eu-west-1:123456789012:billing", false),
        ("arn:aws:sns:us-east-1:123456789012:*", "arn:aws:sns:us-east-1:123456789012:billing", true),
        ("arn:aws:sns:us-east-1:123456789012:*", "arn:aws:sns:us-east-1:210987654321:billing", false),
        ("arn:aws:sns:us-east-1:123456789012:*", "arn:aws:sns:us-east-1:123456789012:a:b", false),
        ("arn:aws:sns:us-east-1:123456789012:*", "arn:aws:sns:us-east-1:123456789012:", false),
        ("arn:aws-cn:sns:cn-north-1:123456789012:orders.fifo", "arn:aws-cn:sns:cn-north-1:123456789012:orders.fifo", true),
        ("arn:aws:sns:us-east-1:123456789012:orders", "arn:aws-cn:sns:us-east-1:123456789012:orders", false),
    ])
    func patternsMatchWholeSegments(_ pattern: String, _ arn: String, _ matches: Bool) throws {
        #expect(try #require(SNSTopicPattern(pattern)).matches(arn) == matches)
    }

    @Test(arguments: [
        "orders", "arn:aws:sns:us-east-1:123456789012", "arn:aws:sqs:us-east-1:123456789012:orders",
        "arn:aws:sns:us-east-1:*:orders",  // the account is never a wildcard
        "arn:aws:sns:us-*:123456789012:orders", "arn:aws:sns:us-east-1:123456789012:ord*",  // whole segments only
        "arn:aws:sns:us-east-1:12345:orders", "arn:evil:sns:us-east-1:123456789012:orders", "*",
    ])
    func malformedPatternsAreRefused(_ text: String) {
        #expect(SNSTopicPattern(text) == nil)
    }
}

@Suite("JSON string scanning, eight bytes at a time")
struct JSONPlainRunTests {
    /// The byte-at-a-time answer the word-at-a-time scan must equal.
    static func naive(_ bytes: [UInt8], from start: Int) -> Int {
        var j = start
        while j < bytes.count, !(bytes[j] == 0x22 || bytes[j] == 0x5C || bytes[j] < 0x20) { j += 1 }
        return j
    }

    @Test func findsEverySpecialByteAtEveryOffset() {
        // Each special byte (and the bytes around the thresholds) at every position of a run longer than two words,
        // from every start: misses and wrong positions both show.
        let specials: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x0A]
        let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF, 0x41]
        for special in specials {
            for position in 0..<19 {
                var bytes = (0..<19).map { plain[$0 % plain.count] }
                bytes[position] = special
                for start in 0...position {
                    #expect(JSONScanner.plainRunEnd(bytes, from: start) == position, "special \(special) at \(position) from \(start)")
                }
            }
        }
    }

    @Test func agreesWithTheByteScanOnRandomInput() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let count = Int.random(in: 0..<64, using: &generator)
            // Mostly plain bytes, some special ones, so runs of every length occur.
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) | (Bool.random(using: &generator) ? 0x40 : 0) }
            let start = count == 0 ? 0 : Int.random(in: 0...count, using: &generator)
            #expect(JSONScanner.plainRunEnd(bytes, from: start) == Self.naive(bytes, from: start), "\(bytes) from \(start)")
        }
    }

    @Test func longPlainStringsStillScanAsBefore() throws {
        let value = String(repeating: "abcdefgh", count: 4_096) + "\\u00e9\\\"tail"
        let doc = Array("{\"pad\":\"\(value)\",\"id\":\"evt_1\"}".utf8)
        #expect(JSONScanner.scalarText(at: JSONPointer(tokens: ["id"]), in: doc) == "evt_1")
        #expect(JSONScanner.isValidDocument(doc))
        #expect(!JSONScanner.isValidDocument(Array("{\"pad\":\"\(value)\u{01}\"}".utf8)))
        #expect(!JSONScanner.isValidDocument(Array("{\"pad\":\"\(value)".utf8)))
    }
}
