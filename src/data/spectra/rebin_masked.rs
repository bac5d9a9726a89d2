//! Flux-conserving rebinning that skips bad pixels.
//!
//! As in [`super::rebin_flux_conserving`] the source is the piecewise-linear function through
//! the knots, but a segment [λ_k, λ_k+1] with a bad knot at either end is masked: it adds
//! nothing to the integral, and its length is taken out of the pixel width. A destination
//! pixel [e_lo, e_hi) of width w with masked length B therefore receives
//! (1/(w − B)) ∫_good f dλ, the mean of the good source over the rest of the pixel (the part
//! outside the source still counts as zero flux, as in the unmasked rebinning, which this
//! equals exactly when nothing is bad). A pixel the source covers with masked segments only
//! is filled by linear interpolation (in λ of the pixel centres) between the nearest pixels
//! with good coverage, and held constant beyond the first or last of them.

/// What a masked rebinning did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskedRebin {
    /// Masked length / covered length over all destination pixels: the share of the source's
    /// overlap with the destination that was masked.
    pub masked_fraction: f64,
    /// Destination pixels filled by interpolation (no good coverage).
    pub filled: usize,
}

/// Rebins (`src_lambda`, `src_flux`) without its `bad` knots onto the pixels whose edges are
/// `dst_edges`. Errors when the source does not overlap the destination or every overlapping
/// pixel is masked.
///
/// Panics if the lengths disagree or the source has fewer than 2 knots (caller bugs).
pub fn rebin_masked(
    src_lambda: &[f64],
    src_flux: &[f64],
    bad: &[bool],
    dst_edges: &[f64],
    dst_flux: &mut [f64],
) -> Result<MaskedRebin, String> {
    let n = src_lambda.len();
    assert!(n >= 2, "the source needs at least 2 knots");
    assert!(src_flux.len() == n && bad.len() == n, "source lengths");
    assert_eq!(dst_edges.len(), dst_flux.len() + 1, "edges = pixels + 1");
    let source = MaskedSource::new(src_lambda, src_flux, bad);
    let mut cursor = 0;
    let mut previous = source.up_to(dst_edges[0], &mut cursor);
    let mut needs_fill = vec![false; dst_flux.len()];
    let (mut masked_total, mut covered_total) = (0.0, 0.0);
    for (p, pair) in dst_edges.windows(2).enumerate() {
        let current = source.up_to(pair[1], &mut cursor);
        let width = pair[1] - pair[0];
        let masked = current.bad_length - previous.bad_length;
        let covered = current.covered - previous.covered;
        masked_total += masked;
        covered_total += covered;
        if masked > 0.0 && covered - masked <= 1e-9 * width {
            needs_fill[p] = true;
        } else {
            dst_flux[p] = (current.integral - previous.integral) / (width - masked);
        }
        previous = current;
    }
    if covered_total <= 0.0 {
        return Err(format!(
            "the spectrum ({}–{} Å) does not overlap the grid ({}–{} Å)",
            src_lambda[0],
            src_lambda[n - 1],
            dst_edges[0],
            dst_edges[dst_edges.len() - 1]
        ));
    }
    let filled = fill_gaps(dst_edges, dst_flux, &needs_fill)?;
    Ok(MaskedRebin {
        masked_fraction: masked_total / covered_total,
        filled,
    })
}

/// Cumulative sums at the knots: the integral over good segments and the masked length.
struct MaskedSource<'a> {
    lambda: &'a [f64],
    flux: &'a [f64],
    good: Vec<bool>,
    integral: Vec<f64>,
    bad_length: Vec<f64>,
}

/// ∫_{λ_0}^{x} over good segments, masked length and covered length (x clipped to the source).
#[derive(Clone, Copy)]
struct Sums {
    integral: f64,
    bad_length: f64,
    covered: f64,
}

impl<'a> MaskedSource<'a> {
    fn new(lambda: &'a [f64], flux: &'a [f64], bad: &[bool]) -> Self {
        let good: Vec<bool> = bad.windows(2).map(|b| !b[0] && !b[1]).collect();
        let (mut integral, mut bad_length) = (vec![0.0], vec![0.0]);
        let (mut total, mut masked) = (0.0, 0.0);
        for k in 1..lambda.len() {
            let h = lambda[k] - lambda[k - 1];
            if good[k - 1] {
                // Trapezoid, exact for the piecewise-linear source (as in rebin.rs).
                total += 0.5 * (flux[k - 1] + flux[k]) * h;
            } else {
                masked += h;
            }
            integral.push(total);
            bad_length.push(masked);
        }
        MaskedSource {
            lambda,
            flux,
            good,
            integral,
            bad_length,
        }
    }

    /// The sums up to `x`; within segment k (t = x − λ_k, h = λ_k+1 − λ_k) a good segment adds
    /// f_k t + (f_k+1 − f_k) t² / (2h), a masked one t of masked length. `cursor` only moves
    /// forward over increasing `x`.
    fn up_to(&self, x: f64, cursor: &mut usize) -> Sums {
        let last = self.lambda.len() - 1;
        if x <= self.lambda[0] {
            return Sums {
                integral: 0.0,
                bad_length: 0.0,
                covered: 0.0,
            };
        }
        if x >= self.lambda[last] {
            *cursor = last;
            return Sums {
                integral: self.integral[last],
                bad_length: self.bad_length[last],
                covered: self.lambda[last] - self.lambda[0],
            };
        }
        while self.lambda[*cursor + 1] <= x {
            *cursor += 1;
        }
        let k = *cursor;
        let t = x - self.lambda[k];
        let covered = x - self.lambda[0];
        if self.good[k] {
            let h = self.lambda[k + 1] - self.lambda[k];
            let (f0, f1) = (self.flux[k], self.flux[k + 1]);
            Sums {
                integral: self.integral[k] + f0 * t + (f1 - f0) * t * t / (2.0 * h),
                bad_length: self.bad_length[k],
                covered,
            }
        } else {
            Sums {
                integral: self.integral[k],
                bad_length: self.bad_length[k] + t,
                covered,
            }
        }
    }
}

