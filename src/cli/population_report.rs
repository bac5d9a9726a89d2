//! Metrics per population: success, η and σ_NMAD in bins of Hα equivalent width, Hα flux,
//! signal-to-noise ratio and class, and bias, σ_NMAD and η(|Δz| > 0.05) in bins of r magnitude,
//! read from the columns of a dataset's `labels.csv` (those a dataset lacks, e.g. an imported
//! one, are left out).

use std::ops::Range;
use std::path::Path;

use super::labels::Labels;

use serde_json::{json, Value};

use crate::data::spectra::GalaxyClass;
use crate::metrics::binned::{metrics_in_bins, quantile_edges, BinMetrics};
use crate::metrics::PointMetrics;
use crate::report::study::{plot_study, PanelScale, StudyPanel};

/// Hα equivalent-width bins \[Å\]: none (passive, < 0.5), the WHAN retired (0.5–3) and weak-AGN
/// (3–6) bands, then weak to strong emitters.
const EW_EDGES: [f64; 8] = [0.0, 0.5, 3.0, 6.0, 20.0, 50.0, 100.0, f64::INFINITY];
/// Per-pixel SNR bins; noiseless spectra (SNR = ∞) fall in the last.
const SNR_EDGES: [f64; 7] = [0.0, 3.0, 5.0, 10.0, 20.0, 50.0, f64::INFINITY];
/// Quantile bins of the Hα flux (plus one for spectra without lines).
const FLUX_QUANTILE_BINS: usize = 4;
/// r-magnitude bins are 0.5 mag wide, as the magnitude rows of Lin et al. (2022) (research
/// notes §1.5) and their σ_MAD-per-magnitude figure (§1.11)...
const MAG_BIN_WIDTH: f64 = 0.5;
/// ...unless that takes more bins than this between the 1st and 99th percentiles (a deep
/// survey spans ~10 mag): the width then doubles (1, 2, … mag) until it does not.
const MAX_MAG_BINS: usize = 12;
/// Magnitudes beyond these percentiles go to open end bins ("< m", "≥ m"), so that a few
/// outliers do not stretch the bins.
const MAG_PERCENTILES: (f64, f64) = (0.01, 0.99);
/// Values outside this range are no magnitudes but the sentinels catalogues write for a
/// missing one (99, −99, −9999): they fall in no bin, as NaN does.
const PLAUSIBLE_MAGNITUDES: std::ops::RangeInclusive<f64> = -40.0..=50.0;

/// A metric shown for a table (the JSON holds them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableMetric {
    Success,
    Eta015,
    Eta005,
    Bias,
    SigmaNmad,
}

impl TableMetric {
    const ALL: [TableMetric; 5] = [
        TableMetric::Success,
        TableMetric::Eta015,
        TableMetric::Eta005,
        TableMetric::Bias,
        TableMetric::SigmaNmad,
    ];

    /// The key of the metric in report.json.
    fn key(self) -> &'static str {
        match self {
            TableMetric::Success => "success_0_003",
            TableMetric::Eta015 => "eta_0_15",
            TableMetric::Eta005 => "eta_0_05",
            TableMetric::Bias => "bias",
            TableMetric::SigmaNmad => "sigma_nmad",
        }
    }

    /// The column header of the printed (markdown) table.
    fn header(self) -> &'static str {
        match self {
            TableMetric::Success => "success",
            TableMetric::Eta015 => "η (>0.15)",
            TableMetric::Eta005 => "η (>0.05)",
            TableMetric::Bias => "bias",
            TableMetric::SigmaNmad => "σ_NMAD",
        }
    }

    /// The title of the metric's panel in the plot.
    fn title(self) -> &'static str {
        match self {
            TableMetric::Success => "success |Δz| ≤ 0.003",
            TableMetric::Eta015 => "η (|Δz| > 0.15)",
            TableMetric::Eta005 => "η (|Δz| > 0.05)",
            TableMetric::Bias => "bias (mean Δz)",
            TableMetric::SigmaNmad => "σ_NMAD",
        }
    }

    fn value(self, m: &PointMetrics) -> f64 {
        match self {
            TableMetric::Success => m.success_0_003,
            TableMetric::Eta015 => m.eta_0_15,
            TableMetric::Eta005 => m.eta_0_05,
            TableMetric::Bias => m.bias,
            TableMetric::SigmaNmad => m.sigma_nmad,
        }
    }

    fn scale(self) -> PanelScale {
        match self {
            TableMetric::Success | TableMetric::Eta015 | TableMetric::Eta005 => PanelScale::Percent,
            TableMetric::Bias => PanelScale::Linear,
            TableMetric::SigmaNmad => PanelScale::Log,
        }
    }

    /// The value as the printed table shows it.
    fn text(self, m: &PointMetrics) -> String {
        let v = self.value(m);
        match self.scale() {
            PanelScale::Percent => format!("{:.1} %", 100.0 * v),
            PanelScale::Linear => format!("{v:+.5}"),
            PanelScale::Log => format!("{v:.5}"),
        }
    }
}

