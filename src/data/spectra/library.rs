//! The rest-frame SED library: N galaxies, each a non-negative mixture of templates, reddened by
//! Calzetti dust, with optional Gaussian emission lines whose fluxes are drawn and recorded.
//!
//! A galaxy's rest-frame SED is
//!
//! f(λ) = 10^(−0.4 k(λ) E(B−V)) Σ_t w_t T_t(λ) + Σ_i F_i 𝒩(λ; λ_i, λ_i σ_v / c),
//!
//! with T_t the templates, w_t ≥ 0 the weights (Σ w_t = 1), k the Calzetti (2000) curve and F_i
//! the attenuated line fluxes (see [`super::lines`]). The lines are kept analytic (not sampled)
//! so the simulator can integrate them exactly over each observed pixel.
//!
//! With a [`Population`], each galaxy first draws its class; the class chooses the templates
//! (old populations mix only templates with Dn4000 ≥ [`PASSIVE_DN4000`], and their Mg b and
//! Na D are deepened to the strengths of old ellipticals, see [`super::absorption`]), the dust
//! range and the lines (see [`super::population`]).

use std::path::Path;

use rand::seq::index::sample;
use rand::Rng;
use rayon::prelude::*;

use super::absorption::{self, deepen, AbsorptionLine};
use super::draw::{check_range, log_uniform, stream_rng, uniform, LIBRARY_STREAM};
use super::dust;
use super::indices::{dn4000, PASSIVE_DN4000};
use super::lines::{
    attenuated_line_fluxes, draw_intrinsic_ratios, line_wavelengths, LineConfig, HALPHA, N_LINES,
    SPEED_OF_LIGHT_KMS,
};
use super::population::{GalaxyClass, Population};
use super::templates::{builtin_templates, templates_from_sed_dir, Template, LATTICE_STEP};

/// Rest range \[Å\] whose median continuum is the "local continuum" of Hα for its equivalent
/// width (a median, so lines already present in a user template barely move it).
pub const HALPHA_CONTINUUM_WINDOW: (f64, f64) = (6450.0, 6700.0);

/// How the templates of a galaxy are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Mixing {
    /// Galaxy g is template g mod T alone (weight 1): the natural choice for user SEDs.
    OnePerTemplate,
    /// Galaxy g mixes k distinct templates, k uniform in 1..=`max_templates`, chosen uniformly,
    /// with weights w_t = e_t / Σ e, e_t ~ Exp(1) (a flat Dirichlet draw).
    Random { max_templates: usize },
}

/// How a library's galaxies are drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryConfig {
    /// Number of galaxies; `None`: one per template.
    pub n_galaxies: Option<usize>,
    pub mixing: Mixing,
    /// Stellar colour excess E(B−V)_star, uniform in (min, max); (0, 0) for no dust.
    pub ebv: (f64, f64),
    /// Emission lines to add, or `None` for none.
    pub lines: Option<LineConfig>,
    /// A population of galaxy classes; when set it draws the templates (from the pool of its
    /// class), the dust and the lines, and `ebv` and `lines` must be left at their "none" values.
    pub population: Option<Population>,
}

impl LibraryConfig {
    /// `n` galaxies mixing up to 3 shipped templates, E(B−V) in [0, 0.3), lines on or off.
    pub fn builtin(n: usize, lines: bool) -> Self {
        LibraryConfig {
            n_galaxies: Some(n),
            mixing: Mixing::Random { max_templates: 3 },
            ebv: (0.0, 0.3),
            lines: lines.then(LineConfig::default),
            population: None,
        }
    }

    /// `n` galaxies of `population` mixing up to 3 shipped templates.
    pub fn population(n: usize, population: Population) -> Self {
        LibraryConfig {
            n_galaxies: Some(n),
            mixing: Mixing::Random { max_templates: 3 },
            ebv: (0.0, 0.0),
            lines: None,
            population: Some(population),
        }
    }

    /// One galaxy per user template, used as given (no dust), lines on or off.
    pub fn user_seds(lines: bool) -> Self {
        LibraryConfig {
            n_galaxies: None,
            mixing: Mixing::OnePerTemplate,
            ebv: (0.0, 0.0),
            lines: lines.then(LineConfig::default),
            population: None,
        }
    }

