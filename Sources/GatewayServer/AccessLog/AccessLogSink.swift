import GatewayConfig
import NIOConcurrencyHelpers
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes access log batches to stdout, stderr or a file on a thread of its own, so a slow disk
/// never blocks an event loop. What waits is bounded by `buffer`: a batch that does not fit is
/// dropped and its lines counted, as a request must never wait for its log line.
/// `reopen()` (SIGUSR1, SIGHUP) makes the writer open the file again by name, for logrotate.
public final class AccessLogSink: Sendable {
    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    private struct Pending {
        var batches: [[UInt8]] = []
        var bytes = 0
        var capacity = 4 * 1024 * 1024
        var writerScheduled = false
        var reopenRequested = false
    }

    private struct Output {
        var destination: AccessLogConfig.Destination?
        var descriptor: Int32 = -1
    }

    private let pending = NIOLockedValueBox(Pending())
    /// Held by whoever writes to the descriptor (the writer thread, `flush()`, `close()`) from
    /// taking batches until they are written: batches go out in the order they were submitted.
    private let output = NIOLockedValueBox(Output())
    private let writer = NIOThreadPool(numberOfThreads: 1)
    private let onDrop: @Sendable (Int) -> Void
    private let droppedLines = NIOLockedValueBox(0)

    public init(onDrop: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.onDrop = onDrop
        writer.start()
    }

    /// Lines dropped because the buffer was full, since start.
    public var dropped: Int { droppedLines.withLockedValue { $0 } }

    /// Points the log at `config`'s destination (opening a file now, so a bad path is a clear
    /// error at start or reload, not a silent loss later). nil turns the log off.
    public func configure(_ config: AccessLogConfig?) throws {
        let current = output.withLockedValue { $0.destination }
        if let config, config.destination != current {
            let descriptor = try Self.open(config.destination)
            let previous = output.withLockedValue { output -> Int32 in
                defer {
                    output.destination = config.destination
                    output.descriptor = descriptor
                }
                return output.descriptor
            }
            Self.closeIfFile(previous)
        }
        pending.withLockedValue { $0.capacity = config?.bufferBytes ?? $0.capacity }
    }

    func submit(_ batch: [UInt8], lines: Int) {
        let accepted = pending.withLockedValue { pending -> (accepted: Bool, startWriter: Bool) in
            guard pending.bytes + batch.count <= pending.capacity else { return (false, false) }
            pending.batches.append(batch)
            pending.bytes += batch.count
            let start = !pending.writerScheduled
            pending.writerScheduled = true
            return (true, start)
        }
        if !accepted.accepted {
            droppedLines.withLockedValue { $0 += lines }
            onDrop(lines)
        } else if accepted.startWriter {
            writer.submit { [self] _ in self.writePending() }
        }
    }

    /// Asks the writer to open the file again by its name (after logrotate moved it).
    public func reopen() {
        let start = pending.withLockedValue { pending -> Bool in
            pending.reopenRequested = true
            defer { pending.writerScheduled = true }
            return !pending.writerScheduled
        }
        if start {
            writer.submit { [self] _ in self.writePending() }
        }
    }

    /// Writes what is waiting now, on the caller's thread.
    public func flush() {
        writePending()
    }

    /// Writes what is still waiting and closes the file; lines submitted afterwards are dropped.
    public func close() async {
        writePending()
        output.withLockedValue { output in
            Self.closeIfFile(output.descriptor)
            output.descriptor = -1
            output.destination = nil
        }
        try? await writer.shutdownGracefully()
    }

    /// Takes and writes under the output lock, so two writers (the thread, `flush()`) can never
    /// put later batches before earlier ones.
    private func writePending() {
        output.withLockedValue { output in
            while true {
                let taken = pending.withLockedValue { pending -> (batches: [[UInt8]], reopen: Bool)? in
                    if pending.batches.isEmpty && !pending.reopenRequested {
                        pending.writerScheduled = false
                        return nil
                    }
                    defer {
                        pending.batches = []
                        pending.bytes = 0
                        pending.reopenRequested = false
                    }
                    return (pending.batches, pending.reopenRequested)
                }
                guard let taken else { return }
                if taken.reopen, case .file(let path)? = output.destination,
                    let fresh = try? Self.open(.file(path: path))
                {
                    Self.closeIfFile(output.descriptor)
                    output.descriptor = fresh
                }
                guard output.descriptor >= 0 else { continue }
                for batch in taken.batches {
                    Self.writeAll(batch, to: output.descriptor)
                }
            }
        }
    }

    private static func open(_ destination: AccessLogConfig.Destination) throws -> Int32 {
        switch destination {
        case .standardOutput: return 1
        case .standardError: return 2
        case .file(let path):
            let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw OpenError(description: "cannot open access log '\(path)': \(String(cString: strerror(errno)))")
            }
            return descriptor
        }
    }

    private static func closeIfFile(_ descriptor: Int32) {
        if descriptor > 2 {
            _ = Glibc.close(descriptor)
        }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                // A full disk or a closed pipe: the lines are lost, the gateway goes on.
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
