extension Substring {
    /// Optional whitespace (OWS, RFC 9110 5.6.3) around list elements and header values.
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
