//! An LSST-like catalogue from the shipped Buzzard mock (DeRose et al. 2019; `data/catalogs/`):
//! the true LSST u g r i z y magnitudes observed through the LSST error model
//! ([`super::lsst`], [`super::observe`]) and cut in observed i, like the LSST "gold" sample
//! (i < 25.3 after 10 years; Ivezić et al. 2019, §3.2.1).
//!
//! The order is one seeded permutation of the catalogue's rows, then the noise of each row's
//! six bands in turn, from one stream: a seed gives the same catalogue on any machine, and
//! asking for fewer galaxies gives the first ones of the larger catalogue.

use rand::seq::SliceRandom;

use super::error_model::BandErrors;
use super::lsst::{lsst_bands, LSST_BANDS};
use super::observe::{observe, Observation};
use crate::data::images::buzzard::{catalogue, LSST_I};
use crate::rng::stream;

/// The stream of the catalogue's permutation and noise (see [`crate::rng::stream`]).
pub const LSST_CATALOGUE_STREAM: u64 = 0x4C53_5354; // "LSST"
/// The LSST gold sample's limit in observed i.
pub const GOLD_I_MAX: f64 = 25.3;

/// What to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct LsstCatalogueConfig {
    /// Galaxies to keep (`None`: every galaxy that passes the cut).
    pub n: Option<usize>,
    pub seed: u64,
    /// Keep galaxies with observed i below this.
    pub i_max: f64,
    /// Years of survey (the coadd's depth).
    pub years: f64,
}

/// One galaxy of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct LsstGalaxy {
    /// Its row in the Buzzard file (0 for the first galaxy).
    pub source_row: usize,
    pub z: f64,
    /// True AB magnitudes, u g r i z y.
    pub true_magnitudes: [f64; 6],
    /// Observed asinh magnitudes and errors, u g r i z y.
    pub observed: [Observation; 6],
}

/// The catalogue and the bands it was observed in.
#[derive(Clone, Debug)]
pub struct LsstCatalogue {
    pub bands: Vec<BandErrors>,
    pub galaxies: Vec<LsstGalaxy>,
}

/// Draws the catalogue of `config` (see the module notes).
pub fn simulate_lsst_catalogue(config: &LsstCatalogueConfig) -> Result<LsstCatalogue, String> {
    if !config.i_max.is_finite() {
        return Err(format!(
            "the i-band limit must be a finite magnitude, got {}",
            config.i_max
        ));
    }
    if config.n == Some(0) {
        return Err("the number of galaxies must be at least 1".into());
    }
    let bands = lsst_bands(config.years)?;
    debug_assert_eq!(bands.len(), LSST_BANDS.len());
    let rows = catalogue();
    let mut rng = stream(config.seed, LSST_CATALOGUE_STREAM);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.shuffle(&mut rng);
    let wanted = config.n.unwrap_or(rows.len());
    let mut galaxies = Vec::with_capacity(wanted.min(rows.len()));
    for &row in &order {
        if galaxies.len() == wanted {
            break;
        }
        let source = &rows[row];
        let observed: [Observation; 6] =
            std::array::from_fn(|b| observe(&bands[b], source.magnitudes[b], &mut rng));
        if observed[LSST_I].magnitude < config.i_max {
            galaxies.push(LsstGalaxy {
                source_row: row,
                z: source.z,
                true_magnitudes: source.magnitudes,
                observed,
            });
        }
    }
    if galaxies.is_empty() || config.n.is_some_and(|n| galaxies.len() < n) {
        return Err(format!(
            "only {} of the {} Buzzard galaxies have an observed i < {} (seed {}); ask for at \
             most that many, or raise the limit",
            galaxies.len(),
            rows.len(),
            config.i_max,
            config.seed
        ));
    }
    Ok(LsstCatalogue { bands, galaxies })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(n: Option<usize>, seed: u64) -> LsstCatalogueConfig {
        LsstCatalogueConfig {
            n,
            seed,
            i_max: GOLD_I_MAX,
            years: 10.0,
        }
    }

    #[test]
    fn the_cut_holds_and_a_seed_gives_the_same_catalogue() {
        let a = simulate_lsst_catalogue(&config(Some(500), 3)).unwrap();
        assert_eq!(a.galaxies.len(), 500);
        assert!(a
            .galaxies
            .iter()
            .all(|g| g.observed[LSST_I].magnitude < GOLD_I_MAX));
        let again = simulate_lsst_catalogue(&config(Some(500), 3)).unwrap();
        assert_eq!(a.galaxies, again.galaxies);
        // Fewer galaxies: the first ones of the larger catalogue.
        let fewer = simulate_lsst_catalogue(&config(Some(200), 3)).unwrap();
        assert_eq!(&a.galaxies[..200], &fewer.galaxies[..]);
        let other = simulate_lsst_catalogue(&config(Some(500), 4)).unwrap();
        assert_ne!(a.galaxies, other.galaxies);
        // The truth is the shipped row's.
        let rows = catalogue();
        for g in &a.galaxies {
            assert_eq!(g.z, rows[g.source_row].z);
            assert_eq!(g.true_magnitudes, rows[g.source_row].magnitudes);
        }
    }

    #[test]
    fn the_whole_gold_sample_and_too_many_galaxies() {
        let all = simulate_lsst_catalogue(&config(None, 1)).unwrap();
        let n = all.galaxies.len();
        // The median true i is ≈ 25.3 (data/README.md): about half the rows pass.
        assert!((40_000..60_000).contains(&n), "{n}");
        let e = simulate_lsst_catalogue(&config(Some(n + 1), 1)).unwrap_err();
        assert!(e.contains(&format!("only {n} of the 100000")), "{e}");
        let mut bad = config(Some(10), 1);
        bad.i_max = f64::NAN;
        assert!(simulate_lsst_catalogue(&bad)
            .unwrap_err()
            .contains("i-band limit"));
        assert!(simulate_lsst_catalogue(&config(Some(0), 1)).is_err());
    }
}
