//! Stellar absorption lines deepened to the strengths old galaxies show. The shipped templates
//! carry the 4000 Å break, Ca H+K and the G band at full strength, but Mg b and Na D at only a
//! third to a half of the values of old ellipticals (README, "The built-in population"). In
//! 1 ≤ z < 1.8 these two features fall inside the seed and Euclid grids while Ca H+K mostly do
//! not, so an old galaxy's redshift rests on them.
//!
//! For each feature the pseudo-equivalent width of the galaxy's continuum is measured in its
//! Lick windows, a target is drawn, and Gaussian absorption lines at the feature's wavelengths
//! (a velocity dispersion of 200 km/s, typical of massive ellipticals) make up the shortfall.
//! The continuum is multiplied by Π_j (1 − d_j exp(−½ ((λ − μ_j) / s_j)²)).

use rand::Rng;

use super::draw::uniform;
use super::lines::SPEED_OF_LIGHT_KMS;

/// A Lick index: the feature's band and its blue and red pseudo-continuum windows \[Å\]
/// (pyphot `licks.dat`, after Worthey et al. 1994 and Trager et al. 1998).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LickIndex {
    pub name: &'static str,
    pub band: (f64, f64),
    pub blue: (f64, f64),
    pub red: (f64, f64),
}

/// Mg b (the Mg I triplet).
pub const MG_B: LickIndex = LickIndex {
    name: "Mg b",
    band: (5160.1, 5192.6),
    blue: (5142.6, 5161.4),
    red: (5191.4, 5206.4),
};

/// Na D (the Na I doublet).
pub const NA_D: LickIndex = LickIndex {
    name: "Na D",
    band: (5876.9, 5909.4),
    blue: (5860.6, 5875.6),
    red: (5922.1, 5948.1),
};

/// The deepened features: index, rest vacuum wavelengths of its lines \[Å\] (equal strengths),
/// and the range of the target pseudo-EW \[Å\], drawn uniformly. Old ellipticals have Mg b ≈
/// 3.5–5 Å and Na D ≈ 3–5 Å (Trager et al. 1998, ApJS 116, 1; literature values, not verified
/// against the paper here).
pub const DEEPENED: [(LickIndex, &[f64], (f64, f64)); 2] = [
    (MG_B, &[5168.8, 5174.1, 5185.0], (3.5, 5.0)),
    (NA_D, &[5891.6, 5897.6], (3.0, 5.0)),
];

/// Stellar velocity dispersion of the absorption lines \[km/s\].
pub const STELLAR_DISPERSION_KMS: f64 = 200.0;

/// Lines are applied within this many σ of their centre (the rest is below 2 × 10⁻⁸ of the
/// depth).
const REACH_SIGMAS: f64 = 6.0;

/// One Gaussian absorption line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AbsorptionLine {
    pub centre: f64,
    pub sigma: f64,
    /// Fractional depth at the centre, in [0, 1).
    pub depth: f64,
}

/// Π_j (1 − d_j exp(−½ ((λ − μ_j) / s_j)²)) at rest wavelength `lambda`.
pub fn transmission(lines: &[AbsorptionLine], lambda: f64) -> f64 {
    lines
        .iter()
        .filter(|l| (lambda - l.centre).abs() < REACH_SIGMAS * l.sigma)
        .map(|l| 1.0 - l.depth * (-0.5 * ((lambda - l.centre) / l.sigma).powi(2)).exp())
        .product()
}

/// Pseudo-EW \[Å\] of `f` in `index`: ∫_band (1 − f / C) dλ, with C the straight line through
/// the mean f of the blue and red windows at their centres, on a 0.5 Å midpoint grid.
pub fn pseudo_ew(f: &dyn Fn(f64) -> f64, index: &LickIndex) -> f64 {
    const STEP: f64 = 0.5;
    let grid = |(lo, hi): (f64, f64)| {
        let n = ((hi - lo) / STEP).round() as usize;
        (0..n).map(move |i| lo + (i as f64 + 0.5) * (hi - lo) / n as f64)
    };
    let mean = |window: (f64, f64)| {
        let (sum, n) = grid(window).fold((0.0, 0), |(s, n), l| (s + f(l), n + 1));
        sum / f64::from(n)
    };
    let centre = |(lo, hi): (f64, f64)| 0.5 * (lo + hi);
    let (blue, red) = (mean(index.blue), mean(index.red));
    let (xb, xr) = (centre(index.blue), centre(index.red));
    let width = (index.band.1 - index.band.0) / ((index.band.1 - index.band.0) / STEP).round();
    grid(index.band)
        .map(|l| 1.0 - f(l) / (blue + (red - blue) * (l - xb) / (xr - xb)))
        .sum::<f64>()
        * width
}

