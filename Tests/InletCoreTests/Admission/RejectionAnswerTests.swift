import Foundation
import InletCore
import Testing

/// Every refusal is answered with one JSON shape, wherever it is written (the ingress handler and the head-timeout
/// guard below the HTTP codec share `answerBody`).
@Suite("Rejection answers")
struct RejectionAnswerTests {
    @Test(arguments: RejectionReason.allCases)
    func answerIsTheStatusAndTheReasonCode(_ reason: RejectionReason) throws {
        let object = try JSONSerialization.jsonObject(with: Data(reason.answerBody.utf8)) as? [String: String]
        #expect(object == ["status": "rejected", "reason": reason.rawValue])
        #expect((400...599).contains(reason.httpStatus))
    }
}
