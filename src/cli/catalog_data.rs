//! The input of the catalogue estimator: a fixed function of a photometric table's magnitudes
//! and errors ([`catalog_features`]), and the `[n, features]` inputs of a whole table.
//!
//! Features, for bands b = 0 … B−1 and a reference band r (2B values):
//! - (m_r − 20) / 2: the reference magnitude, centred between SDSS's spectroscopic sample
//!   (r ≈ 14–18) and deep surveys (i ≈ 20–25);
//! - m_b − m_{b+1} for b = 0 … B−2: the adjacent colours, in magnitudes (their spread is a few
//!   tenths to ≈ 2 mag, already the scale a network wants);
//! - log₁₀ max(σ_b, 10⁻⁴) + 2 for every band: the errors, 0 at σ = 0.01 mag, +1 at 0.1 mag.
//!
//! No statistic is fitted to a dataset: the same magnitudes give the same features in any
//! training, evaluation or prediction run, and a checkpoint needs to store only the band order
//! and the reference band. Magnitude and colours are what the catalogue baselines feed their
//! dense networks (Pasquet et al. 2019 compare with a colour-based photo-z; the GalaxiesML
//! example's photometry branch takes the five magnitudes; shared research §4); the errors let
//! the network weigh a noisy colour down.

use crate::dims::Dims;
use crate::io::photometry::PhotometryTable;

/// The reference magnitude's centre and scale.
const REFERENCE_CENTRE: f32 = 20.0;
const REFERENCE_SCALE: f32 = 2.0;
/// Errors below this are taken as this (a noiseless simulation has σ = 0).
const ERROR_FLOOR: f32 = 1e-4;
/// log₁₀ σ + this is the error feature (0 at 0.01 mag).
const ERROR_OFFSET: f32 = 2.0;

/// The number of features of `bands` bands.
pub fn feature_count(bands: usize) -> usize {
    2 * bands
}

/// The features' names, in order (for reports and checkpoints).
pub fn feature_names(bands: &[String], reference: usize) -> Vec<String> {
    let mut names = vec![format!("({}-20)/2", bands[reference])];
    names.extend(bands.windows(2).map(|w| format!("{}-{}", w[0], w[1])));
    names.extend(bands.iter().map(|b| format!("log10(err_{b})+2")));
    names
}

/// The features of one object: `mags` and `errs` hold one value per band; `out` receives
/// [`feature_count`] values.
pub fn object_features(mags: &[f32], errs: &[f32], reference: usize, out: &mut [f32]) {
    let bands = mags.len();
    assert!(errs.len() == bands && out.len() == feature_count(bands) && reference < bands);
    // (m_r − 20) / 2
    out[0] = (mags[reference] - REFERENCE_CENTRE) / REFERENCE_SCALE;
    // m_b − m_{b+1}
    for b in 0..bands - 1 {
        out[1 + b] = mags[b] - mags[b + 1];
    }
    // log₁₀ max(σ_b, 10⁻⁴) + 2
    for b in 0..bands {
        out[bands + b] = errs[b].max(ERROR_FLOOR).log10() + ERROR_OFFSET;
    }
}

/// The features of every object: `mags` and `errs` are `[n, bands]`; returns `[n, 2 bands]`.
pub fn catalog_features(mags: &[f32], errs: &[f32], bands: usize, reference: usize) -> Vec<f32> {
    assert!(bands > 0 && mags.len() == errs.len() && mags.len().is_multiple_of(bands));
    let width = feature_count(bands);
    let mut out = vec![0.0; mags.len() / bands * width];
    for ((m, e), f) in mags
        .chunks_exact(bands)
        .zip(errs.chunks_exact(bands))
        .zip(out.chunks_exact_mut(width))
    {
        object_features(m, e, reference, f);
    }
    out
}

/// The features of a table, with the sample shape a dense network takes; `reference` names
/// the reference band.
pub fn table_features(
    table: &PhotometryTable,
    reference: &str,
) -> Result<(Dims, Vec<f32>), String> {
    let at = table
        .bands
        .iter()
        .position(|b| b == reference)
        .ok_or_else(|| {
            format!(
                "{}: the reference band '{reference}' is not among the bands {}",
                table.source,
                table.bands.join(", ")
            )
        })?;
    let bands = table.bands.len();
    Ok((
        Dims::Flat(feature_count(bands)),
        catalog_features(&table.mags, &table.errs, bands, at),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_a_hand_computed_object() {
        let mags = [19.0, 17.5, 17.0, 16.75, 16.5];
        let errs = [0.1, 0.01, 0.001, 0.0, 1.0];
        let f = catalog_features(&mags, &errs, 5, 2);
        let expected = [-1.5, 1.5, 0.5, 0.25, 0.25, 1.0, 0.0, -1.0, -2.0, 2.0];
        assert_eq!(f.len(), 10);
        for (i, (a, b)) in f.iter().zip(expected).enumerate() {
            assert!((a - b).abs() < 1e-6, "feature {i}: {a} vs {b}");
        }
        let bands: Vec<String> = ["u", "g", "r", "i", "z"].map(String::from).to_vec();
        let names = feature_names(&bands, 2);
        assert_eq!(names.len(), 10);
        assert_eq!(names[0], "(r-20)/2");
        assert_eq!(names[4], "i-z");
        assert_eq!(names[9], "log10(err_z)+2");
        // Two objects: the second's features follow the first's.
        let two = catalog_features(&[mags, mags].concat(), &[errs, errs].concat(), 5, 2);
        assert_eq!(&two[..10], &f[..]);
        assert_eq!(&two[10..], &f[..]);
    }
}