/// The lines that bring each feature of [`DEEPENED`] in `continuum` (a rest-frame f_λ) up to a
/// target drawn from its range; none for a feature already at its target.
pub fn deepen<R: Rng>(continuum: &dyn Fn(f64) -> f64, rng: &mut R) -> Vec<AbsorptionLine> {
    let mut all = Vec::new();
    for (index, centres, target_range) in DEEPENED {
        let target = uniform(rng, target_range);
        let before = pseudo_ew(continuum, &index);
        if before >= target {
            continue;
        }
        // A Gaussian of depth d and width s absorbs d s √(2π) Å; the lines share the shortfall,
        // then one linear correction absorbs what their wings take from the continuum windows.
        let per_line = (target - before) / centres.len() as f64;
        let mut lines: Vec<AbsorptionLine> = centres
            .iter()
            .map(|&centre| {
                let sigma = centre * STELLAR_DISPERSION_KMS / SPEED_OF_LIGHT_KMS;
                let depth = per_line / (sigma * std::f64::consts::TAU.sqrt());
                AbsorptionLine {
                    centre,
                    sigma,
                    depth,
                }
            })
            .collect();
        let deepened = |l: f64| continuum(l) * transmission(&lines, l);
        let gained = pseudo_ew(&deepened, &index) - before;
        let correction = (target - before) / gained;
        lines
            .iter_mut()
            .for_each(|l| l.depth = (l.depth * correction).min(0.95));
        all.extend(lines);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn a_flat_continuum_has_no_feature_and_a_known_line_its_equivalent_width() {
        assert!(pseudo_ew(&|_| 1.0, &MG_B).abs() < 1e-12);
        // One Gaussian of depth 0.2, σ = 3 Å in the middle of the band: EW = 0.2 · 3 · √(2π).
        let line = [AbsorptionLine {
            centre: 5176.0,
            sigma: 3.0,
            depth: 0.2,
        }];
        let ew = pseudo_ew(&|l| transmission(&line, l), &MG_B);
        assert!(
            (ew - 0.2 * 3.0 * std::f64::consts::TAU.sqrt()).abs() < 1e-3,
            "{ew}"
        );
    }

    #[test]
    fn deepened_features_reach_their_targets_and_strong_ones_are_left_alone() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
        // A sloped continuum with a weak Mg b of its own.
        let own = [AbsorptionLine {
            centre: 5174.1,
            sigma: 3.5,
            depth: 0.1,
        }];
        let continuum = |l: f64| (1.0 + (l - 5500.0) / 5000.0) * transmission(&own, l);
        for _ in 0..50 {
            let lines = deepen(&continuum, &mut rng);
            assert_eq!(lines.len(), 5);
            let deepened = |l: f64| continuum(l) * transmission(&lines, l);
            let mg_b = pseudo_ew(&deepened, &MG_B);
            let na_d = pseudo_ew(&deepened, &NA_D);
            assert!((3.5 * 0.99..5.0 * 1.01).contains(&mg_b), "Mg b {mg_b}");
            assert!((3.0 * 0.99..5.0 * 1.01).contains(&na_d), "Na D {na_d}");
        }
        // Already deeper than any target: nothing added.
        let strong = [
            AbsorptionLine {
                centre: 5174.1,
                sigma: 3.5,
                depth: 0.9,
            },
            AbsorptionLine {
                centre: 5894.0,
                sigma: 3.5,
                depth: 0.9,
            },
        ];
        assert!(deepen(&|l| transmission(&strong, l), &mut rng).is_empty());
    }
}
