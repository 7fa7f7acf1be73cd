import Foundation

/// An IPv4 or IPv6 address as 16 bytes; IPv4 is held in its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`)
/// so a v4 CIDR matches a peer that a dual-stack socket reports as mapped.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]  // always 16

    public var isIPv4: Bool { bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF }

    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        if s.hasPrefix("[") && s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        if let zone = s.firstIndex(of: "%") { s = s[..<zone] }
        if let v4 = IPAddress.parseV4(s) {
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + v4
        } else if let v6 = IPAddress.parseV6(s) {
            bytes = v6
        } else {
            return nil
        }
    }

    public var description: String {
        if isIPv4 { return bytes[12...].map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for k in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[k]) << 8 | UInt16(bytes[k + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }

    static func parseV4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), p.allSatisfy(\.isNumber),
                  !(p.count > 1 && p.hasPrefix("0")), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseV6(_ s: Substring) -> [UInt8]? {
        guard s.contains(":"), s.count <= 45 else { return nil }
        var head: [UInt16] = [], tail: [UInt16] = []
        var sawGap = false
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (n, f) in fields.enumerated() {
                if allowV4Tail, n == fields.count - 1, f.contains("."), let v4 = parseV4(f) {
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(f.count), let v = UInt16(f, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        if halves.count == 2 {
            sawGap = true
            guard let h = groups(halves[0], allowV4Tail: false), let t = groups(halves[1], allowV4Tail: true) else { return nil }
            head = h; tail = t
        } else {
            guard let h = groups(halves[0], allowV4Tail: true) else { return nil }
            head = h
        }
        let total = head.count + tail.count
        if sawGap { guard total <= 7 else { return nil } } else { guard total == 8 else { return nil } }
        let all = head + Array(repeating: 0, count: 8 - total) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or a bare address).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    /// Prefix length over the 128-bit (mapped) form.
    public let prefixLength: Int
    public let text: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addr = IPAddress(parts[0]) else { return nil }
        let maxLen = addr.isIPv4 ? 32 : 128
        var len = maxLen
        if parts.count == 2 {
            guard let l = Int(parts[1]), (0...maxLen).contains(l), parts[1].allSatisfy(\.isNumber) else { return nil }
            len = l
        }
        prefixLength = addr.isIPv4 ? len + 96 : len
        // Canonicalise host bits away so `10.1.2.3/8` means `10.0.0.0/8`.
        var masked = addr.bytes
        for k in 0..<16 {
            let bitsHere = max(0, min(8, prefixLength - k * 8))
            masked[k] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        network = IPAddress(uncheckedBytes: masked)
        self.text = text
    }

    public func contains(_ address: IPAddress) -> Bool {
        var remaining = prefixLength
        var k = 0
        while remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address.bytes[k] & mask != network.bytes[k] { return false }
            remaining -= bits; k += 1
        }
        return true
    }

    public var description: String { text }
}

extension IPAddress {
    init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }

    /// 127.0.0.0/8 or ::1: only this machine can reach a listener bound here.
    public var isLoopback: Bool {
        isIPv4 ? bytes[12] == 127 : bytes == Array(repeating: 0, count: 15) + [1]
    }
}

extension CIDR {
    /// The shortest prefixes a provider's published sender list may hold: an IPv4 /8 is 16 million addresses and an
    /// IPv6 /24 a regional registry's allocation size; no provider sends webhooks from more.
    public static let shortestSenderPrefixV4 = 8
    public static let shortestSenderPrefixV6 = 24

    /// Whether this network is too large to be a provider's senders (`0.0.0.0/0`, `::/0`, …).
    public var isTooBroadForSenderList: Bool {
        network.isIPv4 ? prefixLength - 96 < Self.shortestSenderPrefixV4 : prefixLength < Self.shortestSenderPrefixV6
    }
}

/// Who may call a source, and whose `X-Forwarded-For` to believe.
public struct IPAllowlist: Sendable, Equatable {
    public var allowed: [CIDR]
    public var trustedProxies: [CIDR]

    public init(allowed: [CIDR] = [], trustedProxies: [CIDR] = []) {
        self.allowed = allowed
        self.trustedProxies = trustedProxies
    }

    public var isOpen: Bool { allowed.isEmpty }

    /// The address the request really came from: the socket peer, unless that peer is a trusted proxy,
    /// in which case the right-most `X-Forwarded-For` hop that is not itself a trusted proxy.
    /// Left-most entries are client-supplied and never trusted.
    public func clientAddress(peer: IPAddress?, forwardedFor: [String]) -> IPAddress? {
        guard let peer else { return nil }
        guard isTrustedProxy(peer), !forwardedFor.isEmpty else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var current = peer
        for hop in hops.reversed() {
            guard isTrustedProxy(current) else { return current }
            guard let addr = IPAddress(hop) else { return nil }  // garbage from a trusted proxy chain: refuse
            current = addr
        }
        return current
    }

    public func isTrustedProxy(_ a: IPAddress) -> Bool { trustedProxies.contains { $0.contains(a) } }

    public func permits(_ address: IPAddress?) -> Bool {
        if allowed.isEmpty { return true }
        guard let address else { return false }
        return allowed.contains { $0.contains(address) }
    }
}
