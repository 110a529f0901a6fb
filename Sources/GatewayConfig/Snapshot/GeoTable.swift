/// `geo` compiled for lookups on the request path: every network with its region, most specific
/// first, so the first network containing an address is the longest match.
public struct GeoTable: Sendable {
    /// Index-aligned with `GeoConfig.regionNames`.
    public let regionNames: [String]
    public let defaultRegion: Int
    private let networks: [(cidr: CIDR, region: Int)]

    public init(_ geo: GeoConfig) {
        regionNames = geo.regionNames
        defaultRegion = regionNames.firstIndex(of: geo.defaultRegion) ?? 0
        var networks: [(cidr: CIDR, region: Int)] = []
        for (index, region) in geo.regions.enumerated() {
            networks += region.networks.map { ($0, index) }
        }
        self.networks = networks.sorted { $0.cidr.prefixLength > $1.cidr.prefixLength }
    }

    /// The region of a 16-byte address (IPv4 mapped into IPv6), or the default.
    public func region(of address: [UInt8]) -> Int {
        networks.first { $0.cidr.contains(address) }?.region ?? defaultRegion
    }
}
