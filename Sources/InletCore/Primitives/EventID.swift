/// Inlet's own event IDs: `evt_` + a 26-character ULID (time-ordered, so IDs sort by receive time).
public enum InletEventID {
    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func make(millis: EpochMillis, random: inout some RandomNumberGenerator) -> String {
        var out: [UInt8] = Array("evt_".utf8)
        out.reserveCapacity(30)
        let t = UInt64(max(0, millis))
        for k in (0..<10).reversed() { out.append(alphabet[Int((t >> (UInt64(k) * 5)) & 31)]) }
        // 80 random bits as 16 characters of 5 bits each.
        var bits = random.next() as UInt64
        for k in 0..<16 {
            if k == 12 { bits = random.next() as UInt64 }
            out.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func make(millis: EpochMillis) -> String {
        var g = SystemRandomNumberGenerator()
        return make(millis: millis, random: &g)
    }
}
