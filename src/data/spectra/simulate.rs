//! Observed spectra from the rest-frame library: redshift, line-spread function, flux-conserving
//! rebinning, flux scaling, noise and normalisation.
//!
//! For a galaxy at redshift z with LSF width σ (observed Å):
//!
//! 1. Continuum: f_obs(λ) = f_rest(λ / (1+z)) / (1+z), sampled on a fine uniform working grid
//!    (step δ = min(pixel, σ) / 3, reaching 4σ + 2δ beyond the outer pixel edges), convolved
//!    with the Gaussian LSF ([`gaussian_convolve`]) and rebinned flux-conservingly onto the
//!    pixels ([`rebin_flux_conserving`]).
//! 2. Lines: a line of rest flux F at λ_i lands at μ = λ_i (1+z) with the same integrated flux
//!    (the 1/(1+z) of f_λ cancels the (1+z) stretch of dλ), intrinsic width σ_v μ / c, and after
//!    the LSF width s = √((σ_v μ / c)² + σ²); pixel [e_lo, e_hi) receives
//!    F \[Φ((e_hi − μ)/s) − Φ((e_lo − μ)/s)\] / (e_hi − e_lo), exactly.
//! 3. Flux scale, then a neighbour's overlapping spectrum (optional, see
//!    [`super::contamination`]), then noise, then the masking of contaminated pixels, then
//!    normalisation (see [`SimConfig`]).

use rand::Rng;
use rayon::prelude::*;

use super::config::{FluxScale, SimConfig};
use super::contamination::{mask_contaminated, shift_into, Neighbour};
use super::draw::{stream_rng, uniform, SPECTRUM_STREAM};
use super::gauss::normal_cdf;
use super::library::{Galaxy, SedLibrary};
use super::lines::{line_wavelengths, HALPHA, N_LINES, SPEED_OF_LIGHT_KMS};
use super::lsf::{gaussian_convolve, KERNEL_HALF_WIDTH_SIGMAS};
use super::noise::mean_abs;
use super::rebin::rebin_flux_conserving;

/// Working-grid samples per min(pixel, σ).
pub const OVERSAMPLE: f64 = 3.0;

/// Lines are integrated over the pixels within this many widths of their centre (the rest of a
/// Gaussian beyond 8 s is below 10⁻¹⁵).
const LINE_HALF_WIDTH_SIGMAS: f64 = 8.0;

/// The truth about one simulated spectrum. Fluxes are in output units (after the flux scale),
/// before normalisation: multiply a stored spectrum by `norm_scale` to get them back.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrumProperties {
    /// Index of the galaxy in the library (spectrum i uses galaxy i mod library length).
    pub galaxy: usize,
    /// (template index, weight) of the galaxy's mixture.
    pub template_weights: Vec<(usize, f32)>,
    /// The galaxy's class, when the library was drawn from a population.
    pub class: Option<super::GalaxyClass>,
    /// Stellar colour excess E(B−V)_star.
    pub ebv: f32,
    /// Integrated Hα flux (0 without lines).
    pub halpha_flux: f32,
    /// Rest-frame Hα equivalent width \[Å\] (0 without lines).
    pub halpha_ew: f32,
    /// Integrated flux of each line of [`super::LINE_NAMES`] (zeros without lines).
    pub line_fluxes: [f32; N_LINES],
    /// σ of the Gaussian LSF \[observed Å\].
    pub lsf_sigma: f32,
    /// Factor from the library's units (× 1/(1+z)) to output units.
    pub flux_scale: f32,
    /// Per-pixel noise σ in output units (0 without noise).
    pub noise_sigma: f32,
    /// Signal-to-noise ratio per pixel: mean |noiseless flux| / `noise_sigma` (infinite without
    /// noise), the neighbour's light not counted.
    pub snr: f32,
    /// Library index of the contaminating neighbour, if any.
    pub contaminant: Option<usize>,
    /// Fraction of the pixels masked for contamination (and filled by interpolation).
    pub masked_fraction: f32,
    /// Stored flux = output flux / `norm_scale`.
    pub norm_scale: f32,
}

/// A simulated data set.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectraSet {
    /// Pixel centres \[Å\].
    pub wavelengths: Vec<f32>,
    /// n × pixels, row-major.
    pub flux: Vec<f32>,
    /// True redshift of each spectrum (the exact value used to simulate it).
    pub z: Vec<f32>,
    pub properties: Vec<SpectrumProperties>,
}

impl SpectraSet {
    /// Number of spectra.
    pub fn len(&self) -> usize {
        self.z.len()
    }

    pub fn is_empty(&self) -> bool {
        self.z.is_empty()
    }

