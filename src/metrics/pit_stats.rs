//! Goodness-of-fit of the PIT values to a uniform distribution, as qp reports them
//! (`qp/metrics/pit.py`, `PIT.calculate_pit_meta_metrics`: keys `ks`, `cvm`, `ad`,
//! `outlier_rate`). A calibrated model has uniform PIT; each statistic grows with the misfit.
//!
//! - `ks`: `scipy.stats.kstest(pit, 'uniform')`.
//! - `cvm`: `scipy.stats.cramervonmises(pit, 'uniform')`.
//! - `ad`: `scipy.stats.anderson_ksamp([pit, linspace(0, 1, n)])`: qp compares the PIT with an
//!   evenly spaced "uniform sample" of the same size by the k-sample Anderson–Darling test of
//!   Scholz & Stephens (1987), whose standardised statistic this is.
//! - `outlier_rate`: the mass below 1e-4 and above 0.9999 of the piecewise-linear CDF through
//!   the PIT quantiles at `linspace(0, 1, min(n, 100))` (qp builds a `quant_piecewise` PDF).

use super::rail_point::percentile_of_sorted;

/// qp's PIT outlier bounds (`evaluate_PIT_outlier_rate(pit_min=0.0001, pit_max=0.9999)`).
const PIT_OUTLIER_LOW: f64 = 1e-4;
const PIT_OUTLIER_HIGH: f64 = 0.9999;
/// qp's default PIT evaluation grid, `np.linspace(0, 1, 100)`.
const PIT_QUANTILE_KNOTS: usize = 100;

/// The PIT statistics of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct PitStatistics {
    pub ks: f64,
    pub cvm: f64,
    /// `None` with fewer than 4 values or when every value is the same (the statistic's
    /// variance is undefined there).
    pub ad: Option<f64>,
    pub outlier_rate: f64,
}

impl PitStatistics {
    /// Computes every statistic. Errors on an empty input or a value outside [0, 1] (naming
    /// its index).
    pub fn compute(pit: &[f64]) -> Result<Self, String> {
        if pit.is_empty() {
            return Err("PIT statistics: no values".to_string());
        }
        if let Some(i) = pit.iter().position(|p| !(0.0..=1.0).contains(p)) {
            return Err(format!("PIT[{i}] = {} is outside [0, 1]", pit[i]));
        }
        let mut sorted = pit.to_vec();
        sorted.sort_by(f64::total_cmp);
        Ok(Self {
            ks: ks_uniform(&sorted),
            cvm: cvm_uniform(&sorted),
            ad: anderson_darling_vs_even_grid(&sorted),
            outlier_rate: quantile_cdf_outlier_rate(&sorted),
        })
    }
}

/// Kolmogorov–Smirnov distance to U(0, 1) of ascending values `x_(1) ≤ … ≤ x_(n)`:
/// `D = max(D⁺, D⁻)`, `D⁺ = max_i (i/n − x_(i))`, `D⁻ = max_i (x_(i) − (i−1)/n)`.
fn ks_uniform(sorted: &[f64]) -> f64 {
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let i = i as f64;
            ((i + 1.0) / n - x).max(x - i / n)
        })
        .fold(0.0, f64::max)
}

/// Cramér–von Mises statistic against U(0, 1) (Anderson 1962, eq. 2 as in scipy):
/// `W² = 1/(12n) + Σ_i ((2i − 1)/(2n) − x_(i))²`.
fn cvm_uniform(sorted: &[f64]) -> f64 {
    let n = sorted.len() as f64;
    let sum: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| ((2.0 * i as f64 + 1.0) / (2.0 * n) - x).powi(2))
        .sum();
    1.0 / (12.0 * n) + sum
}

/// The standardised 2-sample Anderson–Darling statistic of the PIT against
/// `linspace(0, 1, n)`, as `scipy.stats.anderson_ksamp` computes it (midrank version for
/// ties): Scholz & Stephens (1987), J. Am. Stat. Assoc. 82, 918, eq. (7) for `A²_akN` and
/// eq. (4) for its variance; the result is `(A²_akN − (k − 1)) / σ_N`.
fn anderson_darling_vs_even_grid(sorted_pit: &[f64]) -> Option<f64> {
    let n = sorted_pit.len();
    if n < 2 {
        return None;
    }
    let grid: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    let samples = [sorted_pit, &grid[..]];
    let mut pooled: Vec<f64> = sorted_pit.iter().chain(&grid).copied().collect();
    pooled.sort_by(f64::total_cmp);
    let total = pooled.len();
    if total < 4 || pooled[0] == pooled[total - 1] {
        return None;
    }
    let a2 = a2_midrank(&samples, &pooled);
    let k = samples.len() as f64;
    let sizes: Vec<usize> = samples.iter().map(|s| s.len()).collect();
    Some((a2 - (k - 1.0)) / a2_variance(&sizes, total).sqrt())
}

