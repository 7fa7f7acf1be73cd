import Foundation
import InletCore

/// A configuration with every secret resolved and every source bound to its profile: what the gateway runs.
public struct ResolvedConfig: Sendable {
    public var config: GatewayConfig
    public var profiles: [String: ProviderProfile]
    public var sources: [ResolvedSource]
    public var destinations: [String: ResolvedDestination]
    /// Streams with their consumer tokens resolved.
    public var streams: [String: ResolvedStream] = [:]
    public var sinkSigner: StandardWebhooksSigner?
    /// Bearer tokens the admin API accepts.
    public var adminTokens: [String] = []
    /// The PostgreSQL store's URL, resolved (with its password).
    public var storeURL: String?
    /// Known development credentials in use, all guarding loopback-only listeners (others are refused): warned about.
    public var developmentCredentials: [DevelopmentCredentialUse] = []

    /// A secret that stops working soon (or has stopped), for start-up warnings and the expiry metric.
    public struct SecretExpiry: Sendable, Equatable, CustomStringConvertible {
        public var owner: String  // "source stripe" or "destination billing"
        public var label: String
        public var expiresAt: EpochMillis
        public var expired: Bool
        public var description: String {
            "\(owner): secret '\(label)' \(expired ? "expired" : "expires") at \(RFC3339.format(expiresAt))"
        }
    }

    /// Every secret with an `expires_at`, in order of expiry.
    public func secretExpiries(now: EpochMillis) -> [SecretExpiry] {
        var out: [SecretExpiry] = []
        for s in sources {
            for k in s.keys { if let ex = k.window.expiresAt { out.append(.init(owner: "source \(s.name)", label: k.label, expiresAt: ex, expired: now >= ex)) } }
        }
        for (name, d) in destinations {
            for ref in d.config.secrets {
                if let ex = ref.expiresAt { out.append(.init(owner: "destination \(name)", label: ref.label, expiresAt: ex, expired: now >= ex)) }
            }
        }
        return out.sorted { ($0.expiresAt, $0.owner, $0.label) < ($1.expiresAt, $1.owner, $1.label) }
    }

    /// Secrets that expire within the configured horizon (or already have).
    public func expiryWarnings(now: EpochMillis) -> [SecretExpiry] {
        let horizon = now + Int64(config.secretExpiryWarningDays) * 86_400_000
        return secretExpiries(now: now).filter { $0.expiresAt <= horizon }
    }
}

public struct ResolvedStream: Sendable {
    public var config: StreamConfig
    /// The consumer tokens' values: compared in constant time, never logged or listed.
    public var tokens: [String]
}

public struct ResolvedDestination: Sendable {
    public var config: DestinationConfig
    public var signer: StandardWebhooksSigner
}

