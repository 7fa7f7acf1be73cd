import ArgumentParser
import AsyncHTTPClient
import Foundation
import InletConfig
import InletCore
import InletServer
import InletStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// How an operator's command reaches the gateway: by default in-process, running the admin API's own handler on the
/// store next to the config (the machine the gateway runs on); with `--admin`, over HTTP to a remote admin API.
/// Either way the command sees the same JSON, decoded into the API's own types (`AdminAPI.SourceList`, …), so the
/// CLI mirrors the API exactly.
struct AdminAccess: ParsableArguments {
    @OptionGroup var options: ConfigOption
    @Option(name: .customLong("admin"), help: "Admin API base URL, e.g. http://10.0.0.5:9190 (default: $INLET_ADMIN_URL; unset: open the local store).")
    var adminURL: String?
    @Option(help: "Bearer token for --admin: the token, env:NAME or file:PATH (default: $INLET_ADMIN_TOKEN).")
    var token: String?
    @Flag(help: "Print the API's JSON instead of a summary.")
    var json = false

    struct Reply {
        let status: Int
        let body: [UInt8]

        /// The answer as the API's type for it.
        func decode<Answer: Decodable>(_ type: Answer.Type) throws -> Answer {
            do { return try AdminJSON.decode(type, from: body) } catch {
                throw CLIError("the admin API's answer is not \(type): \(String(decoding: body.prefix(300), as: UTF8.self))")
            }
        }
    }

    var remoteURL: String? { adminURL ?? ProcessInfo.processInfo.environment["INLET_ADMIN_URL"] }

    /// Performs one API call; a 4xx/5xx answer becomes an error carrying the API's reason.
    func call(_ method: HTTPMethod, _ path: String, body: [UInt8] = [], allow: Set<Int> = []) async throws -> Reply {
        let reply = try await perform(method, path, body: body)
        guard reply.status < 400 || allow.contains(reply.status) else {
            guard let refusal = try? reply.decode(AdminAPI.ErrorBody.self) else {
                throw CLIError("\(reply.status) \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
            }
            let detail = [refusal.error] + [("destination", refusal.destination), ("parameter", refusal.parameter), ("hint", refusal.hint)]
                .compactMap { k, v in v.map { "\(k): \($0)" } }
            throw CLIError("\(reply.status) \(detail.joined(separator: ", "))")
        }
        return reply
    }

    private func perform(_ method: HTTPMethod, _ path: String, body: [UInt8]) async throws -> Reply {
        if let base = remoteURL {
            var request = HTTPClientRequest(url: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(try resolvedToken())")
            if !body.isEmpty {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            do {
                let response = try await OutboundHTTP.shared.execute(request, timeout: .seconds(300))
                return Reply(status: Int(response.status.code), body: Array(buffer: try await response.body.collect(upTo: 256 << 20)))
            } catch {
                throw CLIError("cannot reach the admin API at \(base): \(error)")
            }
        }
        let resolved = try options.resolve()
        let store = try openStoreForReading(resolved.config)
        let api = AdminAPI(runtime: LiveConfig(resolved), store: store, storeThreads: NIOThreadPool.singleton, clock: SystemClock(),
                           certificates: SigningCertificateCache(fetcher: HTTPCertificateFetcher(client: OutboundHTTP.shared), clock: SystemClock()),
                           requiresToken: false)
        let response = await api.handle(SimpleRequest(method: method.rawValue, uri: path, body: body))
        return Reply(status: response.status, body: response.body)
    }

    /// The token, or the secret it references: the same `env:`/`file:` rules as the config's secrets (a relative
    /// `file:` path is taken from the current directory, as a path typed on the command line would be).
    func resolvedToken(currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> String {
        guard let reference = token ?? ProcessInfo.processInfo.environment["INLET_ADMIN_TOKEN"] else {
            throw CLIError("--admin needs a token: --token, or $INLET_ADMIN_TOKEN")
        }
        return try resolveTokenReference(reference, noun: "admin token", currentDirectory: currentDirectory)
    }

    /// Prints the JSON as is (`--json`), or the summary of the answer decoded as `type`.
    func show<Answer: Decodable>(_ reply: Reply, as type: Answer.Type, _ summary: (Answer) -> Void) throws {
        if json { print(String(decoding: reply.body, as: UTF8.self)) } else { summary(try reply.decode(type)) }
    }

    /// Prints the JSON as is (`--json`), or a summary that needs nothing from the answer.
    func show(_ reply: Reply, _ summary: () -> Void) {
        if json { print(String(decoding: reply.body, as: UTF8.self)) } else { summary() }
    }
}

/// Builds a query string from the options that were given.
func queryString(_ pairs: [(String, String?)]) -> String {
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~:"))
    let parts = pairs.compactMap { k, v in v.map { "\(k)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" } }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
}

/// An optional field as printed in a summary: `-` when absent.
func text(_ v: (any CustomStringConvertible)?) -> String {
    v.map(\.description) ?? "-"
}

/// A token given on the command line (the admin token, a stream's consumer token), or the secret it references: the
/// config's `env:`/`file:` rules, a relative `file:` path taken from `currentDirectory`. Errors name the variable or
/// the file, never the value.
func resolveTokenReference(_ reference: String, noun: String,
                           currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> String {
    switch SecretReference(label: noun, reference: reference)
        .resolve(environment: ProcessInfo.processInfo.environment, baseDirectory: currentDirectory) {
    case .success(let value): return value
    case .failure(.envUnset(let name)): throw CLIError("the \(noun)'s environment variable \(name) is not set")
    case .failure(.fileUnreadable(let path)): throw CLIError("cannot read the \(noun) file \(path)")
    case .failure(.empty): throw CLIError("the \(noun) (\(SecretReference.isIndirect(reference) ? reference : "given")) is empty")
    }
}
