//! SVG plots of a run: predictions against truth, residuals, PIT histogram, loss curves.
//!
//! Drawn with `plotters`' SVG backend, which writes text as SVG `<text>` elements (the viewer
//! picks the font), so no system font is needed to build or run. Every function validates its
//! input (non-finite values are errors naming the array and the index), renders to memory and
//! then writes the file atomically ([`crate::io::atomic::write_atomic`]), so a reader never
//! sees half a plot.

use std::ops::Range;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::metrics::{
    check_finite, delta_z, residual_profile, PointMetrics, ResidualAxis, RESIDUAL_PROFILE_BINS,
};
use crate::redshift::ZBinning;

/// Picture size in pixels.
pub(super) const SIZE: (u32, u32) = (800, 650);
/// Above this many objects, z_pred vs z_true is drawn as a 2D density instead of points.
const SCATTER_LIMIT: usize = 3000;
/// Cells per axis of the 2D density.
const DENSITY_CELLS: usize = 80;
/// At most this many points are drawn on the residual plot (an even subsample beyond).
const RESIDUAL_POINT_LIMIT: usize = 5000;

pub(super) const FONT: &str = "sans-serif";
pub(super) const POINT_BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const LINE_ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const REFERENCE_RED: RGBColor = RGBColor(214, 39, 40);
/// Anchors of the viridis colour map, from low to high density.
const VIRIDIS: [RGBColor; 5] = [
    RGBColor(68, 1, 84),
    RGBColor(59, 82, 139),
    RGBColor(33, 145, 140),
    RGBColor(94, 201, 98),
    RGBColor(253, 231, 37),
];

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// z_pred against z_true with the 1:1 line and the point metrics in a corner. Up to
/// 3000 objects are drawn as points, more as a 2D density (log-scaled colours).
pub fn plot_z_pred_vs_true(path: &Path, z_pred: &[f64], z_true: &[f64]) -> Result<(), String> {
    let metrics = PointMetrics::compute(z_pred, z_true)?;
    let range = padded_range(z_pred.iter().chain(z_true).copied(), 0.03);
    write_svg_atomically(path, SIZE, |root| {
        let caption = format!("z_pred vs z_true (n = {})", z_pred.len());
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(range.clone(), range.clone())
            .map_err(to_message)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_desc("z_true")
            .y_desc("z_pred")
            .label_style((FONT, 16))
            .draw()
            .map_err(to_message)?;
        if z_pred.len() <= SCATTER_LIMIT {
            let style = POINT_BLUE.mix(0.5).filled();
            let points = z_true
                .iter()
                .zip(z_pred)
                .map(|(&t, &p)| Circle::new((t, p), 2, style));
            chart.draw_series(points).map_err(to_message)?;
        } else {
            draw_density(&mut chart, z_true, z_pred, &range)?;
        }
        chart
            .draw_series(LineSeries::new(
                [(range.start, range.start), (range.end, range.end)],
                REFERENCE_RED.stroke_width(2),
            ))
            .map_err(to_message)?
            .label("1:1")
            .legend(|(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], REFERENCE_RED.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(to_message)?;
        let mut lines = vec![
            format!("σ_NMAD = {:.5}", metrics.sigma_nmad),
            format!(
                "bias = {:+.5} (median {:+.5})",
                metrics.bias, metrics.bias_median
            ),
            format!(
                "η(>0.15) = {:.4}, η(>0.05) = {:.4}",
                metrics.eta_0_15, metrics.eta_0_05
            ),
        ];
        if z_pred.len() > SCATTER_LIMIT {
            lines.push("colour: log(count) per cell".to_string());
        }
        draw_text_block(
            chart.plotting_area(),
            &lines,
            (range.start, range.end),
            &range,
        )
    })
}

/// Δz = (z_pred − z_true)/(1 + z_true) against z_true: the objects as points (an even
/// subsample beyond 5000), the mean Δz in 40 bins of z_true as a line, and Δz = 0.
/// Points beyond the vertical range (chosen from σ_NMAD and the binned means) are counted
/// in the caption rather than drawn.
pub fn plot_residuals(path: &Path, z_pred: &[f64], z_true: &[f64]) -> Result<(), String> {
    let dz = delta_z(z_pred, z_true)?;
    let metrics = PointMetrics::compute(z_pred, z_true)?;
    let x_range = padded_range(z_true.iter().copied(), 0.02);
    let binning = ZBinning::new(x_range.start, x_range.end, RESIDUAL_PROFILE_BINS)?;
    let profile = residual_profile(z_pred, z_true, ResidualAxis::ZTrue, &binning)?;
    let binned: Vec<(f64, f64)> = profile
        .centers
        .iter()
        .zip(&profile.mean_delta_z)
        .filter_map(|(&c, &m)| m.map(|m| (c, m)))
        .collect();
    let largest_mean = binned.iter().map(|(_, m)| m.abs()).fold(0.0, f64::max);
    let half_height = (6.0 * metrics.sigma_nmad)
        .max(1.5 * largest_mean)
        .clamp(0.01, 0.5);
    let y_range = -half_height..half_height;
    let outside = dz.iter().filter(|d| d.abs() > half_height).count();
    write_svg_atomically(path, SIZE, |root| {
        let slope = profile
            .slope
            .map_or("—".to_string(), |s| format!("{s:+.4}"));
        let caption = format!("Δz vs z_true (slope of binned mean {slope}, {outside} off-scale)");
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
            .x_desc("z_true")
            .y_desc("Δz = (z_pred − z_true) / (1 + z_true)")
            .label_style((FONT, 16))
            .draw()
            .map_err(to_message)?;
        let stride = dz.len().div_ceil(RESIDUAL_POINT_LIMIT);
        let style = POINT_BLUE.mix(0.35).filled();
        let points = z_true
            .iter()
            .zip(&dz)
            .step_by(stride)
            .filter(|(_, d)| d.abs() <= half_height)
            .map(|(&z, &d)| Circle::new((z, d), 2, style));
        chart.draw_series(points).map_err(to_message)?;
        chart
            .draw_series(LineSeries::new(
                [(x_range.start, 0.0), (x_range.end, 0.0)],
                BLACK.stroke_width(1),
            ))
            .map_err(to_message)?;
        chart
            .draw_series(LineSeries::new(binned.clone(), LINE_ORANGE.stroke_width(3)))
            .map_err(to_message)?
            .label("mean Δz in 40 bins of z_true")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], LINE_ORANGE.stroke_width(3)));
        chart
            .draw_series(
                binned
                    .iter()
                    .map(|&p| Circle::new(p, 4, LINE_ORANGE.filled())),
            )
            .map_err(to_message)?;
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

/// The PIT histogram as a density (a calibrated model gives 1 everywhere) with the uniform
/// line. `pit` values must lie in [0, 1].
pub fn plot_pit_histogram(path: &Path, pit: &[f64], bins: usize) -> Result<(), String> {
    let counts = crate::metrics::pit_histogram(pit, bins)?;
    let scale = bins as f64 / pit.len() as f64;
    let densities: Vec<f64> = counts.iter().map(|&c| c as f64 * scale).collect();
    let top = densities.iter().copied().fold(1.5, f64::max) * 1.1;
    write_svg_atomically(path, SIZE, |root| {
        let caption = format!("PIT histogram (n = {}, {bins} bins)", pit.len());
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(to_message)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_desc("PIT = CDF_pred(z_true)")
            .y_desc("density")
            .label_style((FONT, 16))
            .draw()
            .map_err(to_message)?;
        let width = 1.0 / bins as f64;
        let bars = densities.iter().enumerate().map(|(k, &density)| {
            let left = k as f64 * width;
            Rectangle::new(
                [(left, 0.0), (left + width, density)],
                POINT_BLUE.mix(0.7).filled(),
            )
        });
        chart.draw_series(bars).map_err(to_message)?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 1.0), (1.0, 1.0)],
                REFERENCE_RED.stroke_width(2),
            ))
            .map_err(to_message)?
            .label("uniform (calibrated)")
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

