//! The purity–completeness plot of one or more confidence figures.

use std::path::Path;

use plotters::prelude::*;

use super::plots::{to_message, write_svg_atomically, FONT};
use crate::metrics::selection::SelectionPoint;

/// Picture size in pixels.
const SIZE: (u32, u32) = (800, 650);
/// One colour per curve (tab10).
const COLOURS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// Purity against completeness for each (name, curve), with the `target` purity as a dashed
/// line. Errors when there is no curve, more than three, or an empty one.
pub fn plot_purity_completeness(
    path: &Path,
    curves: &[(&str, &[SelectionPoint])],
    target: f64,
) -> Result<(), String> {
    if curves.is_empty() || curves.len() > COLOURS.len() {
        return Err(format!(
            "purity–completeness plot: {} curves (1 to {} are drawn)",
            curves.len(),
            COLOURS.len()
        ));
    }
    if let Some((name, _)) = curves.iter().find(|(_, c)| c.is_empty()) {
        return Err(format!(
            "purity–completeness plot: the curve of {name} is empty"
        ));
    }
    let lowest = curves
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.purity))
        .fold(target, f64::min);
    let y_range = (lowest - 0.02).max(0.0)..1.005;
    write_svg_atomically(path, SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Selecting on confidence", (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, y_range.clone())
            .map_err(to_message)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_desc("completeness (fraction kept)")
            .y_desc("purity (success |Δz| ≤ 0.003 among kept)")
            .label_style((FONT, 16))
            .draw()
            .map_err(to_message)?;
        for ((name, curve), colour) in curves.iter().zip(COLOURS) {
            let points: Vec<(f64, f64)> =
                curve.iter().map(|p| (p.completeness, p.purity)).collect();
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(to_message)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, target), (1.0, target)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(to_message)?
            .label(format!("purity {target}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(1)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(to_message)
    })
}
