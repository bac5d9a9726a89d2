//! The plot of a study: one metric per panel, one point per run, the runs in the order given
//! (a noise level, a training-set size, a variant), as in the seed's noise and training-size
//! figures.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plots::{padded_range, to_message, write_svg_atomically, Area, FONT, POINT_BLUE};
use crate::metrics::check_finite;

/// Picture size of a study plot in pixels (2 × 2 panels).
const STUDY_SIZE: (u32, u32) = (1100, 850);
/// Beyond this many characters of x labels in a panel (longest label × labels) the labels
/// stand vertical, so that they do not overlap.
const FLAT_LABEL_CHARS: usize = 60;

/// How a panel's values are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelScale {
    /// Fractions in [0, 1], drawn as percentages.
    Percent,
    /// Positive values on a log₁₀ axis (errors that span decades).
    Log,
    /// Signed values on a linear axis that includes 0 (a bias).
    Linear,
}

/// One panel: a metric of every run.
#[derive(Clone, Debug)]
pub struct StudyPanel {
    pub title: String,
    pub scale: PanelScale,
    /// One value per run, or `None` where the run lacks the metric (e.g. a regression's CRPS).
    pub values: Vec<Option<f64>>,
}

/// Draws up to four panels (2 × 2) of the metrics of the runs named by `labels` and writes
/// the SVG atomically. Errors when there are no runs or panels, when a panel's length differs
/// from the number of labels, or on a non-finite value (a log panel also needs positive ones).
pub fn plot_study(
    path: &Path,
    title: &str,
    labels: &[String],
    panels: &[StudyPanel],
) -> Result<(), String> {
    if labels.is_empty() {
        return Err("study plot: no runs".into());
    }
    if panels.is_empty() || panels.len() > 4 {
        return Err(format!(
            "study plot: {} panels (1 to 4 are drawn)",
            panels.len()
        ));
    }
    for panel in panels {
        check_panel(panel, labels.len())?;
    }
    write_svg_atomically(path, STUDY_SIZE, |root| {
        let root = root.titled(title, (FONT, 26)).map_err(to_message)?;
        let cells = root.split_evenly((2, 2));
        for (panel, cell) in panels.iter().zip(&cells) {
            draw_panel(cell, labels, panel)?;
        }
        Ok(())
    })
}

/// Checks a panel's length and values.
fn check_panel(panel: &StudyPanel, runs: usize) -> Result<(), String> {
    if panel.values.len() != runs {
        return Err(format!(
            "study plot: panel '{}' has {} values for {runs} runs",
            panel.title,
            panel.values.len()
        ));
    }
    let present: Vec<f64> = panel.values.iter().flatten().copied().collect();
    check_finite(&panel.title, &present)?;
    if panel.scale == PanelScale::Log {
        if let Some(v) = present.iter().find(|v| **v <= 0.0) {
            return Err(format!(
                "study plot: panel '{}' is logarithmic but holds {v}",
                panel.title
            ));
        }
    }
    Ok(())
}