/// Training and validation loss per epoch (epoch 1 first). Either may be empty, not both.
pub fn plot_loss_curves(path: &Path, train: &[f64], validation: &[f64]) -> Result<(), String> {
    if train.is_empty() && validation.is_empty() {
        return Err("loss curves: no training or validation losses".to_string());
    }
    if !train.is_empty() {
        check_finite("training loss", train)?;
    }
    if !validation.is_empty() {
        check_finite("validation loss", validation)?;
    }
    let epochs = train.len().max(validation.len());
    let y_range = padded_range(train.iter().chain(validation).copied(), 0.05);
    let x_range = 0.5..epochs as f64 + 0.5;
    write_svg_atomically(path, SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Loss per epoch", (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x_range.clone(), y_range.clone())
            .map_err(to_message)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_desc("epoch")
            .x_label_formatter(&|epoch| format!("{epoch:.0}"))
            .y_desc("loss")
            .label_style((FONT, 16))
            .draw()
            .map_err(to_message)?;
        for (losses, name, color) in [
            (train, "training", POINT_BLUE),
            (validation, "validation", LINE_ORANGE),
        ] {
            if losses.is_empty() {
                continue;
            }
            let points: Vec<(f64, f64)> = (1..)
                .map(|e| e as f64)
                .zip(losses.iter().copied())
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(to_message)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, color.filled())),
                )
                .map_err(to_message)?;
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

