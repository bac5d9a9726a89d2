//! Rest-frame galaxy templates on a common 1 Å wavelength lattice: the shipped sets (embedded in
//! the binary) and user `.sed` folders.
//!
//! Every template is rebinned flux-conservingly onto the cells [k Å, (k+1) Å) of one global
//! lattice, restricted to [`REST_RANGE`] and to the template's own coverage. The cell means are
//! the knots (at the cell centres) of a piecewise-linear function, which is what the simulator
//! redshifts. 1 Å is finer than every shipped template (≥ 4 Å) and than any observed LSF
//! divided by (1 + z).

use std::path::Path;

use super::lines::line_catalogue;
use super::rebin::rebin_flux_conserving;
use super::sed_file::{parse_sed, read_sed_dir, SedPoints};

/// Width of a lattice cell \[Å\].
pub const LATTICE_STEP: f64 = 1.0;

/// Rest-frame range \[Å\] kept from every template (enough for observed grids up to 3 µm at
/// z ≥ 0 and down to 1 µm at z ≤ 1.8).
pub const REST_RANGE: (f64, f64) = (500.0, 30_000.0);

/// Built-in templates are scaled to a mean f_λ of 1 over this rest range \[Å\].
pub const NORMALISATION_RANGE: (f64, f64) = (4000.0, 9000.0);

/// Half-width \[Å\] of the window masked around every catalogue line in the kcorrect templates.
/// Their lines have σ ≈ 300 km/s (≈ 6.6 Å at Hα) on a ≈ 5.5 Å grid, so ±20 Å covers ±3σ.
pub const KCORRECT_LINE_MASK: f64 = 20.0;

/// Where a template comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateFamily {
    /// COSMOS / Ilbert et al. (2009) set (Polletta 2007 + BC03), no lines.
    Cosmos,
    /// kcorrect v4 NMF templates (Blanton & Roweis 2007), their lines masked out.
    Kcorrect,
    /// Coleman, Wu & Weedman (1980) + Kinney et al. (1996), Benítez 2004 versions, no lines.
    CwwKinney,
    /// A user `.sed` file.
    User,
}

/// Names of the built-in families, as [`TemplateFamily::name`] spells them.
pub const BUILTIN_FAMILY_NAMES: [&str; 3] = ["cosmos", "kcorrect", "cww_kinney"];

impl TemplateFamily {
    /// The family's name: its folder under `data/templates` ("user" for user files).
    pub fn name(self) -> &'static str {
        match self {
            TemplateFamily::Cosmos => "cosmos",
            TemplateFamily::Kcorrect => "kcorrect",
            TemplateFamily::CwwKinney => "cww_kinney",
            TemplateFamily::User => "user",
        }
    }
}

/// The shipped templates of the named families (see [`BUILTIN_FAMILY_NAMES`]), e.g. to train on
/// one family and test on another. Errors on an unknown name or an empty list.
pub fn builtin_templates_of(families: &[String]) -> Result<Vec<Template>, String> {
    if families.is_empty() {
        return Err("families: empty; name at least one".to_string());
    }
    if let Some(unknown) = families
        .iter()
        .find(|f| !BUILTIN_FAMILY_NAMES.contains(&f.as_str()))
    {
        return Err(format!(
            "families: unknown '{unknown}'; known families: {}",
            BUILTIN_FAMILY_NAMES.join(", ")
        ));
    }
    Ok(builtin_templates()
        .into_iter()
        .filter(|t| families.iter().any(|f| f == t.family.name()))
        .collect())
}

/// One template: f_λ at the cell centres `(first_cell + i + ½) · LATTICE_STEP`.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// File stem (built-in) or file path (user).
    pub name: String,
    pub family: TemplateFamily,
    first_cell: usize,
    values: Vec<f32>,
}

