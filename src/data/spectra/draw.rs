//! Random streams and draws from configured (min, max) ranges.
//!
//! Every random quantity comes from a `Xoshiro256PlusPlus` derived from (seed, purpose, index),
//! one per galaxy or per spectrum, so work can be split across threads in any way and the
//! result depends only on the seed.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Stream purpose: drawing the galaxies of an SED library.
pub const LIBRARY_STREAM: u64 = 1;
/// Stream purpose: simulating observed spectra.
pub const SPECTRUM_STREAM: u64 = 2;

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective mixing of 64 bits.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of item `index` for `purpose`:
/// `seed_from_u64(seed ^ splitmix64(splitmix64(purpose) ^ index))`.
pub fn stream_rng(seed: u64, purpose: u64, index: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ splitmix64(splitmix64(purpose) ^ index))
}

/// Checks a (min, max) range: finite, 0 ≤ min ≤ max (0 < min when drawn log-uniformly).
pub fn check_range(name: &str, (lo, hi): (f64, f64), log_uniform: bool) -> Result<(), String> {
    let positive_enough = if log_uniform { lo > 0.0 } else { lo >= 0.0 };
    if lo.is_finite() && hi.is_finite() && positive_enough && lo <= hi {
        Ok(())
    } else {
        let bound = if log_uniform { "0 < min" } else { "0 ≤ min" };
        Err(format!(
            "{name}: invalid range ({lo}, {hi}); expected finite {bound} ≤ max"
        ))
    }
}

/// Uniform draw in [lo, hi) (exactly `lo` when lo = hi).
pub fn uniform<R: Rng>(rng: &mut R, (lo, hi): (f64, f64)) -> f64 {
    lo + (hi - lo) * rng.gen::<f64>()
}

/// Log-uniform draw in [lo, hi), lo > 0: exp(U[ln lo, ln hi)).
pub fn log_uniform<R: Rng>(rng: &mut R, (lo, hi): (f64, f64)) -> f64 {
    (lo.ln() + (hi.ln() - lo.ln()) * rng.gen::<f64>()).exp()
}
