/// ASCII case-insensitive comparison of a header name against a lowercase constant, without
/// building a lowercased copy (header names arrive in whatever case the peer chose).
@inline(__always)
func headerNameEquals(_ name: String, lowercase expected: String) -> Bool {
    var nameUTF8 = name.utf8.makeIterator()
    var expectedUTF8 = expected.utf8.makeIterator()
    while true {
        switch (nameUTF8.next(), expectedUTF8.next()) {
        case (nil, nil):
            return true
        case (let byte?, let expectedByte?):
            let folded = (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
            if folded != expectedByte { return false }
        default:
            return false
        }
    }
}
