//! The LSST bands in the error model of Ivezić et al. (2019, ApJ 873, 111): the 5σ depth of a
//! coadd of `years` of survey from the system parameters of their Table 2 and the visits of
//! their Table 1, as tabulated in photerr's `LsstErrorParams` (Crenshaw et al. 2024, AJ 168,
//! 80; MIT). Only the numbers are taken.
//!
//! - Eq. 6, the single-visit depth at airmass X:
//!   m₅ = C_m + 0.50 (m_sky − 21) + 2.5 log₁₀(0.7 / θ_eff) + 1.25 log₁₀(t_vis / 30) − k_m (X − 1).
//! - The depth of N visits coadded (§3.2.1, S/N ∝ √N): m₅ + 1.25 log₁₀ N.
//!
//! For 10 years at X = 1.2 and 30 s visits this gives u g r i z y = 26.01, 27.28, 27.30, 26.86,
//! 26.22, 25.29, within 0.4 mag of the paper's Table 1 (26.1, 27.4, 27.5, 26.8, 26.1, 24.9).

use super::error_model::BandErrors;

/// One band's system parameters (Ivezić et al. 2019, Table 2) and visits per year (Table 1
/// over 10 years).
struct BandSystem {
    name: &'static str,
    /// Eq. 5's γ.
    gamma: f64,
    /// C_m \[mag\].
    c_m: f64,
    /// Sky brightness at zenith, dark time \[mag arcsec⁻²\].
    m_sky: f64,
    /// Seeing θ_eff \[arcsec\].
    theta_eff: f64,
    /// Atmospheric extinction k_m \[mag per airmass\].
    k_m: f64,
    /// Visits per year.
    visits_per_year: f64,
}

/// u g r i z y.
const BANDS: [BandSystem; 6] = [
    band("u", 0.038, 23.09, 22.99, 0.81, 0.491, 5.6),
    band("g", 0.039, 24.42, 22.26, 0.77, 0.213, 8.0),
    band("r", 0.039, 24.44, 21.20, 0.73, 0.126, 18.4),
    band("i", 0.039, 24.32, 20.48, 0.71, 0.096, 18.4),
    band("z", 0.039, 24.16, 19.60, 0.69, 0.069, 16.0),
    band("y", 0.039, 23.73, 18.61, 0.68, 0.170, 16.0),
];

const fn band(
    name: &'static str,
    gamma: f64,
    c_m: f64,
    m_sky: f64,
    theta_eff: f64,
    k_m: f64,
    visits_per_year: f64,
) -> BandSystem {
    BandSystem {
        name,
        gamma,
        c_m,
        m_sky,
        theta_eff,
        k_m,
        visits_per_year,
    }
}

/// The airmass of the typical visit.
const AIRMASS: f64 = 1.2;
/// The exposure of a visit \[s\].
const VISIT_SECONDS: f64 = 30.0;
/// The survey's length \[years\].
pub const SURVEY_YEARS: f64 = 10.0;

/// The LSST band names, in the order of [`lsst_bands`].
pub const LSST_BANDS: [&str; 6] = ["u", "g", "r", "i", "z", "y"];

impl BandSystem {
    /// Eq. 6: the 5σ depth of one visit.
    fn single_visit_m5(&self) -> f64 {
        // m₅ = C_m + 0.50 (m_sky − 21) + 2.5 log₁₀(0.7 / θ_eff) + 1.25 log₁₀(t_vis / 30) − k_m (X − 1)
        self.c_m
            + 0.50 * (self.m_sky - 21.0)
            + 2.5 * (0.7 / self.theta_eff).log10()
            + 1.25 * (VISIT_SECONDS / 30.0).log10()
            - self.k_m * (AIRMASS - 1.0)
    }
}

/// The six LSST bands after `years` of survey (their coadded depths).
pub fn lsst_bands(years: f64) -> Result<Vec<BandErrors>, String> {
    if !(years.is_finite() && years > 0.0 && years <= SURVEY_YEARS) {
        return Err(format!(
            "LSST survey years must be in (0, {SURVEY_YEARS}], got {years}"
        ));
    }
    Ok(BANDS
        .iter()
        .map(|b| {
            let visits = b.visits_per_year * years;
            BandErrors {
                name: b.name.to_string(),
                gamma: b.gamma,
                // m₅(N) = m₅ + 1.25 log₁₀ N
                m5: b.single_visit_m5() + 1.25 * visits.log10(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_year_depths_by_hand_and_against_the_paper() {
        let bands = lsst_bands(SURVEY_YEARS).unwrap();
        let names: Vec<&str> = bands.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, LSST_BANDS);
        // i by hand: 24.32 + 0.5 (20.48 − 21) + 2.5 log₁₀(0.7/0.71) − 0.096 · 0.2
        //          = 24.32 − 0.26 − 0.01540 − 0.0192 = 24.0254; + 1.25 log₁₀ 184 = 2.8310.
        assert!((bands[3].m5 - 26.8564).abs() < 1e-3, "i {}", bands[3].m5);
        let by_hand = [26.0136, 27.2828, 27.3003, 26.8564, 26.2170, 25.2876];
        let paper_table_1 = [26.1, 27.4, 27.5, 26.8, 26.1, 24.9];
        for ((b, hand), paper) in bands.iter().zip(by_hand).zip(paper_table_1) {
            assert!((b.m5 - hand).abs() < 1e-3, "{}: {} vs {hand}", b.name, b.m5);
            assert!(
                (b.m5 - paper).abs() < 0.4,
                "{}: {} vs {paper}",
                b.name,
                b.m5
            );
        }
    }

    #[test]
    fn one_year_is_shallower_by_1_25_log10_10_and_bad_years_are_refused() {
        let one = lsst_bands(1.0).unwrap();
        let ten = lsst_bands(10.0).unwrap();
        for (a, b) in one.iter().zip(&ten) {
            assert!((b.m5 - a.m5 - 1.25).abs() < 1e-12);
        }
        for years in [0.0, -1.0, 11.0, f64::NAN] {
            let e = lsst_bands(years).unwrap_err();
            assert!(e.contains("LSST survey years"), "{e}");
        }
    }
}
