import Yams

extension ConfigReader {
    /// `geo: { default: us-east, regions: { us-east: [CIDR, ...], ... } }`.
    mutating func readGeo(_ entry: Entry) -> GeoConfig? {
        guard let s = section(entry, .geo, context: "in 'geo'", keys: ["default", "regions"]) else { return nil }
        require(["default", "regions"], in: s)
        let defaultRegion = s["default"].flatMap { name($0) }
        var regions: [GeoRegion] = []
        // By address and length only: `10.0.0.0/8` and `::ffff:10.0.0.0/104` are one network.
        var firstNetwork: [[UInt8]: String] = [:]
        if let regionsEntry = s["regions"] {
            guard case .mapping(let mapping) = regionsEntry.value else {
                error(
                    regionsEntry.line,
                    "expected a mapping of region names to networks in 'geo', got \(Self.describe(regionsEntry.value))")
                return nil
            }
            for (keyNode, value) in mapping {
                guard let region = scalarText(keyNode, expected: "a region name") else { continue }
                if ignoredKeys.contains(region) { continue }
                guard Self.isValidUpstreamName(region) else {
                    error(keyNode.position, "invalid region name '\(region)': use letters, digits, '_', '.' and '-'")
                    continue
                }
                let networks = readTrustedProxies(
                    Entry(key: region, keyLine: keyNode.position ?? regionsEntry.line, value: value))
                for network in networks {
                    // The same network in two regions would make the answer depend on file order.
                    let key = network.network + [UInt8(truncatingIfNeeded: network.prefixLength)]
                    if let other = firstNetwork[key], other != region {
                        error(value.position, "network \(network) is in both region '\(other)' and region '\(region)'")
                    }
                    firstNetwork[key] = region
                }
                regions.append(GeoRegion(name: region, networks: networks))
            }
        }
        guard let defaultRegion else { return nil }
        return GeoConfig(defaultRegion: defaultRegion, regions: regions)
    }

    /// A route's `upstream_by_region`: region → upstream. Every region must be one `geo` knows,
    /// and the default region must have an upstream (clients outside every network go there).
    mutating func readUpstreamByRegion(
        _ entry: Entry, label: String, upstreamNames: Set<String>, geo: GeoConfig?, geoDeclared: Bool
    ) -> [String: String]? {
        guard case .mapping(let mapping) = entry.value else {
            error(entry.line, "expected a mapping of region names to upstreams, got \(Self.describe(entry.value))")
            return nil
        }
        guard let geo else {
            // A `geo` section with problems of its own was reported already.
            if !geoDeclared {
                error(entry.keyLine, "'upstream_by_region' in \(label) needs a top-level 'geo' section to know regions")
            }
            return nil
        }
        let known = geo.regionNames
        var result: [String: String] = [:]
        var valid = true
        for (keyNode, value) in mapping {
            guard let region = scalarText(keyNode, expected: "a region name"),
                let upstream = scalarText(value, expected: "an upstream name")
            else {
                valid = false
                continue
            }
            if ignoredKeys.contains(region) { continue }
            guard known.contains(region) else {
                error(
                    keyNode.position,
                    "\(label) names unknown region '\(region)' (not in 'geo')" + Suggestion.hint(for: region, in: known)
                )
                valid = false
                continue
            }
            guard upstreamNames.contains(upstream) else {
                error(
                    value.position,
                    "\(label) names unknown upstream '\(upstream)'"
                        + Suggestion.hint(for: upstream, in: upstreamNames.sorted()))
                valid = false
                continue
            }
            result[region] = upstream
        }
        guard valid else { return nil }
        guard result[geo.defaultRegion] != nil else {
            error(
                entry.line,
                "'upstream_by_region' in \(label) needs an upstream for the default region '\(geo.defaultRegion)' "
                    + "(clients outside every network in 'geo' go there)")
            return nil
        }
        return result
    }
}