/// Counts of (z_true, z_pred) in a `DENSITY_CELLS`² grid, drawn with log-scaled viridis
/// colours (empty cells stay white).
fn draw_density(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    z_true: &[f64],
    z_pred: &[f64],
    range: &Range<f64>,
) -> Result<(), String> {
    let cell = (range.end - range.start) / DENSITY_CELLS as f64;
    let index = |z: f64| (((z - range.start) / cell) as usize).min(DENSITY_CELLS - 1);
    let mut counts = vec![0usize; DENSITY_CELLS * DENSITY_CELLS];
    for (&t, &p) in z_true.iter().zip(z_pred) {
        counts[index(p) * DENSITY_CELLS + index(t)] += 1;
    }
    let log_max = (counts.iter().copied().max().unwrap_or(1) as f64)
        .ln()
        .max(1e-9);
    let cells = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| {
            let (row, column) = (i / DENSITY_CELLS, i % DENSITY_CELLS);
            let x = range.start + column as f64 * cell;
            let y = range.start + row as f64 * cell;
            let color = viridis((c as f64).ln() / log_max);
            Rectangle::new([(x, y), (x + cell, y + cell)], color.filled())
        });
    chart.draw_series(cells).map_err(to_message)?;
    Ok(())
}

/// The viridis colour at `t` in [0, 1], linear between its anchors.
fn viridis(t: f64) -> RGBColor {
    let position = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let low = (position as usize).min(VIRIDIS.len() - 2);
    let fraction = position - low as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * fraction).round() as u8;
    let (a, b) = (VIRIDIS[low], VIRIDIS[low + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Lines of text in the upper-left corner of a plotting area whose data ranges are given.
fn draw_text_block(
    area: &DrawingArea<SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    lines: &[String],
    (x_start, y_end): (f64, f64),
    y_range: &Range<f64>,
) -> Result<(), String> {
    let line_height = 0.045 * (y_range.end - y_range.start);
    let left = x_start + 0.5 * line_height;
    for (i, line) in lines.iter().enumerate() {
        let y = y_end - (i as f64 + 0.6) * line_height;
        area.draw(&Text::new(line.clone(), (left, y), (FONT, 16).into_font()))
            .map_err(to_message)?;
    }
    Ok(())
}

/// `[min, max]` of the values widened by `fraction` of the span on each side (and to a
/// non-zero width when all values are equal). Values are already checked to be finite.
pub(super) fn padded_range(values: impl Iterator<Item = f64>, fraction: f64) -> Range<f64> {
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = ((high - low) * fraction).max(1e-3 * high.abs().max(1.0));
    (low - pad)..(high + pad)
}

/// Renders an SVG into memory with `draw`, then writes it atomically to `path`.
pub(super) fn write_svg_atomically(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(to_message)?;
        draw(&root)?;
        root.present().map_err(to_message)?;
    }
    crate::io::atomic::write_atomic(path, svg.as_bytes()).map_err(|e| e.to_string())
}

pub(super) fn to_message(error: impl std::fmt::Display) -> String {
    format!("plotting failed: {error}")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_svg, TempDir};
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn toy_predictions(n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let z_true: Vec<f64> = (0..n).map(|_| 1.0 + 0.8 * rng.gen::<f64>()).collect();
        let z_pred = z_true
            .iter()
            .map(|&z| z + 0.004 * (1.0 + z) * (rng.gen::<f64>() - 0.5) - 0.01 * (z - 1.4))
            .collect();
        (z_pred, z_true)
    }

    #[test]
    fn scatter_and_density_plots_of_z_pred_vs_z_true() {
        let dir = TempDir::new("zz");
        let (z_pred, z_true) = toy_predictions(500);
        let path = dir.0.join("scatter.svg");
        plot_z_pred_vs_true(&path, &z_pred, &z_true).expect("plotted");
        let svg = assert_svg(&path, &["z_true", "z_pred", "1:1", "σ_NMAD", "<circle"]);
        assert!(svg.matches("<circle").count() >= 500);

        let (z_pred, z_true) = toy_predictions(20_000);
        let path = dir.0.join("density.svg");
        plot_z_pred_vs_true(&path, &z_pred, &z_true).expect("plotted");
        let svg = assert_svg(&path, &["n = 20000", "<rect"]);
        assert!(
            svg.matches("<circle").count() < 10,
            "density plot drew points"
        );
    }

    #[test]
    fn residual_pit_and_loss_plots() {
        let dir = TempDir::new("others");
        let (z_pred, z_true) = toy_predictions(8000);
        let path = dir.0.join("residuals.svg");
        plot_residuals(&path, &z_pred, &z_true).expect("plotted");
        assert_svg(&path, &["Δz", "mean Δz in 40 bins", "<polyline"]);

        let pit: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        let path = dir.0.join("pit.svg");
        plot_pit_histogram(&path, &pit, 20).expect("plotted");
        let svg = assert_svg(&path, &["PIT", "uniform", "density"]);
        assert!(svg.matches("<rect").count() >= 20);

        let path = dir.0.join("loss.svg");
        plot_loss_curves(&path, &[6.6, 4.1, 3.0, 2.6], &[6.0, 4.5, 3.8]).expect("plotted");
        assert_svg(&path, &["training", "validation", "epoch", "<polyline"]);
    }

    #[test]
    fn bad_inputs_are_errors_and_leave_no_file() {
        let dir = TempDir::new("bad");
        let path = dir.0.join("bad.svg");
        let err = plot_z_pred_vs_true(&path, &[1.0, f64::NAN], &[1.0, 1.1]).expect_err("NaN");
        assert!(err.contains("z_pred[1]"), "{err}");
        assert!(plot_residuals(&path, &[], &[]).is_err());
        assert!(plot_pit_histogram(&path, &[0.5, 1.5], 10).is_err());
        let err = plot_loss_curves(&path, &[1.0, f64::INFINITY], &[]).expect_err("inf");
        assert!(err.contains("training loss[1]"), "{err}");
        assert!(plot_loss_curves(&path, &[], &[]).is_err());
        assert!(!path.exists());
        let missing_dir = dir.0.join("missing").join("plot.svg");
        assert!(plot_loss_curves(&missing_dir, &[1.0], &[]).is_err());
    }
}
