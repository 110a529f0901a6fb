import Foundation
import GatewayConfig
import NIOConcurrencyHelpers
import XCTest

@testable import GatewayServer

final class AccessLogSinkTests: XCTestCase {
    private func temporaryPath() -> String {
        NSTemporaryDirectory() + "gateway-access-\(UUID().uuidString).log"
    }

    private func line(_ number: Int) -> [UInt8] {
        Array("{\"n\":\(number)}\n".utf8)
    }

    func testBatchesAreWrittenInOrderAndReopenFollowsARename() async throws {
        let path = temporaryPath()
        let sink = AccessLogSink()
        try sink.configure(AccessLogConfig(destination: .file(path: path)))
        for number in 0..<100 {
            sink.submit(line(number), lines: 1)
        }
        // logrotate's dance: move the file, then signal; later lines go to a new file by the name.
        sink.flush()
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        sink.reopen()
        for number in 100..<150 {
            sink.submit(line(number), lines: 1)
        }
        await sink.close()
        let rotated = try String(contentsOfFile: path + ".1", encoding: .utf8).split(separator: "\n")
        let fresh = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rotated, (0..<100).map { "{\"n\":\($0)}"[...] })
        XCTAssertEqual(fresh, (100..<150).map { "{\"n\":\($0)}"[...] })
        XCTAssertEqual(sink.dropped, 0)
    }

    func testASlowDestinationDropsAndCountsInsteadOfBlocking() async throws {
        // A pipe nobody reads: the writer blocks once the pipe's 64 KiB are full, and everything
        // past the buffer must be dropped at once, not waited for.
        var descriptors: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&descriptors), 0)
        let dropped = NIOLockedValueBox(0)
        let sink = AccessLogSink(onDrop: { lines in dropped.withLockedValue { $0 += lines } })
        try sink.configure(
            AccessLogConfig(destination: .file(path: "/proc/self/fd/\(descriptors[1])"), bufferBytes: 16 * 1024))
        let batch = [UInt8](repeating: UInt8(ascii: "x"), count: 1023) + [UInt8(ascii: "\n")]
        let started = ContinuousClock.now
        for _ in 0..<400 {
            sink.submit(batch, lines: 1)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "submitting blocked on the slow writer")
        // At most pipe (64 KiB) + buffer (16 KiB) + one batch taken by the writer (16 KiB) got through.
        XCTAssertGreaterThanOrEqual(sink.dropped, 400 - 96)
        XCTAssertEqual(dropped.withLockedValue { $0 }, sink.dropped)

        // Drain the pipe: every line that was not counted as dropped arrives.
        let readEnd = descriptors[0]
        let reader = Task.detached { () -> Int in
            var total = 0
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count <= 0 { return total }
                total += buffer[0..<count].filter { $0 == UInt8(ascii: "\n") }.count
            }
        }
        await sink.close()
        close(descriptors[1])
        let received = await reader.value
        close(descriptors[0])
        XCTAssertEqual(received + sink.dropped, 400)
    }

    func testAPathThatCannotBeOpenedIsAClearError() {
        let sink = AccessLogSink()
        XCTAssertThrowsError(
            try sink.configure(AccessLogConfig(destination: .file(path: "/nonexistent-dir/access.log")))
        ) { error in
            XCTAssertTrue("\(error)".contains("cannot open access log '/nonexistent-dir/access.log'"), "\(error)")
        }
    }

}