/// What spectroscopic tables show: success, catastrophic failures and scatter.
const SPECTRAL_METRICS: [TableMetric; 3] = [
    TableMetric::Success,
    TableMetric::Eta015,
    TableMetric::SigmaNmad,
];
/// What the r-magnitude table shows, as photo-z papers do (Pasquet et al. 2019's η is
/// |Δz| > 0.05; research notes §1.11, §2).
const MAGNITUDE_METRICS: [TableMetric; 3] = [
    TableMetric::Bias,
    TableMetric::SigmaNmad,
    TableMetric::Eta005,
];

/// The metrics of one property in its bins.
pub struct PopulationTable {
    /// The labels.csv column (the report.json key and the plot's file name).
    pub column: &'static str,
    /// What the printed table and the plot call the property.
    pub title: &'static str,
    /// A name per bin, e.g. "3–6" or "passive".
    pub labels: Vec<String>,
    pub bins: Vec<BinMetrics>,
    /// The metrics the printed table and the plot show.
    pub shown: &'static [TableMetric],
}

/// The tables of every property `labels` holds, for the rows `range` (the evaluated spectra,
/// in order). Errors name the file, the row and the column of a value that is not a number.
pub fn population_tables(
    labels: &Labels,
    range: Range<usize>,
    z_pred: &[f64],
    z_true: &[f64],
) -> Result<Vec<PopulationTable>, String> {
    let mut tables = Vec::new();
    for column in ["halpha_ew", "halpha_flux", "snr"] {
        let Some(numbers) = labels.numbers(column, range.clone())? else {
            continue;
        };
        let edges = match column {
            "halpha_ew" => EW_EDGES.to_vec(),
            "snr" => SNR_EDGES.to_vec(),
            _ => match flux_edges(&numbers) {
                Some(edges) => edges,
                None => continue,
            },
        };
        tables.push(binned_table(
            column,
            column,
            z_pred,
            z_true,
            &numbers,
            &edges,
            &SPECTRAL_METRICS,
        )?);
    }
    if let Some(classes) = labels.column("class", range.clone()) {
        // Class k is the bin [k, k + 1); an empty or unknown name falls in no bin.
        let index: Vec<f64> = classes
            .iter()
            .map(|name| {
                GalaxyClass::ALL
                    .iter()
                    .position(|c| c.name() == *name)
                    .map_or(f64::NAN, |k| k as f64)
            })
            .collect();
        if index.iter().any(|v| !v.is_nan()) {
            let edges: Vec<f64> = (0..=GalaxyClass::ALL.len()).map(|k| k as f64).collect();
            tables.push(PopulationTable {
                column: "class",
                title: "class",
                labels: GalaxyClass::ALL
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect(),
                bins: metrics_in_bins(z_pred, z_true, &index, &edges)?,
                shown: &SPECTRAL_METRICS,
            });
        }
    }
    if let Some(mags) = labels.numbers("mag_r", range)? {
        let mags: Vec<f64> = mags
            .into_iter()
            .map(|m| {
                if PLAUSIBLE_MAGNITUDES.contains(&m) {
                    m
                } else {
                    f64::NAN
                }
            })
            .collect();
        if let Some(edges) = magnitude_edges(&mags) {
            tables.push(binned_table(
                "mag_r",
                "r magnitude",
                z_pred,
                z_true,
                &mags,
                &edges,
                &MAGNITUDE_METRICS,
            )?);
        }
    }
    Ok(tables)
}

/// The table of a numeric property in the bins between `edges`, each bin named by its range.
fn binned_table(
    column: &'static str,
    title: &'static str,
    z_pred: &[f64],
    z_true: &[f64],
    values: &[f64],
    edges: &[f64],
    shown: &'static [TableMetric],
) -> Result<PopulationTable, String> {
    Ok(PopulationTable {
        column,
        title,
        labels: edges.windows(2).map(|w| range_label(w[0], w[1])).collect(),
        bins: metrics_in_bins(z_pred, z_true, values, edges)?,
        shown,
    })
}

