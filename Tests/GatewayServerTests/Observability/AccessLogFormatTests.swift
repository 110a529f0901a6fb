import Foundation
import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayServer

final class AccessLogFormatTests: XCTestCase {
    func testStringsAreEscapedAsJSON() throws {
        var writer = JSONLineWriter()
        writer.begin()
        writer.field("a", "q\"b\\s\u{1}\ttab é")
        writer.field("n", -42)
        writer.field("z", 0)
        writer.field("none", nil)
        writer.millisecondsField("ms", .nanoseconds(12_345_678))
        writer.millisecondsField("small", .nanoseconds(999))
        writer.end()
        let text = String(decoding: writer.bytes, as: UTF8.self)
        XCTAssertEqual(
            text,
            "{\"a\":\"q\\\"b\\\\s\\u0001\\u0009tab é\",\"n\":-42,\"z\":0,\"none\":null,\"ms\":12.345,\"small\":0.000}\n"
        )
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        XCTAssertEqual(object["a"] as? String, "q\"b\\s\u{1}\ttab é")
    }

    func testWallClockSecondsAreRFC3339() {
        XCTAssertEqual(String(decoding: WallClockText.format(second: 0), as: UTF8.self), "1970-01-01T00:00:00")
        XCTAssertEqual(
            String(decoding: WallClockText.format(second: 1_795_325_696), as: UTF8.self), "2026-11-22T05:34:56")
        var clock = WallClockText()
        var bytes: [UInt8] = []
        clock.writeQuoted(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertEqual(text.count, 26, text)  // "YYYY-MM-DDTHH:MM:SS.mmmZ" in quotes
        XCTAssertTrue(text.hasSuffix("Z\""), text)
    }

    func testAnEntryIsOneJSONObjectWithEveryField() throws {
        let entry = AccessLogEntry(
            requestID: RequestID(passedOn: "req-1"), client: "10.0.0.1", method: .POST, host: "api.example.test",
            target: "/v1/orders?x=\"1\"", status: 201, receivedBytes: 120, sentBytes: 340,
            duration: .microseconds(1500), route: "orders", upstreamEndpoint: "127.0.0.1:9001",
            upstreamDuration: .microseconds(1200))
        var writer = JSONLineWriter()
        var clock = WallClockText()
        entry.write(into: &writer, clock: &clock)
        XCTAssertEqual(writer.bytes.last, UInt8(ascii: "\n"))
        XCTAssertEqual(writer.bytes.filter { $0 == UInt8(ascii: "\n") }.count, 1)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        XCTAssertEqual(object["request_id"] as? String, "req-1")
        XCTAssertEqual(object["client_ip"] as? String, "10.0.0.1")
        XCTAssertEqual(object["method"] as? String, "POST")
        XCTAssertEqual(object["host"] as? String, "api.example.test")
        XCTAssertEqual(object["path"] as? String, "/v1/orders?x=\"1\"")
        XCTAssertEqual(object["status"] as? Int, 201)
        XCTAssertEqual(object["bytes_received"] as? Int, 120)
        XCTAssertEqual(object["bytes_sent"] as? Int, 340)
        XCTAssertEqual(object["duration_ms"] as? Double, 1.5)
        XCTAssertEqual(object["route"] as? String, "orders")
        XCTAssertEqual(object["upstream"] as? String, "127.0.0.1:9001")
        XCTAssertEqual(object["upstream_duration_ms"] as? Double, 1.2)
        XCTAssertTrue(object["cache_status"] is NSNull)
        XCTAssertTrue(object["user"] is NSNull)
        XCTAssertNotNil(object["time"] as? String)
    }
}
