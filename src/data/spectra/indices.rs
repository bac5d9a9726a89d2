//! Spectral indices measured on rest-frame templates: the 4000 Å break, which splits old
//! (passive) stellar populations from young ones.

use super::templates::{Template, LATTICE_STEP};

/// Blue and red windows \[Å\] of the narrow 4000 Å break (Balogh et al. 1999).
pub const DN4000_WINDOWS: ((f64, f64), (f64, f64)) = ((3850.0, 3950.0), (4000.0, 4100.0));

/// Dn4000 at and above which a template counts as an old, passive population: the split of the
/// bimodal Dn4000 distribution of SDSS galaxies (Kauffmann et al. 2003, MNRAS 341, 33).
pub const PASSIVE_DN4000: f64 = 1.5;

/// Dn4000 = ⟨F_ν⟩(4000–4100 Å) / ⟨F_ν⟩(3850–3950 Å) with F_ν ∝ λ² f_λ (Balogh et al. 1999),
/// the means taken on the template's 1 Å lattice. `None` when the template does not cover both
/// windows or the blue one has no flux.
pub fn dn4000(template: &Template) -> Option<f64> {
    let (blue, red) = DN4000_WINDOWS;
    let (first, last) = template.coverage();
    if first > blue.0 || last < red.1 {
        return None;
    }
    let mean_fnu = |(lo, hi): (f64, f64)| {
        let n = ((hi - lo) / LATTICE_STEP) as usize;
        let sum: f64 = (0..n)
            .map(|i| lo + (i as f64 + 0.5) * LATTICE_STEP)
            .map(|lambda| lambda * lambda * template.value_at(lambda))
            .sum();
        sum / n as f64
    };
    let blue_mean = mean_fnu(blue);
    (blue_mean > 0.0).then(|| mean_fnu(red) / blue_mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::spectra::templates::{builtin_templates, TemplateFamily};
    use crate::data::spectra::SedPoints;

    fn template(points: &[(f64, f64)]) -> Template {
        let points = SedPoints {
            lambda: points.iter().map(|p| p.0).collect(),
            flux: points.iter().map(|p| p.1).collect(),
        };
        Template::from_points("t", TemplateFamily::User, &points).expect("valid")
    }

    #[test]
    fn a_flat_fnu_has_no_break_and_a_step_gives_its_ratio() {
        // f_λ ∝ λ⁻² is a flat F_ν: Dn4000 = 1.
        let lambdas: Vec<f64> = (3000..5000).step_by(10).map(f64::from).collect();
        let flat_fnu: Vec<(f64, f64)> = lambdas.iter().map(|&l| (l, 1e8 / (l * l))).collect();
        assert!((dn4000(&template(&flat_fnu)).expect("covered") - 1.0).abs() < 1e-3);
        // F_ν twice as high above 3975 Å: Dn4000 = 2.
        let step: Vec<(f64, f64)> = flat_fnu
            .iter()
            .map(|&(l, f)| (l, if l > 3975.0 { 2.0 * f } else { f }))
            .collect();
        assert!((dn4000(&template(&step)).expect("covered") - 2.0).abs() < 1e-3);
        assert_eq!(dn4000(&template(&[(4000.0, 1.0), (9000.0, 1.0)])), None);
    }

    #[test]
    fn the_shipped_ellipticals_are_passive_and_the_starbursts_are_not() {
        let templates = builtin_templates();
        let value = |name: &str| {
            let t = templates.iter().find(|t| t.name == name).expect("shipped");
            dn4000(t).expect("covered")
        };
        // Measured on the shipped files (README, "The built-in population").
        assert!(value("El_B2004a") > PASSIVE_DN4000);
        assert!(value("Ell7_A_0") > PASSIVE_DN4000);
        assert!(value("kcorrect_nmf_3") > PASSIVE_DN4000);
        assert!(value("SB11_A_0") < 1.1);
        assert!(value("Im_B2004a") < PASSIVE_DN4000);
    }
}
