//! Rendering a drawn galaxy into its cutout: bulge and disk drawn pixel-integrated on a periodic
//! grid, convolved with each band's Moffat PSF by FFT, cropped, then sky and photon noise.
//!
//! Convolution at the pixel scale: the pixel-integrated galaxy convolved with the PSF sampled
//! (pixel-averaged) on the same grid. The grid has `stamp + 64` pixels or more (a power of two):
//! light that the periodic convolution wraps around the edge lands ≥ 32 px from the cutout, and
//! the PSF's light beyond 32 px of its centre is < 10⁻³ for every preset's FWHM.
//!
//! Noise (shared research §1a noise model): with sky S (stored units per pixel) and g electrons
//! per unit, a pixel of noiseless value v becomes [Poisson(g (v + S)) + N(0, σ_read²)] / g − S,
//! sky-subtracted like SDSS corrected frames and HSC coadds.

use rand::Rng;

use super::fft::Fft;
use super::galaxy::DrawnGalaxy;
use super::psf::Moffat;
use super::random::poisson;
use super::render::draw_sersic;
use super::survey::Survey;
use crate::data::spectra::fill_normal;

/// Margin \[px\] of the convolution grid beyond the cutout, on both sides together.
const GRID_MARGIN: usize = 64;

/// Side of the periodic convolution grid for a cutout of side `stamp`.
pub fn grid_size(stamp: usize) -> usize {
    (stamp + GRID_MARGIN).next_power_of_two()
}

/// Buffers one thread reuses from galaxy to galaxy.
pub struct Workspace {
    size: usize,
    fft: Fft,
    bulge: (Vec<f64>, Vec<f64>),
    disk: (Vec<f64>, Vec<f64>),
    psf: (Vec<f64>, Vec<f64>),
    image: (Vec<f64>, Vec<f64>),
    noise: Vec<f64>,
}

impl Workspace {
    pub fn new(stamp: usize) -> Self {
        let size = grid_size(stamp);
        let grid = || (vec![0.0; size * size], vec![0.0; size * size]);
        Workspace {
            size,
            fft: Fft::new(size),
            bulge: grid(),
            disk: grid(),
            psf: grid(),
            image: grid(),
            noise: Vec::new(),
        }
    }
}

/// Renders `galaxy` into `out` (`bands` × stamp × stamp, row-major) and returns the σ of the
/// noise of an empty pixel in each band (0 when `noisy` is false).
pub fn render<R: Rng>(
    survey: &Survey,
    galaxy: &DrawnGalaxy,
    noisy: bool,
    rng: &mut R,
    ws: &mut Workspace,
    out: &mut [f32],
) -> Vec<f64> {
    let (size, stamp) = (ws.size, survey.stamp);
    assert_eq!(out.len(), survey.bands.len() * stamp * stamp, "cutout size");
    // The galaxy sits on pixel (stamp/2, stamp/2) of the cutout, plus its sub-pixel offset.
    let origin = (size - stamp) / 2;
    let centre = (
        (origin + stamp / 2) as f64 + galaxy.offset.0,
        (origin + stamp / 2) as f64 + galaxy.offset.1,
    );
    for (component, profile) in [(&mut ws.bulge, &galaxy.bulge), (&mut ws.disk, &galaxy.disk)] {
        component.0.fill(0.0);
        component.1.fill(0.0);
        draw_sersic(profile, 1.0, centre, size, &mut component.0);
        ws.fft
            .transform_2d(&mut component.0, &mut component.1, false);
    }
    let mut noise_levels = Vec::with_capacity(survey.bands.len());
    for (b, spec) in survey.bands.iter().enumerate() {
        let psf = Moffat {
            fwhm: galaxy.fwhm[b] / survey.pixel_scale,
            beta: survey.moffat_beta,
        };
        let total = psf.draw_periodic(size, &mut ws.psf.0);
        ws.psf.0.iter_mut().for_each(|v| *v /= total);
        ws.psf.1.fill(0.0);
        ws.fft.transform_2d(&mut ws.psf.0, &mut ws.psf.1, false);
        // (f_b B̂ + f_d D̂) · P̂, element by element.
        let (fb, fd) = (galaxy.bulge_flux[b], galaxy.disk_flux[b]);
        for k in 0..size * size {
            let re = fb * ws.bulge.0[k] + fd * ws.disk.0[k];
            let im = fb * ws.bulge.1[k] + fd * ws.disk.1[k];
            let (p_re, p_im) = (ws.psf.0[k], ws.psf.1[k]);
            ws.image.0[k] = re * p_re - im * p_im;
            ws.image.1[k] = re * p_im + im * p_re;
        }
        ws.fft.transform_2d(&mut ws.image.0, &mut ws.image.1, true);
        let plane = &mut out[b * stamp * stamp..(b + 1) * stamp * stamp];
        let sky = spec.sky_per_pixel(survey.pixel_scale);
        let gain = spec.electrons_per_unit;
        ws.noise.resize(stamp * stamp, 0.0);
        if noisy {
            fill_normal(rng, spec.read_variance.sqrt(), &mut ws.noise);
        }
        for row in 0..stamp {
            for col in 0..stamp {
                let v = ws.image.0[(origin + row) * size + origin + col];
                let value = if noisy {
                    let electrons = poisson(rng, (gain * (v + sky)).max(0.0));
                    (electrons + ws.noise[row * stamp + col]) / gain - sky
                } else {
                    v
                };
                plane[row * stamp + col] = value as f32;
            }
        }
        noise_levels.push(if noisy {
            spec.sky_noise(survey.pixel_scale)
        } else {
            0.0
        });
    }
    noise_levels
}
