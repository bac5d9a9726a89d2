//! Packing: copying a panel of B into the contiguous, zero-padded sliver layout that the
//! microkernel streams through (Goto & van de Geijn 2008, §5).

use super::View;

/// Packs the `kc×nc` panel of B at `b` into `⌈nc/width⌉` slivers of `kc·width` floats: sliver
/// `s` holds row `p` of columns `s·width..(s+1)·width` at `p·width`. Columns past `nc` are zeros.
pub(super) fn pack_b(b: View, kc: usize, nc: usize, width: usize, dst: &mut [f32]) {
    let slivers = dst[..nc.div_ceil(width) * width * kc].chunks_exact_mut(width * kc);
    for (s, sliver) in slivers.enumerate() {
        let first_col = s * width;
        let cols = width.min(nc - first_col);
        if b.rs == 1 && b.cs != 1 {
            pack_columns(b.offset(0, first_col), kc, cols, width, sliver);
            continue;
        }
        for (p, row) in sliver.chunks_exact_mut(width).enumerate() {
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

/// Rows of a sliver transposed at a time by [`pack_columns`]: the `P_BLOCK·width` floats being
/// written (4 KiB at width 32) stay in L1 while every column contributes to them.
const P_BLOCK: usize = 32;

/// [`pack_b`] for one sliver of a B whose columns are contiguous (a transposed operand): a
/// transpose of the `cols×kc` block, done `P_BLOCK` rows of the sliver at a time. Writing a
/// whole column at once instead (stride `width` over all `kc` rows) touched `kc` cache lines
/// per column and, at kc = 256, evicted the sliver from L1 before the next column came.
fn pack_columns(b: View, kc: usize, cols: usize, width: usize, sliver: &mut [f32]) {
    for (block, rows) in sliver[..kc * width].chunks_mut(P_BLOCK * width).enumerate() {
        let p0 = block * P_BLOCK;
        let block_rows = rows.len() / width;
        for c in 0..cols {
            let column = &b.data[c * b.cs + p0..c * b.cs + p0 + block_rows];
            for (row, &v) in rows.chunks_exact_mut(width).zip(column) {
                row[c] = v;
            }
        }
        for row in rows.chunks_exact_mut(width) {
            row[cols..].fill(0.0);
        }
    }
}

/// Copies the `rows×kc` block of A at `a` row-major into `dst` (row `r` at `r·kc`) and zeros
/// the rows after it, up to the end of `dst`.
pub(super) fn copy_rows_zero_padded(a: View, rows: usize, kc: usize, dst: &mut [f32]) {
    for (r, row) in dst.chunks_exact_mut(kc).enumerate() {
        for (p, x) in row.iter_mut().enumerate() {
            *x = if r < rows { a.at(r, p) } else { 0.0 };
        }
    }
}
