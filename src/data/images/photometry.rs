//! Synthetic photometry of a redshifted library galaxy and the K-corrected apparent magnitude.
//!
//! A library galaxy has rest-frame SED L(λ) = continuum + Σ_i F_i δ(λ − λ_i) (its emission lines
//! are narrow next to a broad band and are integrated as lines). Redshifted in wavelength only,
//! S_z(λ) = L(λ / (1 + z)) with the lines at μ_i = (1 + z) λ_i holding (1 + z) F_i. Its band mean
//! (see [`crate::data::filters`]) is
//!
//! ⟨f_λ⟩ = [∫ S_z(λ) T(λ) λ dλ + Σ_i (1 + z) F_i T(μ_i) μ_i] / ∫ T(λ) λ dλ,  ⟨f_ν⟩ = ⟨f_λ⟩ λ_p² / c.
//!
//! The observed flux is S_z / (4π D_L² (1 + z)), and the absolute magnitude M_r is the AB
//! magnitude in the rest-frame SDSS r band at 10 pc, so (Hogg et al. 2002, astro-ph/0210394,
//! eqs. 8 and 13):
//!
//! m_b = M_r + DM(z) + 2.5 log₁₀(1 + z) − 2.5 log₁₀(⟨f_ν⟩_b[S_z] / ⟨f_ν⟩_r[L]),
//!
//! the last two terms being the K-correction K_br(z) from rest r to observed b.

use crate::data::filters::FilterCurve;
use crate::data::spectra::{line_wavelengths, Galaxy, SedLibrary, SedPoints};

/// The speed of light in Å s⁻¹.
const C_ANGSTROM_PER_S: f64 = 2.997_924_58e18;

/// A filter with the constants its photometry reuses.
#[derive(Clone, Debug)]
pub struct Band {
    pub name: String,
    pub curve: FilterCurve,
    pivot: f64,
    photon_weight: f64,
}

impl Band {
    /// The band of `curve`, cut to its non-zero support plus one zero knot on each side (the
    /// trapezoids dropped are all zero, so every integral is unchanged; the LSST curves are
    /// tabulated every 1 Å over 3000–11 000 Å, mostly zeros).
    pub fn new(name: &str, curve: FilterCurve) -> Self {
        let first = curve.throughput.iter().position(|&t| t > 0.0).unwrap_or(0);
        let last = curve.throughput.iter().rposition(|&t| t > 0.0).unwrap_or(0);
        let keep = first.saturating_sub(1)..(last + 2).min(curve.lambda.len());
        let curve = FilterCurve {
            name: curve.name,
            lambda: curve.lambda[keep.clone()].to_vec(),
            throughput: curve.throughput[keep].to_vec(),
        };
        Band {
            name: name.to_string(),
            pivot: curve.pivot_wavelength(),
            photon_weight: curve.photon_weight(),
            curve,
        }
    }

    /// The band of `curve` keeping every `every`-th knot (and the last): a cheaper band for
    /// curves tabulated far finer than they vary.
    pub fn decimated(name: &str, curve: FilterCurve, every: usize) -> Self {
        let last = curve.lambda.len() - 1;
        let keep: Vec<usize> = (0..=last)
            .filter(|&i| i % every.max(1) == 0 || i == last)
            .collect();
        let curve = FilterCurve {
            lambda: keep.iter().map(|&i| curve.lambda[i]).collect(),
            throughput: keep.iter().map(|&i| curve.throughput[i]).collect(),
            name: curve.name,
        };
        Band::new(name, curve)
    }

    /// Parses one of the shipped filter files (embedded text), keeping every `every`-th knot.
    pub fn shipped(name: &str, file: &str, text: &str, every: usize) -> Self {
        let curve = FilterCurve::parse(text, file).expect("shipped filter curves parse");
        Band::decimated(name, curve, every)
    }

    /// λ_pivot \[Å\].
    pub fn pivot(&self) -> f64 {
        self.pivot
    }

    /// ⟨f_ν⟩ of galaxy `galaxy` of `library` redshifted to z (S_z above), in the library's f_λ
    /// units × Å s.
    pub fn flux_nu(&self, library: &SedLibrary, galaxy: &Galaxy, z: f64) -> f64 {
        let stretch = 1.0 + z;
        let rest: Vec<f64> = self.curve.lambda.iter().map(|l| l / stretch).collect();
        let mut continuum = vec![0.0; rest.len()];
        library.continuum(galaxy, &rest, &mut continuum);
        let sed = SedPoints {
            lambda: self.curve.lambda.clone(),
            flux: continuum,
        };
        let mut mean_f_lambda = self.curve.mean_flux_density(&sed);
        if let Some(lines) = &galaxy.lines {
            for (&flux, &rest_lambda) in lines.flux.iter().zip(line_wavelengths()) {
                let mu = stretch * rest_lambda;
                mean_f_lambda +=
                    stretch * flux * self.curve.throughput_at(mu) * mu / self.photon_weight;
            }
        }
        mean_f_lambda * self.pivot * self.pivot / C_ANGSTROM_PER_S
    }
}

