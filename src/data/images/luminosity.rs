//! A magnitude-limited sample: (z, M_r) drawn from the r-band luminosity function of Blanton et
//! al. (2003, ApJ 592, 819; SDSS, z ≈ 0.1): a Schechter function
//!
//! φ(M) dM = 0.4 ln 10 φ* 10^(0.4 (α + 1)(M* − M)) exp(−10^(0.4 (M* − M))) dM,
//!
//! M* − 5 log₁₀ h = −20.44, α = −1.05, with luminosity evolution M*(z) = M*(0.1) − Q (z − 0.1),
//! Q = 1.62 (their Table 3; h = 0.7 here). Galaxies fill comoving volume uniformly, so the
//! density of (z, M) is ∝ dV/dz φ(M; z) inside the magnitude limits m_lo ≤ M + μ(z) ≤ m_hi,
//! with μ(z) = DM(z) + K(z) from the galaxy's own SED ([`super::photometry`]).
//!
//! Sampling: z from the marginal w(z) = dV/dz ∫ φ dM over the allowed M, tabulated on cells of
//! the z range (uniform within the drawn cell), then M from φ restricted to the allowed range at
//! that z, both by inverting tabulated cumulative distributions.

use rand::Rng;

use super::cosmology::FlatLcdm;

const M_STAR: f64 = -20.44;
const ALPHA: f64 = -1.05;
const Q_EVOLUTION: f64 = 1.62;
const HUBBLE_H: f64 = 0.7;
/// Absolute magnitudes tabulated (bright to faint) and the step.
const M_RANGE: (f64, f64) = (-25.0, -10.0);
const M_STEP: f64 = 0.005;
/// Redshift cells of the marginal.
pub const Z_CELLS: usize = 100;

/// Tables shared by every galaxy of a sample.
#[derive(Clone, Debug)]
pub struct LuminositySampler {
    cosmology: FlatLcdm,
    pub z_range: (f64, f64),
    pub magnitude_range: (f64, f64),
    /// Cell centres, their distance moduli and dV/dz.
    pub z_centres: Vec<f64>,
    distance_moduli: Vec<f64>,
    volume: Vec<f64>,
    /// Cumulative ∫ φ dM from the bright end at each tabulated M (evolution-free, z = 0.1).
    cumulative: Vec<f64>,
}

impl LuminositySampler {
    pub fn new(cosmology: &FlatLcdm, z_range: (f64, f64), magnitude_range: (f64, f64)) -> Self {
        let width = (z_range.1 - z_range.0) / Z_CELLS as f64;
        let z_centres: Vec<f64> = (0..Z_CELLS)
            .map(|j| z_range.0 + (j as f64 + 0.5) * width)
            .collect();
        let m_star = M_STAR + 5.0 * HUBBLE_H.log10();
        let density = |m: f64| {
            let x = 10f64.powf(0.4 * (m_star - m));
            0.4 * std::f64::consts::LN_10 * x.powf(ALPHA + 1.0) * (-x).exp()
        };
        let steps = ((M_RANGE.1 - M_RANGE.0) / M_STEP).round() as usize;
        let mut cumulative = vec![0.0; steps + 1];
        for k in 1..=steps {
            let (a, b) = (
                M_RANGE.0 + (k - 1) as f64 * M_STEP,
                M_RANGE.0 + k as f64 * M_STEP,
            );
            cumulative[k] = cumulative[k - 1] + 0.5 * (density(a) + density(b)) * M_STEP;
        }
        LuminositySampler {
            cosmology: *cosmology,
            z_range,
            magnitude_range,
            distance_moduli: z_centres
                .iter()
                .map(|&z| cosmology.distance_modulus(z))
                .collect(),
            volume: z_centres
                .iter()
                .map(|&z| cosmology.volume_element(z))
                .collect(),
            z_centres,
            cumulative,
        }
    }

    /// ∫ φ dM from the bright end to M at redshift z (evolution shifts M*).
    fn cumulative_at(&self, m: f64, z: f64) -> f64 {
        let shifted = m + Q_EVOLUTION * (z - 0.1);
        let position =
            ((shifted - M_RANGE.0) / M_STEP).clamp(0.0, (self.cumulative.len() - 1) as f64);
        let below = (position as usize).min(self.cumulative.len() - 2);
        let frac = position - below as f64;
        self.cumulative[below] + frac * (self.cumulative[below + 1] - self.cumulative[below])
    }

