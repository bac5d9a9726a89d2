//! Packing: copying a block of A or B into the contiguous, zero-padded sliver layout that the
//! microkernel streams through (Goto & van de Geijn 2008, §5).

use super::{View, MR, NR};

/// Packs the `mc×kc` block of A at `a` into `⌈mc/MR⌉` slivers of `MR·kc` floats: sliver `s`
/// holds column `p` of rows `s·MR..s·MR+MR` at `p·MR`. Rows past `mc` are zeros.
pub(super) fn pack_a(a: View, mc: usize, kc: usize, dst: &mut [f32]) {
    let slivers = dst[..mc.div_ceil(MR) * MR * kc].chunks_exact_mut(MR * kc);
    for (s, sliver) in slivers.enumerate() {
        let first_row = s * MR;
        let rows = MR.min(mc - first_row);
        for (p, column) in sliver.chunks_exact_mut(MR).enumerate() {
            for (r, x) in column[..rows].iter_mut().enumerate() {
                *x = a.at(first_row + r, p);
            }
            column[rows..].fill(0.0);
        }
    }
}

/// Packs the `kc×nc` panel of B at `b` into `⌈nc/NR⌉` slivers of `kc·NR` floats: sliver `s`
/// holds row `p` of columns `s·NR..s·NR+NR` at `p·NR`. Columns past `nc` are zeros.
pub(super) fn pack_b(b: View, kc: usize, nc: usize, dst: &mut [f32]) {
    let slivers = dst[..nc.div_ceil(NR) * NR * kc].chunks_exact_mut(NR * kc);
    for (s, sliver) in slivers.enumerate() {
        let first_col = s * NR;
        let cols = NR.min(nc - first_col);
        for (p, row) in sliver.chunks_exact_mut(NR).enumerate() {
            if b.cs == 1 {
                let start = p * b.rs + first_col;
                row[..cols].copy_from_slice(&b.data[start..start + cols]);
            } else {
                for (c, x) in row[..cols].iter_mut().enumerate() {
                    *x = b.at(p, first_col + c);
                }
            }
            row[cols..].fill(0.0);
        }
    }
}