/// Scholz & Stephens (1987) eq. (7): with the distinct pooled values `Z*_j` of multiplicity
/// `l_j`, `B_j = #{Z < Z*_j} + l_j/2`, and for sample `i` of size `n_i`
/// `M_ij = #{X_i ≤ Z*_j} − f_ij/2` (`f_ij` = how many of sample `i` equal `Z*_j`):
///
/// ```text
/// A²_akN = (N − 1)/N² Σ_i 1/n_i Σ_j l_j (N M_ij − n_i B_j)² / (B_j (N − B_j) − N l_j / 4)
/// ```
///
/// All slices are ascending.
fn a2_midrank(samples: &[&[f64]], pooled: &[f64]) -> f64 {
    let big_n = pooled.len() as f64;
    let mut sum = 0.0;
    for sample in samples {
        let n_i = sample.len() as f64;
        let (mut below_pooled, mut at_or_below_sample) = (0usize, 0usize);
        let mut inner = 0.0;
        while below_pooled < pooled.len() {
            let z = pooled[below_pooled];
            let l = pooled[below_pooled..]
                .iter()
                .take_while(|&&v| v == z)
                .count();
            let sample_below = at_or_below_sample;
            while at_or_below_sample < sample.len() && sample[at_or_below_sample] <= z {
                at_or_below_sample += 1;
            }
            let f = (at_or_below_sample - sample_below) as f64;
            let (l_f, b) = (l as f64, below_pooled as f64 + l as f64 / 2.0);
            let m = at_or_below_sample as f64 - f / 2.0;
            let denominator = b * (big_n - b) - big_n * l_f / 4.0;
            if denominator > 0.0 {
                inner += l_f * (big_n * m - n_i * b).powi(2) / denominator;
            }
            below_pooled += l;
        }
        sum += inner / n_i;
    }
    sum * (big_n - 1.0) / (big_n * big_n)
}

/// The variance of `A²_kN` under the null hypothesis, Scholz & Stephens (1987) eq. (4), with
/// `H = Σ 1/n_i`, `h = Σ_{i=1}^{N−1} 1/i`, `g = Σ_{i=1}^{N−2} Σ_{j=i+1}^{N−1} 1/((N − i) j)`:
///
/// ```text
/// a = (4g − 6)(k − 1) + (10 − 6g)H
/// b = (2g − 4)k² + 8hk + (2g − 14h − 4)H − 8h + 4g − 6
/// c = (6h + 2g − 2)k² + (4h − 4g + 6)k + (2h − 6)H + 4h
/// d = (2h + 6)k² − 4hk
/// σ²_N = (aN³ + bN² + cN + d) / ((N − 1)(N − 2)(N − 3))
/// ```
fn a2_variance(sizes: &[usize], total: usize) -> f64 {
    let k = sizes.len() as f64;
    let big_n = total as f64;
    let big_h: f64 = sizes.iter().map(|&n| 1.0 / n as f64).sum();
    // harmonic[i] = Σ_{j=1}^{i} 1/j, so h = harmonic[N−1] and the inner sum of g is
    // Σ_{j=i+1}^{N−1} 1/j = h − harmonic[i].
    let mut harmonic = vec![0.0; total];
    for i in 1..total {
        harmonic[i] = harmonic[i - 1] + 1.0 / i as f64;
    }
    let h = harmonic[total - 1];
    let g: f64 = (1..total - 1)
        .map(|i| (h - harmonic[i]) / (big_n - i as f64))
        .sum();
    let a = (4.0 * g - 6.0) * (k - 1.0) + (10.0 - 6.0 * g) * big_h;
    let b = (2.0 * g - 4.0) * k * k + 8.0 * h * k + (2.0 * g - 14.0 * h - 4.0) * big_h - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * k * k
        + (4.0 * h - 4.0 * g + 6.0) * k
        + (2.0 * h - 6.0) * big_h
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * k * k - 4.0 * h * k;
    (a * big_n.powi(3) + b * big_n * big_n + c * big_n + d)
        / ((big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0))
}

