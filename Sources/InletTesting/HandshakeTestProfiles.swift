import Foundation
import InletConfig
import InletCore

/// Test profiles for declared handshakes whose providers have no shipped profile. None is left: every declared handshake
/// (eBay's and Braintree's included) is tested on its shipped profile. Kept for gateways started in tests, which take
/// their providers directory from here.
public enum HandshakeTestProfiles {
    public static let toml: [String: String] = [:]

    /// Every test profile, parsed.
    public static func profiles() throws -> [String: ProviderProfile] {
        var out: [String: ProviderProfile] = [:]
        for (name, text) in toml { out[name] = try ProfileLoader.parse(text, file: name + ".toml") }
        return out
    }

    /// A providers directory with the shipped profiles and these: for gateways started in tests.
    public static func providersDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-providers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let shipped = Repo.root + "/providers"
        for file in try FileManager.default.contentsOfDirectory(atPath: shipped) where file.hasSuffix(".toml") {
            try FileManager.default.copyItem(atPath: shipped + "/" + file, toPath: dir + "/" + file)
        }
        for (name, text) in toml { try text.write(toFile: dir + "/" + name + ".toml", atomically: true, encoding: .utf8) }
        return dir
    }
}