/// The AB magnitude for a band flux ratio: m = M_r + DM + 2.5 log₁₀(1 + z) − 2.5 log₁₀(ratio),
/// `ratio` = ⟨f_ν⟩_b[S_z] / ⟨f_ν⟩_r[L].
pub fn apparent_magnitude(absolute_r: f64, distance_modulus: f64, z: f64, ratio: f64) -> f64 {
    absolute_r + distance_modulus + 2.5 * (1.0 + z).log10() - 2.5 * ratio.log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::spectra::{LibraryConfig, Mixing, Template, TemplateFamily};

    /// A library of one galaxy with f_ν constant (f_λ ∝ λ⁻²) from 500 to 30 000 Å.
    fn flat_f_nu() -> SedLibrary {
        let lambda: Vec<f64> = (0..=590).map(|i| 500.0 + 50.0 * i as f64).collect();
        let flux = lambda.iter().map(|l| 1e8 / (l * l)).collect();
        let points = SedPoints { lambda, flux };
        let template = Template::from_points("flat", TemplateFamily::User, &points).unwrap();
        let config = LibraryConfig {
            n_galaxies: Some(1),
            mixing: Mixing::OnePerTemplate,
            ebv: (0.0, 0.0),
            lines: None,
            population: None,
        };
        SedLibrary::from_templates(vec![template], &config, 1).unwrap()
    }

    fn sdss(band: &str) -> Band {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("data/filters/sdss2010-{band}.dat"));
        Band::new(band, FilterCurve::read(&path).unwrap())
    }

    #[test]
    fn band_fluxes_match_a_fine_grid_integral_of_the_full_sed_with_its_lines() {
        // ⟨f_λ⟩ = ∫ S_z T λ dλ / ∫ T λ dλ by trapezoids on a 0.1 Å grid, with the lines drawn
        // as Gaussians by the library itself (rest_frame_sed): an independent check of the
        // knot-sampled continuum and of the lines integrated as lines.
        use crate::data::spectra::LineConfig;
        let config = LibraryConfig {
            n_galaxies: Some(3),
            mixing: Mixing::Random { max_templates: 2 },
            ebv: (0.1, 0.2),
            lines: Some(LineConfig {
                halpha_ew: (200.0, 300.0),
                ..LineConfig::default()
            }),
            population: None,
        };
        let templates = crate::data::spectra::builtin_templates();
        let library = SedLibrary::from_templates(templates, &config, 4).unwrap();
        for band in [sdss("g"), sdss("r"), sdss("i")] {
            let curve = &band.curve;
            let (lo, hi) = (curve.lambda[0], curve.lambda[curve.lambda.len() - 1]);
            let steps = ((hi - lo) / 0.1) as usize;
            let lambdas: Vec<f64> = (0..=steps)
                .map(|i| lo + (hi - lo) * i as f64 / steps as f64)
                .collect();
            for galaxy in library.galaxies() {
                for z in [0.0, 0.12, 0.3] {
                    let rest: Vec<f64> = lambdas.iter().map(|l| l / (1.0 + z)).collect();
                    let sed = library.rest_frame_sed(galaxy, &rest);
                    let integrand =
                        |i: usize| sed[i] * curve.throughput_at(lambdas[i]) * lambdas[i];
                    let numerator: f64 = (1..lambdas.len())
                        .map(|i| {
                            0.5 * (integrand(i - 1) + integrand(i)) * (lambdas[i] - lambdas[i - 1])
                        })
                        .sum();
                    let pivot = curve.pivot_wavelength();
                    let fine = numerator / curve.photon_weight() * pivot * pivot / C_ANGSTROM_PER_S;
                    let ratio = band.flux_nu(&library, galaxy, z) / fine;
                    assert!(
                        (2.5 * ratio.log10()).abs() < 2e-3,
                        "{} z {z}: ratio {ratio}",
                        band.name
                    );
                }
            }
        }
    }

    #[test]
    fn a_flat_f_nu_source_has_k_correction_minus_2_5_log_1_plus_z() {
        // f_ν constant: ⟨f_ν⟩_b[S_z] = (1 + z)² f_ν, so K = 2.5 log(1+z) − 5 log(1+z).
        let library = flat_f_nu();
        let galaxy = &library.galaxies()[0];
        let r = sdss("r");
        let g = sdss("g");
        let rest = r.flux_nu(&library, galaxy, 0.0);
        for z in [0.0, 0.1, 0.35] {
            let ratio = g.flux_nu(&library, galaxy, z) / rest;
            let k = apparent_magnitude(0.0, 0.0, z, ratio);
            let expected = -2.5 * (1.0f64 + z).log10();
            assert!((k - expected).abs() < 2e-3, "z {z}: K {k} vs {expected}");
        }
    }
}
