//! The plots of a study: the residual profiles of every step against z_spec and z_photo, each
//! step's z_photo histogram against the z_spec histogram, and σ_NMAD per magnitude row.

use super::steps::STEP_NAMES;
use super::study::{StepMetrics, StepResult};
use crate::metrics::distribution::ResidualProfile;
use crate::redshift::lin2022::MagnitudeRows;
use crate::redshift::ZBinning;
use crate::report::lines::{plot_lines, Curve, LinePanel};
use std::path::Path;

/// The plot files, in the order [`write`] writes them.
pub const FILES: [&str; 3] = ["residuals.svg", "histograms.svg", "nmad_per_row.svg"];

/// At most this many bins in the histogram plot.
const MAX_HISTOGRAM_BINS: usize = 60;

/// Writes the three plots into `out`.
pub fn write(
    out: &Path,
    base: &ZBinning,
    rows: &MagnitudeRows,
    results: &[StepResult],
    metrics: &[StepMetrics],
    z_spec: &[f64],
) -> Result<(), String> {
    let curves = |profile: fn(&StepMetrics) -> &ResidualProfile| {
        results
            .iter()
            .zip(metrics)
            .map(|(r, m)| {
                let p = profile(m);
                Curve {
                    label: STEP_NAMES[r.step].into(),
                    points: p
                        .centers
                        .iter()
                        .zip(&p.mean_delta_z)
                        .filter_map(|(&c, d)| d.map(|d| (c, d)))
                        .collect(),
                    reference: false,
                }
            })
            .collect()
    };
    let residual_panel = |axis: &str, curves| LinePanel {
        title: format!("mean Δz in bins of {axis}"),
        x_desc: axis.into(),
        y_desc: "mean (z_photo − z_spec)/(1 + z_spec)".into(),
        curves,
    };
    plot_lines(
        &out.join(FILES[0]),
        &[
            residual_panel("z_spec", curves(|m| &m.profile_z_spec)),
            residual_panel("z_photo", curves(|m| &m.profile_z_photo)),
        ],
    )?;
    let bins = ZBinning::new(base.z_min(), base.z_max(), histogram_bins(base.bins()))?;
    let spec = Curve {
        label: "z_spec".into(),
        points: density(&bins, z_spec),
        reference: true,
    };
    let histograms: Vec<LinePanel> = results
        .iter()
        .map(|r| LinePanel {
            title: format!("step {}", STEP_NAMES[r.step]),
            x_desc: "z".into(),
            y_desc: "density".into(),
            curves: vec![
                spec.clone(),
                Curve {
                    label: "z_photo".into(),
                    points: density(&bins, &r.z_photo),
                    reference: false,
                },
            ],
        })
        .collect();
    plot_lines(&out.join(FILES[1]), &histograms)?;
    let centre = |row: usize| rows.r_min() + (row as f64 + 0.5) * rows.width();
    let nmad = results
        .iter()
        .zip(metrics)
        .map(|(r, m)| Curve {
            label: STEP_NAMES[r.step].into(),
            points: m
                .nmad_per_row
                .iter()
                .enumerate()
                .filter_map(|(row, v)| v.map(|v| (centre(row), v)))
                .collect(),
            reference: false,
        })
        .collect();
    plot_lines(
        &out.join(FILES[2]),
        &[LinePanel {
            title: "σ_NMAD per magnitude row".into(),
            x_desc: "r (row centre; the end rows hold everything beyond)".into(),
            y_desc: "σ_NMAD".into(),
            curves: nmad,
        }],
    )
}

/// The most histogram bins, up to [`MAX_HISTOGRAM_BINS`], that divide the `base` bins: the
/// estimates sit on base-bin centres, so a wide bin that does not hold a whole number of base
/// bins would alternate between more and fewer of them (a sawtooth of the plot, not the data).
fn histogram_bins(base: usize) -> usize {
    (1..=MAX_HISTOGRAM_BINS.min(base))
        .rev()
        .find(|d| base.is_multiple_of(*d))
        .unwrap_or(1)
}

/// The histogram of `values` over `bins` as a density (bin centre, count / (n · width));
/// values outside the bins are left out.
fn density(bins: &ZBinning, values: &[f64]) -> Vec<(f64, f64)> {
    let mut counts = vec![0usize; bins.bins()];
    for &z in values {
        if let Ok(k) = bins.bin_of(z) {
            counts[k] += 1;
        }
    }
    let scale = 1.0 / (values.len().max(1) as f64 * bins.width());
    counts
        .iter()
        .enumerate()
        .map(|(k, &c)| (bins.center(k), c as f64 * scale))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_divide_the_base_bins() {
        assert_eq!(histogram_bins(180), 60);
        assert_eq!(histogram_bins(800), 50);
        assert_eq!(histogram_bins(7), 7);
        assert_eq!(histogram_bins(61), 1);
    }
}
