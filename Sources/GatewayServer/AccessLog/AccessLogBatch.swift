import NIOCore

/// One event loop's access log lines since its last hand-over to the writer. Lines are appended
/// without a lock; the batch goes to the sink once per event-loop iteration (or sooner when big),
/// so the sink's lock is taken per batch, not per request.
final class AccessLogBatch {
    private let eventLoop: EventLoop
    private let sink: AccessLogSink
    private var line = JSONLineWriter()
    private var lines = 0
    private var clock = WallClockText()
    private var flushScheduled = false
    private static let maxBatchBytes = 64 * 1024

    init(eventLoop: EventLoop, sink: AccessLogSink) {
        self.eventLoop = eventLoop
        self.sink = sink
        line.bytes.reserveCapacity(4096)
    }

    func append(_ entry: AccessLogEntry) {
        entry.write(into: &line, clock: &clock)
        lines += 1
        if line.bytes.count >= Self.maxBatchBytes {
            flush()
        } else if !flushScheduled {
            flushScheduled = true
            // Runs after the I/O of this loop iteration: every request finished in it shares the batch.
            eventLoop.assumeIsolated().execute { [self] in self.flush() }
        }
    }

    func flush() {
        flushScheduled = false
        guard lines > 0 else { return }
        sink.submit(line.bytes, lines: lines)
        line.bytes = []
        line.bytes.reserveCapacity(4096)
        lines = 0
    }
}