    /// Spectrum `i` (one row of `flux`).
    pub fn spectrum(&self, i: usize) -> &[f32] {
        let pixels = self.wavelengths.len();
        &self.flux[i * pixels..(i + 1) * pixels]
    }
}

/// Simulates `n_spectra` spectra; spectrum i uses galaxy i mod `library.len()` and its own random
/// stream derived from (`seed`, i), so the result depends only on the inputs — not on the number
/// of threads. Errors when the configuration is invalid, when a galaxy's templates do not cover
/// the rest wavelengths the grid needs, or when a spectrum cannot be scaled.
pub fn simulate(
    config: &SimConfig,
    library: &SedLibrary,
    n_spectra: usize,
    seed: u64,
) -> Result<SpectraSet, String> {
    config.validate()?;
    check_library(config, library)?;
    let pixels = config.grid.pixels;
    let edges = config.grid.edges();
    let mut flux = vec![0.0f32; n_spectra * pixels];
    let results: Vec<(f32, SpectrumProperties)> = flux
        .par_chunks_mut(pixels)
        .enumerate()
        .map_init(Workspace::default, |workspace, (i, row)| {
            simulate_one(config, library, &edges, seed, i, workspace, row)
        })
        .collect::<Result<_, _>>()?;
    let (z, properties) = results.into_iter().unzip();
    let wavelengths = config.grid.centers().iter().map(|&l| l as f32).collect();
    Ok(SpectraSet {
        wavelengths,
        flux,
        z,
        properties,
    })
}

/// Buffers reused by the spectra a thread simulates.
#[derive(Default)]
struct Workspace {
    observed_lambda: Vec<f64>,
    rest_lambda: Vec<f64>,
    continuum: Vec<f64>,
    convolved: Vec<f64>,
    spectrum: Vec<f64>,
    scratch: Vec<f64>,
    neighbour: Vec<f64>,
    contaminant: Vec<f64>,
}

/// Draws z, σ, the flux scale, noise; renders, scales, adds noise, normalises, stores as f32.
fn simulate_one(
    config: &SimConfig,
    library: &SedLibrary,
    edges: &[f64],
    seed: u64,
    i: usize,
    ws: &mut Workspace,
    row: &mut [f32],
) -> Result<(f32, SpectrumProperties), String> {
    let mut rng = stream_rng(seed, SPECTRUM_STREAM, i as u64);
    let galaxy_index = i % library.len();
    let galaxy = &library.galaxies()[galaxy_index];
    let z = draw_redshift(&mut rng, config.z_range);
    let sigma = config.lsf.draw(&mut rng);
    let target = config.flux_scale.draw_target(&mut rng);
    let neighbour = config.contamination.as_ref().and_then(|c| {
        c.draw_neighbour(
            &mut rng,
            galaxy_index,
            library.len(),
            config.z_range,
            row.len(),
        )
    });

    let mut spectrum = std::mem::take(&mut ws.spectrum);
    spectrum.resize(row.len(), 0.0);
    render_noiseless(
        library,
        galaxy,
        f64::from(z),
        sigma,
        edges,
        ws,
        &mut spectrum,
    );
    let halpha_rest = galaxy.lines.as_ref().map_or(0.0, |l| l.flux[HALPHA]);
    let scale = flux_scale_factor(&config.flux_scale, target, halpha_rest, &spectrum)
        .map_err(|what| format!("spectrum {i} (galaxy {galaxy_index}): {what}"))?;
    spectrum.iter_mut().for_each(|v| *v *= scale);
    let signal = mean_abs(&spectrum);
    let mut contaminant = std::mem::take(&mut ws.contaminant);
    contaminant.resize(row.len(), 0.0);
    if let Some(nb) = &neighbour {
        render_neighbour(library, nb, sigma, signal, edges, ws, &mut contaminant);
        spectrum
            .iter_mut()
            .zip(&contaminant)
            .for_each(|(s, c)| *s += c);
    }
    let noise_sigma = config.noise.add(&mut rng, &mut spectrum, &mut ws.scratch);
    let masked = match (&config.contamination, &neighbour) {
        (Some(c), Some(_)) => mask_contaminated(
            &mut spectrum,
            &contaminant,
            c.mask_sigma * noise_sigma,
            edges,
        ),
        _ => 0,
    };
    ws.contaminant = contaminant;
    let norm_scale = config.normalisation.apply(&mut spectrum, &mut ws.scratch);
    row.iter_mut()
        .zip(&spectrum)
        .for_each(|(r, &v)| *r = v as f32);
    ws.spectrum = spectrum;

    let noise = Noise {
        sigma: noise_sigma,
        snr: signal / noise_sigma,
    };
    let contamination = Contaminated {
        neighbour: neighbour.map(|nb| nb.galaxy),
        masked_fraction: masked as f64 / row.len() as f64,
    };
    let properties = describe(
        galaxy,
        galaxy_index,
        sigma,
        scale,
        noise,
        contamination,
        norm_scale,
    );
    Ok((z, properties))
}