    /// Checks the ranges and counts.
    pub fn validate(&self) -> Result<(), String> {
        if self.n_galaxies == Some(0) {
            return Err("n_galaxies: must be at least 1".to_string());
        }
        if let Mixing::Random { max_templates: 0 } = self.mixing {
            return Err("mixing.max_templates: must be at least 1".to_string());
        }
        check_range("ebv", self.ebv, false)?;
        if let Some(population) = &self.population {
            if self.lines.is_some() || self.ebv != (0.0, 0.0) {
                return Err(
                    "population: draws the lines and the dust itself; leave lines and ebv unset"
                        .to_string(),
                );
            }
            population.validate()?;
        }
        self.lines.as_ref().map_or(Ok(()), LineConfig::validate)
    }
}

/// The emission lines of one galaxy.
#[derive(Clone, Debug, PartialEq)]
pub struct GalaxyLines {
    /// Attenuated rest-frame fluxes ∫ f_λ dλ of the lines of [`super::lines::LINE_NAMES`], in
    /// the templates' units × Å.
    pub flux: [f64; N_LINES],
    /// Rest-frame equivalent width of Hα \[Å\] against [`HALPHA_CONTINUUM_WINDOW`].
    pub halpha_ew: f64,
    /// Gas velocity dispersion \[km/s\].
    pub sigma_kms: f64,
}

/// One galaxy of the library.
#[derive(Clone, Debug, PartialEq)]
pub struct Galaxy {
    /// (template index, weight) pairs, weights summing to 1.
    pub weights: Vec<(usize, f64)>,
    /// Stellar colour excess E(B−V)_star.
    pub ebv: f64,
    pub lines: Option<GalaxyLines>,
    /// The galaxy's class when the library was drawn from a [`Population`].
    pub class: Option<GalaxyClass>,
    /// Stellar absorption lines multiplied into the continuum (old populations only).
    pub absorption: Vec<AbsorptionLine>,
}

/// Templates plus the galaxies drawn from them.
#[derive(Clone, Debug)]
pub struct SedLibrary {
    templates: Vec<Template>,
    galaxies: Vec<Galaxy>,
}

impl SedLibrary {
    /// `n` galaxies from the shipped templates with the defaults of [`LibraryConfig::builtin`].
    pub fn builtin(n: usize, seed: u64, lines: bool) -> Result<Self, String> {
        Self::from_templates(builtin_templates(), &LibraryConfig::builtin(n, lines), seed)
    }

    /// Galaxies from the `.sed` files of `dir` (format: [`super::parse_sed`]) instead of the shipped
    /// templates; `config` says how (e.g. [`LibraryConfig::user_seds`]).
    pub fn from_sed_dir(dir: &Path, config: &LibraryConfig, seed: u64) -> Result<Self, String> {
        Self::from_templates(templates_from_sed_dir(dir)?, config, seed)
    }

