/// An entry of an SNS source's `topic_arns`: `arn:<partition>:sns:<region>:<account>:<topic>`, where the region or
/// the topic (whole segment only) may be `*`. The partition, the service and the account are always exact.
public struct SNSTopicPattern: Sendable, Equatable, CustomStringConvertible {
    let segments: [Substring]
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-cn", "aws-us-gov"].contains(parts[1]), parts[2] == "sns",
              parts[4].count == 12, parts[4].allSatisfy({ $0.isASCII && $0.isNumber }),
              !parts[3].isEmpty, !parts[5].isEmpty,
              parts[3] == "*" || parts[3].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }),
              parts[5] == "*" || parts[5].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
        else { return nil }
        segments = parts
        description = text
    }

    public func matches(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return false }
        for (n, (want, got)) in zip(segments, parts).enumerated() {
            if want == "*" && (n == 3 || n == 5) && !got.isEmpty { continue }
            if want != got { return false }
        }
        return true
    }
}
