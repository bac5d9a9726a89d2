//! The plots of the photo-z bias diagnostics of Lin et al. (2022) (research notes §1.11): the
//! residual profiles against z_spec and against z_photo on one plot, and the histogram of
//! z_photo against that of z_spec (mode collapse).

use std::path::Path;

use plotters::prelude::*;

use super::plots::{
    to_message, write_svg_atomically, FONT, LINE_ORANGE, POINT_BLUE, REFERENCE_RED, SIZE,
};
use crate::metrics::{
    histogram_with_overflow, total_variation_distance, ResidualProfile, SLOPE_Z_MIN,
};
use crate::redshift::ZBinning;

/// The vertical half-range of the residual plot never exceeds this (|mean Δz| beyond is
/// counted in the caption, not drawn) nor falls below the second.
const MAX_HALF_HEIGHT: f64 = 0.5;
const MIN_HALF_HEIGHT: f64 = 0.005;

/// Mean Δz in the bins of `binning` against z_spec (`by_spec`) and against z_photo
/// (`by_photo`), both computed over `binning`: each bin's mean with its standard-error bar,
/// the weighted line fitted above z = 0.15 (dashed), Δz = 0 and the cut z = 0.15. The legend
/// gives both slopes. Bins whose mean lies beyond ±0.5 are counted in the caption.
pub fn plot_residual_profiles(
    path: &Path,
    binning: &ZBinning,
    by_spec: &ResidualProfile,
    by_photo: &ResidualProfile,
) -> Result<(), String> {
    for (name, profile) in [("z_spec", by_spec), ("z_photo", by_photo)] {
        if profile.centers.len() != binning.bins() {
            return Err(format!(
                "residual plot: the {name} profile has {} bins, the binning {}",
                profile.centers.len(),
                binning.bins()
            ));
        }
    }
    let extent = |p: &ResidualProfile| {
        p.mean_delta_z
            .iter()
            .zip(&p.std_errors)
            .filter_map(|(m, e)| m.map(|m| m.abs() + e.unwrap_or(0.0)))
            .fold(0.0, f64::max)
    };
    let half_height =
        (1.15 * extent(by_spec).max(extent(by_photo))).clamp(MIN_HALF_HEIGHT, MAX_HALF_HEIGHT);
    let on_scale = |m: &f64| m.abs() <= half_height;
    let off_scale: usize = [by_spec, by_photo]
        .iter()
        .map(|p| {
            p.mean_delta_z
                .iter()
                .flatten()
                .filter(|m| !on_scale(m))
                .count()
        })
        .sum();
    let x_range = binning.z_min()..binning.z_max();
    let y_range = -half_height..half_height;
    write_svg_atomically(path, SIZE, |root| {
        let mut caption = format!(
            "Mean Δz in {} bins of z_spec and of z_photo",
            binning.bins()
        );
        if off_scale > 0 {
            caption.push_str(&format!(" ({off_scale} off-scale)"));
        }
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 22))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x_range.clone(), y_range.clone())
            .map_err(to_message)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_desc("z_spec (z_true) or z_photo (z_pred)")
            .y_desc("mean Δz = (z_photo − z_spec) / (1 + z_spec)")
            .label_style((FONT, 16))
            .draw()
            .map_err(to_message)?;
        chart
            .draw_series(LineSeries::new(
                [(x_range.start, 0.0), (x_range.end, 0.0)],
                BLACK.stroke_width(1),
            ))
            .map_err(to_message)?;
        if x_range.contains(&SLOPE_Z_MIN) {
            chart
                .draw_series(DashedLineSeries::new(
                    [(SLOPE_Z_MIN, y_range.start), (SLOPE_Z_MIN, y_range.end)],
                    4,
                    4,
                    BLACK.mix(0.5).stroke_width(1),
                ))
                .map_err(to_message)?;
        }
        for (axis, profile, color) in [
            ("z_spec", by_spec, POINT_BLUE),
            ("z_photo", by_photo, LINE_ORANGE),
        ] {
            let means: Vec<(f64, f64, Option<f64>)> = profile
                .centers
                .iter()
                .zip(&profile.mean_delta_z)
                .zip(&profile.std_errors)
                .filter_map(|((&c, &m), &e)| m.filter(on_scale).map(|m| (c, m, e)))
                .collect();
            let slope = match profile.weighted_fit_above(SLOPE_Z_MIN) {
                Some(fit) => format!("{:+.4}", fit.slope),
                None => "—".to_string(),
            };
            chart
                .draw_series(LineSeries::new(
                    means.iter().map(|&(c, m, _)| (c, m)),
                    color.stroke_width(2),
                ))
                .map_err(to_message)?
                .label(format!("vs {axis}: slope above z = {SLOPE_Z_MIN}: {slope}"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(
                    means
                        .iter()
                        .map(|&(c, m, _)| Circle::new((c, m), 3, color.filled())),
                )
                .map_err(to_message)?;
            // Error bars m ± e, cut at the plot's edges.
            let bars = means.iter().filter_map(|&(c, m, e)| {
                let e = e?;
                let clip = |v: f64| v.clamp(y_range.start, y_range.end);
                Some(PathElement::new(
                    [(c, clip(m - e)), (c, clip(m + e))],
                    color.stroke_width(1),
                ))
            });
            chart.draw_series(bars).map_err(to_message)?;
            if let Some(fit) = profile.weighted_fit_above(SLOPE_Z_MIN) {
                let line = |z: f64| (z, fit.slope * z + fit.intercept);
                chart
                    .draw_series(DashedLineSeries::new(
                        [line(SLOPE_Z_MIN.max(x_range.start)), line(x_range.end)]
                            .into_iter()
                            .filter(|p| y_range.contains(&p.1)),
                        8,
                        5,
                        color.stroke_width(2),
                    ))
                    .map_err(to_message)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(to_message)
    })
}

/// The fraction of objects per bin of `binning` of z_spec (bars) and of z_photo (a step
/// line): mode collapse shows as z_photo spikes over a smoother z_spec. The caption gives the
/// total-variation distance over the same bins (objects outside the range counted in two extra
/// buckets, as `tv_distance`) and how many fall outside.
pub fn plot_z_histograms(
    path: &Path,
    binning: &ZBinning,
    z_pred: &[f64],
    z_true: &[f64],
) -> Result<(), String> {
    let tv = total_variation_distance(binning, z_pred, z_true)?;
    let bins = binning.bins();
    // Fractions of the bins in range: the buckets 1..=bins of the counts with overflow.
    let fractions = |values: &[f64]| -> (Vec<f64>, usize) {
        let counts = histogram_with_overflow(binning, values);
        let n = values.len() as f64;
        let inside = counts[1..=bins].iter().map(|&c| c as f64 / n).collect();
        (inside, counts[0] + counts[bins + 1])
    };
    let (spec, spec_outside) = fractions(z_true);
    let (photo, photo_outside) = fractions(z_pred);
    let top = spec
        .iter()
        .chain(&photo)
        .copied()
        .fold(0.0, f64::max)
        .max(1e-3)
        * 1.15;
    let edges = binning.edges();
    write_svg_atomically(path, SIZE, |root| {
        let caption = format!("z_photo vs z_spec histograms (TV = {tv:.4}, {bins} bins)");
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 22))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(binning.z_min()..binning.z_max(), 0.0..top)
            .map_err(to_message)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_desc("z")
            .y_desc("fraction of objects per bin")
            .label_style((FONT, 16))
            .draw()
            .map_err(to_message)?;
        let bars = spec.iter().enumerate().map(|(k, &f)| {
            Rectangle::new(
                [(edges[k], 0.0), (edges[k + 1], f)],
                POINT_BLUE.mix(0.45).filled(),
            )
        });
        chart
            .draw_series(bars)
            .map_err(to_message)?
            .label(format!("z_spec (z_true), {spec_outside} outside the range"))
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], POINT_BLUE.mix(0.45).filled())
            });
        // The z_photo histogram as a step line along the bin edges.
        let steps: Vec<(f64, f64)> = photo
            .iter()
            .enumerate()
            .flat_map(|(k, &f)| [(edges[k], f), (edges[k + 1], f)])
            .collect();
        chart
            .draw_series(LineSeries::new(steps, REFERENCE_RED.stroke_width(2)))
            .map_err(to_message)?
            .label(format!(
                "z_photo (z_pred), {photo_outside} outside the range"
            ))
            .legend(|(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], REFERENCE_RED.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(to_message)
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_svg, TempDir};
    use super::*;
    use crate::metrics::{residual_profile, ResidualAxis, RESIDUAL_PROFILE_BINS};

    /// 2000 objects over [0, 0.4) with Δz = 0.004 − 0.03 z and a ±0.01 spread, and estimates
    /// piled up at 0.1 for a fifth of them (a collapsed mode).
    fn collapsed_sample() -> (Vec<f64>, Vec<f64>) {
        (0..2000)
            .map(|i| {
                let z = 0.4 * (i as f64 + 0.5) / 2000.0;
                let spread = if i % 2 == 0 { 0.01 } else { -0.01 };
                let dz = 0.004 - 0.03 * z + spread;
                let pred = if i % 5 == 0 { 0.1 } else { z + dz * (1.0 + z) };
                (pred, z)
            })
            .unzip()
    }

    #[test]
    fn residual_profiles_vs_z_spec_and_z_photo_on_one_plot() {
        let dir = TempDir::new("residual-profiles");
        let (z_pred, z_true) = collapsed_sample();
        let binning = ZBinning::new(0.0, 0.4, RESIDUAL_PROFILE_BINS).expect("valid");
        let by_spec = residual_profile(&z_pred, &z_true, ResidualAxis::ZTrue, &binning).unwrap();
        let by_photo = residual_profile(&z_pred, &z_true, ResidualAxis::ZPred, &binning).unwrap();
        let path = dir.0.join("residuals_z_spec_z_photo.svg");
        plot_residual_profiles(&path, &binning, &by_spec, &by_photo).expect("plotted");
        let slope = by_spec
            .weighted_fit_above(SLOPE_Z_MIN)
            .expect("fitted")
            .slope;
        let svg = assert_svg(
            &path,
            &[
                "40 bins of z_spec and of z_photo",
                "vs z_spec: slope above z = 0.15",
                "vs z_photo: slope above z = 0.15",
                &format!("{slope:+.4}"),
                "<polyline",
            ],
        );
        assert!(svg.contains("<circle"), "no bin means drawn");

        let other = ZBinning::new(0.0, 0.4, 10).expect("valid");
        let err = plot_residual_profiles(&dir.0.join("bad.svg"), &other, &by_spec, &by_photo)
            .expect_err("mismatched bins");
        assert!(err.contains("40 bins, the binning 10"), "{err}");
        assert!(!dir.0.join("bad.svg").exists());
    }

    #[test]
    fn histograms_of_z_photo_and_z_spec_with_the_tv() {
        let dir = TempDir::new("histograms");
        let (mut z_pred, z_true) = collapsed_sample();
        z_pred[1] = 0.7; // one estimate beyond the range
        let binning = ZBinning::new(0.0, 0.4, RESIDUAL_PROFILE_BINS).expect("valid");
        let tv = total_variation_distance(&binning, &z_pred, &z_true).expect("valid");
        let outside = z_pred.iter().filter(|z| !(0.0..0.4).contains(*z)).count();
        assert!(
            outside > 1,
            "the low-z estimates below 0 and 0.7 lie outside"
        );
        let photo_label = format!("z_photo (z_pred), {outside} outside the range");
        let path = dir.0.join("z_histograms.svg");
        plot_z_histograms(&path, &binning, &z_pred, &z_true).expect("plotted");
        let svg = assert_svg(
            &path,
            &[
                &format!("TV = {tv:.4}, 40 bins"),
                "z_spec (z_true), 0 outside the range",
                &photo_label,
                "<polyline",
            ],
        );
        assert!(svg.matches("<rect").count() >= 40, "no z_spec bars");
        let err = plot_z_histograms(&dir.0.join("bad.svg"), &binning, &[0.1, f64::NAN], &z_true)
            .expect_err("NaN");
        assert!(err.contains("[1]"), "{err}");
    }
}
