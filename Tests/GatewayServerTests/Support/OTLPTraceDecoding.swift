/// Just enough of the protobuf wire format (and of OTLP's trace messages, field numbers from
/// opentelemetry-proto `trace/v1/trace.proto`) to read what the gateway exports: a test that
/// decodes independently of the encoder it checks.
struct DecodedSpan: Sendable {
    enum Kind: Int, Sendable {
        case unspecified = 0
        case `internal`, server, client, producer, consumer
    }

    var traceID = ""
    var spanID = ""
    var parentSpanID = ""
    var traceState = ""
    var name = ""
    var kind = Kind.unspecified
    var startNanos: UInt64 = 0
    var endNanos: UInt64 = 0
    var attributes: [String: String] = [:]
    /// 0 unset, 1 ok, 2 error.
    var statusCode = 0
    /// `service.name` and the other resource attributes of the batch the span came in.
    var resource: [String: String] = [:]
}

enum OTLPTraceDecoding {
    struct Malformed: Error {}

    /// `ExportTraceServiceRequest` → its spans.
    static func spans(_ bytes: [UInt8]) throws -> [DecodedSpan] {
        var spans: [DecodedSpan] = []
        for resourceSpans in try fields(bytes[...]) where resourceSpans.number == 1 {
            var resource: [String: String] = [:]
            var scopeSpans: [ArraySlice<UInt8>] = []
            for field in try fields(resourceSpans.bytes) {
                switch field.number {
                case 1:
                    for attribute in try fields(field.bytes) where attribute.number == 1 {
                        let (key, value) = try keyValue(attribute.bytes)
                        resource[key] = value
                    }
                case 2: scopeSpans.append(field.bytes)
                default: break
                }
            }
            for scope in scopeSpans {
                for spanField in try fields(scope) where spanField.number == 2 {
                    var span = try span(spanField.bytes)
                    span.resource = resource
                    spans.append(span)
                }
            }
        }
        return spans
    }

    private static func span(_ bytes: ArraySlice<UInt8>) throws -> DecodedSpan {
        var span = DecodedSpan()
        for field in try fields(bytes) {
            switch field.number {
            case 1: span.traceID = hex(field.bytes)
            case 2: span.spanID = hex(field.bytes)
            case 3: span.traceState = String(decoding: field.bytes, as: UTF8.self)
            case 4: span.parentSpanID = hex(field.bytes)
            case 5: span.name = String(decoding: field.bytes, as: UTF8.self)
            case 6: span.kind = DecodedSpan.Kind(rawValue: Int(field.varint)) ?? .unspecified
            case 7, 8:
                // fixed64 (wire type 1) in the schema: a varint here would be a wrong encoding.
                guard field.wireType == 1 else { throw Malformed() }
                if field.number == 7 { span.startNanos = field.varint } else { span.endNanos = field.varint }
            case 9:
                let (key, value) = try keyValue(field.bytes)
                span.attributes[key] = value
            case 15:
                for statusField in try fields(field.bytes) where statusField.number == 3 {
                    span.statusCode = Int(statusField.varint)
                }
            default: break
            }
        }
        return span
    }

    /// A `KeyValue` with its `AnyValue` rendered as text (strings as they are, numbers in decimal).
    private static func keyValue(_ bytes: ArraySlice<UInt8>) throws -> (String, String) {
        var key = ""
        var value = ""
        for field in try fields(bytes) {
            if field.number == 1 { key = String(decoding: field.bytes, as: UTF8.self) }
            if field.number == 2 {
                for any in try fields(field.bytes) {
                    switch any.number {
                    case 1: value = String(decoding: any.bytes, as: UTF8.self)
                    case 2: value = any.varint == 0 ? "false" : "true"
                    case 3: value = String(Int64(bitPattern: any.varint))
                    case 4: value = String(Double(bitPattern: any.varint))
                    default: value = "?"
                    }
                }
            }
        }
        return (key, value)
    }

    struct Field {
        let number: Int
        let wireType: UInt64
        /// Varint, fixed64 and fixed32 values.
        var varint: UInt64 = 0
        /// Length-delimited payloads.
        var bytes: ArraySlice<UInt8> = []
    }

    static func fields(_ bytes: ArraySlice<UInt8>) throws -> [Field] {
        var result: [Field] = []
        var index = bytes.startIndex
        func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex, shift < 64 else { throw Malformed() }
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        func fixed(_ count: Int) throws -> UInt64 {
            guard bytes.endIndex - index >= count else { throw Malformed() }
            var value: UInt64 = 0
            for offset in 0..<count { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
            index += count
            return value
        }
        while index < bytes.endIndex {
            let tag = try varint()
            var field = Field(number: Int(tag >> 3), wireType: tag & 7)
            switch tag & 7 {
            case 0: field.varint = try varint()
            case 1: field.varint = try fixed(8)
            case 5: field.varint = try fixed(4)
            case 2:
                let length = Int(try varint())
                guard length >= 0, bytes.endIndex - index >= length else { throw Malformed() }
                field.bytes = bytes[index..<index + length]
                index += length
            default: throw Malformed()
            }
            result.append(field)
        }
        return result
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
    }
}
