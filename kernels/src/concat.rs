//! Concatenation along the channel axis (inception blocks; extra scalars appended after a
//! flatten) and its backward, the matching split of the gradient.
//!
//! With channels last every tensor is a matrix `[rows, channels]`, so concatenating the branches
//! `src_k [rows, ch_k]` into `dst [rows, Σ ch_k]` copies each `src_k` into a column band of
//! `dst`: `dst[r, offset_k + c] = src_k[r, c]`. The gradient of a branch is the same band of the
//! output gradient: `dsrc_k[r, c] += dy[r, offset_k + c]`.
//!
//! The fast paths split the rows into fixed chunks (depending on the shape only) and copy or add
//! whole row segments; every element is written by one thread.

use rayon::prelude::*;

/// Each parallel chunk moves at least this many floats of `src`; smaller inputs run on the
/// calling thread.
const MIN_CHUNK: usize = 1 << 14;

/// Reference concatenation: `dst[r, offset + c] = src[r, c]` for `c < src_ch` (overwrites that
/// band of `dst`, leaves the other channels untouched).
pub fn concat_channels_ref(
    rows: usize,
    src: &[f32],
    src_ch: usize,
    dst: &mut [f32],
    dst_ch: usize,
    offset: usize,
) {
    assert_band("concat", rows, src.len(), src_ch, dst.len(), dst_ch, offset);
    for r in 0..rows {
        for c in 0..src_ch {
            dst[r * dst_ch + offset + c] = src[r * src_ch + c];
        }
    }
}

/// Reference gradient split: `dsrc[r, c] += dy[r, offset + c]` for `c < src_ch`.
pub fn split_channels_backward_ref(
    rows: usize,
    dy: &[f32],
    dy_ch: usize,
    offset: usize,
    dsrc: &mut [f32],
    src_ch: usize,
) {
    assert_band("split", rows, dsrc.len(), src_ch, dy.len(), dy_ch, offset);
    for r in 0..rows {
        for c in 0..src_ch {
            dsrc[r * src_ch + c] += dy[r * dy_ch + offset + c];
        }
    }
}

/// Fast concatenation: one `copy_from_slice` per row, rows split into fixed parallel chunks.
pub fn concat_channels(
    rows: usize,
    src: &[f32],
    src_ch: usize,
    dst: &mut [f32],
    dst_ch: usize,
    offset: usize,
) {
    assert_band("concat", rows, src.len(), src_ch, dst.len(), dst_ch, offset);
    let copy_rows = |src: &[f32], dst: &mut [f32]| {
        for (s, d) in src.chunks_exact(src_ch).zip(dst.chunks_exact_mut(dst_ch)) {
            d[offset..offset + src_ch].copy_from_slice(s);
        }
    };
    for_row_chunks(rows, src_ch, dst_ch, src, dst, copy_rows);
}

/// Fast gradient split: one SIMD add per row segment, rows split into fixed parallel chunks.
pub fn split_channels_backward(
    rows: usize,
    dy: &[f32],
    dy_ch: usize,
    offset: usize,
    dsrc: &mut [f32],
    src_ch: usize,
) {
    assert_band("split", rows, dsrc.len(), src_ch, dy.len(), dy_ch, offset);
    let add_rows = |dy: &[f32], dsrc: &mut [f32]| {
        for (g, d) in dy.chunks_exact(dy_ch).zip(dsrc.chunks_exact_mut(src_ch)) {
            crate::simd::axpy(1.0, &g[offset..offset + src_ch], d);
        }
    };
    for_row_chunks(rows, dy_ch, src_ch, dy, dsrc, add_rows);
}

/// Runs `f` on matching chunks of whole rows of `input [rows, in_ch]` and `out [rows, out_ch]`:
/// at most [`crate::parallel::MAX_CHUNKS`] chunks of at least [`MIN_CHUNK`] floats of the band,
/// in parallel when there is more than one.
fn for_row_chunks(
    rows: usize,
    in_ch: usize,
    out_ch: usize,
    input: &[f32],
    out: &mut [f32],
    f: impl Fn(&[f32], &mut [f32]) + Sync,
) {
    let band = in_ch.min(out_ch).max(1);
    let chunk_rows = rows
        .div_ceil(crate::parallel::MAX_CHUNKS)
        .max(MIN_CHUNK.div_ceil(band))
        .max(1);
    if chunk_rows >= rows || in_ch == 0 || out_ch == 0 {
        f(input, out);
    } else {
        out.par_chunks_mut(chunk_rows * out_ch)
            .zip(input.par_chunks(chunk_rows * in_ch))
            .for_each(|(out, input)| f(input, out));
    }
}

