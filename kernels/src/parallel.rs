//! Deterministic parallelism over the batch (and inside samples).
//!
//! Work is split into a number of parts that depends only on the shape of the work (the batch
//! size, a layer's geometry), never on the number of threads. Per-sample outputs are therefore
//! identical for any thread count, and reductions over the batch (weight gradients) are made
//! bit-identical by summing one partial result per chunk, in chunk order, after the parallel part.

use std::ops::Range;

/// Upper bound on the number of chunks a batch is split into for reductions over the batch
/// (one partial result per chunk; enough for 16 cores).
pub const MAX_CHUNKS: usize = 16;

/// Number of chunks for a batch: `min(batch, MAX_CHUNKS)`, at least 1.
pub fn chunk_count(batch: usize) -> usize {
    part_count(batch, MAX_CHUNKS)
}

/// The sample range of chunk `i` of `chunk_count(batch)`: contiguous, in order, sizes differing
/// by at most one.
pub fn chunk_range(batch: usize, i: usize) -> Range<usize> {
    part_range(batch, chunk_count(batch), i)
}

/// Number of parts when `items` ordered work items are grouped into at most `max_parts`
/// contiguous parts: `min(items, max_parts)`, at least 1.
pub fn part_count(items: usize, max_parts: usize) -> usize {
    items.clamp(1, max_parts.max(1))
}

/// The items of part `i` of `parts`: contiguous, in order, sizes differing by at most one
/// (the larger parts first).
pub fn part_range(items: usize, parts: usize, i: usize) -> Range<usize> {
    let (base, extra) = (items / parts, items % parts);
    let start = i * base + i.min(extra);
    start..start + base + usize::from(i < extra)
}

/// Where part `i` of a buffer starts (a float offset, non-decreasing in `i`); called with
/// `i = parts` for the end of the last part.
pub type PartStart<'a> = &'a (dyn Fn(usize) -> usize + Sync);

/// Runs `work(part, pieces)` for every part in `0..parts` in parallel, where piece `b` of part
/// `i` is `buffers[b][starts[b](i)..starts[b](i + 1)]` (relative to `starts[b](0)`). Splits
/// recursively with `rayon::join`, so it allocates nothing; which thread runs a part does not
/// change what the part computes.
pub fn for_each_part<const N: usize, F>(
    parts: usize,
    buffers: [&mut [f32]; N],
    starts: [PartStart; N],
    work: &F,
) where
    F: Fn(usize, [&mut [f32]; N]) + Sync,
{
    fn recurse<const N: usize, F>(
        range: Range<usize>,
        pieces: [&mut [f32]; N],
        starts: [PartStart; N],
        work: &F,
    ) where
        F: Fn(usize, [&mut [f32]; N]) + Sync,
    {
        if range.len() == 1 {
            work(range.start, pieces);
            return;
        }
        let mid = range.start + range.len() / 2;
        let mut right: [&mut [f32]; N] = [(); N].map(|()| <&mut [f32]>::default());
        let mut b = 0;
        let left = pieces.map(|piece| {
            let (l, r) = piece.split_at_mut(starts[b](mid) - starts[b](range.start));
            right[b] = r;
            b += 1;
            l
        });
        rayon::join(
            || recurse(range.start..mid, left, starts, work),
            || recurse(mid..range.end, right, starts, work),
        );
    }
    if parts == 0 {
        return;
    }
    let mut b = 0;
    let pieces = buffers.map(|buffer| {
        let piece = &mut buffer[starts[b](0)..starts[b](parts)];
        b += 1;
        piece
    });
    recurse(0..parts, pieces, starts, work);
}

/// Sums `partials` (one slice of `out.len()` floats per chunk, concatenated) into `out` with `+=`,
/// in chunk order, so the result does not depend on which thread produced which partial.
pub fn reduce_partials_into(partials: &[f32], out: &mut [f32]) {
    for part in partials.chunks_exact(out.len()) {
        crate::simd::axpy(1.0, part, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_batch_in_order() {
        for batch in [1, 2, 7, 16, 17, 32, 100, 256] {
            let mut next = 0;
            for i in 0..chunk_count(batch) {
                let r = chunk_range(batch, i);
                assert_eq!(r.start, next);
                assert!(!r.is_empty());
                next = r.end;
            }
            assert_eq!(next, batch);
        }
    }

    #[test]
    fn parts_get_their_own_pieces() {
        for parts in [1, 2, 3, 7, 16] {
            let mut data = vec![0.0f32; 3 * parts + 5];
            let start = |i: usize| 5 + 3 * i;
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            pool.install(|| {
                for_each_part(parts, [&mut data[..]], [&start], &|i, [piece]| {
                    assert_eq!(piece.len(), 3);
                    piece.fill(i as f32 + 1.0);
                })
            });
            assert!(data[..5].iter().all(|&v| v == 0.0));
            for (i, piece) in data[5..].chunks(3).enumerate() {
                assert!(piece.iter().all(|&v| v == i as f32 + 1.0), "parts {parts}");
            }
        }
    }
}
