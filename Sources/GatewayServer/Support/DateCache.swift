import NIOCore

/// The `Date` header value, refreshed once a second on its own loop so that responses the gateway
/// makes itself never format a date per request.
final class DateCache {
    private(set) var value: String
    private var refresh: RepeatedTask?

    init(eventLoop: EventLoop) {
        self.value = HTTPDate.now()
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        self.refresh = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            loopBound.value.value = HTTPDate.now()
        }
    }

    func stop() {
        refresh?.cancel()
        refresh = nil
    }
}