/// Fills the marked pixels by linear interpolation in λ between the nearest unmarked ones
/// (constant beyond the ends); returns how many were filled.
pub(super) fn fill_gaps(edges: &[f64], flux: &mut [f64], marked: &[bool]) -> Result<usize, String> {
    let centre = |p: usize| 0.5 * (edges[p] + edges[p + 1]);
    let anchors: Vec<usize> = (0..flux.len()).filter(|&p| !marked[p]).collect();
    let filled = marked.iter().filter(|&&m| m).count();
    if filled > 0 && anchors.is_empty() {
        return Err("every grid pixel the spectrum covers is masked".into());
    }
    let mut next: usize = 0; // index into anchors of the first anchor after p
    for p in 0..flux.len() {
        if !marked[p] {
            next += 1;
            continue;
        }
        flux[p] = match (next.checked_sub(1).map(|a| anchors[a]), anchors.get(next)) {
            (Some(lo), Some(&hi)) => {
                let t = (centre(p) - centre(lo)) / (centre(hi) - centre(lo));
                flux[lo] + t * (flux[hi] - flux[lo])
            }
            (Some(lo), None) => flux[lo],
            (None, Some(&hi)) => flux[hi],
            (None, None) => unreachable!("checked above: some pixel is an anchor"),
        };
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::super::rebin_flux_conserving;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn edges(start: f64, step: f64, pixels: usize) -> Vec<f64> {
        (0..=pixels).map(|i| start + step * i as f64).collect()
    }

    #[test]
    fn without_bad_pixels_it_equals_the_unmasked_rebinning() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for _ in 0..100 {
            let n = rng.gen_range(2..300);
            let mut lambda = vec![1000.0];
            for _ in 1..n {
                lambda.push(lambda.last().unwrap() + rng.gen_range(0.1..5.0));
            }
            let flux: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..10.0)).collect();
            let dst = edges(990.0, rng.gen_range(0.3..7.0), 150);
            let (mut plain, mut masked) = (vec![0.0; 150], vec![0.0; 150]);
            rebin_flux_conserving(&lambda, &flux, &dst, &mut plain);
            let report =
                rebin_masked(&lambda, &flux, &vec![false; n], &dst, &mut masked).expect("overlaps");
            assert_eq!(plain, masked);
            assert_eq!(
                report,
                MaskedRebin {
                    masked_fraction: 0.0,
                    filled: 0
                }
            );
        }
    }

    #[test]
    fn a_masked_spike_does_not_leak() {
        // Flat flux 2 with a huge bad knot at 105 Å (e.g. a cosmic ray or NaN).
        let lambda: Vec<f64> = (0..=20).map(|i| 100.0 + 0.5 * i as f64).collect();
        let mut flux = vec![2.0; 21];
        let mut bad = vec![false; 21];
        flux[10] = 1e6;
        bad[10] = true;
        let dst = edges(100.0, 2.0, 5);
        let mut out = vec![0.0; 5];
        let report = rebin_masked(&lambda, &flux, &bad, &dst, &mut out).expect("overlaps");
        for v in &out {
            assert!((v - 2.0).abs() < 1e-12, "{out:?}");
        }
        assert!((report.masked_fraction - 1.0 / 10.0).abs() < 1e-12);
        flux[10] = f64::NAN;
        rebin_masked(&lambda, &flux, &bad, &dst, &mut out).expect("overlaps");
        assert!(out.iter().all(|v| (v - 2.0).abs() < 1e-12), "{out:?}");
    }

    #[test]
    fn a_fully_masked_region_is_interpolated_and_the_ends_held() {
        // f = λ on 0..=100 Å; knots 41..=59 bad mask the segments from 40 to 60 Å exactly.
        let lambda: Vec<f64> = (0..=100).map(f64::from).collect();
        let bad: Vec<bool> = (0..=100).map(|i| (41..=59).contains(&i)).collect();
        let dst = edges(0.0, 10.0, 10);
        let mut out = vec![0.0; 10];
        let report = rebin_masked(&lambda, &lambda, &bad, &dst, &mut out).expect("overlaps");
        assert_eq!(report.filled, 2); // [40, 50) and [50, 60)
        for (p, v) in out.iter().enumerate() {
            let centre = 10.0 * p as f64 + 5.0;
            assert!((v - centre).abs() < 1e-9, "pixel {p}: {v} vs {centre}");
        }
        // Masking the last knots leaves the last pixel(s) held at the last good value.
        let tail: Vec<bool> = (0..=100).map(|i| i >= 85).collect();
        rebin_masked(&lambda, &lambda, &tail, &dst, &mut out).expect("overlaps");
        assert_eq!(out[9], out[8]);
    }

    #[test]
    fn no_overlap_or_everything_masked_is_an_error() {
        let lambda = [10.0, 20.0];
        let dst = edges(100.0, 1.0, 3);
        let mut out = [0.0; 3];
        let err = rebin_masked(&lambda, &[1.0, 1.0], &[false; 2], &dst, &mut out).unwrap_err();
        assert_eq!(
            err,
            "the spectrum (10–20 Å) does not overlap the grid (100–103 Å)"
        );
        let dst = edges(10.0, 5.0, 2);
        let mut out = [0.0; 2];
        let err = rebin_masked(&lambda, &[1.0, 1.0], &[true, false], &dst, &mut out).unwrap_err();
        assert_eq!(err, "every grid pixel the spectrum covers is masked");
    }
}
