//! A galaxy population like the sky: passive galaxies without lines, retired (LINER-like)
//! galaxies with weak lines, star-forming galaxies, Seyferts and post-starburst galaxies (a
//! young continuum without lines), each with its continuum, dust, Hα equivalent width and line
//! ratios drawn from published relations.
//!
//! Classes and their Hα equivalent widths W follow the WHAN diagram (Cid Fernandes et al. 2011,
//! MNRAS 413, 1687): passive W < 0.5 Å (no lines here), retired 0.5 ≤ W < 3 Å, star-forming
//! W > 3 Å, strong AGN W > 6 Å. Line ratios place each class in its region of the BPT diagram
//! (x = log \[NII\]6585/Hα, y = log \[OIII\]5008/Hβ). Everything drawn at the population's
//! reference redshift (the middle of the simulated range): one galaxy of the library is reused
//! at any z of that range.

use rand::Rng;

use super::draw::{log_uniform, uniform};
use super::lines::IntrinsicRatios;

/// Names accepted by [`Population::preset`].
pub const POPULATION_NAMES: [&str; 3] = ["mixed", "halpha", "passive"];

/// The spectral class of a galaxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GalaxyClass {
    /// Old stellar population, no emission lines (WHAN "passive").
    Passive,
    /// Old stellar population with weak LINER-like lines, 0.5 ≤ W(Hα) < 3 Å (WHAN "retired").
    Retired,
    /// Star-forming, W(Hα) > 3 Å, below the star-forming/AGN line of the BPT diagram.
    StarForming,
    /// Strong AGN, W(Hα) > 6 Å, above the Kewley et al. (2001) and Schawinski et al. (2007)
    /// lines.
    Seyfert,
    /// Post-starburst ("k+a", "E+A"; Dressler & Gunn 1983): the young continuum of a recent
    /// burst (Dn4000 < [`super::indices::PASSIVE_DN4000`]) without emission lines, star
    /// formation having stopped. Spiral and irregular continua without lines belong here too.
    PostStarburst,
}

impl GalaxyClass {
    /// The classes in the order of [`Population::fractions`].
    pub const ALL: [GalaxyClass; 5] = [
        GalaxyClass::Passive,
        GalaxyClass::Retired,
        GalaxyClass::StarForming,
        GalaxyClass::Seyfert,
        GalaxyClass::PostStarburst,
    ];

    /// The name written into label files.
    pub fn name(self) -> &'static str {
        match self {
            GalaxyClass::Passive => "passive",
            GalaxyClass::Retired => "retired",
            GalaxyClass::StarForming => "star_forming",
            GalaxyClass::Seyfert => "seyfert",
            GalaxyClass::PostStarburst => "post_starburst",
        }
    }

    /// Whether the continuum is drawn from old-population templates only
    /// (Dn4000 ≥ [`super::indices::PASSIVE_DN4000`]).
    pub fn has_old_continuum(self) -> bool {
        matches!(self, GalaxyClass::Passive | GalaxyClass::Retired)
    }

    /// Whether the continuum is drawn from young-population templates only
    /// (Dn4000 < [`super::indices::PASSIVE_DN4000`]).
    pub fn has_young_continuum(self) -> bool {
        self == GalaxyClass::PostStarburst
    }

    /// Range of the stellar colour excess E(B−V)_star, drawn uniformly: up to 0.3 for
    /// star-forming galaxies, AGN and post-starbursts (the range of the Calzetti 2000 starburst
    /// sample), up to 0.1 for old populations, which hold little dust.
    pub fn ebv_range(self) -> (f64, f64) {
        if self.has_old_continuum() {
            (0.0, 0.1)
        } else {
            (0.0, 0.3)
        }
    }
}

/// Which classes a library holds, and at which redshift their relations are evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    /// Fractions of the classes of [`GalaxyClass::ALL`], summing to 1.
    pub fractions: [f64; 5],
    /// Redshift of the EW and line-ratio relations.
    pub z_reference: f64,
}

