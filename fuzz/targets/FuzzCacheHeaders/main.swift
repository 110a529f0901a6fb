import HTTPCaching

/// Every cache-related field an origin or a client sends is parsed by these, on every request or
/// response that can be cached. Besides not crashing, each checks a property that would otherwise
/// only show as a wrong answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCacheHeaders(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

    if let seconds = HTTPDate.parse(text) {
        // A date read back from what the cache would send must be the same instant.
        let formatted = HTTPDate.format(seconds)
        guard HTTPDate.parse(formatted) == seconds else {
            fatalError("HTTP-date \(seconds) formatted as \(formatted) does not read back")
        }
    }

    if let tag = EntityTag(parsing: text) {
        guard EntityTag(parsing: tag.headerValue) == tag else { fatalError("entity tag does not round-trip: \(tag)") }
    }
    _ = EntityTagList.parse(lines)

    // The representation length comes from the input too, so both empty and large bodies are tried.
    let length = count == 0 ? 0 : Int(bytes[0]) * 37
    switch ByteRanges.parse(text, length: length) {
    case .satisfiable(let ranges):
        guard !ranges.isEmpty, ranges.count <= ByteRanges.maxParts else { fatalError("range count \(ranges.count)") }
        for range in ranges where range.lowerBound < 0 || range.upperBound >= length {
            fatalError("range \(range) outside a representation of \(length) bytes")
        }
    case .ignore, .unsatisfiable:
        break
    }

    _ = ResponseCacheControl(values: lines)
    _ = RequestCacheControl(cacheControl: lines, pragma: lines)

    let accept = AcceptEncoding(lines)
    if let preferred = accept.preferred(among: ContentCoding.allCases) {
        guard accept.quality(of: preferred) > 0 else { fatalError("preferred \(preferred) has quality 0") }
    }
    return 0
}
