//! Curves side by side: panels of labelled lines over a shared kind of x axis (the residual
//! profiles, histograms and per-row σ_NMAD of the steps of `zcnn debias`).

use std::path::Path;

use plotters::prelude::*;

use super::plots::{padded_range, to_message, write_svg_atomically, Area, FONT};

/// Height of the picture and width of one panel, in pixels.
const PANEL_SIZE: (u32, u32) = (700, 600);
/// Line colours, one per series in turn (the matplotlib "tab10" order).
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// One labelled curve; `reference` curves are drawn in black and thicker (e.g. z_spec).
#[derive(Clone, Debug)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub reference: bool,
}

/// One panel of curves.
#[derive(Clone, Debug)]
pub struct LinePanel {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub curves: Vec<Curve>,
}

/// Draws the panels side by side and writes the SVG atomically. Errors when there is no
/// panel, a panel has no point, or a point is not finite (naming the panel and the curve).
pub fn plot_lines(path: &Path, panels: &[LinePanel]) -> Result<(), String> {
    if panels.is_empty() {
        return Err("a line plot needs at least one panel".into());
    }
    for panel in panels {
        if panel.curves.iter().all(|c| c.points.is_empty()) {
            return Err(format!("panel '{}' has no point", panel.title));
        }
        for curve in &panel.curves {
            if let Some(i) = curve
                .points
                .iter()
                .position(|(x, y)| !x.is_finite() || !y.is_finite())
            {
                return Err(format!(
                    "panel '{}', curve '{}': point {i} is not finite",
                    panel.title, curve.label
                ));
            }
        }
    }
    let size = (PANEL_SIZE.0 * panels.len() as u32, PANEL_SIZE.1);
    write_svg_atomically(path, size, |root| {
        let areas = root.split_evenly((1, panels.len()));
        for (area, panel) in areas.iter().zip(panels) {
            draw_panel(area, panel)?;
        }
        Ok(())
    })
}

fn draw_panel(area: &Area<'_>, panel: &LinePanel) -> Result<(), String> {
    let all = || panel.curves.iter().flat_map(|c| c.points.iter());
    let x_range = padded_range(all().map(|p| p.0), 0.02);
    let y_range = padded_range(all().map(|p| p.1), 0.08);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(x_range, y_range)
        .map_err(to_message)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .x_desc(&panel.x_desc)
        .y_desc(&panel.y_desc)
        .label_style((FONT, 14))
        .draw()
        .map_err(to_message)?;
    let mut next = 0;
    for curve in &panel.curves {
        let style = if curve.reference {
            BLACK.stroke_width(3)
        } else {
            next += 1;
            COLOURS[(next - 1) % COLOURS.len()].stroke_width(2)
        };
        chart
            .draw_series(LineSeries::new(curve.points.clone(), style))
            .map_err(to_message)?
            .label(curve.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(to_message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(points: Vec<(f64, f64)>) -> LinePanel {
        LinePanel {
            title: "mean Δz".into(),
            x_desc: "z_spec".into(),
            y_desc: "Δz".into(),
            curves: vec![
                Curve {
                    label: "step 0".into(),
                    points: points.clone(),
                    reference: false,
                },
                Curve {
                    label: "z_spec".into(),
                    points,
                    reference: true,
                },
            ],
        }
    }

    #[test]
    fn panels_are_drawn_with_their_labels() {
        let dir = std::env::temp_dir().join(format!("zcnn-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("lines.svg");
        let points = vec![(0.0, 0.01), (0.1, -0.02), (0.2, 0.0)];
        plot_lines(&path, &[panel(points.clone()), panel(points)]).expect("plotted");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("mean Δz").count(), 2, "two panel titles");
        assert!(svg.contains("step 0") && svg.contains("z_spec"));
        assert!(svg.matches("<polyline").count() >= 4);
        let err = plot_lines(&path, &[panel(vec![(0.0, f64::NAN)])]).expect_err("NaN");
        assert!(err.contains("point 0"), "{err}");
        assert!(plot_lines(&path, &[]).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