impl Template {
    /// Rebins tabulated points onto the lattice cells that lie inside both the points' range and
    /// [`REST_RANGE`]. Errors (naming the template) when fewer than 2 cells are covered.
    pub fn from_points(
        name: &str,
        family: TemplateFamily,
        points: &SedPoints,
    ) -> Result<Self, String> {
        let first_lambda = points.lambda[0].max(REST_RANGE.0);
        let last_lambda = points.lambda[points.lambda.len() - 1].min(REST_RANGE.1);
        let first_cell = (first_lambda / LATTICE_STEP).ceil() as usize;
        let end_cell = (last_lambda / LATTICE_STEP).floor() as usize;
        if end_cell < first_cell + 2 {
            return Err(format!(
                "{name}: covers {}–{} Å; the simulator needs at least {} Å inside {}–{} Å",
                points.lambda[0],
                points.lambda[points.lambda.len() - 1],
                2.0 * LATTICE_STEP,
                REST_RANGE.0,
                REST_RANGE.1
            ));
        }
        let edges: Vec<f64> = (first_cell..=end_cell)
            .map(|k| k as f64 * LATTICE_STEP)
            .collect();
        let mut means = vec![0.0; edges.len() - 1];
        rebin_flux_conserving(&points.lambda, &points.flux, &edges, &mut means);
        let values = means.iter().map(|&v| v as f32).collect();
        Ok(Template {
            name: name.to_string(),
            family,
            first_cell,
            values,
        })
    }

    /// Rest wavelengths \[Å\] of the first and last knots: the range where [`Self::value_at`]
    /// interpolates rather than clamps.
    pub fn coverage(&self) -> (f64, f64) {
        let first = (self.first_cell as f64 + 0.5) * LATTICE_STEP;
        (first, first + (self.values.len() - 1) as f64 * LATTICE_STEP)
    }

    /// f_λ at rest wavelength `lambda` \[Å\], linear between knots, clamped to the end knots
    /// outside [`Self::coverage`].
    pub fn value_at(&self, lambda: f64) -> f64 {
        let position = lambda / LATTICE_STEP - 0.5 - self.first_cell as f64;
        let last = self.values.len() - 1;
        if position <= 0.0 {
            return f64::from(self.values[0]);
        }
        let below = (position as usize).min(last - 1);
        let frac = (position - below as f64).min(1.0);
        let (a, b) = (
            f64::from(self.values[below]),
            f64::from(self.values[below + 1]),
        );
        a + (b - a) * frac
    }

    /// Mean f_λ of the knots whose wavelength lies in \[lo, hi\] (0 when none does).
    pub fn mean_over(&self, (lo, hi): (f64, f64)) -> f64 {
        let (first, _) = self.coverage();
        let knots = self.values.iter().enumerate().filter(|(i, _)| {
            let lambda = first + *i as f64 * LATTICE_STEP;
            lo <= lambda && lambda <= hi
        });
        let (sum, count) = knots.fold((0.0, 0usize), |(s, c), (_, &v)| (s + f64::from(v), c + 1));
        if count == 0 {
            0.0
        } else {
            sum / count as f64
        }
    }

    fn scale(&mut self, factor: f64) {
        self.values
            .iter_mut()
            .for_each(|v| *v = (f64::from(*v) * factor) as f32);
    }
}

/// Embeds one shipped template: (family, file stem, file text).
macro_rules! embedded {
    ($family:ident, $folder:literal, $stem:literal) => {
        (
            TemplateFamily::$family,
            $stem,
            include_str!(concat!(
                "../../../data/templates/",
                $folder,
                "/",
                $stem,
                ".sed"
            )),
        )
    };
}

