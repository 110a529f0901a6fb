import NIOCore

/// The `Date` header value, refreshed once a second on its own loop so that responses the gateway
/// makes itself never format a date per request.
final class DateCache {
    private(set) var value: String
    private var refresh: RepeatedTask?

    init(eventLoop: EventLoop) {
        self.value = WallClock.dateHeaderValue()
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        // Aligned to the wall clock's second boundary, so the value is never a second behind.
        let intoSecond = Int64(WallClock.nanosecondsIntoCurrentSecond())
        let untilNextSecond = TimeAmount.nanoseconds(1_000_000_000 - intoSecond + 1_000_000)
        self.refresh = eventLoop.scheduleRepeatedTask(initialDelay: untilNextSecond, delay: .seconds(1)) { _ in
            loopBound.value.value = WallClock.dateHeaderValue()
        }
    }

    func stop() {
        refresh?.cancel()
        refresh = nil
    }
}
