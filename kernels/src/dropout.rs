//! Inverted dropout (Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural Networks
//! from Overfitting", with the scaling moved to training time as every framework does).
//!
//! In training, each element is kept with probability `1 − p` and scaled by `1/(1 − p)`, so the
//! expected output equals the input and evaluation needs no rescaling (dropout is the identity
//! there). The mask is drawn once per step and serves both passes:
//!
//! ```text
//! mask_i = 0 with probability p, 1/(1 − p) otherwise
//! y  = x ⊙ mask            (forward, overwrites y)
//! dx += dy ⊙ mask          (backward, accumulates)
//! ```

use crate::simd::{body_len, load, store, LANES};
use rand::RngCore;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The drop threshold on a uniform `u32`: `T = ⌊p·2³²⌋`, computed in f64 (exact for an `f32`
/// `p`). An element is dropped when its draw `u < T`, which happens with probability
/// `T/2³² ∈ (p − 2⁻³², p]`. `p < 1` keeps `T ≤ 2³² − 2⁸`, so the cast cannot saturate.
fn drop_threshold(p: f32) -> u32 {
    (p as f64 * 4_294_967_296.0).floor() as u32
}

/// Fills `mask` with `0` (probability `p`) or `1/(1 − p)`, one `next_u32()` of the caller's
/// seeded stream per element (`u < ⌊p·2³²⌋` drops). `p = 0` gives all ones and draws nothing,
/// so the stream is left untouched. Panics unless `0 ≤ p < 1`.
pub fn dropout_mask(p: f32, rng: &mut Xoshiro256PlusPlus, mask: &mut [f32]) {
    assert!((0.0..1.0).contains(&p), "dropout: p = {p} is not in [0, 1)");
    if p == 0.0 {
        mask.fill(1.0);
        return;
    }
    let threshold = drop_threshold(p);
    let keep_scale = 1.0 / (1.0 - p);
    for m in mask.iter_mut() {
        *m = if rng.next_u32() < threshold {
            0.0
        } else {
            keep_scale
        };
    }
}

/// Forward, scalar reference: `y = x ⊙ mask` (overwrites `y`).
pub fn dropout_forward_ref(x: &[f32], mask: &[f32], y: &mut [f32]) {
    assert_equal_lengths(x, mask, y);
    for i in 0..x.len() {
        y[i] = x[i] * mask[i];
    }
}

/// Forward, SIMD: `y = x ⊙ mask` (overwrites `y`); bit-identical to the reference.
pub fn dropout_forward(x: &[f32], mask: &[f32], y: &mut [f32]) {
    assert_equal_lengths(x, mask, y);
    let body = body_len(x.len());
    for i in (0..body).step_by(LANES) {
        store(load(&x[i..]) * load(&mask[i..]), &mut y[i..]);
    }
    for i in body..x.len() {
        y[i] = x[i] * mask[i];
    }
}

/// Backward, scalar reference: `dx += dy ⊙ mask`.
pub fn dropout_backward_ref(dy: &[f32], mask: &[f32], dx: &mut [f32]) {
    assert_equal_lengths(dy, mask, dx);
    for i in 0..dy.len() {
        dx[i] += dy[i] * mask[i];
    }
}

/// Backward, SIMD: `dx += dy ⊙ mask`, with a fused multiply-add (so within one rounding of
/// the reference).
pub fn dropout_backward(dy: &[f32], mask: &[f32], dx: &mut [f32]) {
    assert_equal_lengths(dy, mask, dx);
    let body = body_len(dy.len());
    for i in (0..body).step_by(LANES) {
        let acc = load(&dy[i..]).mul_add(load(&mask[i..]), load(&dx[i..]));
        store(acc, &mut dx[i..]);
    }
    for i in body..dy.len() {
        dx[i] = dy[i].mul_add(mask[i], dx[i]);
    }
}

fn assert_equal_lengths(input: &[f32], mask: &[f32], output: &[f32]) {
    assert_eq!(
        input.len(),
        mask.len(),
        "dropout: input and mask lengths differ"
    );
    assert_eq!(
        output.len(),
        mask.len(),
        "dropout: output and mask lengths differ"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_close, random_vec};
    use rand::SeedableRng;

    fn mask_of(p: f32, seed: u64, n: usize) -> Vec<f32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut mask = vec![f32::NAN; n];
        dropout_mask(p, &mut rng, &mut mask);
        mask
    }

    #[test]
    fn threshold_maps_p_to_a_fraction_of_2_pow_32() {
        assert_eq!(drop_threshold(0.5), 1 << 31);
        assert_eq!(drop_threshold(0.25), 1 << 30);
        assert_eq!(drop_threshold(0.0), 0);
        assert_eq!(drop_threshold(1.0 - f32::EPSILON / 2.0), u32::MAX - 255);
    }

    /// The number of zeros in n draws is Binomial(n, p): it must lie within 5 standard
    /// deviations √(n·p·(1 − p)) of n·p (fails by chance with probability ≈ 6e-7 per p for a
    /// fresh seed; the seeds here are fixed, so the test is deterministic).
    #[test]
    fn zero_fraction_and_scale() {
        let n = 100_000;
        for (seed, p) in [(1, 0.1f32), (2, 0.5), (3, 0.9), (4, 0.3)] {
            let mask = mask_of(p, seed, n);
            let zeros = mask.iter().filter(|&&m| m == 0.0).count() as f64;
            let (mean, sd) = (
                n as f64 * p as f64,
                (n as f64 * p as f64 * (1.0 - p as f64)).sqrt(),
            );
            assert!(
                (zeros - mean).abs() <= 5.0 * sd,
                "p = {p}: {zeros} zeros, expected {mean} ± {sd}"
            );
            let scale = 1.0 / (1.0 - p);
            assert!(
                mask.iter().all(|&m| m == 0.0 || m == scale),
                "p = {p}: a kept value ≠ 1/(1 − p)"
            );
        }
    }

    #[test]
    fn p_zero_keeps_everything_and_draws_nothing() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut mask = vec![f32::NAN; 37];
        dropout_mask(0.0, &mut rng, &mut mask);
        assert!(mask.iter().all(|&m| m == 1.0));
        assert_eq!(
            rng.next_u64(),
            Xoshiro256PlusPlus::seed_from_u64(5).next_u64()
        );
    }

    #[test]
    fn same_seed_same_mask_other_seed_other_mask() {
        assert_eq!(mask_of(0.5, 11, 1000), mask_of(0.5, 11, 1000));
        assert_ne!(mask_of(0.5, 11, 1000), mask_of(0.5, 12, 1000));
    }

    #[test]
    #[should_panic(expected = "not in [0, 1)")]
    fn p_one_is_refused() {
        mask_of(1.0, 1, 4);
    }

    #[test]
    fn fast_equals_reference_and_accumulates() {
        for n in [0, 1, 7, 8, 15, 16, 17, 33, 1000, 1003] {
            let x = random_vec(20 + n as u64, n, 3.0);
            let mask = mask_of(0.4, n as u64, n);
            let (mut y_ref, mut y) = (vec![f32::NAN; n], vec![f32::NAN; n]);
            dropout_forward_ref(&x, &mask, &mut y_ref);
            dropout_forward(&x, &mask, &mut y);
            assert_eq!(y, y_ref, "forward n = {n}");
            let keep_scale = 1.0 / (1.0 - 0.4f32);
            for i in 0..n {
                let want = if mask[i] == 0.0 {
                    0.0
                } else {
                    x[i] * keep_scale
                };
                assert_eq!(y[i], want, "n = {n} i = {i}");
            }
            // Backward adds to what is already there (and twice means twice).
            let start = random_vec(30 + n as u64, n, 1.0);
            let (mut dx_ref, mut dx) = (start.clone(), start.clone());
            dropout_backward_ref(&x, &mask, &mut dx_ref);
            dropout_backward(&x, &mask, &mut dx);
            assert_close("backward", &dx, &dx_ref, 1e-6, 1e-7);
            let want: Vec<f32> = start.iter().zip(&y).map(|(s, v)| s + v).collect();
            assert_close("accumulate", &dx_ref, &want, 0.0, 0.0);
            dropout_backward(&x, &mask, &mut dx);
            let twice: Vec<f32> = start.iter().zip(&y).map(|(s, v)| s + 2.0 * v).collect();
            assert_close("accumulate twice", &dx, &twice, 1e-6, 1e-6);
        }
    }
}
