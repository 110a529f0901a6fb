extension ConfigReader {
    mutating func readTrustedProxies(_ entry: Entry) -> [CIDR] {
        guard let items = list(entry) else { return [] }
        var result: [CIDR] = []
        for item in items {
            let expected = "a CIDR like 10.0.0.0/8 or ::1/128"
            guard let text = scalarText(item, expected: expected) else { continue }
            switch UnitParser.parseCIDRDetailed(text) {
            case .success(let cidr):
                result.append(cidr)
            case .failure(.hostBitsSet(let canonical)):
                error(item.position, "'\(text)' has bits set after the prefix length; did you mean \(canonical)?")
            case .failure(.malformed):
                error(item.position, "expected \(expected), got '\(text)'")
            }
        }
        return result
    }
}