    /// Draws the galaxies of `config` from `templates`; galaxy g uses its own random stream, so
    /// the library depends on the seed only (not on the thread count).
    pub fn from_templates(
        templates: Vec<Template>,
        config: &LibraryConfig,
        seed: u64,
    ) -> Result<Self, String> {
        config.validate()?;
        if templates.is_empty() {
            return Err("the library needs at least one template".to_string());
        }
        if config.lines.is_some() || config.population.is_some() {
            check_halpha_window(&templates)?;
        }
        let pools = TemplatePools::new(&templates, config.population.as_ref())?;
        let n = config.n_galaxies.unwrap_or(templates.len());
        let mut library = SedLibrary {
            templates,
            galaxies: Vec::new(),
        };
        library.galaxies = (0..n)
            .into_par_iter()
            .map(|g| library.draw_galaxy(config, &pools, g, seed))
            .collect::<Result<_, _>>()?;
        Ok(library)
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    pub fn galaxies(&self) -> &[Galaxy] {
        &self.galaxies
    }

    /// Number of galaxies.
    pub fn len(&self) -> usize {
        self.galaxies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.galaxies.is_empty()
    }

    /// Writes the dust-attenuated continuum of `galaxy` at each rest wavelength into `out`.
    pub fn continuum(&self, galaxy: &Galaxy, rest_lambda: &[f64], out: &mut [f64]) {
        assert_eq!(
            rest_lambda.len(),
            out.len(),
            "wavelength and output lengths"
        );
        out.fill(0.0);
        for &(t, w) in &galaxy.weights {
            let template = &self.templates[t];
            for (o, &lambda) in out.iter_mut().zip(rest_lambda) {
                *o += w * template.value_at(lambda);
            }
        }
        if galaxy.ebv > 0.0 {
            for (o, &lambda) in out.iter_mut().zip(rest_lambda) {
                *o *= dust::transmission(lambda, galaxy.ebv);
            }
        }
        if !galaxy.absorption.is_empty() {
            for (o, &lambda) in out.iter_mut().zip(rest_lambda) {
                *o *= absorption::transmission(&galaxy.absorption, lambda);
            }
        }
    }

    /// The full rest-frame SED of `galaxy` (continuum plus Gaussian lines, as flux densities)
    /// at each rest wavelength, e.g. to plot or export it.
    pub fn rest_frame_sed(&self, galaxy: &Galaxy, rest_lambda: &[f64]) -> Vec<f64> {
        let mut sed = vec![0.0; rest_lambda.len()];
        self.continuum(galaxy, rest_lambda, &mut sed);
        if let Some(lines) = &galaxy.lines {
            for (&flux, &centre) in lines.flux.iter().zip(line_wavelengths()) {
                let sigma = centre * lines.sigma_kms / SPEED_OF_LIGHT_KMS;
                let norm = flux / (sigma * std::f64::consts::TAU.sqrt());
                for (s, &lambda) in sed.iter_mut().zip(rest_lambda) {
                    *s += norm * (-0.5 * ((lambda - centre) / sigma).powi(2)).exp();
                }
            }
        }
        sed
    }

    /// Rest range \[Å\] where every template of `galaxy` interpolates (the intersection of their
    /// coverages), and the name of the template that limits each end.
    pub fn coverage(&self, galaxy: &Galaxy) -> ((f64, &str), (f64, &str)) {
        let mut low = (f64::NEG_INFINITY, "");
        let mut high = (f64::INFINITY, "");
        for &(t, _) in &galaxy.weights {
            let template = &self.templates[t];
            let (lo, hi) = template.coverage();
            if lo > low.0 {
                low = (lo, &template.name);
            }
            if hi < high.0 {
                high = (hi, &template.name);
            }
        }
        (low, high)
    }

    /// Draws galaxy `g` from its own stream: its class (with a population), templates and
    /// weights, E(B−V), then lines.
    fn draw_galaxy(
        &self,
        config: &LibraryConfig,
        pools: &TemplatePools,
        g: usize,
        seed: u64,
    ) -> Result<Galaxy, String> {
        let mut rng = stream_rng(seed, LIBRARY_STREAM, g as u64);
        let class = config.population.as_ref().map(|p| p.draw_class(&mut rng));
        let pool = pools.for_class(class);
        let weights = draw_weights(&config.mixing, pool, g, &mut rng);
        let ebv = uniform(&mut rng, class.map_or(config.ebv, GalaxyClass::ebv_range));
        let mut galaxy = Galaxy {
            weights,
            ebv,
            lines: None,
            class,
            absorption: Vec::new(),
        };
        if class.is_some_and(GalaxyClass::has_old_continuum) {
            let continuum = |lambda: f64| {
                let mut value = [0.0];
                self.continuum(&galaxy, &[lambda], &mut value);
                value[0]
            };
            galaxy.absorption = deepen(&continuum, &mut rng);
        }
        let emission = match (&config.population, class, &config.lines) {
            (Some(population), Some(class), _) => population
                .draw_emission(class, &mut rng)
                .map(|(ew, ratios)| (ew, ratios.relative_to_halpha())),
            (_, _, Some(line_config)) => {
                let ratios = draw_intrinsic_ratios(line_config, &mut rng);
                Some((log_uniform(&mut rng, line_config.halpha_ew), ratios))
            }
            _ => None,
        };
        if let Some((halpha_ew, ratios)) = emission {
            let dispersion = config
                .lines
                .as_ref()
                .map_or(DEFAULT_DISPERSION_KMS, |l| l.velocity_dispersion_kms);
            let sigma_kms = uniform(&mut rng, dispersion);
            let continuum = self.local_halpha_continuum(&galaxy);
            if !(continuum > 0.0 && continuum.is_finite()) {
                return Err(format!(
                    "galaxy {g} ({}): the continuum near Hα ({:?} Å) is {continuum}; lines are \
                     set by equivalent width and need a positive continuum",
                    self.template_names(&galaxy),
                    HALPHA_CONTINUUM_WINDOW
                ));
            }
            let flux = attenuated_line_fluxes(halpha_ew * continuum, &ratios, ebv);
            debug_assert!((flux[HALPHA] - halpha_ew * continuum).abs() <= 1e-9 * flux[HALPHA]);
            galaxy.lines = Some(GalaxyLines {
                flux,
                halpha_ew,
                sigma_kms,
            });
        }
        Ok(galaxy)
    }

    /// Median of the attenuated continuum over [`HALPHA_CONTINUUM_WINDOW`], on the lattice.
    fn local_halpha_continuum(&self, galaxy: &Galaxy) -> f64 {
        let (lo, hi) = HALPHA_CONTINUUM_WINDOW;
        let n = ((hi - lo) / LATTICE_STEP) as usize + 1;
        let lambdas: Vec<f64> = (0..n).map(|i| lo + i as f64 * LATTICE_STEP).collect();
        let mut values = vec![0.0; n];
        self.continuum(galaxy, &lambdas, &mut values);
        values.sort_by(f64::total_cmp);
        values[n / 2]
    }

    fn template_names(&self, galaxy: &Galaxy) -> String {
        let names: Vec<&str> = galaxy
            .weights
            .iter()
            .map(|&(t, _)| self.templates[t].name.as_str())
            .collect();
        names.join(", ")
    }
}

/// Gas velocity dispersion \[km/s\] of population galaxies (that of [`LineConfig::default`]).
const DEFAULT_DISPERSION_KMS: (f64, f64) = (50.0, 200.0);

/// The templates each galaxy may mix: all of them, for old populations only those with
/// Dn4000 ≥ [`PASSIVE_DN4000`], for post-starbursts only the others.
struct TemplatePools {
    all: Vec<usize>,
    old: Vec<usize>,
    young: Vec<usize>,
}

impl TemplatePools {
    fn new(templates: &[Template], population: Option<&Population>) -> Result<Self, String> {
        let all: Vec<usize> = (0..templates.len()).collect();
        let (old, young): (Vec<usize>, Vec<usize>) = all
            .iter()
            .partition(|&&t| dn4000(&templates[t]).is_some_and(|d| d >= PASSIVE_DN4000));
        let needs = |has: fn(GalaxyClass) -> bool| {
            population.is_some_and(|p| {
                GalaxyClass::ALL
                    .iter()
                    .zip(p.fractions)
                    .any(|(&c, f)| has(c) && f > 0.0)
            })
        };
        let missing = |what: &str| {
            format!(
                "population: {what}, and none of the {} templates has one",
                templates.len()
            )
        };
        if needs(GalaxyClass::has_old_continuum) && old.is_empty() {
            return Err(missing(&format!(
                "passive and retired galaxies need templates with Dn4000 ≥ {PASSIVE_DN4000} \
                 (an old stellar population)"
            )));
        }
        if needs(GalaxyClass::has_young_continuum) && young.is_empty() {
            return Err(missing(&format!(
                "post-starburst galaxies need templates with Dn4000 < {PASSIVE_DN4000} (a \
                 young stellar population)"
            )));
        }
        Ok(TemplatePools { all, old, young })
    }

