import Redis

/// Whatever a Redis server (or something pretending to be one on its port) sends is decoded here.
/// The same bytes fed whole and fed in two pieces must give the same replies and the same error:
/// a decoder that depended on where TCP split a reply would desynchronise a connection.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = bytes.first else { return 0 }
    let stream = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
    let split = stream.isEmpty ? 0 : Int(first) % (stream.count + 1)

    let whole = decode([stream])
    let pieces = decode([
        UnsafeRawBufferPointer(rebasing: stream[..<split]), UnsafeRawBufferPointer(rebasing: stream[split...]),
    ])
    guard whole == pieces else { fatalError("split at \(split) changed the replies: \(whole) vs \(pieces)") }
    return 0
}

struct Decoded: Equatable, CustomStringConvertible {
    var replies: [RESPValue] = []
    var error: String?
    var description: String { "\(replies) error: \(error ?? "none")" }
}

func decode(_ chunks: [UnsafeRawBufferPointer]) -> Decoded {
    let decoder = RESPDecoder()
    var result = Decoded()
    do {
        for chunk in chunks {
            try decoder.feed(chunk)
            while let reply = try decoder.next() { result.replies.append(reply) }
        }
    } catch {
        result.error = "\(error)"
    }
    return result
}