/// One panel: the runs along x (labelled), the metric along y, points joined by a line.
fn draw_panel(area: &Area<'_>, labels: &[String], panel: &StudyPanel) -> Result<(), String> {
    // A log panel plots log₁₀ v on a linear axis and labels the ticks with v itself.
    let transform = |v: f64| match panel.scale {
        PanelScale::Percent => 100.0 * v,
        PanelScale::Log => v.log10(),
        PanelScale::Linear => v,
    };
    let points: Vec<(f64, f64)> = panel
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i as f64, transform(v))))
        .collect();
    let zero = (panel.scale == PanelScale::Linear).then_some(0.0);
    let y_range = if points.is_empty() {
        0.0..1.0
    } else {
        padded_range(points.iter().map(|p| p.1).chain(zero), 0.08)
    };
    let x_range = -0.5..labels.len() as f64 - 0.5;
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let vertical = longest * labels.len() > FLAT_LABEL_CHARS;
    // About 7 pixels per character of a 14-pixel font.
    let label_area = if vertical {
        20 + 7 * longest as u32
    } else {
        40
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 20))
        .margin(15)
        .x_label_area_size(label_area)
        .y_label_area_size(75)
        .build_cartesian_2d(x_range, y_range)
        .map_err(to_message)?;
    // Vertical labels are drawn below (the mesh would centre them on the axis).
    let x_label = |x: &f64| {
        let i = x.round();
        match labels.get(i as usize) {
            Some(label) if (x - i).abs() < 1e-6 && i >= 0.0 && !vertical => label.clone(),
            _ => String::new(),
        }
    };
    let y_label = |y: &f64| match panel.scale {
        PanelScale::Percent => format!("{y:.1} %"),
        PanelScale::Log => format!("{:.1e}", 10f64.powf(*y)),
        PanelScale::Linear => format!("{y:+.1e}"),
    };
    chart
        .configure_mesh()
        .max_light_lines(0)
        .x_labels(labels.len())
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style((FONT, 14))
        .draw()
        .map_err(to_message)?;
    if vertical {
        // Each label ends just below its tick and reads upwards.
        let style = TextStyle::from((FONT, 14).into_font().transform(FontTransform::Rotate270))
            .pos(Pos::new(HPos::Right, VPos::Center));
        let (left, top) = area.get_base_pixel();
        let bottom = chart.y_range().start;
        for (i, label) in labels.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, bottom));
            area.draw(&Text::new(
                label.clone(),
                (x - left, y - top + 8),
                style.clone(),
            ))
            .map_err(to_message)?;
        }
    }
    chart
        .draw_series(LineSeries::new(points.clone(), POINT_BLUE.stroke_width(2)))
        .map_err(to_message)?;
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 5, POINT_BLUE.filled())),
        )
        .map_err(to_message)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(title: &str, scale: PanelScale, values: &[Option<f64>]) -> StudyPanel {
        StudyPanel {
            title: title.into(),
            scale,
            values: values.to_vec(),
        }
    }

    #[test]
    fn a_study_plot_has_every_label_and_panel_title() {
        let dir = std::env::temp_dir().join(format!("zcnn-study-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("study.svg");
        let labels: Vec<String> = ["clean", "SNR 20", "SNR 5"].map(String::from).to_vec();
        let panels = [
            panel(
                "MAE",
                PanelScale::Log,
                &[Some(3e-4), Some(3e-3), Some(1e-2)],
            ),
            panel(
                "success",
                PanelScale::Percent,
                &[Some(1.0), Some(0.99), None],
            ),
            panel(
                "bias",
                PanelScale::Linear,
                &[Some(-2e-3), Some(1e-3), Some(4e-3)],
            ),
        ];
        plot_study(&path, "Noise study", &labels, &panels).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        // The bias axis is signed: its tick labels carry the sign.
        assert!(
            svg.contains("-2.0e-3") && svg.contains("+4.0e-3"),
            "no signed ticks"
        );
        for text in [
            "Noise study",
            "MAE",
            "success",
            "bias",
            "clean",
            "SNR 20",
            "SNR 5",
        ] {
            assert!(svg.contains(text), "the plot lacks '{text}'");
        }
        assert!(!dir.join("study.svg.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_panels_are_errors_naming_the_panel() {
        let path = std::env::temp_dir().join("zcnn-study-never-written.svg");
        let labels: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let cases = [
            (
                panel("MAE", PanelScale::Log, &[Some(1.0)]),
                "1 values for 2 runs",
            ),
            (
                panel("MAE", PanelScale::Log, &[Some(1.0), Some(0.0)]),
                "logarithmic",
            ),
            (
                panel("η", PanelScale::Percent, &[Some(f64::NAN), None]),
                "η",
            ),
        ];
        for (p, expected) in cases {
            let err = plot_study(&path, "t", &labels, &[p]).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
        assert!(plot_study(&path, "t", &[], &[]).is_err());
        assert!(!path.exists());
    }
}