    fn for_class(&self, class: Option<GalaxyClass>) -> &[usize] {
        match class {
            Some(c) if c.has_old_continuum() => &self.old,
            Some(c) if c.has_young_continuum() => &self.young,
            _ => &self.all,
        }
    }
}

/// The (template, weight) pairs of galaxy `g`, drawn from the templates of `pool`.
fn draw_weights<R: Rng>(
    mixing: &Mixing,
    pool: &[usize],
    g: usize,
    rng: &mut R,
) -> Vec<(usize, f64)> {
    match mixing {
        Mixing::OnePerTemplate => vec![(pool[g % pool.len()], 1.0)],
        Mixing::Random { max_templates } => {
            let k = rng.gen_range(1..=(*max_templates).min(pool.len()));
            let chosen = sample(rng, pool.len(), k).into_vec();
            let raw: Vec<f64> = chosen
                .iter()
                .map(|_| -(1.0 - rng.gen::<f64>()).ln())
                .collect();
            let total: f64 = raw.iter().sum();
            // Exp(1) draws are ≥ 0 and their sum is 0 only if all are: fall back to equal weights.
            if total > 0.0 {
                chosen
                    .into_iter()
                    .zip(raw)
                    .map(|(t, e)| (pool[t], e / total))
                    .collect()
            } else {
                chosen
                    .into_iter()
                    .map(|t| (pool[t], 1.0 / k as f64))
                    .collect()
            }
        }
    }
}

/// Lines need every template to cover the window of the Hα local continuum.
fn check_halpha_window(templates: &[Template]) -> Result<(), String> {
    let (lo, hi) = HALPHA_CONTINUUM_WINDOW;
    for template in templates {
        let (first, last) = template.coverage();
        if first > lo || last < hi {
            return Err(format!(
                "{}: covers {first}–{last} Å (rest) but adding lines needs {lo}–{hi} Å to \
                 measure the continuum under Hα",
                template.name
            ));
        }
    }
    Ok(())
}
