extension CIDR {
    /// Whether a peer address, in the same 16-byte form (IPv4 as `::ffff:a.b.c.d`), is inside
    /// this network. Addresses of another length are never inside.
    public func contains(_ bytes16: [UInt8]) -> Bool {
        guard bytes16.count == 16, network.count == 16 else { return false }
        return UnitParser.maskBytes(bytes16, prefixLength: prefixLength) == network
    }
}
