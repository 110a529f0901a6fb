import HTTPCaching

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real-time clock, read without Foundation. HTTP dates and cache ages are wall-clock
/// quantities; deadlines use NIO's monotonic clock instead.
enum WallClock {
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    static func nanosecondsIntoCurrentSecond() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_nsec)
    }

    /// The current time as an IMF-fixdate, for `Date`.
    static func dateHeaderValue() -> String {
        HTTPDate.format(Int64(time(nil)))
    }
}
