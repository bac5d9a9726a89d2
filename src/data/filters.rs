//! Photometric filter curves: reading the two-column ASCII files of `data/filters/` (wavelength
//! \[Å\] and throughput, `#` comments) and synthetic photometry of an SED through them.
//!
//! For a photon-counting detector the mean flux density in a band with throughput T(λ) is
//! (e.g. Tokunaga & Vacca 2005, PASP 117, 421, eq. 4; Bessell & Murphy 2012, PASP 124, 140)
//!
//! ```text
//! ⟨f_λ⟩ = ∫ f_λ(λ) T(λ) λ dλ / ∫ T(λ) λ dλ,      λ_pivot² = ∫ T λ dλ / ∫ T/λ dλ,
//! ⟨f_ν⟩ = ⟨f_λ⟩ · λ_pivot² / c,                    m_AB = −2.5 log₁₀ ⟨f_ν⟩ − 48.60
//! ```
//!
//! with f_ν in erg s⁻¹ cm⁻² Hz⁻¹. The integrals are trapezoids over the filter's own knots, the
//! SED interpolated linearly between its knots (zero outside them).

use std::path::Path;

use super::spectra::{parse_two_columns, SedPoints};

/// The speed of light in Å s⁻¹.
const C_ANGSTROM_PER_S: f64 = 2.997_924_58e18;

/// Wavelengths \[Å\] a filter may span (1 Å to 1 mm): keeps every integral finite.
const WAVELENGTH_RANGE: (f64, f64) = (1.0, 1e7);
/// The largest throughput accepted (curves are fractions, sometimes percentages).
const MAX_THROUGHPUT: f64 = 100.0;

/// A filter's throughput T(λ) at increasing wavelengths \[Å\].
#[derive(Clone, Debug, PartialEq)]
pub struct FilterCurve {
    pub name: String,
    pub lambda: Vec<f64>,
    pub throughput: Vec<f64>,
}

impl FilterCurve {
    /// Parses the text of a filter file; `source` names it in errors. Throughputs must be
    /// finite, within 0 to [`MAX_THROUGHPUT`] and not all zero, at wavelengths within
    /// [`WAVELENGTH_RANGE`].
    pub fn parse(text: &str, source: &str) -> Result<Self, String> {
        let SedPoints { lambda, flux } = parse_two_columns(text, source, "throughput")?;
        if let Some(i) = flux.iter().position(|&t| t < 0.0) {
            return Err(format!(
                "{source}: throughput {} at {} Å is negative",
                flux[i], lambda[i]
            ));
        }
        if flux.iter().all(|&t| t == 0.0) {
            return Err(format!("{source}: the throughput is zero everywhere"));
        }
        let (first, last) = (lambda[0], lambda[lambda.len() - 1]);
        if first < WAVELENGTH_RANGE.0 || last > WAVELENGTH_RANGE.1 {
            return Err(format!(
                "{source}: wavelengths run from {first} to {last} Å; a filter must lie within \
                 {} to {} Å",
                WAVELENGTH_RANGE.0, WAVELENGTH_RANGE.1
            ));
        }
        if let Some(i) = flux.iter().position(|&t| t > MAX_THROUGHPUT) {
            return Err(format!(
                "{source}: throughput {} at {} Å is above {MAX_THROUGHPUT} (a fraction, or a \
                 percentage at most)",
                flux[i], lambda[i]
            ));
        }
        Ok(FilterCurve {
            name: source.to_string(),
            lambda,
            throughput: flux,
        })
    }

    /// Reads a filter file, named by its path.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The pivot wavelength λ_pivot \[Å\].
    pub fn pivot_wavelength(&self) -> f64 {
        let weighted = self.integrate(|lambda, t| t * lambda);
        let inverse = self.integrate(|lambda, t| t / lambda);
        (weighted / inverse).sqrt()
    }

    /// The photon-weighted mean flux density ⟨f_λ⟩ of an SED (units of its f_λ).
    pub fn mean_flux_density(&self, sed: &SedPoints) -> f64 {
        let numerator =
            self.integrate(|lambda, t| interpolate(&sed.lambda, &sed.flux, lambda) * t * lambda);
        numerator / self.photon_weight()
    }

    /// ∫ T(λ) λ dλ \[Å²\], the denominator of ⟨f_λ⟩.
    pub fn photon_weight(&self) -> f64 {
        self.integrate(|lambda, t| t * lambda)
    }

    /// T(λ), linear between knots and zero outside them.
    pub fn throughput_at(&self, lambda: f64) -> f64 {
        interpolate(&self.lambda, &self.throughput, lambda)
    }

    /// The AB magnitude of an SED whose f_λ is in erg s⁻¹ cm⁻² Å⁻¹; `None` when its mean flux
    /// density in the band is not positive.
    pub fn ab_magnitude(&self, sed: &SedPoints) -> Option<f64> {
        let pivot = self.pivot_wavelength();
        let f_nu = self.mean_flux_density(sed) * pivot * pivot / C_ANGSTROM_PER_S;
        (f_nu > 0.0).then(|| -2.5 * f_nu.log10() - 48.60)
    }