/// The 42 shipped templates (see `data/README.md` and `data/licenses/`).
const BUILTIN_TEMPLATES: [(TemplateFamily, &str, &str); 42] = [
    embedded!(Cosmos, "cosmos", "Ell1_A_0"),
    embedded!(Cosmos, "cosmos", "Ell2_A_0"),
    embedded!(Cosmos, "cosmos", "Ell3_A_0"),
    embedded!(Cosmos, "cosmos", "Ell4_A_0"),
    embedded!(Cosmos, "cosmos", "Ell5_A_0"),
    embedded!(Cosmos, "cosmos", "Ell6_A_0"),
    embedded!(Cosmos, "cosmos", "Ell7_A_0"),
    embedded!(Cosmos, "cosmos", "S0_A_0"),
    embedded!(Cosmos, "cosmos", "SB0_A_0"),
    embedded!(Cosmos, "cosmos", "SB10_A_0"),
    embedded!(Cosmos, "cosmos", "SB11_A_0"),
    embedded!(Cosmos, "cosmos", "SB1_A_0"),
    embedded!(Cosmos, "cosmos", "SB2_A_0"),
    embedded!(Cosmos, "cosmos", "SB3_A_0"),
    embedded!(Cosmos, "cosmos", "SB4_A_0"),
    embedded!(Cosmos, "cosmos", "SB5_A_0"),
    embedded!(Cosmos, "cosmos", "SB6_A_0"),
    embedded!(Cosmos, "cosmos", "SB7_A_0"),
    embedded!(Cosmos, "cosmos", "SB8_A_0"),
    embedded!(Cosmos, "cosmos", "SB9_A_0"),
    embedded!(Cosmos, "cosmos", "Sa_A_0"),
    embedded!(Cosmos, "cosmos", "Sa_A_1"),
    embedded!(Cosmos, "cosmos", "Sb_A_0"),
    embedded!(Cosmos, "cosmos", "Sb_A_1"),
    embedded!(Cosmos, "cosmos", "Sc_A_0"),
    embedded!(Cosmos, "cosmos", "Sc_A_1"),
    embedded!(Cosmos, "cosmos", "Sc_A_2"),
    embedded!(Cosmos, "cosmos", "Sd_A_0"),
    embedded!(Cosmos, "cosmos", "Sd_A_1"),
    embedded!(Cosmos, "cosmos", "Sd_A_2"),
    embedded!(Cosmos, "cosmos", "Sdm_A_0"),
    embedded!(Kcorrect, "kcorrect", "kcorrect_nmf_0"),
    embedded!(Kcorrect, "kcorrect", "kcorrect_nmf_1"),
    embedded!(Kcorrect, "kcorrect", "kcorrect_nmf_2"),
    embedded!(Kcorrect, "kcorrect", "kcorrect_nmf_3"),
    embedded!(Kcorrect, "kcorrect", "kcorrect_nmf_4"),
    embedded!(CwwKinney, "cww_kinney", "El_B2004a"),
    embedded!(CwwKinney, "cww_kinney", "Im_B2004a"),
    embedded!(CwwKinney, "cww_kinney", "SB2_B2004a"),
    embedded!(CwwKinney, "cww_kinney", "SB3_B2004a"),
    embedded!(CwwKinney, "cww_kinney", "Sbc_B2004a"),
    embedded!(CwwKinney, "cww_kinney", "Scd_B2004a"),
];

/// The shipped templates, each scaled to a mean f_λ of 1 over [`NORMALISATION_RANGE`]; the
/// emission lines of the kcorrect templates are masked (see [`mask_lines`]) so that every line
/// of a simulated spectrum is one the simulator added and labelled.
pub fn builtin_templates() -> Vec<Template> {
    BUILTIN_TEMPLATES
        .iter()
        .map(|&(family, stem, text)| {
            let mut points = parse_sed(text, stem).expect("shipped templates parse");
            if family == TemplateFamily::Kcorrect {
                mask_lines(&mut points, KCORRECT_LINE_MASK);
            }
            let mut template = Template::from_points(stem, family, &points)
                .expect("shipped templates cover 500–25 000 Å");
            let mean = template.mean_over(NORMALISATION_RANGE);
            assert!(
                mean > 0.0,
                "shipped template {stem} has positive flux in 4000–9000 Å"
            );
            template.scale(1.0 / mean);
            template
        })
        .collect()
}

/// Loads every `.sed` file of a folder (sorted by name) as a user template, in its own units.
pub fn templates_from_sed_dir(dir: &Path) -> Result<Vec<Template>, String> {
    read_sed_dir(dir)?
        .into_iter()
        .map(|(path, points)| {
            Template::from_points(&path.display().to_string(), TemplateFamily::User, &points)
        })
        .collect()
}

/// Loads a folder of rest-frame continua for a population to draw from (every `.sed` and FITS
/// file, sorted by name; e.g. the stellar-population library of `scripts/build_sps_library.sh`).
/// Each is scaled, like the shipped templates, to a mean f_λ of 1 over [`NORMALISATION_RANGE`],
/// so that a galaxy's mixing weights are its templates' shares of the light there. A continuum
/// that does not cover that range, or whose mean there is not positive, is an error naming it.
pub fn continua_from_dir(dir: &Path) -> Result<Vec<Template>, String> {
    let (lo, hi) = NORMALISATION_RANGE;
    templates_from_sed_dir(dir)?
        .into_iter()
        .map(|mut template| {
            let (first, last) = template.coverage();
            if first > lo || last < hi {
                return Err(format!(
                    "{}: covers {first}–{last} Å (rest) but a continuum must cover {lo}–{hi} Å, \
                     where it is scaled to a mean f_λ of 1",
                    template.name
                ));
            }
            let mean = template.mean_over(NORMALISATION_RANGE);
            if !(mean > 0.0 && mean.is_finite()) {
                return Err(format!(
                    "{}: mean f_λ over {lo}–{hi} Å is {mean}; a continuum needs positive flux \
                     there",
                    template.name
                ));
            }
            template.scale(1.0 / mean);
            Ok(template)
        })
        .collect()
}

