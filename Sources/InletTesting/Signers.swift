import Crypto
import Foundation
import InletCore

public func stripeHeaders(body: String, secret: String = stripeSecret, timestamp: Int64 = Int64(Date().timeIntervalSince1970)) -> [(String, String)] {
    let sig = Hex.string(hmac(Array(secret.utf8), Array("\(timestamp).\(body)".utf8)))
    return [("Stripe-Signature", "t=\(timestamp),v1=\(sig)"), ("Content-Type", "application/json")]
}

public func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
    Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
}

public func stripeEvent(_ id: String, type: String = "invoice.paid") -> String {
    #"{"id":"\#(id)","object":"event","type":"\#(type)","data":{"object":{"id":"in_1","amount_paid":2000,"note":"caf\u00e9 ☕"}}}"#
}
