//! The textbook triple loop, the yardstick for the packed path.

use super::{assert_operands, StridedDims};

/// Scalar reference for [`super::sgemm`]: `C ← α·A·B + β·C`, one dot product per element,
/// accumulated in `f32` in increasing `p`. With `β = 0` the old contents of `C` are ignored
/// (even NaN), as in BLAS.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_ref(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    csc: usize,
) {
    assert_operands(
        StridedDims { m, k, n },
        (a, rsa, csa),
        (b, rsb, csb),
        (c, rsc, csc),
    );
    for i in 0..m {
        for j in 0..n {
            let mut dot = 0.0f32;
            for p in 0..k {
                dot += a[i * rsa + p * csa] * b[p * rsb + j * csb];
            }
            let old = &mut c[i * rsc + j * csc];
            *old = if beta == 0.0 {
                alpha * dot
            } else {
                alpha * dot + beta * *old
            };
        }
    }
}
