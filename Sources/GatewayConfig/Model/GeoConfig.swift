/// `geo`: which region a client address belongs to, for routes that pick their upstream by the
/// client's region (`upstream_by_region`), as a CDN's director does. Like nginx's `geo` module:
/// the most specific network containing the address decides; an address in none of them belongs
/// to the default region.
public struct GeoConfig: Sendable, Equatable {
    public var defaultRegion: String
    /// In the order the file names them; names are unique.
    public var regions: [GeoRegion]

    public init(defaultRegion: String, regions: [GeoRegion]) {
        self.defaultRegion = defaultRegion
        self.regions = regions
    }

    /// Every region a route may name: the listed ones, and the default even when no network
    /// maps to it.
    public var regionNames: [String] {
        let listed = regions.map(\.name)
        return listed.contains(defaultRegion) ? listed : listed + [defaultRegion]
    }
}

public struct GeoRegion: Sendable, Equatable {
    public var name: String
    public var networks: [CIDR]

    public init(name: String, networks: [CIDR]) {
        self.name = name
        self.networks = networks
    }
}