/// r-magnitude bin edges: multiples of the bin width (0.5 mag, doubled while more than
/// [`MAX_MAG_BINS`] bins would be needed) from the 1st to past the 99th percentile of the finite
/// magnitudes, with an open bin "< first edge" or "≥ last edge" where magnitudes lie beyond.
/// `None` without plausible magnitudes. NaN and sentinels (outside [`PLAUSIBLE_MAGNITUDES`])
/// are left out.
fn magnitude_edges(mags: &[f64]) -> Option<Vec<f64>> {
    let mut finite: Vec<f64> = mags
        .iter()
        .copied()
        .filter(|m| PLAUSIBLE_MAGNITUDES.contains(m))
        .collect();
    finite.sort_by(f64::total_cmp);
    let (&brightest, &faintest) = (finite.first()?, finite.last()?);
    // Nearest-rank percentile: the value at rank round(p (n − 1)).
    let percentile = |p: f64| finite[(p * (finite.len() - 1) as f64).round() as usize];
    let (low, high) = (percentile(MAG_PERCENTILES.0), percentile(MAG_PERCENTILES.1));
    // Edges k·width for k = first..=last: the first at or below `low`, the last above `high`.
    let mut width = MAG_BIN_WIDTH;
    let (first, last) = loop {
        let first = (low / width).floor() as i64;
        let last = (high / width).floor() as i64 + 1;
        if last - first <= MAX_MAG_BINS as i64 {
            break (first, last);
        }
        width *= 2.0;
    };
    let mut edges: Vec<f64> = (first..=last).map(|k| k as f64 * width).collect();
    if brightest < edges[0] {
        edges.insert(0, f64::NEG_INFINITY);
    }
    if faintest >= edges[edges.len() - 1] {
        edges.push(f64::INFINITY);
    }
    Some(edges)
}

/// Flux bins: [0, smallest positive flux) for spectra without lines, when there are any, then
/// quantiles of the positive fluxes.
fn flux_edges(flux: &[f64]) -> Option<Vec<f64>> {
    let positive: Vec<f64> = flux.iter().copied().filter(|&f| f > 0.0).collect();
    let mut edges = quantile_edges(&positive, FLUX_QUANTILE_BINS)?;
    if flux.contains(&0.0) {
        edges.insert(0, 0.0);
    }
    Some(edges)
}

/// "lo–hi", "≥ lo" for an infinite top, "< hi" for an infinite bottom; numbers rounded to
/// 2 decimals (or in scientific notation when tiny or huge).
fn range_label(lo: f64, hi: f64) -> String {
    if hi.is_infinite() {
        format!("≥ {}", short(lo))
    } else if lo.is_infinite() {
        format!("< {}", short(hi))
    } else {
        format!("{}–{}", short(lo), short(hi))
    }
}

fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e4) {
        format!("{v:.2e}")
    } else {
        format!("{}", (v * 100.0).round() / 100.0)
    }
}

/// The tables as JSON: per column, one entry per bin with its label, count and metrics.
pub fn tables_json(tables: &[PopulationTable]) -> Value {
    let entries: serde_json::Map<String, Value> = tables
        .iter()
        .map(|t| {
            let bins: Vec<Value> = t
                .labels
                .iter()
                .zip(&t.bins)
                .map(|(label, b)| {
                    let mut entry = json!({
                        "bin": label,
                        "lo": finite_or_null(b.lo),
                        "hi": finite_or_null(b.hi),
                        "n": b.n,
                    });
                    for metric in TableMetric::ALL {
                        let value = b.metrics.as_ref().map(|m| metric.value(m));
                        entry[metric.key()] = json!(value);
                    }
                    entry
                })
                .collect();
            (t.column.to_string(), Value::Array(bins))
        })
        .collect();
    Value::Object(entries)
}

