//! The discrete Gaussian of the authors' label code, research notes §1.9: a weight per bin
//! index, normalised by the caller over the bins it keeps.

/// `exp(−½ (d / σ)²)` for an offset of `d` bins and a width of `σ` bins; a delta (1 at
/// `d = 0`, else 0) when `σ = 0`.
pub fn gaussian_weight(d: f64, sigma: f64) -> f64 {
    if sigma == 0.0 {
        return if d == 0.0 { 1.0 } else { 0.0 };
    }
    let u = d / sigma;
    (-0.5 * u * u).exp()
}

/// The weights `exp(−½ ((t − centre) / σ)²)` for `t = 0..bins`, normalised to sum 1. Errors
/// when they all vanish (a delta centred off the integer bins, or a centre far outside).
pub fn normalised_gaussian(bins: usize, centre: f64, sigma: f64) -> Result<Vec<f64>, String> {
    let mut weights: Vec<f64> = (0..bins)
        .map(|t| gaussian_weight(t as f64 - centre, sigma))
        .collect();
    normalise(&mut weights).map_err(|_| {
        format!("the Gaussian N({centre}, {sigma}) has no weight on bins 0..{bins}")
    })?;
    Ok(weights)
}

/// Divides `values` by their sum; errors when the sum is not positive and finite.
pub fn normalise(values: &mut [f64]) -> Result<(), String> {
    let total: f64 = values.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(format!("cannot normalise weights that sum to {total}"));
    }
    values.iter_mut().for_each(|v| *v /= total);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_by_hand() {
        assert_eq!(gaussian_weight(0.0, 2.0), 1.0);
        assert!((gaussian_weight(2.0, 2.0) - (-0.5f64).exp()).abs() < 1e-15);
        assert_eq!(gaussian_weight(0.0, 0.0), 1.0);
        assert_eq!(gaussian_weight(1.0, 0.0), 0.0);
        // Three bins around 1 with σ = 1: [e^−½, 1, e^−½] / (1 + 2e^−½).
        let g = normalised_gaussian(3, 1.0, 1.0).expect("valid");
        let e = (-0.5f64).exp();
        let total = 1.0 + 2.0 * e;
        assert!((g[0] - e / total).abs() < 1e-15 && (g[1] - 1.0 / total).abs() < 1e-15);
        assert!(normalised_gaussian(3, 1.5, 0.0).is_err());
        assert!(normalise(&mut [0.0, 0.0]).is_err());
    }
}