/// The neighbour's noiseless spectrum at its own z with the target's LSF σ, scaled to
/// `flux_ratio` × the target's mean |flux| `target_signal`, shifted into `contaminant`.
fn render_neighbour(
    library: &SedLibrary,
    nb: &Neighbour,
    sigma: f64,
    target_signal: f64,
    edges: &[f64],
    ws: &mut Workspace,
    contaminant: &mut [f64],
) {
    let mut rendered = std::mem::take(&mut ws.neighbour);
    rendered.resize(contaminant.len(), 0.0);
    let galaxy = &library.galaxies()[nb.galaxy];
    render_noiseless(library, galaxy, nb.z, sigma, edges, ws, &mut rendered);
    let own = mean_abs(&rendered);
    let factor = if own > 0.0 {
        nb.flux_ratio * target_signal / own
    } else {
        0.0
    };
    rendered.iter_mut().for_each(|v| *v *= factor);
    shift_into(&rendered, nb.offset, contaminant);
    ws.neighbour = rendered;
}

/// z uniform in [z_min, z_max), rounded to f32 and kept inside the range after rounding, so the
/// stored label is exactly the redshift that was simulated.
fn draw_redshift<R: Rng>(rng: &mut R, (z_min, z_max): (f64, f64)) -> f32 {
    let mut z = uniform(rng, (z_min, z_max)) as f32;
    if f64::from(z) >= z_max {
        z = f32::from_bits(z.to_bits() - 1);
    }
    if f64::from(z) < z_min {
        z = f32::from_bits(z.to_bits() + 1);
    }
    z
}

/// The noiseless observed spectrum (library units × 1/(1+z)) averaged over each pixel.
fn render_noiseless(
    library: &SedLibrary,
    galaxy: &Galaxy,
    z: f64,
    sigma: f64,
    edges: &[f64],
    ws: &mut Workspace,
    spectrum: &mut [f64],
) {
    let pixel = edges[1] - edges[0];
    let step = if sigma > 0.0 { pixel.min(sigma) } else { pixel } / OVERSAMPLE;
    let pad = KERNEL_HALF_WIDTH_SIGMAS * sigma + 2.0 * step;
    let start = edges[0] - pad;
    let knots = ((edges[edges.len() - 1] + pad - start) / step).ceil() as usize + 1;
    let stretch = 1.0 + z;

    ws.observed_lambda.clear();
    ws.observed_lambda
        .extend((0..knots).map(|j| start + j as f64 * step));
    ws.rest_lambda.clear();
    ws.rest_lambda
        .extend(ws.observed_lambda.iter().map(|l| l / stretch));
    ws.continuum.resize(knots, 0.0);
    library.continuum(galaxy, &ws.rest_lambda, &mut ws.continuum);
    ws.continuum.iter_mut().for_each(|f| *f /= stretch);
    ws.convolved.resize(knots, 0.0);
    gaussian_convolve(&ws.continuum, step, sigma, &mut ws.convolved);
    rebin_flux_conserving(&ws.observed_lambda, &ws.convolved, edges, spectrum);
    if let Some(lines) = &galaxy.lines {
        for (&flux, &rest) in lines.flux.iter().zip(line_wavelengths()) {
            let centre = rest * stretch;
            let intrinsic = centre * lines.sigma_kms / SPEED_OF_LIGHT_KMS;
            let width = (intrinsic * intrinsic + sigma * sigma).sqrt();
            add_gaussian_line(flux, centre, width, edges, spectrum);
        }
    }
}

/// Adds a Gaussian line of integrated flux `flux`, centre `centre` and width `width` \[Å\],
/// integrated exactly over each pixel of the uniform grid `edges`.
pub fn add_gaussian_line(flux: f64, centre: f64, width: f64, edges: &[f64], spectrum: &mut [f64]) {
    let pixel = edges[1] - edges[0];
    let reach = LINE_HALF_WIDTH_SIGMAS * width + pixel;
    let first = ((centre - reach - edges[0]) / pixel).floor().max(0.0) as usize;
    let last = (((centre + reach - edges[0]) / pixel).ceil().max(0.0) as usize).min(spectrum.len());
    let cdf = |x: f64| {
        if width > 0.0 {
            normal_cdf((x - centre) / width)
        } else {
            f64::from(u8::from(x > centre))
        }
    };
    let mut below = cdf(edges[first.min(spectrum.len())]);
    for p in first..last {
        let above = cdf(edges[p + 1]);
        spectrum[p] += flux * (above - below) / (edges[p + 1] - edges[p]);
        below = above;
    }
}