impl Population {
    /// A named population:
    ///
    /// - `mixed`: 25 % passive, 10 % retired, 50 % star-forming, 5 % Seyfert, 10 %
    ///   post-starburst. Quiescent galaxies are ≈ 20–30 % of mass-selected samples at z ≈ 1–1.5
    ///   and more locally (a third to half of SDSS galaxies are retired or passive); these
    ///   fractions are this project's choice within those ranges, not a fit. Post-starbursts
    ///   are rarer in the sky (≈ 1 % locally, a few % of massive galaxies at z ≈ 1–2); they get
    ///   10 % so that a network sees young continua without lines at all: without them it fails
    ///   on spiral continua without lines (README "Generalisation study").
    /// - `halpha`: an Hα-selected sample (Euclid-like; the flux limit is applied by the
    ///   simulator's flux scale): 95 % star-forming, 5 % Seyfert.
    /// - `passive`: passive galaxies only (absorption features, no lines), to test a model on
    ///   the galaxies real samples hold and strong-line libraries lack.
    pub fn preset(name: &str, z_reference: f64) -> Result<Population, String> {
        let fractions = match name {
            "mixed" => [0.25, 0.10, 0.50, 0.05, 0.10],
            "halpha" => [0.0, 0.0, 0.95, 0.05, 0.0],
            "passive" => [1.0, 0.0, 0.0, 0.0, 0.0],
            _ => {
                return Err(format!(
                    "unknown population '{name}'; known populations: {}",
                    POPULATION_NAMES.join(", ")
                ))
            }
        };
        let population = Population {
            fractions,
            z_reference,
        };
        population.validate()?;
        Ok(population)
    }

    /// Checks the fractions (finite, ≥ 0, summing to 1) and the reference redshift.
    pub fn validate(&self) -> Result<(), String> {
        let sum: f64 = self.fractions.iter().sum();
        if self.fractions.iter().any(|f| !(f.is_finite() && *f >= 0.0)) || (sum - 1.0).abs() > 1e-9
        {
            return Err(format!(
                "population.fractions: expected finite values ≥ 0 summing to 1, found {:?}",
                self.fractions
            ));
        }
        if !(self.z_reference.is_finite() && self.z_reference >= 0.0) {
            return Err(format!(
                "population.z_reference: expected a finite z ≥ 0, found {}",
                self.z_reference
            ));
        }
        Ok(())
    }

    /// Draws a class with the population's fractions.
    pub fn draw_class<R: Rng>(&self, rng: &mut R) -> GalaxyClass {
        let u: f64 = rng.gen();
        let mut cumulative = 0.0;
        for (class, fraction) in GalaxyClass::ALL.iter().zip(self.fractions) {
            cumulative += fraction;
            if u < cumulative {
                return *class;
            }
        }
        // Rounding can leave the sum a hair below 1: the last class with a share takes the rest.
        let last = self.fractions.iter().rposition(|&f| f > 0.0).unwrap_or(0);
        GalaxyClass::ALL[last]
    }

    /// The rest-frame Hα equivalent width \[Å\] (after dust, against the local continuum) and the
    /// intrinsic line ratios of a galaxy of `class`; `None` for passive galaxies.
    pub fn draw_emission<R: Rng>(
        &self,
        class: GalaxyClass,
        rng: &mut R,
    ) -> Option<(f64, IntrinsicRatios)> {
        let z = self.z_reference;
        let (ew, x, y) = match class {
            GalaxyClass::Passive | GalaxyClass::PostStarburst => return None,
            GalaxyClass::Retired => {
                let ew = log_uniform(rng, RETIRED_EW);
                let x = uniform(rng, (-0.1, 0.3));
                let y = uniform(rng, liner_oiii_range(x));
                (ew, x, y)
            }
            GalaxyClass::StarForming => {
                let log_mass = uniform(rng, STAR_FORMING_LOG_MASS);
                let ew = star_forming_ew(z, log_mass, rng.gen());
                let x = uniform(rng, (-1.3, -0.5));
                let y = star_forming_limit(x, z) - uniform(rng, (0.1, 0.5));
                (ew, x, y)
            }
            GalaxyClass::Seyfert => {
                let ew = log_uniform(rng, SEYFERT_EW);
                let x = uniform(rng, (-0.2, 0.3));
                let y = kewley_2001(x).max(schawinski_2007(x)) + uniform(rng, (0.05, 0.4));
                (ew, x, y)
            }
        };
        // [SII]/Hα rises from star-forming galaxies to AGN and LINERs (Kewley et al. 2006,
        // MNRAS 372, 961, fig. 4); [OII]/Hα ≈ 0.56 for star formation (the Kennicutt 1998 SFR
        // calibrations: 7.9e-42 L(Hα) = 1.4e-41 L([OII])) and higher for LINER-like red
        // galaxies (Yan et al. 2006, ApJ 648, 281).
        let (sii, oii) = match class {
            GalaxyClass::StarForming => ((0.2, 0.5), (0.4, 1.0)),
            GalaxyClass::Seyfert => ((0.4, 0.9), (0.5, 1.5)),
            _ => ((0.5, 1.0), (1.0, 3.0)),
        };
        let ratios = IntrinsicRatios {
            nii_over_halpha: 10f64.powf(x),
            oiii_over_hbeta: 10f64.powf(y),
            sii_over_halpha: uniform(rng, sii),
            siii_over_halpha: uniform(rng, (0.1, 0.35)),
            oii_over_halpha: uniform(rng, oii),
            oii_doublet_ratio: uniform(rng, (0.35, 1.5)),
            hei_over_hbeta: uniform(rng, (0.08, 0.14)),
        };
        Some((ew, ratios))
    }
}

