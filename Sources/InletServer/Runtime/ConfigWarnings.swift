import InletConfig
import InletCore
import Logging

/// What an operator must hear about a config that is valid but risky, logged in one shape at start-up and after
/// every reload: secrets expiring (or expired) within the warning horizon, and published development credentials.
enum ConfigWarnings {
    static func log(_ resolved: ResolvedConfig, logger: Logger, now: EpochMillis) {
        for w in resolved.expiryWarnings(now: now) {
            logger.warning("secret expiring", metadata: [
                "owner": "\(w.owner)", "secret": "\(w.label)", "expires_at": "\(RFC3339.format(w.expiresAt))", "expired": "\(w.expired)",
            ])
        }
        for use in resolved.developmentCredentials {
            logger.warning("DEVELOPMENT CREDENTIAL IN USE: anyone who has read Inlet's README knows it; fine on this machine only, refused on any other listener",
                           metadata: ["key": "\(use.keyPath.joined(separator: "."))", "secret": "\(use.label)", "origin": "\(use.origin)", "guards": "\(use.guards)"])
        }
    }
}
