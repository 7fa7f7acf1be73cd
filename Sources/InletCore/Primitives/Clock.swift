import Foundation

/// Milliseconds since the Unix epoch. Inlet keeps time as integers end to end: cheap to compare,
/// exact in SQLite and PostgreSQL, and free of `Date` formatting on the hot path.
public typealias EpochMillis = Int64

/// The source of wall-clock time. Injected everywhere time decides an outcome (tolerance, retries, leases)
/// so tests control it instead of sleeping.
public protocol WallClock: Sendable {
    func now() -> EpochMillis
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> EpochMillis {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return EpochMillis(ts.tv_sec) * 1000 + EpochMillis(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that only moves when told to; for tests.
public final class ManualClock: WallClock, @unchecked Sendable {
    // @unchecked: the single stored value is guarded by `lock`.
    private let lock = NSLock()
    private var value: EpochMillis
    public init(_ start: EpochMillis) { value = start }
    public func now() -> EpochMillis { lock.lock(); defer { lock.unlock() }; return value }
    public func set(_ v: EpochMillis) { lock.lock(); value = v; lock.unlock() }
    public func advance(by ms: EpochMillis) { lock.lock(); value += ms; lock.unlock() }
}

/// RFC 3339 timestamps (UTC, millisecond precision) computed arithmetically: no `DateFormatter` per event.
public enum RFC3339 {
    public static func format(_ millis: EpochMillis) -> String {
        let totalSeconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let ms = Int(millis - totalSeconds * 1000)
        var days = totalSeconds / 86400
        var secOfDay = totalSeconds % 86400
        if secOfDay < 0 { secOfDay += 86400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        let hh = Int(secOfDay / 3600), mm = Int(secOfDay % 3600 / 60), ss = Int(secOfDay % 60)
        var out = ""
        out.reserveCapacity(24)
        out += pad(Int(y), 4); out += "-"; out += pad(m, 2); out += "-"; out += pad(d, 2)
        out += "T"; out += pad(hh, 2); out += ":"; out += pad(mm, 2); out += ":"; out += pad(ss, 2)
        out += "."; out += pad(ms, 3); out += "Z"
        return out
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; returns epoch milliseconds.
    public static func parse(_ text: String) -> EpochMillis? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58,
              let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fracMillis = 0
        if i < b.count && b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 3 { fracMillis = fracMillis * 10 + Int(b[i] - 48) }
                digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { fracMillis *= 10 } }
        }
        guard i < b.count else { return nil }
        var offsetSeconds = 0
        if b[i] == 90 || b[i] == 122 { i += 1 } else if b[i] == 43 || b[i] == 45 {
            guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else { return nil }
        guard i == b.count else { return nil }
        let days = daysFromCivil(Int64(y), mo, d)
        let secs = days * 86400 + Int64(h * 3600 + mi * 60 + s) - Int64(offsetSeconds)
        return secs * 1000 + Int64(fracMillis)
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // Howard Hinnant's days-from-civil algorithms.
    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, Int(m), Int(d))
    }

    static func daysFromCivil(_ y0: Int64, _ m: Int, _ d: Int) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