    /// ∫ g(λ, T(λ)) dλ by trapezoids over the filter's knots.
    fn integrate(&self, g: impl Fn(f64, f64) -> f64) -> f64 {
        let values: Vec<f64> = self
            .lambda
            .iter()
            .zip(&self.throughput)
            .map(|(&lambda, &t)| g(lambda, t))
            .collect();
        self.lambda
            .windows(2)
            .zip(values.windows(2))
            .map(|(l, v)| 0.5 * (v[0] + v[1]) * (l[1] - l[0]))
            .sum()
    }
}

/// The tabulated function (`l`, `y`) at `lambda`, linear between knots and zero outside them.
fn interpolate(l: &[f64], y: &[f64], lambda: f64) -> f64 {
    if lambda < l[0] || lambda > l[l.len() - 1] {
        return 0.0;
    }
    let upper = l.partition_point(|&x| x < lambda).clamp(1, l.len() - 1);
    let (x0, x1) = (l[upper - 1], l[upper]);
    let (y0, y1) = (y[upper - 1], y[upper]);
    y0 + (y1 - y0) * (lambda - x0) / (x1 - x0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// T = 1 on [lo, hi], tabulated every 1 Å (trapezoids are then exact to ~1e-8).
    fn top_hat(lo: usize, hi: usize) -> FilterCurve {
        let text: String = (lo..=hi).map(|l| format!("{l} 1\n")).collect();
        FilterCurve::parse(&format!("# a top hat\n{text}"), "top_hat.dat").unwrap()
    }

    fn shipped(name: &str) -> FilterCurve {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/filters")
            .join(name);
        FilterCurve::read(&path).unwrap()
    }

    /// f_λ of a source with constant f_ν = 3631 Jy (AB magnitude 0) at 500 Å steps.
    fn ab_zero_source() -> SedPoints {
        let lambda: Vec<f64> = (0..=400).map(|i| 1000.0 + 50.0 * i as f64).collect();
        let f_nu = 3631e-23;
        let flux = lambda
            .iter()
            .map(|l| f_nu * C_ANGSTROM_PER_S / (l * l))
            .collect();
        SedPoints { lambda, flux }
    }

    #[test]
    fn a_top_hat_has_the_analytic_pivot_and_mean() {
        // λ_p² = (hi² − lo²)/2 / ln(hi/lo) for T = 1 on [lo, hi].
        let f = top_hat(5000, 6000);
        let expected = ((6000f64.powi(2) - 5000f64.powi(2)) / 2.0 / (6000f64 / 5000.0).ln()).sqrt();
        assert!((f.pivot_wavelength() - expected).abs() < 1e-6 * expected);
        // A linear SED f = λ: ⟨f⟩ = ∫λ² dλ / ∫λ dλ over the band.
        let sed = SedPoints {
            lambda: vec![1000.0, 10_000.0],
            flux: vec![1000.0, 10_000.0],
        };
        let mean =
            (6000f64.powi(3) - 5000f64.powi(3)) / 3.0 / ((6000f64.powi(2) - 5000f64.powi(2)) / 2.0);
        assert!(
            (f.mean_flux_density(&sed) - mean).abs() < 1e-6 * mean,
            "{}",
            f.mean_flux_density(&sed)
        );
    }

    #[test]
    fn an_ab_zero_source_has_magnitude_zero_in_every_shipped_band() {
        for name in [
            "sdss2010-u.dat",
            "sdss2010-r.dat",
            "lsst2023-y.dat",
            "Euclid-H.dat",
        ] {
            let m = shipped(name).ab_magnitude(&ab_zero_source()).unwrap();
            assert!(m.abs() < 0.01, "{name}: AB magnitude {m}");
        }
    }

    #[test]
    fn sdss_r_pivot_wavelength_matches_the_published_value() {
        // SVO filter service: SDSS r (2010 response) λ_pivot ≈ 6166 Å.
        let pivot = shipped("sdss2010-r.dat").pivot_wavelength();
        assert!((pivot - 6166.0).abs() < 15.0, "pivot {pivot}");
    }

    #[test]
    fn a_source_outside_the_band_has_no_magnitude() {
        let sed = SedPoints {
            lambda: vec![100.0, 200.0],
            flux: vec![1.0, 1.0],
        };
        assert_eq!(top_hat(5000, 6000).ab_magnitude(&sed), None);
    }

    #[test]
    fn bad_filter_files_are_named_errors() {
        let cases = [
            ("5000 1\n5100 -0.1\n", "negative"),
            ("5000 0\n5100 0\n", "zero everywhere"),
            ("5000 1\n4900 1\n", "must increase"),
            ("5000 1\n5100 nan\n", "throughput 'nan' is not finite"),
            ("5000 1 2\n", "wavelength and throughput"),
            ("0 1\n5100 1\n", "must lie within"),
            ("5000 1\n1e300 1\n", "must lie within"),
            ("5000 1\n5100 150\n", "above 100"),
        ];
        for (text, expected) in cases {
            let err = FilterCurve::parse(text, "bad.dat").unwrap_err();
            assert!(err.contains("bad.dat") && err.contains(expected), "{err}");
        }
        let err = FilterCurve::read(Path::new("no/such/filter.dat")).unwrap_err();
        assert!(err.contains("no/such/filter.dat"), "{err}");
    }
}