/// The factor from library units to output units.
fn flux_scale_factor(
    scale: &FluxScale,
    target: f64,
    halpha_rest: f64,
    spectrum: &[f64],
) -> Result<f64, String> {
    match scale {
        FluxScale::None => Ok(1.0),
        // The observed integrated flux of a line equals its rest-frame one (see the module doc).
        FluxScale::HalphaFlux { .. } => Ok(target / halpha_rest),
        FluxScale::MeanFlambda { .. } => {
            let mean = spectrum.iter().sum::<f64>() / spectrum.len() as f64;
            if mean > 0.0 && mean.is_finite() {
                Ok(target / mean)
            } else {
                Err(format!(
                    "the mean f_λ over the grid is {mean}; cannot scale it to a positive flux"
                ))
            }
        }
    }
}

/// The noise of one spectrum: per-pixel σ and the signal-to-noise ratio per pixel.
struct Noise {
    sigma: f64,
    snr: f64,
}

/// The contamination of one spectrum: the neighbour's library index and the masked fraction.
struct Contaminated {
    neighbour: Option<usize>,
    masked_fraction: f64,
}

fn describe(
    galaxy: &Galaxy,
    index: usize,
    sigma: f64,
    scale: f64,
    noise: Noise,
    contamination: Contaminated,
    norm_scale: f64,
) -> SpectrumProperties {
    let (line_fluxes, halpha_ew) = match &galaxy.lines {
        Some(lines) => (
            lines.flux.map(|f| (f * scale) as f32),
            lines.halpha_ew as f32,
        ),
        None => ([0.0; N_LINES], 0.0),
    };
    SpectrumProperties {
        galaxy: index,
        template_weights: galaxy.weights.iter().map(|&(t, w)| (t, w as f32)).collect(),
        class: galaxy.class,
        ebv: galaxy.ebv as f32,
        halpha_flux: line_fluxes[HALPHA],
        halpha_ew,
        line_fluxes,
        lsf_sigma: sigma as f32,
        flux_scale: scale as f32,
        noise_sigma: noise.sigma as f32,
        snr: noise.snr as f32,
        contaminant: contamination.neighbour,
        masked_fraction: contamination.masked_fraction as f32,
        norm_scale: norm_scale as f32,
    }
}

/// Checks, before any work, that every galaxy covers the rest wavelengths the grid needs at
/// both ends of the redshift range, and that Hα scaling has lines to scale.
fn check_library(config: &SimConfig, library: &SedLibrary) -> Result<(), String> {
    if library.is_empty() {
        return Err("the SED library has no galaxies".to_string());
    }
    let edges = config.grid.edges();
    let margin = KERNEL_HALF_WIDTH_SIGMAS * config.lsf.max_sigma() + config.grid.step();
    let (z_min, z_max) = config.z_range;
    let needed = (
        (edges[0] - margin) / (1.0 + z_max),
        (edges[edges.len() - 1] + margin) / (1.0 + z_min),
    );
    for (g, galaxy) in library.galaxies().iter().enumerate() {
        let ((lo, lo_name), (hi, hi_name)) = library.coverage(galaxy);
        if lo > needed.0 || hi < needed.1 {
            let name = if lo > needed.0 { lo_name } else { hi_name };
            // The redshifts this coverage allows: (1+z) lo ≤ first edge − margin and
            // (1+z) hi ≥ last edge + margin.
            let z_low = (edges[edges.len() - 1] + margin) / hi - 1.0;
            let z_high = (edges[0] - margin) / lo - 1.0;
            let advice = if z_low < z_high {
                format!(
                    "narrow z_min/z_max to within [{:.3}, {:.3}]",
                    z_low.max(0.0),
                    z_high
                )
            } else {
                "no redshift fits this grid; extend the template".to_string()
            };
            return Err(format!(
                "{name}: coverage too short: it reaches {lo:.1}–{hi:.1} Å (rest) but the grid \
                 {:.1}–{:.1} Å at z in [{z_min}, {z_max}) with LSF σ ≤ {} Å needs {:.1}–{:.1} Å \
                 (galaxy {g}); {advice}",
                edges[0],
                edges[edges.len() - 1],
                config.lsf.max_sigma(),
                needed.0,
                needed.1
            ));
        }
        let has_halpha = galaxy.lines.as_ref().is_some_and(|l| l.flux[HALPHA] > 0.0);
        if matches!(config.flux_scale, FluxScale::HalphaFlux { .. }) && !has_halpha {
            return Err(format!(
                "flux_scale.halpha_flux: galaxy {g}{} has no Hα line; build the library with \
                 lines (an Hα-selected population such as \"halpha\") or scale by mean_flambda",
                galaxy
                    .class
                    .map_or(String::new(), |c| format!(" ({})", c.name()))
            ));
        }
    }
    Ok(())
}
