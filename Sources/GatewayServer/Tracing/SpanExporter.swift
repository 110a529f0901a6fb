import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Sends finished spans to the collector over OTLP/HTTP, from a thread of its own (an event loop
/// that is not the data plane's, shared with its HTTP client). Spans wait in one queue; every
/// `flush_interval`, or as soon as a batch is full, up to 512 of them are encoded and POSTed.
/// One export at a time: while the collector is slow the queue grows, and past `max_queued_spans`
/// new spans are dropped and counted. A failed or timed-out POST drops its batch (counted), so a
/// collector that is down costs spans, never requests or memory.
final class SpanExporter: Sendable {
    static let batchSize = 512

    private struct Queue {
        var spans: [FinishedSpan] = []
        var flushScheduled = false
    }

    private struct ExportState {
        var inFlight = false
        var timer: RepeatedTask?
        var stopped = false
    }

    private let endpoint: String
    private let resource: [(String, String)]
    private let maxQueued: Int
    private let flushInterval: TimeAmount
    private let exportTimeout: TimeAmount
    private let counters: TracingCounters
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let loop: EventLoop
    private let client: HTTPClient
    private let queue = NIOLockedValueBox(Queue())
    private let state: NIOLoopBoundBox<ExportState>

    init(
        endpoint: String, resource: [(String, String)], maxQueued: Int, flushInterval: Duration,
        exportTimeout: Duration, counters: TracingCounters, logger: Logger
    ) {
        self.endpoint = endpoint
        self.resource = resource
        self.maxQueued = maxQueued
        self.flushInterval = TimeAmount(flushInterval)
        self.exportTimeout = TimeAmount(exportTimeout)
        self.counters = counters
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        client = HTTPClient(eventLoopGroupProvider: .shared(group))
        state = NIOLoopBoundBox.makeBoxSendingValue(ExportState(), eventLoop: loop)
    }

    func start() {
        loop.execute { [self] in
            guard !state.value.stopped, state.value.timer == nil else { return }
            state.value.timer = loop.scheduleRepeatedTask(initialDelay: flushInterval, delay: flushInterval) { _ in
                self.exportNext()
            }
        }
    }

    /// Called by a span as it ends, on a data-plane event loop: an append under a lock, and a
    /// hop to the exporter's thread only when a batch has just filled up.
    func enqueue(_ span: FinishedSpan) {
        let (accepted, wake) = queue.withLockedValue { queue -> (Bool, Bool) in
            guard queue.spans.count < maxQueued else { return (false, false) }
            queue.spans.append(span)
            guard queue.spans.count >= Self.batchSize, !queue.flushScheduled else { return (true, false) }
            queue.flushScheduled = true
            return (true, true)
        }
        if !accepted { counters.queueFull.increment() }
        if wake { flushSoon() }
    }

    func flushSoon() {
        loop.execute { [self] in exportNext() }
    }

    /// On the exporter's loop: sends the next batch unless one is in flight.
    private func exportNext() {
        // Once stopped, shutdown's drain sends what is left.
        guard !state.value.inFlight, !state.value.stopped else { return }
        let batch = queue.withLockedValue { queue -> [FinishedSpan] in
            queue.flushScheduled = false
            let count = min(Self.batchSize, queue.spans.count)
            let batch = Array(queue.spans.prefix(count))
            queue.spans.removeFirst(count)
            return batch
        }
        guard !batch.isEmpty else { return }
        state.value.inFlight = true
        post(batch, deadline: .now() + exportTimeout).whenComplete { [self] _ in
            state.value.inFlight = false
            // More than a batch may be waiting (a burst, or a collector that was slow).
            if queue.withLockedValue({ $0.spans.count >= Self.batchSize }) { exportNext() }
        }
    }

    private func post(_ batch: [FinishedSpan], deadline: NIODeadline) -> EventLoopFuture<Void> {
        let body = OTLPTraceEncoder.request(batch, resource: resource)
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: endpoint, method: .POST,
                headers: ["content-type": "application/x-protobuf", "user-agent": "gateway/\(GatewayVersion.current)"],
                body: .bytes(body))
        } catch {
            counters.exportFailed.increment(by: Int64(batch.count))
            logger.warning("span export failed", metadata: ["error": "\(error)", "spans": "\(batch.count)"])
            return loop.makeSucceededVoidFuture()
        }
        return client.execute(request: request, eventLoop: .delegate(on: loop), deadline: deadline)
            .map { [self] response in
                if (200..<300).contains(response.status.code) {
                    counters.exported.increment(by: Int64(batch.count))
                } else {
                    counters.exportFailed.increment(by: Int64(batch.count))
                    logger.warning(
                        "span export refused by the collector",
                        metadata: ["status": "\(response.status.code)", "spans": "\(batch.count)"])
                }
            }
            .recover { [self] error in
                counters.exportFailed.increment(by: Int64(batch.count))
                logger.warning("span export failed", metadata: ["error": "\(error)", "spans": "\(batch.count)"])
            }
    }

    /// Stops the timer, sends what is queued (all of it within one export timeout: a collector
    /// that hangs cannot hold up the shutdown) and releases the thread.
    func shutdown() async {
        let drained = loop.flatSubmit { [self] () -> EventLoopFuture<Void> in
            state.value.stopped = true
            state.value.timer?.cancel()
            state.value.timer = nil
            return drain(deadline: .now() + exportTimeout)
        }
        try? await drained.get()
        try? await client.shutdown()
        try? await group.shutdownGracefully()
    }

    private func drain(deadline: NIODeadline) -> EventLoopFuture<Void> {
        let batch = queue.withLockedValue { queue -> [FinishedSpan] in
            let count = min(Self.batchSize, queue.spans.count)
            defer { queue.spans.removeFirst(count) }
            return Array(queue.spans.prefix(count))
        }
        guard !batch.isEmpty else { return loop.makeSucceededVoidFuture() }
        return post(batch, deadline: deadline).flatMap { [self] in drain(deadline: deadline) }
    }
}
