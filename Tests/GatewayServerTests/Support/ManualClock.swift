import NIOConcurrencyHelpers

/// Wall-clock milliseconds that only move when a test says so: freshness, age and stale windows
/// are then exact, with no sleeping.
final class ManualClock: Sendable {
    private let milliseconds: NIOLockedValueBox<Int64>

    init(_ start: Int64 = 1_796_083_200_000) {
        milliseconds = NIOLockedValueBox(start)
    }

    var now: Int64 { milliseconds.withLockedValue { $0 } }

    func advance(seconds: Double) {
        milliseconds.withLockedValue { $0 += Int64(seconds * 1000) }
    }

    var function: @Sendable () -> Int64 {
        { [self] in self.now }
    }
}