extension GatewayConfig {
    /// Loads profiles, resolves secrets and binds sources. Errors name the key, never a secret's value.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment, profiles preloaded: [String: ProviderProfile]? = nil,
                        now: EpochMillis = SystemClock().now()) throws(ConfigError) -> ResolvedConfig {
        let profiles: [String: ProviderProfile]
        if let preloaded { profiles = preloaded } else { profiles = try ProfileLoader.loadDirectory(providersPath) }
        let locator = keyLocator ?? KeyLocator(file: file, text: "")
        func err(_ path: [String], _ m: String) -> ConfigError { locator.error(path, m) }

        func resolveAll(_ refs: [SecretReference], path: [String]) throws(ConfigError) -> [(SecretReference, String)] {
            var out: [(SecretReference, String)] = []
            for ref in refs {
                switch ref.resolve(environment: environment, baseDirectory: baseDirectory) {
                case .success(let v): out.append((ref, v))
                case .failure(.envUnset(let name)): throw err(path, "secret '\(ref.label)': environment variable \(name) is not set")
                case .failure(.fileUnreadable(let p)): throw err(path, "secret '\(ref.label)': cannot read \(p)")
                case .failure(.empty): throw err(path, "secret '\(ref.label)' is empty")
                }
            }
            return out
        }

        var policies: [ResolvedSource] = []
        for s in sources {
            guard let profile = profiles[s.provider] else {
                throw err(["sources", s.name, "provider"], "unknown provider '\(s.provider)' (see `inlet providers`)")
            }
            let usesJWT = profile.signatures.contains { $0.algorithm == .jwt }
            if !usesJWT && (s.jwksURL != nil || !s.jwtAudience.isEmpty || !s.jwtClaims.isEmpty) {
                throw err(["sources", s.name, s.jwksURL != nil ? "jwks_url" : "jwt_audience"], "only applies to JWT profiles")
            }
            if let url = s.jwksURL, let spec = profile.jwt {
                guard spec.jwksURL == nil else { throw err(["sources", s.name, "jwks_url"], "the \(profile.name) profile fixes its key set (\(spec.jwksURL!))") }
                guard spec.acceptsPublicKeys, let host = JWTKeySetURL.host(of: url) else {
                    throw err(["sources", s.name, "jwks_url"], "must be an https URL without query, for a profile that accepts RS256 or ES256")
                }
                if !spec.jwksHosts.isEmpty && !spec.jwksHosts.contains(host) {
                    throw err(["sources", s.name, "jwks_url"], "must be on \(spec.jwksHosts.joined(separator: " or "))")
                }
            }
            for claim in profile.jwt?.sourceClaims ?? [] where s.jwtClaims[claim] == nil {
                throw err(["sources", s.name, "jwt_claims"], "needs \(claim) = [\"…\"]: the \(profile.name) profile checks the token's \(claim) against the source's list")
            }
            if let extra = s.jwtClaims.keys.sorted().first(where: { !(profile.jwt?.sourceClaims ?? []).contains($0) }) {
                throw err(["sources", s.name, "jwt_claims"], "'\(extra)' is not a claim the \(profile.name) profile checks per source")
            }
            if profile.jwt?.requireAudience == true && s.jwtAudience.isEmpty {
                throw err(["sources", s.name, "jwt_audience"], "is required: the \(profile.name) profile checks the token's aud (e.g. your push endpoint's URL)")
            }
            var keyFetchCredentials = KeyFetchCredentials(clientID: nil, secret: nil)
            if let spec = profile.keyFetch {
                if let host = s.keyHost, !spec.hosts.contains(host) {
                    throw err(["sources", s.name, "key_host"], "must be one of the \(profile.name) profile's key hosts (\(spec.hosts.joined(separator: ", ")))")
                }
                if spec.needsClientID {
                    guard let ref = s.keyFetchClientID else {
                        throw err(["sources", s.name, "key_fetch_client_id"], "is required: the \(profile.name) profile fetches its keys with your client id (env:NAME or file:PATH)")
                    }
                    keyFetchCredentials.clientID = try resolveAll([ref], path: ["sources", s.name, "key_fetch_client_id"])[0].1
                } else if s.keyFetchClientID != nil {
                    throw err(["sources", s.name, "key_fetch_client_id"], "the \(profile.name) profile's key API takes no client id")
                }
                if spec.needsSecret {
                    guard let ref = s.keyFetchSecret else {
                        throw err(["sources", s.name, "key_fetch_secret"], "is required: the \(profile.name) profile fetches its keys with your API credentials (env:NAME or file:PATH)")
                    }
                    keyFetchCredentials.secret = try resolveAll([ref], path: ["sources", s.name, "key_fetch_secret"])[0].1
                } else if s.keyFetchSecret != nil {
                    throw err(["sources", s.name, "key_fetch_secret"], "the \(profile.name) profile's key API takes no secret")
                }
                if !s.secrets.isEmpty {
                    throw err(["sources", s.name, "secrets"], "do not apply: this source verifies with the keys the \(profile.name) profile fetches by id")
                }
                if s.jwksURL != nil {
                    throw err(["sources", s.name, "jwks_url"], "does not apply: the \(profile.name) profile fetches its keys by id")
                }
            } else if s.keyFetchClientID != nil || s.keyFetchSecret != nil || s.keyHost != nil {
                throw err(["sources", s.name, s.keyHost != nil ? "key_host" : s.keyFetchSecret != nil ? "key_fetch_secret" : "key_fetch_client_id"],
                          "only applies to profiles that fetch keys by id ([key_fetch])")
            }
            let usesCertificate = profile.signatures.contains { $0.algorithm.usesSigningCertificate } || profile.keySetURL(sourceURL: s.jwksURL) != nil
                || profile.keyFetch != nil
            if let url = profile.keySetURL(sourceURL: s.jwksURL), !s.secrets.isEmpty {
                throw err(["sources", s.name, "secrets"], "do not apply: this source verifies with the keys at \(url)")
            }
            if !s.verifySignatures && !s.secrets.isEmpty {
                throw err(["sources", s.name, "secrets"], "do not apply: the source sets verify_signatures = false")
            }
            if s.secrets.isEmpty && !usesCertificate && s.verifySignatures && !s.acceptHandshakeSecret {
                throw err(["sources", s.name, "secrets"], "is required (at least one secret)")
            }
            if usesCertificate && profile.signatures.contains(where: { $0.algorithm == .paypalRSA }) && s.webhookID == nil {
                throw err(["sources", s.name, "webhook_id"], "is required: PayPal signs your webhook's ID (from the PayPal dashboard)")
            }
            let verifiesSNS = profile.signatures.contains { $0.algorithm == .awsSNS }
            if verifiesSNS && s.topicARNs.isEmpty {
                throw err(["sources", s.name, "topic_arns"], "is required for an aws-sns source: AWS signs messages of every account's topics, so list yours (e.g. [\"arn:aws:sns:us-east-1:123456789012:orders\"])")
            }
            if !verifiesSNS && !s.topicARNs.isEmpty { throw err(["sources", s.name, "topic_arns"], "only applies to aws-sns sources") }
            if s.sandbox && !profile.signatures.contains(where: { $0.algorithm == .paypalRSA }) {
                throw err(["sources", s.name, "sandbox"], "only applies to paypal sources")
            }
            var keys: [VerificationKey] = []
            for (ref, value) in try resolveAll(s.secrets, path: ["sources", s.name, "secrets"]) {
                guard var k = profile.makeKey(label: ref.label, secret: value) else {
                    throw err(["sources", s.name, "secrets"], "secret '\(ref.label)' does not decode as the \(profile.name) profile expects (\(profile.keyDescription))")
                }
                k.window = ref.window
                keys.append(k)
            }
            // A source whose every secret has expired would reject all traffic: refuse to start instead.
            if !keys.isEmpty, keys.allSatisfy({ $0.window.hasExpired(at: now) }) {
                throw err(["sources", s.name, "secrets"], "every secret has expired (\(keys.map { "\($0.label) at \(RFC3339.format($0.window.expiresAt!))" }.joined(separator: ", "))): add a current one")
            }
            var verifyToken: String?
            if let ref = s.verifyToken { verifyToken = try resolveAll([ref], path: ["sources", s.name, "verify_token"])[0].1 }
            for rule in profile.handshakeRules {
                if rule.values.contains(.verifyToken) && verifyToken == nil {
                    throw err(["sources", s.name, "verify_token"], "is required: the \(profile.name) profile's handshake '\(rule.name)' uses it")
                }
                if rule.values.contains(.publicURL) && s.publicURL == nil {
                    throw err(["sources", s.name, "public_url"], "is required: the \(profile.name) profile's handshake '\(rule.name)' uses it")
                }
            }
            if s.acceptHandshakeSecret {
                guard profile.handshakeRules.contains(where: { $0.establishesSecret != nil }) else {
                    throw err(["sources", s.name, "accept_handshake_secret"], "the \(profile.name) profile has no handshake that hands over a secret")
                }
            }
            if profile.signatures.contains(where: { $0.signedContent.usesURL || $0.algorithm == .twilio || $0.algorithm == .plivoV3 }) || profile.jwt?.urlHashClaim != nil,
               s.publicURL == nil {
                throw err(["sources", s.name, "public_url"], "is required: the \(profile.name) scheme signs the URL the provider calls")
            }
            var allowed = s.allowIPs
            if s.allowProviderIPs {
                guard let published = profile.sourceIPs, !published.ranges.isEmpty else {
                    throw err(["sources", s.name, "allow_provider_ips"], "the \(profile.name) profile publishes no source addresses")
                }
                allowed += published.ranges
            }
            var verification = VerificationOptions(toleranceSeconds: s.toleranceSeconds.map(Int64.init), allowLegacySignatures: s.allowLegacySignatures,
                                                   publicURL: s.publicURL, verifyToken: verifyToken, webhookID: s.webhookID, snsAutoConfirm: s.snsAutoConfirm)
            verification.sandbox = s.sandbox
            verification.jwtAudiences = s.jwtAudience
            verification.jwksURL = s.jwksURL
            verification.jwtClaims = s.jwtClaims
            var policy = ResolvedSource(
                name: s.name, path: s.path, profile: profile, keys: keys,
                allowlist: IPAllowlist(allowed: allowed, trustedProxies: s.trustedProxies),
                maxBodyBytes: s.maxBodyBytes, verification: verification,
                destinations: s.destinations, routes: s.routes)
            policy.topicARNs = s.topicARNs
            policy.verifiesSignatures = s.verifySignatures
            policy.acceptsHandshakeSecret = s.acceptHandshakeSecret
            policy.keyFetchCredentials = keyFetchCredentials
            policy.keyFetchHost = s.keyHost
            if let own = s.dedupOnBodyHash { policy.dedupOnBodyHash = own }
            policies.append(policy)
        }
        var dests: [String: ResolvedDestination] = [:]
        for (name, d) in destinations {
            let resolvedSecrets = try resolveAll(d.secrets, path: ["destinations", name, "secrets"])
            guard let signer = try? StandardWebhooksSigner(secrets: resolvedSecrets.map(\.1), windows: resolvedSecrets.map(\.0.window)) else {
                throw err(["destinations", name, "secrets"], "signing secrets must be whsec_<base64>")
            }
            dests[name] = ResolvedDestination(config: d, signer: signer)
        }
        var sinkSigner: StandardWebhooksSigner?
        if let sink {
            let values = try resolveAll(sink.secrets, path: ["sink", "secrets"]).map(\.1)
            guard let s = try? StandardWebhooksSigner(secrets: values) else { throw err(["sink", "secrets"], "must be whsec_<base64>") }
            sinkSigner = s
        }
        var resolved = ResolvedConfig(config: self, profiles: profiles, sources: policies, destinations: dests, sinkSigner: sinkSigner)
        for (name, stream) in streams {
            resolved.streams[name] = ResolvedStream(config: stream, tokens: try resolveAll(stream.tokens, path: ["streams", name, "tokens"]).map(\.1))
        }
        if let admin {
            resolved.adminTokens = try resolveAll(admin.tokens, path: ["admin", "tokens"]).map(\.1)
        }
        if let url = store.url {
            resolved.storeURL = try resolveAll([url], path: ["store", "url"]).first?.1
        }
        // Published values guard nothing: tolerated for local development only (see DevelopmentCredentials).
        resolved.developmentCredentials = developmentCredentialUses(environment: environment)
        if let exposed = resolved.developmentCredentials.first(where: { !$0.loopbackOnly }) { throw err(exposed.keyPath, exposed.refusal) }
        return resolved
    }
}
