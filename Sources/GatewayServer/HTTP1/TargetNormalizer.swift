/// One spelling per path (RFC 3986 6.2.2), made before anything looks at the target: routing,
/// auth, rate-limit keys, cache keys and the upstream all see the same path, so `/public/../admin`
/// or `/%61dmin` cannot reach `/admin` past a rule written for `/admin`.
///
/// - percent-encoded unreserved characters (letters, digits, `-._~`) are decoded, other escapes
///   are kept with uppercase hex;
/// - `.` and `..` segments are removed (also when they were written `%2e`), and runs of slashes
///   become one (as nginx's `merge_slashes`);
/// - refused (400): an encoded slash or backslash (`%2F`, `%5C`), which upstreams disagree about
///   (Apache's `AllowEncodedSlashes Off`, Envoy's `REJECT_REQUEST`); a literal backslash, which
///   some servers treat as a slash and RFC 3986 does not allow; `..` above the root (as nginx);
///   a `%` not followed by two hex digits.
///
/// The query is left as it came.
enum TargetNormalizer {
    enum Failure: Error, Equatable {
        case encodedSlash
        case backslash
        case aboveRoot
        case badEscape
    }

    /// `target` itself (no copy) when it is already normal, which is the usual case.
    static func normalize(_ target: String) throws(Failure) -> String {
        let utf8 = target.utf8
        guard utf8.first == UInt8(ascii: "/") else { return target }  // `*`
        let pathEnd = utf8.firstIndex(of: UInt8(ascii: "?")) ?? utf8.endIndex
        let path = utf8[..<pathEnd]
        if try isNormal(path) { return target }

        // Decode what RFC 3986 says is equivalent, then walk the segments.
        var decoded: [UInt8] = []
        decoded.reserveCapacity(path.count)
        var index = path.startIndex
        while index < path.endIndex {
            let byte = path[index]
            guard byte == UInt8(ascii: "%") else {
                decoded.append(byte)
                index = path.index(after: index)
                continue
            }
            let first = path.index(after: index)
            guard first < path.endIndex, path.index(after: first) < path.endIndex,
                let high = hexValue(path[first]), let low = hexValue(path[path.index(after: first)])
            else { throw .badEscape }
            let value = high << 4 | low
            if value == UInt8(ascii: "/") || value == UInt8(ascii: "\\") { throw .encodedSlash }
            if isUnreserved(value) {
                decoded.append(value)
            } else {
                decoded += [UInt8(ascii: "%"), hexDigit(high), hexDigit(low)]
            }
            index = path.index(first, offsetBy: 2)
        }

        var segments: [ArraySlice<UInt8>] = []
        let parts = decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        for part in parts {
            switch part.count {
            case 0: continue
            case 1 where part.first == UInt8(ascii: "."): continue
            case 2 where part.allSatisfy({ $0 == UInt8(ascii: ".") }):
                guard !segments.isEmpty else { throw .aboveRoot }
                segments.removeLast()
            default: segments.append(part)
            }
        }
        // `/a/b/`, `/a/b/.` and `/a/b/..` name a directory: the result keeps its trailing slash.
        let last = parts.last ?? []
        let directory = last.isEmpty || last.allSatisfy { $0 == UInt8(ascii: ".") } && last.count <= 2
        var normal: [UInt8] = []
        normal.reserveCapacity(decoded.count + 1)
        for segment in segments {
            normal.append(UInt8(ascii: "/"))
            normal += segment
        }
        if segments.isEmpty || directory { normal.append(UInt8(ascii: "/")) }
        return String(decoding: normal, as: UTF8.self) + String(target[pathEnd...])
    }

    /// No escape, dot segment, empty segment or backslash: nothing to do. Throws for a backslash.
    private static func isNormal(_ path: Substring.UTF8View.SubSequence) throws(Failure) -> Bool {
        var previous: UInt8 = 0
        var normal = true
        var segmentStart = true
        var dots = 0
        for byte in path {
            switch byte {
            case UInt8(ascii: "\\"):
                throw .backslash
            case UInt8(ascii: "%"):
                normal = false
            case UInt8(ascii: "/"):
                if previous == UInt8(ascii: "/") || (segmentStart && dots > 0 && dots <= 2) { normal = false }
                segmentStart = true
                dots = 0
            case UInt8(ascii: "."):
                if segmentStart { dots += 1 }
            default:
                segmentStart = false
                dots = 0
            }
            previous = byte
        }
        // A last segment of `.` or `..`.
        if segmentStart && dots > 0 && dots <= 2 { normal = false }
        return normal
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
