//! Seeded random streams: one independent Xoshiro256++ stream per purpose, derived from a
//! run's seed.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Derives an independent stream for one purpose ("init", "dropout", …) from a run's seed.
pub fn stream(seed: u64, purpose: u64) -> Xoshiro256PlusPlus {
    // SplitMix64 finaliser, so that nearby seeds and purposes give unrelated streams.
    let mut z = seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// Stream purposes (see [`stream`]).
pub mod purpose {
    pub const INIT: u64 = 1;
    pub const DROPOUT: u64 = 2;
    pub const SHUFFLE: u64 = 3;
    pub const AUGMENT: u64 = 4;
    pub const SIMULATE: u64 = 5;
    /// Which objects of an over-full (z bin × magnitude row) cell enter Lin et al. (2022)'s
    /// balanced subset.
    pub const BALANCE: u64 = 6;
    /// The draws and stochastic rounding of Lin et al. (2022)'s Step-4 resampling.
    pub const RESAMPLE: u64 = 7;
}
