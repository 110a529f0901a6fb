/// Config is validated upstream, but a balancer must never trap on the hot path, so every weight is forced into a
/// range where all arithmetic below stays exact and far from overflow.
enum EndpointWeight {
    /// Far above any useful ratio (HAProxy caps weights at 256), yet small enough that sums over millions of
    /// endpoints, products with in-flight request counts (P2C) and `iteration * weight` (Maglev) fit in 64 bits.
    static let maximum = 1 << 20

    static func clamp(_ weight: Int) -> Int {
        min(max(weight, 1), maximum)
    }
}
