//! Emission lines: rest-frame vacuum wavelengths (read from the shipped line list) and the
//! random line ratios drawn for each galaxy.

use std::sync::OnceLock;

use rand::Rng;

use super::draw::{check_range, log_uniform, uniform};
use super::dust;

/// The shipped line list (fastspecfit 3.6.1, BSD-3; see `data/licenses/fastspecfit.txt`):
/// CSV with a header, first column the name, second the rest vacuum wavelength \[Å\].
const LINE_LIST_CSV: &str = include_str!("../../../data/lines/emission_lines_vacuum.csv");

/// Number of lines the simulator adds.
pub const N_LINES: usize = 15;

/// Names (as in the line list) of the lines the simulator adds, in the order used by every
/// `\[_; N_LINES\]` array of this module.
pub const LINE_NAMES: [&str; N_LINES] = [
    "halpha",
    "hbeta",
    "hgamma",
    "hdelta",
    "nii_6548",
    "nii_6584",
    "sii_6716",
    "sii_6731",
    "oiii_4959",
    "oiii_5007",
    "siii_9069",
    "siii_9532",
    "oii_3726",
    "oii_3729",
    "hei_5876",
];

/// Index of Hα in [`LINE_NAMES`].
pub const HALPHA: usize = 0;
pub(super) const HBETA: usize = 1;
const HGAMMA: usize = 2;
const HDELTA: usize = 3;
const NII_6550: usize = 4;
pub(super) const NII_6585: usize = 5;
pub(super) const SII_6718: usize = 6;
pub(super) const SII_6732: usize = 7;
const OIII_4960: usize = 8;
pub(super) const OIII_5008: usize = 9;
const SIII_9071: usize = 10;
const SIII_9533: usize = 11;
pub(super) const OII_3727: usize = 12;
pub(super) const OII_3729: usize = 13;
const HEI_5876: usize = 14;

/// Fixed ratios: atomic-physics doublet ratios and Case B Balmer decrement (10⁴ K, low density;
/// Osterbrock & Ferland 2006).
const NII_6585_OVER_6550: f64 = 3.0;
const OIII_5008_OVER_4960: f64 = 2.98;
const HALPHA_OVER_HBETA: f64 = 2.86;
const HGAMMA_OVER_HBETA: f64 = 0.47;
const HDELTA_OVER_HBETA: f64 = 0.26;
const SII_6718_OVER_6732: f64 = 1.4;
const SIII_9533_OVER_9071: f64 = 2.5;

/// Speed of light \[km/s\], to turn a velocity dispersion into a line width.
pub const SPEED_OF_LIGHT_KMS: f64 = 299_792.458;

/// Every (name, rest vacuum wavelength \[Å\]) of the shipped line list, in file order.
pub fn line_catalogue() -> &'static [(&'static str, f64)] {
    static CATALOGUE: OnceLock<Vec<(&'static str, f64)>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        LINE_LIST_CSV
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let mut fields = line.split(',');
                let name = fields.next().unwrap_or_default();
                let lambda = fields
                    .next()
                    .and_then(|text| text.parse().ok())
                    .expect("the shipped line list has a wavelength in its second column");
                (name, lambda)
            })
            .collect()
    })
}

/// Rest vacuum wavelengths \[Å\] of the lines of [`LINE_NAMES`], looked up in the line list.
pub fn line_wavelengths() -> &'static [f64; N_LINES] {
    static WAVELENGTHS: OnceLock<[f64; N_LINES]> = OnceLock::new();
    WAVELENGTHS.get_or_init(|| {
        LINE_NAMES.map(|name| {
            line_catalogue()
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, lambda)| *lambda)
                .expect("every simulated line is in the shipped line list")
        })
    })
}

/// Ranges (min, max) from which each galaxy's line properties are drawn, uniformly unless
/// said otherwise. Ratios are intrinsic (before dust) unless said otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct LineConfig {
    /// Rest-frame equivalent width of Hα \[Å\], after dust, relative to the local continuum;
    /// log-uniform.
    pub halpha_ew: (f64, f64),
    /// \[NII\]6585 / Hα (\[NII\]6550 = \[NII\]6585 / 3.0).
    pub nii_over_halpha: (f64, f64),
    /// \[OIII\]5008 / Hβ, log-uniform (\[OIII\]4960 = \[OIII\]5008 / 2.98).
    pub oiii_over_hbeta: (f64, f64),
    /// (\[SII\]6718 + \[SII\]6732) / Hα, split 1.4 : 1.
    pub sii_over_halpha: (f64, f64),
    /// \[SIII\]9533 / Hα (\[SIII\]9071 = \[SIII\]9533 / 2.5).
    pub siii_over_halpha: (f64, f64),
    /// (\[OII\]3727 + \[OII\]3729) / Hα.
    pub oii_over_halpha: (f64, f64),
    /// \[OII\]3729 / \[OII\]3727 (density-sensitive: 0.35 at high density, 1.5 at low density).
    pub oii_doublet_ratio: (f64, f64),
    /// HeI 5876 / Hβ.
    pub hei_over_hbeta: (f64, f64),
    /// Gas velocity dispersion σ_v \[km/s\]; a line of rest wavelength λ has σ = λ σ_v / c.
    pub velocity_dispersion_kms: (f64, f64),
}

