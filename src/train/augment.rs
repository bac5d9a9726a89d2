//! Training-time augmentation, drawn afresh at every update from the stream of (seed,
//! iteration), so a resumed run draws the same:
//!
//! - square images: each sample goes through one of the 8 symmetries of the square (rotations
//!   by k · 90°, optionally flipped) (Pasquet et al. 2019 §3.2; Lin et al. 2022). The redshift
//!   of a galaxy does not change when its image is rotated or flipped, so the network learns
//!   that invariance;
//! - spectra: white Gaussian noise at a fixed signal-to-noise ratio, a new realisation at every
//!   update, so a network trained for noisy data sees each clean spectrum under ever new noise
//!   instead of memorising one realisation.

use crate::data::images::augment::{source_of, DIHEDRAL_COUNT};
use crate::data::spectra::gauss::for_each_normal;
use crate::dims::Dims;
use crate::rng::{purpose, stream};
use crate::{ensure, Result};
use rand::Rng;
use rayon::prelude::*;

/// What is done to the training samples of each batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Augment {
    None,
    /// One of the 8 dihedral transforms per sample (square images only).
    Dihedral,
    /// White Gaussian noise per pixel (single-channel spectra), with the simulator's definition
    /// σ = mean_i |x_i| / snr, the SNR drawn per spectrum log-uniformly in `snr` = (min, max)
    /// (equal bounds: one SNR).
    WhiteNoise {
        snr: (f32, f32),
    },
}

/// Checks that `augment` applies to samples of shape `sample`.
pub(super) fn check(augment: Augment, sample: Dims) -> Result<()> {
    match augment {
        Augment::None => {}
        Augment::Dihedral => ensure!(
            matches!(sample, Dims::Image { h, w, .. } if h == w),
            "dihedral augmentation needs square images, not samples of {sample}"
        ),
        Augment::WhiteNoise { snr: (min, max) } => {
            ensure!(
                min.is_finite() && max.is_finite() && min > 0.0 && min <= max,
                "noise augmentation needs an SNR range 0 < min ≤ max, finite, found [{min}, {max}]"
            );
            ensure!(
                matches!(sample, Dims::Seq { ch: 1, .. }),
                "noise augmentation needs single-channel spectra, not samples of {sample}"
            );
        }
    }
    Ok(())
}

/// The stream of the augmentation draws of update `iteration`.
fn update_stream(seed: u64, iteration: u64) -> rand_xoshiro::Xoshiro256PlusPlus {
    stream(
        seed ^ iteration.wrapping_mul(0xD1B5_4A32_D192_ED03),
        purpose::AUGMENT,
    )
}