/// W(Hα) of retired galaxies \[Å\], log-uniform: the WHAN band 0.5–3 Å.
pub const RETIRED_EW: (f64, f64) = (0.5, 3.0);
/// W(Hα) of Seyferts \[Å\], log-uniform from the WHAN strong-AGN limit of 6 Å.
pub const SEYFERT_EW: (f64, f64) = (6.0, 60.0);
/// log10 of the stellar mass \[M☉\] of star-forming galaxies, uniform.
pub const STAR_FORMING_LOG_MASS: (f64, f64) = (9.0, 11.0);
/// The WHAN lower limit of W(Hα) for star formation \[Å\].
pub const STAR_FORMING_MIN_EW: f64 = 3.0;

/// Scale \[Å\] of the exponential W(Hα) distribution of star-forming galaxies of mass
/// 10^`log_mass` M☉ at z: 15 Å for 10¹⁰ M☉ at z = 0.4, growing as (1+z)^1.78 (67.7 Å at
/// z = 2.2), and as M^−0.2 with mass (slopes −0.18 to −0.24) (arXiv:2408.00080):
///
/// w(z, M) = 15 Å · ((1+z)/1.4)^1.78 · (M / 10¹⁰ M☉)^−0.2.
pub fn star_forming_ew_scale(z: f64, log_mass: f64) -> f64 {
    15.0 * ((1.0 + z) / 1.4).powf(1.78) * 10f64.powf(-0.2 * (log_mass - 10.0))
}

/// W(Hα) of a star-forming galaxy from a uniform draw u ∈ [0, 1): the exponential distribution
/// of arXiv:2408.00080 above the WHAN limit, W = 3 Å − w ln(1 − u), so that
/// P(W ≤ 3 Å + e) = 1 − exp(−e / w).
pub fn star_forming_ew(z: f64, log_mass: f64, u: f64) -> f64 {
    STAR_FORMING_MIN_EW - star_forming_ew_scale(z, log_mass) * (1.0 - u).ln()
}

/// The star-forming/AGN line of the BPT diagram at redshift z (Kewley et al. 2013, ApJL 774,
/// L10, eq. 1, which moves the Kauffmann et al. 2003 line to higher \[OIII\]/Hβ and
/// \[NII\]/Hα with z, as MOSDEF and KBSS measure at z ≈ 2.3):
///
/// y = 0.61 / (x − 0.02 − 0.1833 z) + 1.2 + 0.03 z.
///
/// Star-forming galaxies are drawn 0.1–0.5 dex below it.
pub fn star_forming_limit(x: f64, z: f64) -> f64 {
    0.61 / (x - 0.02 - 0.1833 * z) + 1.2 + 0.03 * z
}

/// The maximum-starburst line (Kewley et al. 2001): y = 0.61 / (x − 0.47) + 1.19, x < 0.47.
pub fn kewley_2001(x: f64) -> f64 {
    0.61 / (x - 0.47) + 1.19
}

/// The Seyfert/LINER division (Schawinski et al. 2007): y = 1.05 x + 0.45.
pub fn schawinski_2007(x: f64) -> f64 {
    1.05 * x + 0.45
}

