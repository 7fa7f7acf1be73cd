import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import Logging
import NIOCore
import NIOPosix
import UnixSignals

struct SendTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send-test", abstract: "Sign a sample event as the source's provider would and POST it to the gateway.")
    @OptionGroup var options: ConfigOption
    @Argument(help: "Source name.") var source: String
    @Option(help: "Gateway base URL (default: the config's listen address).") var url: String?
    @Option(help: "Event type to put in the sample.") var type: String = "inlet.test"

    func run() async throws {
        let resolved = try options.resolve()
        guard let policy = resolved.sources.first(where: { $0.name == source }) else {
            throw CLIError("no source named '\(source)' in \(options.config) (sources: \(resolved.sources.map(\.name).joined(separator: ", ")))")
        }
        guard let spec = policy.profile.signatures.first else { throw CLIError("\(policy.profile.name) has no signature scheme") }
        if spec.algorithm.usesPublicKey || spec.algorithm.usesSigningCertificate {
            throw CLIError("send-test cannot sign as \(policy.profile.name): only the provider holds its private key. Use the provider's own test tools.")
        }
        if spec.algorithm == .jwt {
            throw CLIError("send-test cannot sign as \(policy.profile.name): it does not make JWTs. Use the provider's own test tools.")
        }
        if case .header? = spec.sources.first {} else {
            throw CLIError("send-test cannot sign as \(policy.profile.name): its signature travels inside the body")
        }
        let now = SystemClock().now()
        let eventID = "evt_test_" + String(InletEventID.make(millis: now).suffix(16)).lowercased()
        var sample = SampleEvent.make(profile: policy.profile, id: eventID, type: type, now: now)
        var contentType = "application/json"
        if spec.algorithm == .twilio {
            // Twilio posts forms; the idempotency token header carries the event ID.
            sample = (Array("MessageSid=SM\(eventID.suffix(16))&Body=Hello+from+inlet+send-test&From=%2B15555550100".utf8), [("I-Twilio-Idempotency-Token", eventID)])
            contentType = "application/x-www-form-urlencoded"
        }
        let publicURL = policy.verification.publicURL
        var headers = policy.profile.sign(body: sample.body, key: policy.keys[0].keyBytes, timestampSeconds: now / 1000, id: eventID, publicURL: publicURL)
        // The signer already set the headers the scheme signs (e.g. webhook-id); do not send them twice.
        headers += sample.headers.filter { h in !headers.contains { $0.0.lowercased() == h.0.lowercased() } }
        let base = url ?? "http://\(resolved.config.server.host == "0.0.0.0" ? "127.0.0.1" : resolved.config.server.host):\(resolved.config.server.port)"
        var request = HTTPClientRequest(url: base + policy.path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        for (n, v) in headers { request.headers.add(name: n, value: v) }
        request.body = .bytes(sample.body)
        let client = OutboundHTTP.makeClient()
        print("POST \(base + policy.path)  (\(policy.profile.name), signed with secret '\(policy.keys[0].label)', event \(eventID))")
        let status: UInt
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            status = response.status.code
            print("\(status) \(String(buffer: body))")
        } catch {
            try? await client.shutdown()
            throw CLIError("cannot reach the gateway at \(base): \(error). Is `inlet serve` running?")
        }
        try? await client.shutdown()
        if !(200..<300).contains(Int(status)) { throw ExitCode(1) }
    }
}

/// Builds a sample body (and header fields) carrying an event ID and type where the profile looks for them.
enum SampleEvent {
    static func make(profile: ProviderProfile, id: String, type: String, now: EpochMillis) -> (body: [UInt8], headers: [(String, String)]) {
        var object: [String: Any] = ["created": now / 1000, "data": ["message": "Hello from inlet send-test"]]
        var headers: [(String, String)] = []
        func place(_ sources: [ValueSource], _ value: String) {
            switch sources.first {
            case .json(let p)?: set(&object, p.tokens[...], value)
            case .header(let h)?: headers.append((h, value))
            default: break
            }
        }
        place(profile.event.idSources, id)
        place(profile.event.typeSources, type)
        if object["id"] == nil { object["id"] = id }
        if object["type"] == nil { object["type"] = type }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return (Array(data), headers)
    }

    private static func set(_ obj: inout [String: Any], _ path: ArraySlice<String>, _ value: String) {
        guard let first = path.first else { return }
        if path.count == 1 { obj[first] = value; return }
        var child = obj[first] as? [String: Any] ?? [:]
        set(&child, path.dropFirst(), value)
        obj[first] = child
    }
}
