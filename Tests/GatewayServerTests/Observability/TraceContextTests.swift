import NIOCore
import Tracing
import XCTest

@testable import GatewayServer

/// W3C Trace Context parsing, the sampling decision and the in-place `traceparent` of retries.
final class TraceContextTests: XCTestCase {
    func testTraceParentParsing() {
        let valid = TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        XCTAssertEqual(valid?.traceID, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(valid?.parentID, "00f067aa0ba902b7")
        XCTAssertEqual(valid?.sampled, true)
        XCTAssertEqual(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled, false)
        XCTAssertEqual(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")?.sampled, true)
        XCTAssertNotNil(
            TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"),
            "a later version may add fields")
        for invalid in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has four fields
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  // short flags
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
            "",
        ] {
            XCTAssertNil(TraceParent(invalid), invalid)
        }
    }

    func testSamplingFollowsTheCallerThenTheRatio() {
        let sampled = TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let unsampled = TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
        XCTAssertEqual(ExchangeTrace.decide(parent: sampled, ratio: 0.01, draw: .max), .record(parent: sampled))
        XCTAssertEqual(
            ExchangeTrace.decide(parent: unsampled, ratio: 1, draw: 0), .passThrough(unsampled!),
            "a caller that did not sample is followed")
        XCTAssertEqual(
            ExchangeTrace.decide(parent: sampled, ratio: 0, draw: 0), .passThrough(sampled!),
            "ratio 0: the route records nothing")
        XCTAssertEqual(ExchangeTrace.decide(parent: nil, ratio: 1, draw: .max), .record(parent: nil))
        XCTAssertEqual(ExchangeTrace.decide(parent: nil, ratio: 0, draw: 0), .unsampledRoot)
        XCTAssertEqual(ExchangeTrace.decide(parent: nil, ratio: 0.25, draw: UInt64.max / 5), .record(parent: nil))
        XCTAssertEqual(ExchangeTrace.decide(parent: nil, ratio: 0.25, draw: UInt64.max / 3), .unsampledRoot)
        // Over many draws the share recorded is the ratio.
        var random = SystemRandomNumberGenerator()
        let recorded = (0..<100_000).filter { _ in
            ExchangeTrace.decide(parent: nil, ratio: 0.1, draw: random.next()) == .record(parent: nil)
        }.count
        XCTAssertEqual(Double(recorded) / 100_000, 0.1, accuracy: 0.01)
    }

    func testARetryPutsItsSpanIDInPlace() {
        let first = "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01"
        let second = "00-4bf92f3577b34da6a3ce929d0e0e4736-2222222222222222-01"
        var head = ByteBuffer(string: "GET / HTTP/1.1\r\nhost: a\r\ntraceparent: \(first)\r\n\r\n")
        XCTAssertTrue(UpstreamRequestWriter.replaceTraceParent(second, in: &head))
        XCTAssertEqual(String(buffer: head), "GET / HTTP/1.1\r\nhost: a\r\ntraceparent: \(second)\r\n\r\n")
        var withoutTrace = ByteBuffer(
            string: "GET / HTTP/1.1\r\nhost: a-very-long-host-name-for-the-test.example\r\n\r\n")
        let before = withoutTrace
        XCTAssertFalse(UpstreamRequestWriter.replaceTraceParent(second, in: &withoutTrace))
        XCTAssertEqual(withoutTrace, before)
    }

    func testTheEncoderWritesWhatAnIndependentDecoderReads() throws {
        var attributes = SpanAttributes()
        attributes["list"] = ["a", "b"]
        attributes["from.dictionary"] = "yes"
        let span = FinishedSpan(
            identity: SpanIdentity(
                traceHigh: 0x4bf9_2f35_77b3_4da6, traceLow: 0xa3ce_929d_0e0e_4736, spanID: 0x00f0_67aa_0ba9_02b7,
                sampled: true, traceState: "vendor=1"),
            parentSpanID: 0x1122_3344_5566_7788, name: "GET api", kind: .server, startNanoseconds: 1_000,
            endNanoseconds: 2_500,
            fields: [
                ("text", .string("é ü")), ("count", .int64(-3)), ("small", .int32(300)), ("flag", .bool(true)),
                ("ratio", .double(0.25)), ("long", .string(String(repeating: "x", count: 300))),
            ],
            attributes: attributes, events: [SpanEvent(name: "retry", at: DefaultTracerClock.now)],
            status: SpanStatus(code: .error, message: "boom"))
        let bytes = OTLPTraceEncoder.request([span, span], resource: [("service.name", "edge")])
        let decoded = try OTLPTraceDecoding.spans(bytes)
        XCTAssertEqual(decoded.count, 2)
        let first = try XCTUnwrap(decoded.first)
        XCTAssertEqual(first.traceID, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(first.spanID, "00f067aa0ba902b7")
        XCTAssertEqual(first.parentSpanID, "1122334455667788")
        XCTAssertEqual(first.traceState, "vendor=1")
        XCTAssertEqual(first.name, "GET api")
        XCTAssertEqual(first.kind, .server)
        XCTAssertEqual(first.startNanos, 1_000)
        XCTAssertEqual(first.endNanos, 2_500)
        XCTAssertEqual(first.statusCode, 2)
        XCTAssertEqual(first.resource, ["service.name": "edge"])
        XCTAssertEqual(first.attributes["text"], "é ü")
        XCTAssertEqual(first.attributes["count"], "-3")
        XCTAssertEqual(first.attributes["small"], "300")
        XCTAssertEqual(first.attributes["flag"], "true")
        XCTAssertEqual(first.attributes["ratio"], "0.25")
        XCTAssertEqual(first.attributes["long"]?.count, 300, "a length past one varint byte")
        XCTAssertEqual(
            first.attributes["list"], "?", "arrays are AnyValue field 5 (the test decoder does not render them)")
        XCTAssertEqual(first.attributes["from.dictionary"], "yes")
    }
}