fn finite_or_null(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// One markdown table per property, with the metrics the table shows.
pub fn tables_text(tables: &[PopulationTable]) -> String {
    let mut out = String::new();
    for t in tables {
        let titles: Vec<&str> = t.shown.iter().map(|m| m.header()).collect();
        out.push_str(&format!(
            "| {} | n | {} |\n|---|---|{}\n",
            t.title,
            titles.join(" | "),
            "---|".repeat(t.shown.len())
        ));
        for (label, b) in t.labels.iter().zip(&t.bins) {
            let cells: Vec<String> = t
                .shown
                .iter()
                .map(|metric| b.metrics.as_ref().map_or("-".into(), |m| metric.text(m)))
                .collect();
            out.push_str(&format!("| {label} | {} | {} |\n", b.n, cells.join(" | ")));
        }
        out.push('\n');
    }
    out
}

/// `populations_<column>.svg` per table: the table's metrics per bin, one panel each.
pub fn plot_tables(dir: &Path, tables: &[PopulationTable]) -> Result<(), String> {
    for t in tables {
        let panels: Vec<StudyPanel> = t
            .shown
            .iter()
            .map(|&metric| StudyPanel {
                title: metric.title().into(),
                scale: metric.scale(),
                // A log panel cannot show σ_NMAD = 0 (a bin of exact estimates).
                values: t
                    .bins
                    .iter()
                    .map(|b| b.metrics.as_ref().map(|m| metric.value(m)))
                    .map(|v| {
                        v.filter(|v| v.is_finite())
                            .filter(|&v| metric.scale() != PanelScale::Log || v > 0.0)
                    })
                    .collect(),
            })
            .filter(|p| p.values.iter().any(Option::is_some))
            .collect();
        if panels.is_empty() {
            continue;
        }
        let counts: Vec<String> = t
            .labels
            .iter()
            .zip(&t.bins)
            .map(|(label, b)| format!("{label} (n={})", b.n))
            .collect();
        plot_study(
            &dir.join(format!("populations_{}.svg", t.column)),
            &format!("Metrics in bins of {}", t.title),
            &counts,
            &panels,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::labels::read_labels;
    use super::*;
    use crate::report::test_support::{assert_svg, TempDir};

    #[test]
    fn magnitude_edges_are_half_magnitudes_around_the_sample() {
        // 14.2 … 16.3: from ⌊14.2/0.5⌋·0.5 = 14 to (⌊16.3/0.5⌋ + 1)·0.5 = 16.5.
        let edges = magnitude_edges(&[16.3, 14.2, 15.0, 14.9, f64::NAN]).expect("finite");
        assert_eq!(edges, vec![14.0, 14.5, 15.0, 15.5, 16.0, 16.5]);
        // A magnitude on an edge opens the bin above it.
        let edges = magnitude_edges(&[14.2, 16.5]).expect("finite");
        assert_eq!(edges.last(), Some(&17.0));
        assert_eq!(magnitude_edges(&[f64::NAN, 99.0, -9999.0]), None);
        assert_eq!(magnitude_edges(&[]), None);
    }

    #[test]
    fn wide_magnitude_ranges_take_wider_bins() {
        // 18 … 28 needs 21 bins of 0.5 mag (more than 12), so 11 bins of 1 mag.
        let mags: Vec<f64> = (0..=20).map(|k| 18.0 + 0.5 * k as f64).collect();
        let edges = magnitude_edges(&mags).expect("finite");
        let expected: Vec<f64> = (18..=29).map(f64::from).collect();
        assert_eq!(edges, expected);
    }

    #[test]
    fn magnitudes_beyond_the_percentiles_go_to_open_bins() {
        // 101 magnitudes: 12.0, 99 from 15.0 to 17.45, and 30.0. The 1st and 99th percentiles
        // (ranks 1 and 99) are 15.0 and 17.45, so the bins run 15 … 17.5 with "< 15" and
        // "≥ 17.5" on either side. The sentinels 99 and −9999 change nothing.
        let mut mags: Vec<f64> = (0..99).map(|k| 15.0 + 0.025 * k as f64).collect();
        mags.extend([12.0, 30.0, 99.0, -9999.0]);
        let edges = magnitude_edges(&mags).expect("finite");
        let expected = [
            f64::NEG_INFINITY,
            15.0,
            15.5,
            16.0,
            16.5,
            17.0,
            17.5,
            f64::INFINITY,
        ];
        assert_eq!(edges, expected);
        let names: Vec<String> = edges.windows(2).map(|w| range_label(w[0], w[1])).collect();
        assert_eq!((names[0].as_str(), names[6].as_str()), ("< 15", "≥ 17.5"));
    }

    #[test]
    fn the_r_magnitude_table_on_a_hand_computed_case() {
        let dir = TempDir::new("mag-r");
        // (mag_r, z_true, Δz); the last two objects have no magnitude (NaN, the sentinel 99)
        // and fall in no bin.
        let objects = [
            (14.1, 0.10, 0.01),
            (14.3, 0.20, -0.03),
            (14.4, 0.05, 0.08),
            (14.6, 0.30, 0.002),
            (14.9, 0.15, 0.004),
            (15.2, 0.25, -0.06),
            (f64::NAN, 0.12, 0.5),
            (99.0, 0.3, 0.2),
        ];
        let mut csv = String::from("index,z,mag_r\n");
        for (i, (mag, z, _)) in objects.iter().enumerate() {
            csv.push_str(&format!("{i},{z},{mag}\n"));
        }
        let path = dir.0.join("labels.csv");
        std::fs::write(&path, csv).expect("written");
        let labels = read_labels(&path, objects.len()).expect("valid labels");
        let z_true: Vec<f64> = objects.iter().map(|o| o.1).collect();
        let z_pred: Vec<f64> = objects.iter().map(|o| o.1 + o.2 * (1.0 + o.1)).collect();
        let tables =
            population_tables(&labels, 0..objects.len(), &z_pred, &z_true).expect("tables");
        assert_eq!(tables.len(), 1, "only mag_r is in the file");
        let t = &tables[0];
        assert_eq!((t.column, t.title), ("mag_r", "r magnitude"));
        assert_eq!(t.labels, ["14–14.5", "14.5–15", "15–15.5"]);
        assert_eq!(t.bins.iter().map(|b| b.n).collect::<Vec<_>>(), [3, 2, 1]);
        // [14, 14.5): Δz {0.01, −0.03, 0.08}: bias 0.02; median 0.01, |Δz − 0.01| = {0, 0.04,
        // 0.07} → σ_NMAD = 1.4826 · 0.04; η = 1/3 (only 0.08 exceeds 0.05).
        // [14.5, 15): Δz {0.002, 0.004}: bias 0.003, σ_NMAD = 1.4826 · 0.001, η = 0.
        // [15, 15.5): Δz −0.06: bias −0.06, σ_NMAD 0, η = 1.
        let expected = [
            (0.02, 1.4826 * 0.04, 1.0 / 3.0),
            (0.003, 1.4826 * 0.001, 0.0),
            (-0.06, 0.0, 1.0),
        ];
        for (b, (bias, sigma, eta)) in t.bins.iter().zip(expected) {
            let m = b.metrics.as_ref().expect("filled");
            assert!((m.bias - bias).abs() < 1e-12, "bias {} ≠ {bias}", m.bias);
            assert!(
                (m.sigma_nmad - sigma).abs() < 1e-12,
                "σ {} ≠ {sigma}",
                m.sigma_nmad
            );
            assert!((m.eta_0_05 - eta).abs() < 1e-12, "η {} ≠ {eta}", m.eta_0_05);
        }
        let text = tables_text(&tables);
        assert!(
            text.contains(
                "| r magnitude | n | bias | σ_NMAD | η (>0.05) |\n|---|---|---|---|---|\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("| 14–14.5 | 3 | +0.02000 | 0.05930 | 33.3 % |"),
            "{text}"
        );
        let json = tables_json(&tables);
        let bins = json["mag_r"].as_array().expect("bins");
        let bias = bins[2]["bias"].as_f64().expect("a number");
        assert!((bias + 0.06).abs() < 1e-12, "{bias}");
        assert_eq!(bins[2]["eta_0_05"].as_f64(), Some(1.0));
        assert_eq!(bins[0]["lo"].as_f64(), Some(14.0));

        plot_tables(&dir.0, &tables).expect("plotted");
        assert_svg(
            &dir.0.join("populations_mag_r.svg"),
            &[
                "r magnitude",
                "bias (mean Δz)",
                "σ_NMAD",
                "η (|Δz| &gt; 0.05)",
                "14–14.5",
            ],
        );
    }

    #[test]
    fn a_magnitude_that_is_not_a_number_is_an_error_naming_the_line() {
        let dir = TempDir::new("mag-r-bad");
        let path = dir.0.join("labels.csv");
        std::fs::write(&path, "index,z,mag_r\n0,0.1,17.2\n1,0.2,bright\n").expect("written");
        let labels = read_labels(&path, 2).expect("valid labels");
        let err = population_tables(&labels, 0..2, &[0.1, 0.2], &[0.1, 0.2])
            .err()
            .expect("not a number");
        assert!(
            err.contains("line 3") && err.contains("mag_r 'bright'"),
            "{err}"
        );
    }
}
