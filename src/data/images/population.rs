//! Galaxy types: a red de Vaucouleurs bulge plus an exponential disk, each with its own SED, in
//! proportions tied to the type.
//!
//! The bulge SED mixes the reddest early-type templates (no dust, no lines); the disk SED mixes
//! templates one class later than the galaxy's type (the disk of an Sa is bluer than the whole
//! Sa, whose template includes its bulge), with Calzetti dust and emission lines from the
//! spectral simulator's [`SedLibrary`]. Rest-frame g − r of the templates (z = 0): bulges
//! 0.75–0.82, E-S0 disks 0.69–0.73, Sa-Sb disks 0.58–0.65, Sc-Sd disks 0.45–0.55, Irr-SB
//! disks 0.1–0.42. The bulge-to-total ratio B/T (of rest-frame SDSS r light) is drawn uniformly
//! in the type's range. Ranges are choices guided by shared research §3c and §4a: the brightest
//! galaxies are ≈ 80 % pure bulge, faint ones mostly disk (Tasca & White 2011); bright spirals
//! mostly have B/T ≤ 0.2 (Weinzirl et al. 2009); the Hα equivalent width splits retired
//! (< 3 Å) from star-forming galaxies (Cid Fernandes et al. 2011), ≈ 25 Å for local spirals.

use crate::data::spectra::{builtin_templates, LibraryConfig, LineConfig, Mixing, SedLibrary};

/// Galaxies drawn into each library (each a mixture of up to two of its templates).
const LIBRARY_SIZE: usize = 200;

/// One galaxy type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GalaxyType {
    pub name: &'static str,
    /// Templates the disk component mixes.
    pub disk_templates: &'static [&'static str],
    /// Range of B/T (rest-frame r light).
    pub bulge_to_total: (f64, f64),
    /// Range of the disk's stellar E(B−V) (Calzetti dust).
    pub disk_ebv: (f64, f64),
    /// Range of the disk's rest-frame Hα equivalent width \[Å\] (log-uniform).
    pub halpha_ew: (f64, f64),
}

/// The four types, from bulge-dominated to irregular.
pub const TYPES: [GalaxyType; 4] = [
    GalaxyType {
        name: "E-S0",
        disk_templates: &["Sb_A_0", "Sb_A_1"],
        bulge_to_total: (0.6, 1.0),
        disk_ebv: (0.0, 0.05),
        halpha_ew: (0.5, 3.0),
    },
    GalaxyType {
        name: "Sa-Sb",
        disk_templates: &["Sc_A_0", "Sc_A_1", "Sbc_B2004a"],
        bulge_to_total: (0.15, 0.5),
        disk_ebv: (0.0, 0.2),
        halpha_ew: (3.0, 30.0),
    },
    GalaxyType {
        name: "Sc-Sd",
        disk_templates: &["Sc_A_2", "Sd_A_0", "Sd_A_1", "Sd_A_2", "Scd_B2004a"],
        bulge_to_total: (0.0, 0.15),
        disk_ebv: (0.0, 0.3),
        halpha_ew: (10.0, 80.0),
    },
    GalaxyType {
        name: "Irr-SB",
        disk_templates: &[
            "Sdm_A_0",
            "SB1_A_0",
            "SB3_A_0",
            "SB5_A_0",
            "Im_B2004a",
            "SB2_B2004a",
        ],
        bulge_to_total: (0.0, 0.05),
        disk_ebv: (0.0, 0.3),
        halpha_ew: (30.0, 300.0),
    },
];

/// Templates of every bulge: the reddest COSMOS early types (rest g − r 0.75–0.82) and CWW E.
pub const BULGE_TEMPLATES: &[&str] = &["Ell6_A_0", "Ell7_A_0", "S0_A_0", "El_B2004a"];

/// The SED libraries of the bulges and of each type's disks.
#[derive(Clone, Debug)]
pub struct Population {
    pub bulges: SedLibrary,
    pub disks: Vec<SedLibrary>,
}

impl Population {
    /// Draws the libraries from `seed` (one derived seed per library).
    pub fn new(seed: u64) -> Result<Self, String> {
        let bulge_config = LibraryConfig {
            n_galaxies: Some(LIBRARY_SIZE),
            mixing: Mixing::Random { max_templates: 2 },
            ebv: (0.0, 0.0),
            lines: None,
            population: None,
        };
        let bulges = library(BULGE_TEMPLATES, &bulge_config, seed)?;
        let disks = TYPES
            .iter()
            .enumerate()
            .map(|(t, ty)| {
                let config = LibraryConfig {
                    n_galaxies: Some(LIBRARY_SIZE),
                    mixing: Mixing::Random { max_templates: 2 },
                    ebv: ty.disk_ebv,
                    lines: Some(LineConfig {
                        halpha_ew: ty.halpha_ew,
                        ..LineConfig::default()
                    }),
                    population: None,
                };
                library(ty.disk_templates, &config, seed.wrapping_add(1 + t as u64))
            })
            .collect::<Result<_, _>>()?;
        Ok(Population { bulges, disks })
    }
}

/// A library of the named shipped templates.
fn library(names: &[&str], config: &LibraryConfig, seed: u64) -> Result<SedLibrary, String> {
    let templates: Vec<_> = builtin_templates()
        .into_iter()
        .filter(|t| names.contains(&t.name.as_str()))
        .collect();
    if templates.len() != names.len() {
        return Err(format!(
            "population: templates {names:?} are not all shipped"
        ));
    }
    SedLibrary::from_templates(templates, config, seed)
}
