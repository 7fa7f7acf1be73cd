import Foundation

extension AdminAPI {
    /// A request the API refuses: thrown by a route handler, answered by `handle` as `status` with an error body.
    struct Refusal: Error, Sendable {
        let status: Int
        let body: ErrorBody

        init(_ status: Int, _ body: ErrorBody) {
            self.status = status
            self.body = body
        }

        static let notFound = Refusal(404, ErrorBody("not_found"))
        static let notADeadLetter = Refusal(404, ErrorBody("not_a_dead_letter"))
    }
}

extension SimpleResponse {
    /// An admin answer: the value in the admin API's JSON (`AdminJSON`).
    static func json(_ status: Int, _ value: some Encodable) -> SimpleResponse {
        SimpleResponse(status: status, headers: [("Content-Type", "application/json")], body: AdminJSON.encode(value))
    }
}