impl Default for LineConfig {
    /// Typical z ~ 1–2 star-forming galaxies (see `shared/research/data_and_instrument.md`
    /// §2.4): EW(Hα) 20–300 Å, \[NII\]/Hα 0.1–0.4, \[OIII\]/Hβ 1–5, \[SII\]/Hα 0.2–0.4.
    fn default() -> Self {
        LineConfig {
            halpha_ew: (20.0, 300.0),
            nii_over_halpha: (0.1, 0.4),
            oiii_over_hbeta: (1.0, 5.0),
            sii_over_halpha: (0.2, 0.4),
            siii_over_halpha: (0.1, 0.35),
            oii_over_halpha: (0.4, 1.5),
            oii_doublet_ratio: (0.35, 1.5),
            hei_over_hbeta: (0.08, 0.14),
            velocity_dispersion_kms: (50.0, 200.0),
        }
    }
}

impl LineConfig {
    /// Checks every range is finite, non-negative and ordered (min ≤ max); the log-uniform ones
    /// and the velocity dispersion (a line needs a width) must be positive.
    pub fn validate(&self) -> Result<(), String> {
        let ranges = [
            ("halpha_ew", self.halpha_ew, true),
            ("nii_over_halpha", self.nii_over_halpha, false),
            ("oiii_over_hbeta", self.oiii_over_hbeta, true),
            ("sii_over_halpha", self.sii_over_halpha, false),
            ("siii_over_halpha", self.siii_over_halpha, false),
            ("oii_over_halpha", self.oii_over_halpha, false),
            ("oii_doublet_ratio", self.oii_doublet_ratio, false),
            ("hei_over_hbeta", self.hei_over_hbeta, false),
            (
                "velocity_dispersion_kms",
                self.velocity_dispersion_kms,
                false,
            ),
        ];
        for (name, range, log_uniform) in ranges {
            check_range(name, range, log_uniform)?;
        }
        Ok(())
    }
}

/// The free line ratios of one galaxy (intrinsic, before dust); the fixed atomic and Case B
/// ratios fill in the rest ([`IntrinsicRatios::relative_to_halpha`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IntrinsicRatios {
    /// \[NII\]6585 / Hα.
    pub nii_over_halpha: f64,
    /// \[OIII\]5008 / Hβ.
    pub oiii_over_hbeta: f64,
    /// (\[SII\]6718 + \[SII\]6732) / Hα.
    pub sii_over_halpha: f64,
    /// \[SIII\]9533 / Hα.
    pub siii_over_halpha: f64,
    /// (\[OII\]3727 + \[OII\]3729) / Hα.
    pub oii_over_halpha: f64,
    /// \[OII\]3729 / \[OII\]3727.
    pub oii_doublet_ratio: f64,
    /// HeI 5876 / Hβ.
    pub hei_over_hbeta: f64,
}

impl IntrinsicRatios {
    /// Draws every free ratio from the ranges of `config`.
    pub fn draw<R: Rng>(config: &LineConfig, rng: &mut R) -> Self {
        IntrinsicRatios {
            nii_over_halpha: uniform(rng, config.nii_over_halpha),
            oiii_over_hbeta: log_uniform(rng, config.oiii_over_hbeta),
            sii_over_halpha: uniform(rng, config.sii_over_halpha),
            siii_over_halpha: uniform(rng, config.siii_over_halpha),
            oii_over_halpha: uniform(rng, config.oii_over_halpha),
            oii_doublet_ratio: uniform(rng, config.oii_doublet_ratio),
            hei_over_hbeta: uniform(rng, config.hei_over_hbeta),
        }
    }

    /// Intrinsic (dust-free) flux of every line of [`LINE_NAMES`] relative to intrinsic Hα.
    pub fn relative_to_halpha(&self) -> [f64; N_LINES] {
        let mut ratio = [0.0; N_LINES];
        ratio[HALPHA] = 1.0;
        ratio[HBETA] = 1.0 / HALPHA_OVER_HBETA;
        ratio[HGAMMA] = HGAMMA_OVER_HBETA * ratio[HBETA];
        ratio[HDELTA] = HDELTA_OVER_HBETA * ratio[HBETA];
        ratio[NII_6585] = self.nii_over_halpha;
        ratio[NII_6550] = ratio[NII_6585] / NII_6585_OVER_6550;
        ratio[OIII_5008] = self.oiii_over_hbeta * ratio[HBETA];
        ratio[OIII_4960] = ratio[OIII_5008] / OIII_5008_OVER_4960;
        let sii = self.sii_over_halpha;
        ratio[SII_6718] = sii * SII_6718_OVER_6732 / (1.0 + SII_6718_OVER_6732);
        ratio[SII_6732] = sii / (1.0 + SII_6718_OVER_6732);
        ratio[SIII_9533] = self.siii_over_halpha;
        ratio[SIII_9071] = ratio[SIII_9533] / SIII_9533_OVER_9071;
        let (oii, doublet) = (self.oii_over_halpha, self.oii_doublet_ratio);
        ratio[OII_3727] = oii / (1.0 + doublet);
        ratio[OII_3729] = oii * doublet / (1.0 + doublet);
        ratio[HEI_5876] = self.hei_over_hbeta * ratio[HBETA];
        ratio
    }
}

