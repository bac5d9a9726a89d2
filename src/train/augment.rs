//! Training-time augmentation of square images: each sample of a batch goes through one of the
//! 8 symmetries of the square (rotations by k · 90°, optionally flipped), drawn afresh at every
//! step (Pasquet et al. 2019 §3.2; Lin et al. 2022). The redshift of a galaxy does not change
//! when its image is rotated or flipped, so the network learns that invariance.

use crate::data::images::augment::{source_of, DIHEDRAL_COUNT};
use crate::dims::Dims;
use crate::rng::{purpose, stream};
use crate::{ensure, Result};
use rand::Rng;

/// What is done to the training samples of each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Augment {
    None,
    /// One of the 8 dihedral transforms per sample (square images only).
    Dihedral,
}

/// Checks that `augment` applies to samples of shape `sample`.
pub(super) fn check(augment: Augment, sample: Dims) -> Result<()> {
    if augment == Augment::Dihedral {
        ensure!(
            matches!(sample, Dims::Image { h, w, .. } if h == w),
            "dihedral augmentation needs square images, not samples of {sample}"
        );
    }
    Ok(())
}

/// Applies a dihedral transform to each of the `batch` samples of `x` (`[batch, size, size,
/// ch]`, channels last). The transforms of update `iteration` come from the stream of (seed,
/// iteration), so a run resumed from a checkpoint draws the same ones. `scratch` holds one
/// sample (allocated once by the caller).
pub(super) fn dihedral_batch(
    x: &mut [f32],
    sample: Dims,
    batch: usize,
    seed: u64,
    iteration: u64,
    scratch: &mut [f32],
) {
    let Dims::Image { h: size, ch, .. } = sample else {
        unreachable!("checked by augment::check")
    };
    let mut rng = stream(
        seed ^ iteration.wrapping_mul(0xD1B5_4A32_D192_ED03),
        purpose::AUGMENT,
    );
    for image in x.chunks_exact_mut(sample.size()).take(batch) {
        let op = rng.gen_range(0..DIHEDRAL_COUNT);
        if op == 0 {
            continue;
        }
        scratch.copy_from_slice(image);
        // dst[row, col, c] = src[source_of(row, col), c]
        for row in 0..size {
            for col in 0..size {
                let (r, c) = source_of(op, size, row, col);
                let (to, from) = ((row * size + col) * ch, (r * size + c) * ch);
                image[to..to + ch].copy_from_slice(&scratch[from..from + ch]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each transformed sample is a permutation of its pixels that keeps every pixel's
    /// channels together, and the 8 transforms of a batch are drawn reproducibly.
    #[test]
    fn dihedral_batch_permutes_pixels_with_their_channels() {
        let sample = Dims::Image { h: 5, w: 5, ch: 3 };
        let batch = 16;
        // Pixel p of sample b carries channels (1000 b + 10 p + c).
        let x0: Vec<f32> = (0..batch * sample.size())
            .map(|i| {
                let (b, rest) = (i / sample.size(), i % sample.size());
                (1000 * b + 10 * (rest / 3) + rest % 3) as f32
            })
            .collect();
        let mut x = x0.clone();
        let mut scratch = vec![0.0; sample.size()];
        dihedral_batch(&mut x, sample, batch, 7, 3, &mut scratch);
        let mut changed = 0;
        for (b, (got, was)) in x
            .chunks_exact(sample.size())
            .zip(x0.chunks_exact(sample.size()))
            .enumerate()
        {
            for pixel in got.chunks_exact(3) {
                let base = pixel[0] - (1000 * b) as f32;
                assert_eq!(pixel[1], pixel[0] + 1.0);
                assert_eq!(pixel[2], pixel[0] + 2.0);
                assert!((0.0..250.0).contains(&base) && base % 10.0 == 0.0);
            }
            let mut sorted = got.to_vec();
            sorted.sort_by(f32::total_cmp);
            assert_eq!(sorted, was, "sample {b} is a permutation");
            changed += usize::from(got != was);
        }
        assert!(
            changed >= 8,
            "most of 16 samples are transformed, got {changed}"
        );
        let mut again = x0.clone();
        dihedral_batch(&mut again, sample, batch, 7, 3, &mut scratch);
        assert_eq!(again, x, "same seed and iteration, same transforms");
        let mut other = x0;
        dihedral_batch(&mut other, sample, batch, 7, 4, &mut scratch);
        assert_ne!(other, x, "the next iteration draws other transforms");
    }

    #[test]
    fn dihedral_needs_square_images() {
        assert!(check(Augment::Dihedral, Dims::Image { h: 4, w: 5, ch: 1 }).is_err());
        assert!(check(Augment::Dihedral, Dims::Seq { len: 4, ch: 1 }).is_err());
        assert!(check(Augment::Dihedral, Dims::Image { h: 4, w: 4, ch: 5 }).is_ok());
        assert!(check(Augment::None, Dims::Seq { len: 4, ch: 1 }).is_ok());
    }
}
