//! The register-blocked microkernel and the write-back of its tile into C.

use super::{View, ViewMut};
use crate::simd::{self, F32s, LANES};

/// `tile[r][v][l] = Σ_p a[r, p] · b_sliver[p·W + v·LANES + l]` with `W = VECS·LANES` and
/// `p < kc = b_sliver.len() / W`, reading the ROWS×kc block of A in place through its strides
/// (each `a[r, p]` is a scalar broadcast, so A needs no packing to be read efficiently).
#[inline(never)]
pub(super) fn multiply_in_place<const ROWS: usize, const VECS: usize>(
    a: View,
    b_sliver: &[f32],
) -> [[F32s; VECS]; ROWS] {
    let b_rows = b_sliver.chunks_exact(VECS * LANES);
    let kc = b_rows.len();
    let row_starts: [usize; ROWS] = std::array::from_fn(|r| r * a.rs);
    if let Some(last_p) = kc.checked_sub(1) {
        let last = row_starts[ROWS - 1] + last_p * a.cs;
        assert!(
            last < a.data.len(),
            "multiply_in_place: A block outside its slice"
        );
    }
    let mut tile = [[F32s::ZERO; VECS]; ROWS];
    for (p, b_row) in b_rows.enumerate() {
        let b: [F32s; VECS] = std::array::from_fn(|v| simd::load(&b_row[v * LANES..]));
        let column = p * a.cs;
        for (tile_row, &start) in tile.iter_mut().zip(&row_starts) {
            // SAFETY: start + column ≤ (ROWS−1)·rs + (kc−1)·cs = last < a.data.len(), asserted
            // above; bounds checks here would double the loads of this loop.
            let a = simd::splat(unsafe { *a.data.get_unchecked(start + column) });
            for (acc, &b) in tile_row.iter_mut().zip(&b) {
                *acc = a.mul_add(b, *acc);
            }
        }
    }
    tile
}

/// `C[r, c] ← α·tile[r][c] + β·C[r, c]` for `r < rows`, `c < cols` (`β = 0` ignores the old
/// value), where `c` starts at the tile's top-left element. Whole vectors when C's rows are
/// contiguous, one element at a time otherwise.
pub(super) fn write_tile<const ROWS: usize, const VECS: usize>(
    tile: &[[F32s; VECS]; ROWS],
    rows: usize,
    cols: usize,
    alpha: f32,
    beta: f32,
    c: &mut ViewMut,
) {
    let update = |product: f32, old: f32| {
        if beta == 0.0 {
            alpha * product
        } else {
            alpha * product + beta * old
        }
    };
    let whole_vectors = if c.cs == 1 { cols / LANES } else { 0 };
    let (alpha_v, beta_v) = (simd::splat(alpha), simd::splat(beta));
    for (r, tile_row) in tile.iter().enumerate().take(rows) {
        let row = &mut c.data[r * c.rs..];
        for (v, &product) in tile_row.iter().enumerate().take(whole_vectors) {
            let dst = &mut row[v * LANES..(v + 1) * LANES];
            let scaled = alpha_v * product;
            let new = if beta == 0.0 {
                scaled
            } else {
                beta_v.mul_add(simd::load(dst), scaled)
            };
            simd::store(new, dst);
        }
        for col in whole_vectors * LANES..cols {
            let product = tile_row[col / LANES].as_array()[col % LANES];
            let x = &mut row[col * c.cs];
            *x = update(product, *x);
        }
    }
}