/// qp's PIT outlier rate: with knots `q_j = j/(m − 1)`, `m = min(n, 100)`, and
/// `x_j = P_{q_j}(PIT)` (numpy's linear percentiles), the CDF is linear between knots, 0 below
/// `x_0` and 1 above `x_{m−1}`; the rate is `CDF(1e-4) + 1 − CDF(0.9999)`. A zero-width
/// segment (tied knots) is skipped, so the CDF jumps there.
fn quantile_cdf_outlier_rate(sorted: &[f64]) -> f64 {
    let m = sorted.len().min(PIT_QUANTILE_KNOTS);
    if m < 2 {
        let outside = |x: f64| !(PIT_OUTLIER_LOW..=PIT_OUTLIER_HIGH).contains(&x);
        return if outside(sorted[0]) { 1.0 } else { 0.0 };
    }
    let quants: Vec<f64> = (0..m).map(|j| j as f64 / (m - 1) as f64).collect();
    let knots: Vec<f64> = quants
        .iter()
        .map(|&q| percentile_of_sorted(sorted, q))
        .collect();
    let cdf = |x: f64| {
        if x < knots[0] {
            return 0.0;
        }
        if x >= knots[m - 1] {
            return 1.0;
        }
        // The last knot at or below x; x < knots[m−1] so j + 1 exists and knots[j+1] > x.
        let j = knots.partition_point(|&k| k <= x) - 1;
        let t = (x - knots[j]) / (knots[j + 1] - knots[j]);
        quants[j] + t * (quants[j + 1] - quants[j])
    };
    cdf(PIT_OUTLIER_LOW) + (1.0 - cdf(PIT_OUTLIER_HIGH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_and_cvm_hand_computed() {
        // x = [0.1, 0.4, 0.7], n = 3.
        // D⁺ = max(1/3 − 0.1, 2/3 − 0.4, 1 − 0.7) = 0.3; D⁻ = max(0.1, 0.4 − 1/3, 0.7 − 2/3) = 0.1.
        // W² = 1/36 + (1/6 − 0.1)² + (1/2 − 0.4)² + (5/6 − 0.7)² = 1/36 + 0.0322… = 0.06.
        let s = PitStatistics::compute(&[0.7, 0.1, 0.4]).expect("valid");
        assert!((s.ks - 0.3).abs() < 1e-15, "{}", s.ks);
        assert!((s.cvm - 0.06).abs() < 1e-15, "{}", s.cvm);
    }

    #[test]
    fn anderson_darling_matches_scipy() {
        // from scipy.stats import anderson_ksamp; import numpy as np
        // x = [0.05, 0.2, 0.21, 0.5, 0.9, 0.95]
        // anderson_ksamp([x, np.linspace(0, 1, 6)]).statistic  # scipy 1.17.1, midrank
        //   -> -1.1400092685686358
        // x = [0.0, 0.0, 0.0, 0.01, 0.02, 0.03, 0.5, 1.0]  (ties, with the grid at 0 and 1)
        //   -> 1.2942239115519485
        let a = PitStatistics::compute(&[0.05, 0.2, 0.21, 0.5, 0.9, 0.95]).expect("valid");
        assert!(
            (a.ad.expect("defined") - -1.1400092685686358).abs() < 1e-9,
            "{a:?}"
        );
        let b =
            PitStatistics::compute(&[0.0, 0.0, 0.0, 0.01, 0.02, 0.03, 0.5, 1.0]).expect("valid");
        assert!(
            (b.ad.expect("defined") - 1.2942239115519485).abs() < 1e-9,
            "{b:?}"
        );
    }

    #[test]
    fn outlier_rate_of_an_even_pit_is_the_two_tails() {
        // PIT = [0, 0.5, 1]: knots = PIT, the CDF is the identity: 1e-4 + (1 − 0.9999) = 2e-4.
        let s = PitStatistics::compute(&[0.0, 0.5, 1.0]).expect("valid");
        assert!((s.outlier_rate - 2e-4).abs() < 1e-12, "{}", s.outlier_rate);
        // A fifth of the PIT values at exactly 0 (over-confident PDFs missing below): the CDF
        // reaches 0.2 at 0 already, so at least 0.2 is counted.
        let mut pit: Vec<f64> = (0..1000).map(|i| i as f64 / 999.0).collect();
        pit.iter_mut().take(200).for_each(|p| *p = 0.0);
        let s = PitStatistics::compute(&pit).expect("valid");
        assert!(
            s.outlier_rate > 0.19 && s.outlier_rate < 0.21,
            "{}",
            s.outlier_rate
        );
    }

    #[test]
    fn uniform_pit_scores_low_and_a_peaked_one_high() {
        let even: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        let good = PitStatistics::compute(&even).expect("valid");
        assert!(good.ks <= 0.0005 + 1e-12 && good.cvm < 1e-3, "{good:?}");
        let peaked: Vec<f64> = even.iter().map(|p| 0.5 + (p - 0.5) * 0.2).collect();
        let bad = PitStatistics::compute(&peaked).expect("valid");
        assert!(bad.ks > 0.35 && bad.cvm > 10.0, "{bad:?}");
        assert!(bad.ad.expect("defined") > good.ad.expect("defined") + 50.0);
    }

    #[test]
    fn bad_inputs_are_errors_and_tiny_inputs_have_no_ad() {
        assert!(PitStatistics::compute(&[]).is_err());
        let err = PitStatistics::compute(&[0.2, 1.5]).expect_err("outside [0, 1]");
        assert!(err.contains("PIT[1]"), "{err}");
        assert!(PitStatistics::compute(&[f64::NAN]).is_err());
        assert_eq!(PitStatistics::compute(&[0.5]).expect("valid").ad, None);
    }
}
