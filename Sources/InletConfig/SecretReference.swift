import Foundation
import InletCore

/// A reference to a secret: `env:NAME`, `file:PATH`, or the literal value.
public struct SecretReference: Sendable, Equatable, CustomStringConvertible {
    public var label: String
    public var reference: String
    /// The secret verifies (or signs) only from this time on.
    public var notBefore: EpochMillis?
    /// The secret stops verifying (or signing) at this time.
    public var expiresAt: EpochMillis?

    public init(label: String, reference: String, notBefore: EpochMillis? = nil, expiresAt: EpochMillis? = nil) {
        self.label = label
        self.reference = reference
        self.notBefore = notBefore
        self.expiresAt = expiresAt
    }

    public var window: SecretWindow { SecretWindow(notBefore: notBefore, expiresAt: expiresAt) }

    /// Whether the reference names where the secret lives (`env:`/`file:`) rather than being the value itself: only
    /// such a reference may be printed.
    public static func isIndirect(_ reference: String) -> Bool { reference.hasPrefix("env:") || reference.hasPrefix("file:") }

    /// Describes where the secret comes from, never its value.
    public var description: String {
        if Self.isIndirect(reference) { return "\(label) (\(reference))" }
        return "\(label) (literal)"
    }

    public enum ResolveError: Error, Equatable { case envUnset(String), fileUnreadable(String), empty }

    public func resolve(environment: [String: String], baseDirectory: String) -> Result<String, ResolveError> {
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard let v = environment[name] else { return .failure(.envUnset(name)) }
            return v.isEmpty ? .failure(.empty) : .success(v)
        }
        if reference.hasPrefix("file:") {
            let path = GatewayConfig.resolvePath(String(reference.dropFirst(5)), relativeTo: baseDirectory)
            guard let v = try? String(contentsOfFile: path, encoding: .utf8) else { return .failure(.fileUnreadable(path)) }
            let trimmed = v.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? .failure(.empty) : .success(trimmed)
        }
        return reference.isEmpty ? .failure(.empty) : .success(reference)
    }
}