/// y range of LINERs at x: above the maximum-starburst line (or −0.5, whichever is higher) and
/// below the Seyfert/LINER line, 0.02 dex inside both (non-empty for x ≥ −0.1).
fn liner_oiii_range(x: f64) -> (f64, f64) {
    (kewley_2001(x).max(-0.5) + 0.02, schawinski_2007(x) - 0.02)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn bpt(ratios: &IntrinsicRatios) -> (f64, f64) {
        (
            ratios.nii_over_halpha.log10(),
            ratios.oiii_over_hbeta.log10(),
        )
    }

    #[test]
    fn the_ew_scale_reproduces_the_published_anchors() {
        // 15 Å at z = 0.4 and ≈ 67.7 Å at z = 2.2 for 10¹⁰ M☉ (arXiv:2408.00080).
        assert!((star_forming_ew_scale(0.4, 10.0) - 15.0).abs() < 1e-12);
        let high = star_forming_ew_scale(2.2, 10.0);
        assert!((high - 67.7).abs() < 3.0, "{high}");
        // Quantiles of one mass: W_q = 3 + w ln(1/(1 − q)).
        let w = star_forming_ew_scale(1.4, 10.0);
        assert!((star_forming_ew(1.4, 10.0, 0.5) - (3.0 + w * 2f64.ln())).abs() < 1e-9);
        assert_eq!(star_forming_ew(1.4, 10.0, 0.0), 3.0);
    }

    #[test]
    fn star_forming_ew_quantiles_match_the_mass_averaged_distribution() {
        let population = Population::preset("halpha", 1.4).expect("known");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut ews: Vec<f64> = (0..20_000)
            .filter_map(|_| population.draw_emission(GalaxyClass::StarForming, &mut rng))
            .map(|(ew, _)| ew)
            .collect();
        ews.sort_by(f64::total_cmp);
        // P(W ≤ e) = mean over log M uniform in [9, 11] of 1 − exp(−(e − 3) / w(z, M)).
        let cdf = |e: f64| {
            let n = 2000;
            (0..n)
                .map(|i| 9.0 + 2.0 * (i as f64 + 0.5) / n as f64)
                .map(|m| 1.0 - (-(e - 3.0) / star_forming_ew_scale(1.4, m)).exp())
                .sum::<f64>()
                / n as f64
        };
        for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
            let quantile = ews[(q * ews.len() as f64) as usize];
            assert!((cdf(quantile) - q).abs() < 0.01, "q {q}: W {quantile}");
        }
        assert!(ews[0] >= STAR_FORMING_MIN_EW);
    }

    #[test]
    fn classes_follow_their_fractions_and_ew_bands() {
        let population = Population::preset("mixed", 1.4).expect("known");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let n = 40_000;
        let mut counts = [0usize; 5];
        for _ in 0..n {
            let class = population.draw_class(&mut rng);
            counts[GalaxyClass::ALL
                .iter()
                .position(|&c| c == class)
                .expect("a class")] += 1;
            let emission = population.draw_emission(class, &mut rng);
            match class {
                GalaxyClass::Passive | GalaxyClass::PostStarburst => {
                    assert!(emission.is_none())
                }
                GalaxyClass::Retired => {
                    let ew = emission.expect("lines").0;
                    assert!((0.5..3.0).contains(&ew), "{ew}");
                }
                GalaxyClass::Seyfert => assert!(emission.expect("lines").0 >= 6.0),
                GalaxyClass::StarForming => assert!(emission.expect("lines").0 >= 3.0),
            }
        }
        for (count, fraction) in counts.iter().zip(population.fractions) {
            let expected = fraction * n as f64;
            // Within 4 binomial standard deviations.
            let sd = (n as f64 * fraction * (1.0 - fraction)).sqrt();
            assert!((*count as f64 - expected).abs() <= 4.0 * sd, "{counts:?}");
        }
    }

    #[test]
    fn line_ratios_lie_in_their_bpt_regions() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for z in [0.1, 1.4] {
            let population = Population::preset("mixed", z).expect("known");
            for _ in 0..2000 {
                for class in [
                    GalaxyClass::Retired,
                    GalaxyClass::StarForming,
                    GalaxyClass::Seyfert,
                ] {
                    let (_, ratios) = population.draw_emission(class, &mut rng).expect("lines");
                    let (x, y) = bpt(&ratios);
                    match class {
                        GalaxyClass::StarForming => {
                            assert!(y < star_forming_limit(x, z) - 0.099, "SF ({x}, {y}) z {z}");
                            assert!(y < kewley_2001(x));
                            assert!((0.2..=0.5).contains(&ratios.sii_over_halpha));
                        }
                        GalaxyClass::Seyfert => {
                            assert!(
                                y > kewley_2001(x) && y > schawinski_2007(x),
                                "Sy ({x}, {y})"
                            );
                        }
                        _ => {
                            assert!(
                                y > kewley_2001(x) && y < schawinski_2007(x),
                                "LINER ({x}, {y})"
                            );
                            assert!(ratios.oii_over_halpha >= 1.0);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn star_forming_oiii_rises_with_redshift() {
        // At fixed [NII]/Hα the star-forming sequence moves up with z (Kewley et al. 2013).
        assert!(star_forming_limit(-0.8, 1.4) > star_forming_limit(-0.8, 0.1) + 0.1);
    }

    #[test]
    fn bad_fractions_and_names_are_errors() {
        let err = Population::preset("lsst", 1.0).expect_err("unknown");
        assert_eq!(
            err,
            "unknown population 'lsst'; known populations: mixed, halpha, passive"
        );
        let bad = Population {
            fractions: [0.5, 0.5, 0.5, 0.0, 0.0],
            z_reference: 1.0,
        };
        assert!(bad
            .validate()
            .expect_err("sum")
            .starts_with("population.fractions"));
        let bad = Population {
            fractions: [1.0, 0.0, 0.0, 0.0, 0.0],
            z_reference: f64::NAN,
        };
        assert!(bad
            .validate()
            .expect_err("z")
            .starts_with("population.z_reference"));
    }
}
