/// xoshiro256** (Blackman & Vigna, 2018): a fast, small-state, non-cryptographic generator for per-loop balancing
/// decisions. The system generator would do, but it costs a syscall or locked state per draw and cannot be seeded,
/// and tests need reproducible sequences.
///
/// Not for anything security-relevant (tokens, ids that must not be guessed).
public struct FastRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var state0: UInt64
    @usableFromInline var state1: UInt64
    @usableFromInline var state2: UInt64
    @usableFromInline var state3: UInt64

    /// The authors' recommended seeding: expand the 64-bit seed with splitmix64, which never yields the all-zero
    /// state xoshiro cannot leave.
    public init(seed: UInt64) {
        var expander = SplitMix64(state: seed)
        state0 = expander.next()
        state1 = expander.next()
        state2 = expander.next()
        state3 = expander.next()
    }

    /// Seeded from the system generator, so loops and processes do not make the same choices in lockstep.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: system.next())
    }

    /// Raw state, for the reference known-answer test only.
    init(state0: UInt64, state1: UInt64, state2: UInt64, state3: UInt64) {
        self.state0 = state0
        self.state1 = state1
        self.state2 = state2
        self.state3 = state3
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state1 &* 5, by: 7) &* 9
        let shifted = state1 << 17
        state2 ^= state0
        state3 ^= state1
        state1 ^= state2
        state0 ^= state3
        state2 ^= shifted
        state3 = rotateLeft(state3, by: 45)
        return result
    }
}

/// splitmix64 (Steele, Lea & Flood): used only to expand a seed, because consecutive outputs are well mixed even
/// from seeds like 0, 1, 2.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

@inlinable
func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
}