/// Adds white Gaussian noise to each of the `batch` spectra of `x` (`sample_len` pixels each):
///
/// x_i ← x_i + σ n_i,   σ = mean_i |x_i| / snr,   n_i ~ N(0, 1),   ln snr ~ U(ln min, ln max),
///
/// the simulator's `WhiteSnr` noise (data::spectra::noise). Slot `k` of the batch draws from
/// the stream of (seed, iteration, k), so the spectra are noised in parallel and the result
/// does not depend on the thread count.
pub(super) fn white_noise_batch(
    x: &mut [f32],
    sample_len: usize,
    batch: usize,
    (snr_min, snr_max): (f32, f32),
    seed: u64,
    iteration: u64,
) {
    let (ln_min, ln_max) = (f64::from(snr_min).ln(), f64::from(snr_max).ln());
    x.par_chunks_exact_mut(sample_len)
        .take(batch)
        .enumerate()
        .for_each(|(slot, spectrum)| {
            let slot_seed = seed ^ (slot as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut rng = update_stream(slot_seed, iteration);
            let snr = (ln_min + (ln_max - ln_min) * rng.gen::<f64>()).exp();
            let mean_abs =
                spectrum.iter().map(|v| f64::from(v.abs())).sum::<f64>() / sample_len as f64;
            for_each_normal(&mut rng, mean_abs / snr, spectrum, |v, n| *v += n as f32);
        });
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
    let mut rng = update_stream(seed, iteration);
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

    /// The added noise has the requested σ = mean|x| / snr, per spectrum, is reproducible from
    /// (seed, iteration) and differs between updates.
    #[test]
    fn white_noise_has_the_snr_of_each_spectrum() {
        let (len, batch, snr) = (4000, 3, 5.0);
        let range = (snr, snr);
        // Spectrum b is constant at (b + 1) · 2, so mean|x| = 2 (b + 1) and σ = 2 (b + 1) / 5.
        let x0: Vec<f32> = (0..batch * len)
            .map(|i| ((i / len) + 1) as f32 * 2.0)
            .collect();
        let mut x = x0.clone();
        white_noise_batch(&mut x, len, batch, range, 9, 2);
        for b in 0..batch {
            let noise: Vec<f64> = (b * len..(b + 1) * len)
                .map(|i| f64::from(x[i] - x0[i]))
                .collect();
            let mean = noise.iter().sum::<f64>() / len as f64;
            let sd = (noise.iter().map(|n| (n - mean).powi(2)).sum::<f64>() / len as f64).sqrt();
            let expected = 2.0 * (b + 1) as f64 / f64::from(snr);
            // The sample σ of 4,000 normals is within 5 % of σ (its relative error is 1/√8000).
            assert!(
                (sd / expected - 1.0).abs() < 0.05,
                "spectrum {b}: σ {sd} vs {expected}"
            );
            assert!(
                mean.abs() < 4.0 * expected / (len as f64).sqrt(),
                "spectrum {b}: mean {mean}"
            );
        }
        let mut again = x0.clone();
        white_noise_batch(&mut again, len, batch, range, 9, 2);
        assert_eq!(again, x, "same seed and iteration, same noise");
        let mut other = x0;
        white_noise_batch(&mut other, len, batch, range, 9, 3);
        assert_ne!(other, x, "the next update draws new noise");
    }

    /// With a range, each spectrum gets its own SNR, log-uniform: the measured σ of 2,000
    /// constant spectra spans the range, and half of them lie below its geometric middle.
    #[test]
    fn white_noise_snr_is_log_uniform_over_the_range() {
        let (len, batch, range) = (400, 2000, (2.0f32, 50.0f32));
        let mut x = vec![1.0f32; len * batch];
        white_noise_batch(&mut x, len, batch, range, 1, 0);
        let snrs: Vec<f64> = x
            .chunks_exact(len)
            .map(|s| {
                let sd =
                    (s.iter().map(|v| f64::from(v - 1.0).powi(2)).sum::<f64>() / len as f64).sqrt();
                1.0 / sd
            })
            .collect();
        let (lo, hi) = snrs
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), &s| (l.min(s), h.max(s)));
        assert!(
            lo < 2.3 && lo > 1.7 && hi > 43.0 && hi < 58.0,
            "SNR span {lo}..{hi}"
        );
        let middle = 10.0; // √(2 · 50)
        let below = snrs.iter().filter(|&&s| s < middle).count();
        // Binomial(2000, 1/2): σ = 22, so ±100 is > 4σ.
        assert!(
            (below as i64 - 1000).abs() < 100,
            "{below} of 2000 below the middle"
        );
    }

    /// Each slot draws from its own stream: the noise is the same on 1 and 3 threads.
    #[test]
    fn white_noise_does_not_depend_on_the_thread_count() {
        let (len, batch) = (300, 7);
        let x0: Vec<f32> = (0..len * batch).map(|i| (i % 13) as f32).collect();
        let noised = |threads: usize| {
            let mut x = x0.clone();
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| white_noise_batch(&mut x, len, batch, (3.0, 30.0), 5, 11));
            x
        };
        let one = noised(1);
        assert_ne!(one, x0);
        assert_eq!(noised(3), one);
    }

    #[test]
    fn noise_needs_single_channel_spectra_and_a_positive_snr() {
        let noise = Augment::WhiteNoise { snr: (5.0, 50.0) };
        assert!(check(noise, Dims::Seq { len: 8, ch: 1 }).is_ok());
        assert!(check(noise, Dims::Seq { len: 8, ch: 2 }).is_err());
        assert!(check(noise, Dims::Image { h: 4, w: 4, ch: 1 }).is_err());
        for snr in [
            (0.0, 5.0),
            (-1.0, 5.0),
            (f32::NAN, 5.0),
            (5.0, f32::INFINITY),
            (6.0, 5.0),
        ] {
            assert!(check(Augment::WhiteNoise { snr }, Dims::Seq { len: 8, ch: 1 }).is_err());
        }
    }

    #[test]
    fn dihedral_needs_square_images() {
        assert!(check(Augment::Dihedral, Dims::Image { h: 4, w: 5, ch: 1 }).is_err());
        assert!(check(Augment::Dihedral, Dims::Seq { len: 4, ch: 1 }).is_err());
        assert!(check(Augment::Dihedral, Dims::Image { h: 4, w: 4, ch: 5 }).is_ok());
        assert!(check(Augment::None, Dims::Seq { len: 4, ch: 1 }).is_ok());
    }
}
