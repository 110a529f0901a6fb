extension UnitParser {
    /// `10.0.0.0/8`, `::1/128`, or a bare address meaning a single host. Nil also when bits are set
    /// beyond the prefix (`10.0.0.1/8`): such an entry usually means the author meant something
    /// narrower, so it is refused rather than silently widened; `parseCIDRDetailed` says which case it was.
    public static func parseCIDR(_ text: String) -> CIDR? {
        if case .success(let cidr) = parseCIDRDetailed(text) { return cidr }
        return nil
    }

    enum CIDRProblem: Error, Equatable {
        case malformed
        /// Carries the network with host bits cleared, for a "did you mean" hint.
        case hostBitsSet(canonical: String)
    }

    static func parseCIDRDetailed(_ text: String) -> Result<CIDR, CIDRProblem> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let (bytes, isIPv4) = IPAddress.parse(parts[0]) else { return .failure(.malformed) }
        let familyBits = isIPv4 ? 32 : 128
        var familyPrefix = familyBits
        if parts.count == 2 {
            let prefixText = parts[1]
            guard !prefixText.isEmpty, prefixText.count <= 3, prefixText.utf8.allSatisfy(isASCIIDigit),
                let value = Int(prefixText), value <= familyBits
            else { return .failure(.malformed) }
            familyPrefix = value
        }
        let prefixLength = familyPrefix + (isIPv4 ? 96 : 0)
        let masked = maskBytes(bytes, prefixLength: prefixLength)
        guard masked == bytes else {
            let address = isIPv4 ? masked[12...].map(String.init).joined(separator: ".") : IPAddress.formatIPv6(masked)
            return .failure(.hostBitsSet(canonical: "\(address)/\(familyPrefix)"))
        }
        return .success(CIDR(network: bytes, prefixLength: prefixLength, description: "\(parts[0])/\(familyPrefix)"))
    }

    static func maskBytes(_ bytes: [UInt8], prefixLength: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsKept = min(max(prefixLength - index * 8, 0), 8)
            let mask: UInt8 = bitsKept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsKept))
            return byte & mask
        }
    }
}
