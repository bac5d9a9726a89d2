//! Per-spectrum normalisation, applied last (after noise).

/// How each spectrum is scaled before it is stored: stored = physical / scale, and the scale is
/// kept in [`super::SpectrumProperties::norm_scale`]. A spectrum whose scale would be 0 or not
/// finite (e.g. all zeros) is left as it is, with scale 1.
/// Its names on the command line and in configs are `none`, `max`, `median` and `l2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Normalisation {
    /// scale = 1.
    None,
    /// scale = max_i |f_i|, so the largest |value| becomes 1.
    Max,
    /// scale = median_i |f_i| (of absolute values, so noisy spectra near zero stay positive).
    Median,
    /// scale = √(Σ_i f_i²), so the spectrum has unit L2 norm.
    L2,
}

impl Normalisation {
    /// Divides `spectrum` by its scale and returns the scale. `scratch` is used by the median.
    pub fn apply(self, spectrum: &mut [f64], scratch: &mut Vec<f64>) -> f64 {
        let scale = match self {
            Normalisation::None => 1.0,
            Normalisation::Max => spectrum.iter().fold(0.0, |m: f64, v| m.max(v.abs())),
            Normalisation::Median => median_abs(spectrum, scratch),
            Normalisation::L2 => spectrum.iter().map(|v| v * v).sum::<f64>().sqrt(),
        };
        if scale > 0.0 && scale.is_finite() {
            spectrum.iter_mut().for_each(|v| *v /= scale);
            scale
        } else {
            1.0
        }
    }
}

/// Median of |x_i| (the upper of the two middle values for an even count).
fn median_abs(values: &[f64], scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend(values.iter().map(|v| v.abs()));
    let middle = scratch.len() / 2;
    *scratch.select_nth_unstable_by(middle, f64::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(norm: Normalisation, values: &[f64]) -> (Vec<f64>, f64) {
        let mut spectrum = values.to_vec();
        let scale = norm.apply(&mut spectrum, &mut Vec::new());
        (spectrum, scale)
    }

    #[test]
    fn each_normalisation_reaches_its_target() {
        let values = [0.5, -4.0, 2.0, 1.0, 3.0];
        let (max, max_scale) = normalised(Normalisation::Max, &values);
        assert_eq!(max_scale, 4.0);
        assert_eq!(max.iter().fold(0.0, |m: f64, v| m.max(v.abs())), 1.0);
        let (median, median_scale) = normalised(Normalisation::Median, &values);
        assert_eq!(median_scale, 2.0);
        assert_eq!(median[2], 1.0);
        let (l2, _) = normalised(Normalisation::L2, &values);
        assert!((l2.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(
            normalised(Normalisation::None, &values),
            (values.to_vec(), 1.0)
        );
    }

    #[test]
    fn an_all_zero_spectrum_is_left_alone() {
        for norm in [Normalisation::Max, Normalisation::Median, Normalisation::L2] {
            assert_eq!(normalised(norm, &[0.0; 4]), (vec![0.0; 4], 1.0));
        }
    }
}