    /// The M with cumulative value c at z (inverse of [`Self::cumulative_at`]).
    fn magnitude_at(&self, c: f64, z: f64) -> f64 {
        let above = self
            .cumulative
            .partition_point(|&v| v < c)
            .clamp(1, self.cumulative.len() - 1);
        let (c0, c1) = (self.cumulative[above - 1], self.cumulative[above]);
        let frac = if c1 > c0 { (c - c0) / (c1 - c0) } else { 0.5 };
        M_RANGE.0 + (above as f64 - 1.0 + frac) * M_STEP - Q_EVOLUTION * (z - 0.1)
    }

    /// Draws (z, M_r) for a galaxy whose K-correction in the selection band is `k_correction`
    /// (μ = DM + K; called at the cell centres, then at the drawn z). Errors when the galaxy
    /// cannot enter the sample at any z.
    pub fn draw<R: Rng>(
        &self,
        rng: &mut R,
        k_correction: impl Fn(f64) -> f64,
    ) -> Result<(f64, f64), String> {
        let (m_lo, m_hi) = self.magnitude_range;
        let mut weights = Vec::with_capacity(Z_CELLS);
        let mut total = 0.0;
        for (j, &z) in self.z_centres.iter().enumerate() {
            let offset = self.distance_moduli[j] + k_correction(z);
            let inside =
                self.cumulative_at(m_hi - offset, z) - self.cumulative_at(m_lo - offset, z);
            total += self.volume[j] * inside.max(0.0);
            weights.push(total);
        }
        if total <= 0.0 || total.is_nan() {
            return Err(
                "luminosity function: the galaxy is outside the magnitude limits at every redshift"
                    .into(),
            );
        }
        let pick = rng.gen::<f64>() * total;
        let cell = weights.partition_point(|&w| w <= pick).min(Z_CELLS - 1);
        let width = (self.z_range.1 - self.z_range.0) / Z_CELLS as f64;
        let z = self.z_centres[cell] + (rng.gen::<f64>() - 0.5) * width;
        let offset = self.cosmology.distance_modulus(z) + k_correction(z);
        let (c_lo, c_hi) = (
            self.cumulative_at(m_lo - offset, z),
            self.cumulative_at(m_hi - offset, z),
        );
        let m = if c_hi > c_lo {
            self.magnitude_at(c_lo + rng.gen::<f64>() * (c_hi - c_lo), z)
        } else {
            // The drawn z sits just past the edge of a thin cell: the middle of the allowed range.
            0.5 * (m_lo + m_hi) - offset
        };
        Ok((z, m.clamp(m_lo - offset, m_hi - offset)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_flat_spectrum_sample_has_the_sdss_median_redshift_and_euclidean_counts() {
        // A flat f_ν spectrum: K = −2.5 log₁₀(1 + z).
        let cosmology = FlatLcdm::CONCORDANCE;
        let sampler = LuminositySampler::new(&cosmology, (0.002, 0.4), (13.0, 17.77));
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(2);
        let mut z = Vec::new();
        let mut m = Vec::new();
        for _ in 0..20_000 {
            let (zi, mi) = sampler
                .draw(&mut rng, |z| -2.5 * (1.0 + z).log10())
                .unwrap();
            let apparent = mi + cosmology.distance_modulus(zi) - 2.5 * (1.0 + zi).log10();
            assert!(
                (13.0 - 1e-9..=17.77 + 1e-9).contains(&apparent),
                "m {apparent}"
            );
            z.push(zi);
            m.push(apparent);
        }
        z.sort_by(f64::total_cmp);
        let median = z[z.len() / 2];
        // SDSS MGS median z = 0.104 (Strauss et al. 2002); this toy K-correction gives ≈ 0.1.
        assert!((0.07..0.14).contains(&median), "median z {median}");
        // Euclidean counts: N(<m) ∝ 10^(0.6 m), so N(<17.27)/N(<17.77) ≈ 10^(−0.3) ≈ 0.5.
        let bright = m.iter().filter(|&&x| x < 17.27).count() as f64 / m.len() as f64;
        assert!((0.42..0.58).contains(&bright), "fraction {bright}");
    }
}
