import Tracing

/// Spans as an OTLP `ExportTraceServiceRequest` in the protobuf binary format (the body of an
/// OTLP/HTTP POST to /v1/traces). Field numbers are opentelemetry-proto's
/// (`collector/trace/v1/trace_service.proto`, `trace/v1/trace.proto`, `common/v1/common.proto`);
/// the handful of messages a span needs are written by hand rather than generated.
enum OTLPTraceEncoder {
    static func request(_ spans: some Collection<FinishedSpan>, resource: [(String, String)]) -> [UInt8] {
        var scopeSpans = Protobuf()
        scopeSpans.message(1) { scope in
            scope.string(1, "gateway")
            scope.string(2, GatewayVersion.current)
        }
        for span in spans {
            scopeSpans.message(2) { encode(span, into: &$0) }
        }
        var resourceSpans = Protobuf()
        resourceSpans.message(1) { message in
            for (key, value) in resource {
                message.message(1) { keyValue(&$0, key, .string(value)) }
            }
        }
        resourceSpans.bytes(2, scopeSpans.bytes)
        var request = Protobuf()
        request.bytes(1, resourceSpans.bytes)
        return request.bytes
    }

    private static func encode(_ span: FinishedSpan, into message: inout Protobuf) {
        var traceID: [UInt8] = []
        appendBigEndian(span.identity.traceHigh, to: &traceID)
        appendBigEndian(span.identity.traceLow, to: &traceID)
        var spanID: [UInt8] = []
        appendBigEndian(span.identity.spanID, to: &spanID)
        message.bytes(1, traceID)
        message.bytes(2, spanID)
        if let state = span.identity.traceState, !state.isEmpty { message.string(3, state) }
        if span.parentSpanID != 0 {
            var parent: [UInt8] = []
            appendBigEndian(span.parentSpanID, to: &parent)
            message.bytes(4, parent)
        }
        message.string(5, span.name)
        message.varint(6, kind(span.kind))
        message.fixed64(7, span.startNanoseconds)
        message.fixed64(8, span.endNanoseconds)
        for (key, value) in span.fields {
            message.keyValue(9, key, value)
        }
        // swift-format-ignore: ReplaceForEachWithForLoop
        // SpanAttributes is not a Sequence: forEach is its only walk.
        span.attributes.forEach { key, value in
            message.keyValue(9, key, value)
        }
        for event in span.events {
            message.message(11) { encoded in
                encoded.fixed64(1, event.nanosecondsSinceEpoch)
                encoded.string(2, event.name)
                // swift-format-ignore: ReplaceForEachWithForLoop
                event.attributes.forEach { key, value in
                    encoded.message(3) { keyValue(&$0, key, value) }
                }
            }
        }
        if let status = span.status {
            message.message(15) { encoded in
                if let text = status.message { encoded.string(2, text) }
                encoded.varint(3, status.code == .ok ? 1 : 2)
            }
        }
        message.fixed32(16, span.identity.sampled ? 1 : 0)  // W3C trace flags
    }

    private static func kind(_ kind: SpanKind) -> UInt64 {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    fileprivate static func keyValue(_ message: inout Protobuf, _ key: String, _ value: SpanAttribute) {
        message.string(1, key)
        message.message(2) { anyValue(&$0, value) }
    }

    /// An `AnyValue`: 1 string, 2 bool, 3 int64, 4 double, 5 array.
    private static func anyValue(_ message: inout Protobuf, _ value: SpanAttribute) {
        func array(_ items: [SpanAttribute]) {
            message.message(5) { array in
                for item in items { array.message(1) { anyValue(&$0, item) } }
            }
        }
        switch value {
        case .string(let text): message.string(1, text)
        case .bool(let flag): message.varint(2, flag ? 1 : 0)
        case .int32(let number): message.varint(3, UInt64(bitPattern: Int64(number)))
        case .int64(let number): message.varint(3, UInt64(bitPattern: number))
        case .double(let number): message.fixed64(4, number.bitPattern)
        case .stringArray(let items): array(items.map { .string($0) })
        case .boolArray(let items): array(items.map { .bool($0) })
        case .int32Array(let items): array(items.map { .int32($0) })
        case .int64Array(let items): array(items.map { .int64($0) })
        case .doubleArray(let items): array(items.map { .double($0) })
        case .stringConvertible(let item): message.string(1, item.description)
        case .stringConvertibleArray(let items): array(items.map { .string($0.description) })
        default: message.string(1, "\(value)")
        }
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}

/// The protobuf wire format, as much as OTLP needs: varints, fixed 32/64-bit values and
/// length-delimited fields (strings, bytes, nested messages).
struct Protobuf {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 0)
        appendVarint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, wireType: 5)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, wireType: 2)
        appendVarint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) {
        tag(field, wireType: 2)
        appendVarint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// A `KeyValue` field; scalar values are written in place, lengths computed up front (no
    /// nested buffer per attribute).
    mutating func keyValue(_ field: Int, _ key: String, _ value: SpanAttribute) {
        let valueSize: Int
        switch value {
        case .string(let text):
            valueSize = 1 + Self.varintSize(UInt64(text.utf8.count)) + text.utf8.count
        case .int64(let number):
            valueSize = 1 + Self.varintSize(UInt64(bitPattern: number))
        case .int32(let number):
            valueSize = 1 + Self.varintSize(UInt64(bitPattern: Int64(number)))
        case .bool:
            valueSize = 2
        case .double:
            valueSize = 9
        default:
            message(field) { OTLPTraceEncoder.keyValue(&$0, key, value) }
            return
        }
        let keyLength = key.utf8.count
        let keyPart = 1 + Self.varintSize(UInt64(keyLength)) + keyLength
        let valuePart = 1 + Self.varintSize(UInt64(valueSize)) + valueSize
        tag(field, wireType: 2)
        appendVarint(UInt64(keyPart + valuePart))
        string(1, key)
        tag(2, wireType: 2)
        appendVarint(UInt64(valueSize))
        switch value {
        case .string(let text): string(1, text)
        case .int64(let number): varint(3, UInt64(bitPattern: number))
        case .int32(let number): varint(3, UInt64(bitPattern: Int64(number)))
        case .bool(let flag): varint(2, flag ? 1 : 0)
        case .double(let number): fixed64(4, number.bitPattern)
        default: break
        }
    }

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    mutating func message(_ field: Int, _ build: (inout Protobuf) -> Void) {
        var nested = Protobuf()
        build(&nested)
        bytes(field, nested.bytes)
    }

    private mutating func tag(_ field: Int, wireType: UInt64) {
        appendVarint(UInt64(field) << 3 | wireType)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