/// Intrinsic (dust-free) flux of every line relative to intrinsic Hα, with the free ratios
/// drawn from the ranges of `config`.
pub fn draw_intrinsic_ratios<R: Rng>(config: &LineConfig, rng: &mut R) -> [f64; N_LINES] {
    IntrinsicRatios::draw(config, rng).relative_to_halpha()
}

/// Observed (dust-attenuated) rest-frame line fluxes, given the attenuated Hα flux, the
/// intrinsic ratios and the stellar colour excess. Lines are attenuated with the gas colour
/// excess E(B−V)_gas = E(B−V)_star / 0.44 (Calzetti et al. 2000, eq. 3):
/// F_i = r_i · F_Hα · 10^(−0.4 \[k(λ_i) − k(Hα)\] E(B−V)_gas).
pub fn attenuated_line_fluxes(
    halpha_flux: f64,
    intrinsic_ratios: &[f64; N_LINES],
    ebv_star: f64,
) -> [f64; N_LINES] {
    let ebv_gas = ebv_star / dust::STELLAR_TO_GAS_EBV;
    let lambdas = line_wavelengths();
    let halpha_transmission = dust::transmission(lambdas[HALPHA], ebv_gas);
    let intrinsic_halpha = halpha_flux / halpha_transmission;
    let mut flux = [0.0; N_LINES];
    for ((f, ratio), lambda) in flux.iter_mut().zip(intrinsic_ratios).zip(lambdas) {
        *f = intrinsic_halpha * ratio * dust::transmission(*lambda, ebv_gas);
    }
    flux
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn wavelengths_come_from_the_line_list() {
        let lambdas = line_wavelengths();
        assert_eq!(lambdas[HALPHA], 6564.6);
        assert_eq!(lambdas[NII_6585], 6585.273);
        assert_eq!(lambdas[OIII_5008], 5008.24);
        assert_eq!(lambdas[SIII_9533], 9533.2);
        assert!(line_catalogue().len() > 40);
    }

    #[test]
    fn drawn_ratios_respect_the_configured_ranges_and_atomic_ratios() {
        let config = LineConfig::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for _ in 0..1000 {
            let r = draw_intrinsic_ratios(&config, &mut rng);
            assert!((0.1..=0.4).contains(&r[NII_6585]));
            assert!((r[NII_6585] / r[NII_6550] - 3.0).abs() < 1e-12);
            assert!((1.0..=5.0).contains(&(r[OIII_5008] / r[HBETA])));
            assert!((r[OIII_5008] / r[OIII_4960] - 2.98).abs() < 1e-12);
            assert!((r[HALPHA] / r[HBETA] - 2.86).abs() < 1e-12);
            assert!((0.2..=0.4).contains(&(r[SII_6718] + r[SII_6732])));
            assert!((r[SII_6718] / r[SII_6732] - 1.4).abs() < 1e-12);
            assert!((r[SIII_9533] / r[SIII_9071] - 2.5).abs() < 1e-12);
            assert!((0.35..=1.5).contains(&(r[OII_3729] / r[OII_3727])));
        }
    }

    #[test]
    fn dust_reddens_the_balmer_decrement() {
        let ratios = draw_intrinsic_ratios(
            &LineConfig::default(),
            &mut Xoshiro256PlusPlus::seed_from_u64(6),
        );
        let clean = attenuated_line_fluxes(1.0, &ratios, 0.0);
        assert_eq!(clean[HALPHA], 1.0);
        assert!((clean[HALPHA] / clean[HBETA] - 2.86).abs() < 1e-12);
        let dusty = attenuated_line_fluxes(1.0, &ratios, 0.2);
        assert!((dusty[HALPHA] - 1.0).abs() < 1e-12);
        // Hα/Hβ = 2.86 · 10^(0.4 (k(Hβ) − k(Hα)) E_gas), k(Hβ) − k(Hα) ≈ 1.27.
        let expected = 2.86 * 10f64.powf(0.4 * 1.27 * 0.2 / 0.44);
        assert!((dusty[HALPHA] / dusty[HBETA] / expected - 1.0).abs() < 0.01);
    }

    #[test]
    fn invalid_ranges_are_rejected_with_their_name() {
        let config = LineConfig {
            halpha_ew: (0.0, 10.0),
            ..LineConfig::default()
        };
        let err = config.validate().expect_err("log-uniform from 0");
        assert!(err.starts_with("halpha_ew: invalid range (0, 10)"), "{err}");
        let config = LineConfig {
            nii_over_halpha: (0.5, 0.1),
            ..LineConfig::default()
        };
        assert!(config.validate().is_err());
        assert!(LineConfig::default().validate().is_ok());
    }
}