/// Panics unless `band [rows, band_ch]` fits at channel `offset` of `full [rows, full_ch]`.
fn assert_band(
    what: &str,
    rows: usize,
    band_len: usize,
    band_ch: usize,
    full_len: usize,
    full_ch: usize,
    offset: usize,
) {
    assert!(
        offset + band_ch <= full_ch,
        "{what}: channels {offset}..{} exceed the {full_ch} channels of the concatenation",
        offset + band_ch
    );
    assert_eq!(
        band_len,
        rows * band_ch,
        "{what}: branch has the wrong length"
    );
    assert_eq!(
        full_len,
        rows * full_ch,
        "{what}: concatenation has the wrong length"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check_gradient, projection_loss, random_vec, GradCheck};

    /// (rows, src_ch, dst_ch, offset): one row, one channel, odd widths, the inception widths
    /// of the pasquet preset, and enough rows for several parallel chunks.
    const CASES: [(usize, usize, usize, usize); 9] = [
        (1, 1, 1, 0),
        (1, 3, 17, 14),
        (5, 1, 3, 1),
        (7, 17, 40, 5),
        (3, 800, 801, 0),
        (3, 1, 801, 800),
        (64, 48, 240, 64),
        (4099, 92, 368, 184),
        (2000, 13, 13, 0),
    ];

    #[test]
    fn fast_matches_reference_and_touches_only_the_band() {
        for (k, &(rows, src_ch, dst_ch, offset)) in CASES.iter().enumerate() {
            let seed = 10 * k as u64;
            let src = random_vec(seed, rows * src_ch, 1.0);
            let before = random_vec(seed + 1, rows * dst_ch, 1.0);
            let (mut want, mut got) = (before.clone(), before.clone());
            concat_channels_ref(rows, &src, src_ch, &mut want, dst_ch, offset);
            concat_channels(rows, &src, src_ch, &mut got, dst_ch, offset);
            assert_eq!(got, want, "concat case {k}");
            for (i, (&g, &b)) in got.iter().zip(&before).enumerate() {
                let c = i % dst_ch;
                if !(offset..offset + src_ch).contains(&c) {
                    assert_eq!(g, b, "concat case {k} wrote outside its band at {i}");
                }
            }
            // The split adds (accumulates) the band of dy into a pre-filled dsrc.
            let dy = random_vec(seed + 2, rows * dst_ch, 1.0);
            let mut dsrc_want = random_vec(seed + 3, rows * src_ch, 1.0);
            let mut dsrc = dsrc_want.clone();
            split_channels_backward_ref(rows, &dy, dst_ch, offset, &mut dsrc_want, src_ch);
            split_channels_backward(rows, &dy, dst_ch, offset, &mut dsrc, src_ch);
            assert_eq!(dsrc, dsrc_want, "split case {k}");
        }
    }

    #[test]
    fn two_branches_make_the_whole_row() {
        let (a, b) = ([1.0, 2.0, 3.0, 4.0], [9.0, 8.0]);
        let mut dst = [0.0; 6];
        concat_channels(2, &a, 2, &mut dst, 3, 0);
        concat_channels(2, &b, 1, &mut dst, 3, 2);
        assert_eq!(dst, [1.0, 2.0, 9.0, 3.0, 4.0, 8.0]);
    }

    #[test]
    fn split_matches_finite_differences() {
        let (rows, src_ch, dst_ch, offset) = (4, 3, 7, 2);
        let mut src = random_vec(1, rows * src_ch, 1.0);
        let other = random_vec(2, rows * dst_ch, 1.0);
        let r = random_vec(3, rows * dst_ch, 1.0);
        let mut dsrc = vec![0.0; src.len()];
        split_channels_backward(rows, &r, dst_ch, offset, &mut dsrc, src_ch);
        check_gradient(
            "concat/split",
            &mut src,
            &dsrc,
            |src| {
                let mut dst = other.clone();
                concat_channels(rows, src, src_ch, &mut dst, dst_ch, offset);
                projection_loss(&dst, &r)
            },
            GradCheck::default(),
        );
    }

    #[test]
    #[should_panic(expected = "exceed")]
    fn a_band_past_the_last_channel_panics() {
        let mut dst = [0.0; 4];
        concat_channels(2, &[1.0, 2.0], 1, &mut dst, 2, 2);
    }
}
