//! The one place that knows the SIMD width.
//!
//! `wide` picks its implementation at compile time from the target features, so the lane count
//! is a compile-time constant here: 16 lanes (`f32x16`, one AVX-512 register) where the target
//! has `avx512f`, 8 lanes (`f32x8`, one AVX2 register) otherwise. On Intel Xeons with two 512-bit
//! FMA ports 16-lane code is twice as fast as 8-lane code, so kernels never hard-code a width:
//! they use [`F32s`] and [`LANES`] and handle the tail (`len % LANES`) with scalar code.

#[cfg(target_feature = "avx512f")]
mod width {
    /// The vector of `f32` used by every SIMD kernel.
    pub type F32s = wide::f32x16;
    /// Number of `f32` lanes in [`F32s`].
    pub const LANES: usize = 16;
}

#[cfg(not(target_feature = "avx512f"))]
mod width {
    /// The vector of `f32` used by every SIMD kernel.
    pub type F32s = wide::f32x8;
    /// Number of `f32` lanes in [`F32s`].
    pub const LANES: usize = 8;
}

pub use width::{F32s, LANES};

/// Loads `LANES` floats from the start of `src` (unaligned). Panics if `src` is shorter.
#[inline(always)]
pub fn load(src: &[f32]) -> F32s {
    let lanes: [f32; LANES] = src[..LANES].try_into().expect("slice has LANES elements");
    F32s::from(lanes)
}

/// Stores the lanes of `v` into the start of `dst` (unaligned). Panics if `dst` is shorter.
#[inline(always)]
pub fn store(v: F32s, dst: &mut [f32]) {
    dst[..LANES].copy_from_slice(v.as_array());
}

/// A vector with every lane equal to `x`.
#[inline(always)]
pub fn splat(x: f32) -> F32s {
    F32s::splat(x)
}

/// Splits `len` into the part covered by whole vectors and the scalar tail: `len - len % LANES`.
#[inline(always)]
pub fn body_len(len: usize) -> usize {
    len - len % LANES
}

/// `y[i] += a * x[i]` over equal-length slices (the BLAS `axpy`).
#[inline]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "axpy: slices differ in length");
    let body = body_len(x.len());
    let va = splat(a);
    for i in (0..body).step_by(LANES) {
        store(va.mul_add(load(&x[i..]), load(&y[i..])), &mut y[i..]);
    }
    for i in body..x.len() {
        y[i] = a.mul_add(x[i], y[i]);
    }
}

/// `Σ x[i]·y[i]` over equal-length slices, accumulated in `LANES` partial sums.
#[inline]
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    assert_eq!(x.len(), y.len(), "dot: slices differ in length");
    let body = body_len(x.len());
    let mut acc = splat(0.0);
    for i in (0..body).step_by(LANES) {
        acc = load(&x[i..]).mul_add(load(&y[i..]), acc);
    }
    let mut sum = acc.reduce_add();
    for i in body..x.len() {
        sum = x[i].mul_add(y[i], sum);
    }
    sum
}

/// `Σ x[i]` accumulated in `LANES` partial sums.
#[inline]
pub fn sum(x: &[f32]) -> f32 {
    let body = body_len(x.len());
    let mut acc = splat(0.0);
    for i in (0..body).step_by(LANES) {
        acc += load(&x[i..]);
    }
    let mut total = acc.reduce_add();
    for &v in &x[body..] {
        total += v;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * scale).sin()).collect()
    }

    #[test]
    fn lane_count_matches_target() {
        assert_eq!(std::mem::size_of::<F32s>(), LANES * 4);
        #[cfg(target_feature = "avx512f")]
        assert_eq!(LANES, 16);
    }

    #[test]
    fn axpy_dot_sum_match_scalar_on_odd_lengths() {
        for n in [0, 1, 7, 8, 15, 16, 17, 33, 100] {
            let x = ramp(n, 0.37);
            let y0 = ramp(n, 0.11);
            let mut y = y0.clone();
            axpy(1.5, &x, &mut y);
            for i in 0..n {
                assert!(
                    (y[i] - (y0[i] + 1.5 * x[i])).abs() <= 1e-6,
                    "axpy n={n} i={i}"
                );
            }
            let d_ref: f64 = x.iter().zip(&y0).map(|(a, b)| *a as f64 * *b as f64).sum();
            assert!(
                (dot(&x, &y0) as f64 - d_ref).abs() <= 1e-5 * (1.0 + n as f64),
                "dot n={n}"
            );
            let s_ref: f64 = x.iter().map(|&a| a as f64).sum();
            assert!(
                (sum(&x) as f64 - s_ref).abs() <= 1e-5 * (1.0 + n as f64),
                "sum n={n}"
            );
        }
    }
}
