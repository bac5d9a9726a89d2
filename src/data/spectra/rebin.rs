//! Flux-conserving rebinning of a sampled spectrum onto pixels.
//!
//! The source is the piecewise-linear function through the knots (λ_k, f_k), zero outside
//! \[λ_0, λ_last\]. A destination pixel [e_lo, e_hi) receives the mean of that function over the
//! pixel, (1/(e_hi − e_lo)) ∫_{e_lo}^{e_hi} f(λ) dλ — not the value at its centre — so the total
//! ∫ f dλ is preserved whenever the destination pixels cover the source (Carnall 2017,
//! "SpectRes", arXiv:1705.05165, does the same for step-function sources).

/// Rebins the piecewise-linear source (`src_lambda`, `src_flux`) onto the pixels whose edges are
/// `dst_edges` (increasing, `dst_flux.len() + 1` values), writing the mean flux density of each.
///
/// Panics if the lengths disagree or the source has fewer than 2 knots (caller bugs).
pub fn rebin_flux_conserving(
    src_lambda: &[f64],
    src_flux: &[f64],
    dst_edges: &[f64],
    dst_flux: &mut [f64],
) {
    assert_eq!(
        src_lambda.len(),
        src_flux.len(),
        "source λ and flux lengths"
    );
    assert!(src_lambda.len() >= 2, "the source needs at least 2 knots");
    assert_eq!(
        dst_edges.len(),
        dst_flux.len() + 1,
        "destination edges = pixels + 1"
    );
    let cumulative = cumulative_integral(src_lambda, src_flux);
    let mut cursor = 0;
    let mut previous = integral_up_to(src_lambda, src_flux, &cumulative, dst_edges[0], &mut cursor);
    for (pixel, pair) in dst_flux.iter_mut().zip(dst_edges.windows(2)) {
        let current = integral_up_to(src_lambda, src_flux, &cumulative, pair[1], &mut cursor);
        *pixel = (current - previous) / (pair[1] - pair[0]);
        previous = current;
    }
}

/// C_k = ∫_{λ_0}^{λ_k} f dλ at every knot (trapezoids, exact for the piecewise-linear source).
fn cumulative_integral(lambda: &[f64], flux: &[f64]) -> Vec<f64> {
    let mut cumulative = Vec::with_capacity(lambda.len());
    let mut total = 0.0;
    cumulative.push(total);
    for k in 1..lambda.len() {
        total += 0.5 * (flux[k - 1] + flux[k]) * (lambda[k] - lambda[k - 1]);
        cumulative.push(total);
    }
    cumulative
}

/// ∫_{λ_0}^{x} f dλ. Within the segment \[λ_k, λ_k+1\], with t = x − λ_k and h = λ_k+1 − λ_k:
/// C_k + f_k t + (f_k+1 − f_k) t² / (2h). `cursor` (the segment of the previous, smaller `x`)
/// only moves forward, so a sweep over increasing edges costs O(knots + edges).
fn integral_up_to(
    lambda: &[f64],
    flux: &[f64],
    cumulative: &[f64],
    x: f64,
    cursor: &mut usize,
) -> f64 {
    let last = lambda.len() - 1;
    if x <= lambda[0] {
        return 0.0;
    }
    if x >= lambda[last] {
        *cursor = last;
        return cumulative[last];
    }
    while lambda[*cursor + 1] <= x {
        *cursor += 1;
    }
    let k = *cursor;
    let h = lambda[k + 1] - lambda[k];
    let t = x - lambda[k];
    cumulative[k] + flux[k] * t + (flux[k + 1] - flux[k]) * t * t / (2.0 * h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Increasing knots from `start` with random gaps in [min_gap, max_gap).
    fn random_knots(
        rng: &mut Xoshiro256PlusPlus,
        start: f64,
        n: usize,
        gaps: (f64, f64),
    ) -> Vec<f64> {
        let mut lambda = Vec::with_capacity(n);
        let mut x = start;
        for _ in 0..n {
            lambda.push(x);
            x += rng.gen_range(gaps.0..gaps.1);
        }
        lambda
    }

    fn trapezoid(lambda: &[f64], flux: &[f64]) -> f64 {
        *cumulative_integral(lambda, flux).last().expect("non-empty")
    }

    /// Random source and random destination edges that start below and end above the source.
    fn check_conservation(
        rng: &mut Xoshiro256PlusPlus,
        src_gaps: (f64, f64),
        dst_gaps: (f64, f64),
    ) {
        let n_src = rng.gen_range(2..400);
        let lambda = random_knots(rng, 1000.0, n_src, src_gaps);
        let flux: Vec<f64> = (0..n_src).map(|_| rng.gen_range(0.0..10.0)).collect();
        let span = lambda[n_src - 1] - lambda[0];
        let start = lambda[0] - rng.gen_range(0.0..dst_gaps.1);
        let mut edges = vec![start];
        while *edges.last().expect("non-empty") <= lambda[n_src - 1] {
            let next = edges.last().expect("non-empty") + rng.gen_range(dst_gaps.0..dst_gaps.1);
            edges.push(next);
        }
        let mut out = vec![0.0; edges.len() - 1];
        rebin_flux_conserving(&lambda, &flux, &edges, &mut out);
        let total: f64 = out
            .iter()
            .zip(edges.windows(2))
            .map(|(f, e)| f * (e[1] - e[0]))
            .sum();
        let expected = trapezoid(&lambda, &flux);
        assert!(
            (total - expected).abs() <= 1e-5 * expected.abs(),
            "total {total} vs {expected} (span {span}, {} pixels)",
            out.len()
        );
    }

    #[test]
    fn fine_to_coarse_conserves_the_integral() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for _ in 0..200 {
            check_conservation(&mut rng, (0.1, 2.0), (3.0, 20.0));
        }
    }

    #[test]
    fn coarse_to_fine_conserves_the_integral() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        for _ in 0..200 {
            check_conservation(&mut rng, (3.0, 20.0), (0.1, 2.0));
        }
    }

    #[test]
    fn a_linear_source_gives_its_value_at_the_pixel_centre() {
        // The mean of a linear function over an interval is its value at the midpoint.
        let lambda = [0.0, 10.0, 20.0];
        let flux = [1.0, 2.0, 3.0];
        let edges = [2.0, 5.0, 13.0, 19.5];
        let mut out = [0.0; 3];
        rebin_flux_conserving(&lambda, &flux, &edges, &mut out);
        for (value, pair) in out.iter().zip(edges.windows(2)) {
            let centre = 0.5 * (pair[0] + pair[1]);
            assert!((value - (1.0 + centre / 10.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn pixels_outside_the_source_are_zero_and_partial_pixels_are_diluted() {
        let lambda = [10.0, 20.0];
        let flux = [4.0, 4.0];
        let edges = [0.0, 5.0, 15.0, 30.0];
        let mut out = [9.0; 3];
        rebin_flux_conserving(&lambda, &flux, &edges, &mut out);
        assert_eq!(out[0], 0.0);
        assert!((out[1] - 2.0).abs() < 1e-12); // half of [5, 15) is covered
        assert!((out[2] - 4.0 / 3.0).abs() < 1e-12); // a third of [15, 30) is covered
    }
}
