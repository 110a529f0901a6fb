import NIOCore

@testable import GatewayServer

/// Bytes from clients and from upstreams, framed by the gateway's own HTTP/1.1 parsers. Where a
/// message ends must not depend on how TCP split the bytes: the same stream fed whole, in two
/// pieces and one byte at a time must give the same heads, bodies, ends and error, or the gateway
/// and an upstream could disagree about message boundaries (request smuggling).
///
/// The first byte picks the side: even, a client's request stream; odd, an upstream's response
/// head followed by a chunked body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = bytes.first else { return 0 }
    let stream = Array(bytes.dropFirst())
    let split = stream.isEmpty ? 0 : Int(first >> 1) % (stream.count + 1)
    let pieces = [[stream], [Array(stream[..<split]), Array(stream[split...])], stream.map { [$0] }]
    if first & 1 == 0 {
        let outcomes = pieces.map(parseRequests)
        guard outcomes.allSatisfy({ $0 == outcomes[0] }) else {
            fatalError("request framing depends on the split:\n\(outcomes.map(\.description).joined(separator: "\n"))")
        }
    } else {
        parseResponse(stream)
        let outcomes = pieces.map(scanChunkedBody)
        guard outcomes.allSatisfy({ $0 == outcomes[0] }) else {
            fatalError("chunked framing depends on the split: \(outcomes)")
        }
    }
    return 0
}

/// What the proxy would act on, as text: every head's request line and framing, each message's
/// body bytes, and the error that stopped parsing.
struct RequestOutcome: Equatable, CustomStringConvertible {
    var events: [String] = []
    var body: [UInt8] = []
    var description: String { events.joined(separator: " | ") }

    mutating func flushBody() {
        if !body.isEmpty { events.append("body \(body)") }
        body = []
    }
}

func parseRequests(_ chunks: [[UInt8]]) -> RequestOutcome {
    var parser = RequestParser(maxHeadBytes: 1024, maxFields: 16)
    var outcome = RequestOutcome()
    var input = ByteBuffer()
    do {
        for chunk in chunks {
            input.writeBytes(chunk)
            while let event = try parser.next(&input) {
                switch event {
                case .head(let head):
                    checkHead(head)
                    outcome.events.append(
                        "head \(head.method) \(head.target) \(head.authority ?? "-") 1.\(head.versionMinor) "
                            + "fields \(head.fields.count) length \(head.contentLength.map(String.init) ?? "-") "
                            + "\(head.transferCoding) keepAlive \(head.keepAlive)")
                case .body(let slice):
                    outcome.body += slice.readableBytesView
                case .end:
                    outcome.flushBody()
                    outcome.events.append("end")
                }
            }
        }
    } catch {
        // Which error is not compared: a head with two faults may be refused for either one
        // depending on how much of it had arrived (a bare LF is caught before the head is complete,
        // a bad version only once it is). Both end the connection; what was accepted before is compared.
        outcome.flushBody()
        outcome.events.append("error")
    }
    outcome.flushBody()
    return outcome
}

/// A target the parser hands on is already in normal form, and reading it again changes nothing.
func checkHead(_ head: RequestHead) {
    do {
        let again = try TargetNormalizer.normalize(head.target)
        guard again == head.target else { fatalError("target \(head.target) normalised again to \(again)") }
    } catch {
        fatalError("target \(head.target) was accepted, then refused: \(error)")
    }
    if let host = head.host { _ = HostSyntax.isValid(host) }
    for index in head.fields.indices { _ = head.value(of: index) }
}

func parseResponse(_ stream: [UInt8]) {
    let buffer = ByteBuffer(bytes: stream)
    guard let end = FieldBytes.headEnd(in: buffer, from: 0), let block = buffer.getSlice(at: 0, length: end) else {
        return
    }
    guard let head = try? UpstreamResponseParser.parse(block, allowUpgrade: true) else { return }
    guard (100...999).contains(head.status) else { fatalError("status \(head.status) accepted") }
    if head.isChunked, head.contentLength != nil { fatalError("both chunked and a length accepted") }
}

struct ChunkedOutcome: Equatable {
    var consumed = 0
    var data: [UInt8] = []
    var done = false
    var error: UpstreamResponseError?
}

func scanChunkedBody(_ chunks: [[UInt8]]) -> ChunkedOutcome {
    var scanner = ChunkedBodyScanner(capturesTrailers: true)
    var outcome = ChunkedOutcome()
    do {
        for chunk in chunks where !scanner.isDone {
            let buffer = ByteBuffer(bytes: chunk)
            outcome.consumed += try scanner.scan(buffer) { outcome.data += $0.readableBytesView }
        }
    } catch {
        // How far a piece got before the error is not comparable: the error is.
        outcome.consumed = -1
        outcome.error = error
    }
    outcome.done = scanner.isDone
    return outcome
}