/// Replaces f_λ within ±`half_width` Å of every line of the shipped line list by the straight
/// line joining the nearest unmasked points on either side (a continuum-only template).
pub fn mask_lines(points: &mut SedPoints, half_width: f64) {
    let masked: Vec<bool> = points
        .lambda
        .iter()
        .map(|&l| {
            line_catalogue()
                .iter()
                .any(|&(_, line)| (l - line).abs() <= half_width)
        })
        .collect();
    let mut i = 0;
    while i < masked.len() {
        if !masked[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < masked.len() && masked[i] {
            i += 1;
        }
        // Masked run start..i; interpolate between its unmasked neighbours when both exist.
        if start > 0 && i < masked.len() {
            let (l0, f0) = (points.lambda[start - 1], points.flux[start - 1]);
            let (l1, f1) = (points.lambda[i], points.flux[i]);
            for k in start..i {
                points.flux[k] = f0 + (f1 - f0) * (points.lambda[k] - l0) / (l1 - l0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_select_their_templates() {
        let cww = builtin_templates_of(&["cww_kinney".to_string()]).expect("known");
        assert_eq!(cww.len(), 6);
        assert!(cww.iter().all(|t| t.family == TemplateFamily::CwwKinney));
        let two = builtin_templates_of(&["cosmos".into(), "kcorrect".into()]).expect("known");
        assert_eq!(two.len(), builtin_templates().len() - 6);
        let err = builtin_templates_of(&["bc03".into()]).expect_err("unknown");
        assert_eq!(
            err,
            "families: unknown 'bc03'; known families: cosmos, kcorrect, cww_kinney"
        );
        assert!(builtin_templates_of(&[]).is_err());
    }

    #[test]
    fn builtin_templates_load_normalised_and_cover_the_optical() {
        let templates = builtin_templates();
        assert_eq!(templates.len(), 42);
        for t in &templates {
            assert!(
                (t.mean_over(NORMALISATION_RANGE) - 1.0).abs() < 1e-5,
                "{}",
                t.name
            );
            let (lo, hi) = t.coverage();
            assert!(lo <= 1001.5 && hi >= 25_000.0, "{}: {lo}–{hi}", t.name);
        }
    }

    #[test]
    fn kcorrect_lines_are_masked() {
        let star_forming = builtin_templates()
            .into_iter()
            .filter(|t| t.family == TemplateFamily::Kcorrect)
            .map(|t| {
                let peak = (6540..6600)
                    .map(|l| t.value_at(l as f64))
                    .fold(0.0, f64::max);
                peak / t.mean_over((6400.0, 6480.0))
            })
            .fold(0.0, f64::max);
        assert!(
            star_forming < 1.1,
            "Hα peak/continuum {star_forming} after masking"
        );
    }

    #[test]
    fn the_lattice_interpolates_a_linear_sed_exactly_and_clamps_outside() {
        let points = SedPoints {
            lambda: vec![1000.0, 3000.0],
            flux: vec![1.0, 3.0],
        };
        let t = Template::from_points("line", TemplateFamily::User, &points).expect("valid");
        assert_eq!(t.coverage(), (1000.5, 2999.5));
        for lambda in [1000.5, 1234.25, 2999.5] {
            assert!((t.value_at(lambda) - lambda / 1000.0).abs() < 1e-6);
        }
        assert!((t.value_at(10.0) - 1.0005).abs() < 1e-6);
        assert!((t.value_at(9000.0) - 2.9995).abs() < 1e-6);
    }

    #[test]
    fn a_template_narrower_than_two_cells_is_an_error() {
        let points = SedPoints {
            lambda: vec![1000.2, 1001.9],
            flux: vec![1.0, 1.0],
        };
        let err = Template::from_points("tiny.sed", TemplateFamily::User, &points)
            .expect_err("too short");
        assert!(err.starts_with("tiny.sed: covers 1000.2–1001.9 Å"), "{err}");
    }
}
