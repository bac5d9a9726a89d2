//! Deterministic parallelism over the batch.
//!
//! Work is split into a number of chunks that depends only on the batch size, never on the number
//! of threads. Per-sample outputs are therefore identical for any thread count, and reductions
//! over the batch (weight gradients) are made bit-identical by summing one partial result per
//! chunk, in chunk order, after the parallel part.

use std::ops::Range;

/// Upper bound on the number of chunks a batch is split into (enough for 16 cores).
pub const MAX_CHUNKS: usize = 16;

/// Number of chunks for a batch: `min(batch, MAX_CHUNKS)`, at least 1.
pub fn chunk_count(batch: usize) -> usize {
    batch.clamp(1, MAX_CHUNKS)
}

/// The sample range of chunk `i` of `chunk_count(batch)`: contiguous, in order, sizes differing
/// by at most one.
pub fn chunk_range(batch: usize, i: usize) -> Range<usize> {
    let n = chunk_count(batch);
    let (base, extra) = (batch / n, batch % n);
    let start = i * base + i.min(extra);
    start..start + base + usize::from(i < extra)
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
}
