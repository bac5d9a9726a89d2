//! Metrics per population: success, η and σ_NMAD in bins of Hα equivalent width, Hα flux,
//! signal-to-noise ratio and class, read from the columns of a dataset's `labels.csv` (those a
//! dataset lacks, e.g. an imported one, are left out).

use std::ops::Range;
use std::path::Path;

use super::labels::Labels;

use serde_json::{json, Value};

use crate::data::spectra::GalaxyClass;
use crate::metrics::binned::{metrics_in_bins, quantile_edges, BinMetrics};
use crate::report::study::{plot_study, PanelScale, StudyPanel};

/// Hα equivalent-width bins \[Å\]: none (passive, < 0.5), the WHAN retired (0.5–3) and weak-AGN
/// (3–6) bands, then weak to strong emitters.
const EW_EDGES: [f64; 8] = [0.0, 0.5, 3.0, 6.0, 20.0, 50.0, 100.0, f64::INFINITY];
/// Per-pixel SNR bins; noiseless spectra (SNR = ∞) fall in the last.
const SNR_EDGES: [f64; 7] = [0.0, 3.0, 5.0, 10.0, 20.0, 50.0, f64::INFINITY];
/// Quantile bins of the Hα flux (plus one for spectra without lines).
const FLUX_QUANTILE_BINS: usize = 4;

/// The metrics of one property in its bins.
pub struct PopulationTable {
    /// The labels.csv column.
    pub column: &'static str,
    /// A name per bin, e.g. "3–6" or "passive".
    pub labels: Vec<String>,
    pub bins: Vec<BinMetrics>,
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
        let bins = metrics_in_bins(z_pred, z_true, &numbers, &edges)?;
        let names = edges.windows(2).map(|w| range_label(w[0], w[1])).collect();
        tables.push(PopulationTable {
            column,
            labels: names,
            bins,
        });
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
                labels: GalaxyClass::ALL
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect(),
                bins: metrics_in_bins(z_pred, z_true, &index, &edges)?,
            });
        }
    }
    Ok(tables)
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

/// "lo–hi", "≥ lo" for an infinite top; numbers in 3 significant digits.
fn range_label(lo: f64, hi: f64) -> String {
    if hi.is_infinite() {
        format!("≥ {}", short(lo))
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
                    let m = b.metrics.as_ref();
                    json!({
                        "bin": label,
                        "lo": finite_or_null(b.lo),
                        "hi": finite_or_null(b.hi),
                        "n": b.n,
                        "success_0_003": m.map(|m| m.success_0_003),
                        "eta_0_15": m.map(|m| m.eta_0_15),
                        "sigma_nmad": m.map(|m| m.sigma_nmad),
                    })
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

/// One markdown table per property.
pub fn tables_text(tables: &[PopulationTable]) -> String {
    let mut out = String::new();
    for t in tables {
        out.push_str(&format!(
            "| {} | n | success | η (>0.15) | σ_NMAD |\n|---|---|---|---|---|\n",
            t.column
        ));
        for (label, b) in t.labels.iter().zip(&t.bins) {
            let cells = match &b.metrics {
                Some(m) => format!(
                    "{:.1} % | {:.1} % | {:.5}",
                    100.0 * m.success_0_003,
                    100.0 * m.eta_0_15,
                    m.sigma_nmad
                ),
                None => "- | - | -".to_string(),
            };
            out.push_str(&format!("| {label} | {} | {cells} |\n", b.n));
        }
        out.push('\n');
    }
    out
}

/// `populations_<column>.svg` per table: success, η and σ_NMAD per bin.
pub fn plot_tables(dir: &Path, tables: &[PopulationTable]) -> Result<(), String> {
    for t in tables {
        let metric = |f: &dyn Fn(&crate::metrics::PointMetrics) -> f64| -> Vec<Option<f64>> {
            t.bins
                .iter()
                .map(|b| b.metrics.as_ref().map(f).filter(|v| v.is_finite()))
                .collect()
        };
        let panels = [
            StudyPanel {
                title: "success |Δz| ≤ 0.003".into(),
                scale: PanelScale::Percent,
                values: metric(&|m| m.success_0_003),
            },
            StudyPanel {
                title: "η (|Δz| > 0.15)".into(),
                scale: PanelScale::Percent,
                values: metric(&|m| m.eta_0_15),
            },
            StudyPanel {
                title: "σ_NMAD".into(),
                scale: PanelScale::Log,
                values: metric(&|m| m.sigma_nmad)
                    .into_iter()
                    .map(|v| v.filter(|&s| s > 0.0))
                    .collect(),
            },
        ];
        let panels: Vec<StudyPanel> = panels
            .into_iter()
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
            &format!("Metrics in bins of {}", t.column),
            &counts,
            &panels,
        )?;
    }
    Ok(())
}
