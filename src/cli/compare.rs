//! `zcnn compare`: the metrics of several runs side by side, for the noise, training-size and
//! label studies: a markdown table (printed and written), the same numbers as JSON, and a
//! study plot of MAE, σ_NMAD, η and the success rate across the runs.

use super::files::write_atomic;
use super::paths::Plan;
use crate::io::atomic::StagedDir;
use crate::report::study::{plot_study, PanelScale, StudyPanel};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The table's columns: report key, heading, and whether it is a fraction shown in percent.
const COLUMNS: [(&str, &str, bool); 10] = [
    ("mae", "MAE", false),
    ("r2", "R²", false),
    ("bias", "bias", false),
    ("sigma_nmad", "σ_NMAD", false),
    ("eta_0_15", "η (\\|Δz\\| > 0.15)", true),
    ("eta_0_05", "η (\\|Δz\\| > 0.05)", true),
    ("success_0_003", "success (\\|Δz\\| ≤ 0.003)", true),
    ("accuracy", "bin accuracy", true),
    ("crps", "CRPS", false),
    ("tv_distance", "TV(z_pred, z_true)", false),
];

/// The plot's panels: report key, title, scale.
const PANELS: [(&str, &str, PanelScale); 4] = [
    ("mae", "MAE", PanelScale::Log),
    ("sigma_nmad", "σ_NMAD", PanelScale::Log),
    ("eta_0_15", "η (|Δz| > 0.15)", PanelScale::Percent),
    (
        "success_0_003",
        "success (|Δz| ≤ 0.003)",
        PanelScale::Percent,
    ),
];

/// The files [`compare`] writes into its folder: table, JSON, plot.
const FILES: [&str; 3] = ["comparison.md", "comparison.json", "comparison.svg"];

/// One run's report.
struct RunReport {
    label: String,
    path: PathBuf,
    report: Value,
}

/// Reads the reports of `runs`, labels them (`labels`: comma-separated, one per run; default
/// the folder names) and writes `comparison.md`, `comparison.json` and `comparison.svg` into
/// `out`, all at once; existing files there are replaced only with `overwrite`.
pub fn compare(
    runs: &[PathBuf],
    labels: Option<&str>,
    title: &str,
    out: &Path,
    overwrite: bool,
) -> Result<(), String> {
    if runs.is_empty() {
        return Err("compare: give at least one run folder or report.json".into());
    }
    let labels = run_labels(runs, labels)?;
    let paths = runs
        .iter()
        .map(|run| report_path(run))
        .collect::<Result<Vec<_>, String>>()?;
    let mut plan = Plan::default();
    for path in &paths {
        plan = plan.reads("(run)", path);
    }
    plan.writes_in("--out", out, &FILES).check(overwrite)?;
    let reports = paths
        .into_iter()
        .zip(labels)
        .map(|(path, label)| {
            let report = read_report(&path)?;
            Ok(RunReport {
                label,
                path,
                report,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let [table_file, json_file, plot_file] = FILES;
    let staged = StagedDir::new(out).map_err(|e| e.to_string())?;
    let table = markdown_table(&reports);
    write_atomic(&staged.file(table_file), table.as_bytes())?;
    let json: Vec<Value> = reports
        .iter()
        .map(|r| {
            let metrics: serde_json::Map<String, Value> = COLUMNS
                .iter()
                .map(|(key, _, _)| (key.to_string(), r.report[*key].clone()))
                .collect();
            json!({ "label": r.label, "report": r.path.display().to_string(), "metrics": metrics })
        })
        .collect();
    let text = serde_json::to_string_pretty(&json).expect("plain JSON values serialise");
    write_atomic(&staged.file(json_file), text.as_bytes())?;
    let names: Vec<String> = reports.iter().map(|r| r.label.clone()).collect();
    let panels: Vec<StudyPanel> = PANELS
        .iter()
        .map(|(key, panel_title, scale)| StudyPanel {
            title: panel_title.to_string(),
            scale: *scale,
            values: reports
                .iter()
                .map(|r| plotted_value(r, key, *scale))
                .collect(),
        })
        .collect();
    plot_study(&staged.file(plot_file), title, &names, &panels)?;
    staged.commit().map_err(|e| e.to_string())?;
    println!("{table}");
    println!("comparison: {}", out.display());
    Ok(())
}

/// The labels given (one per run) or the runs' folder names.
fn run_labels(runs: &[PathBuf], labels: Option<&str>) -> Result<Vec<String>, String> {
    match labels {
        Some(text) => {
            let labels: Vec<String> = text.split(',').map(|l| l.trim().to_string()).collect();
            if labels.len() != runs.len() {
                return Err(format!(
                    "--labels gives {} labels for {} runs",
                    labels.len(),
                    runs.len()
                ));
            }
            Ok(labels)
        }
        None => Ok(runs
            .iter()
            .map(|r| {
                r.file_name()
                    .map_or_else(|| r.display().to_string(), |n| n.to_string_lossy().into())
            })
            .collect()),
    }
}

/// A report file, a folder holding `report.json`, or a run folder holding `report/report.json`.
fn report_path(run: &Path) -> Result<PathBuf, String> {
    if run.is_file() {
        return Ok(run.to_path_buf());
    }
    for candidate in [
        run.join("report.json"),
        run.join("report").join("report.json"),
    ] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "{}: no report.json here or in its report/ folder (run `zcnn run` or `zcnn evaluate` first)",
        run.display()
    ))
}

/// Reads a report and checks that it holds the number of objects and every compared metric
/// (a number, or null for a metric that does not apply, such as the accuracy of a regression).
fn read_report(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let report: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a JSON report: {e}", path.display()))?;
    if !report.is_object() {
        return Err(format!(
            "{}: not a report: expected a JSON object of metrics, found {report}",
            path.display()
        ));
    }
    if !report.get("n").is_some_and(Value::is_u64) {
        return Err(format!(
            "{}: 'n' (the number of objects) should be a whole number, found {}",
            path.display(),
            found(report.get("n"))
        ));
    }
    for (key, _, _) in COLUMNS {
        match report.get(key) {
            Some(Value::Number(_) | Value::Null) => {}
            other => {
                return Err(format!(
                    "{}: '{key}' should be a number or null, found {}",
                    path.display(),
                    found(other)
                ))
            }
        }
    }
    Ok(report)
}

/// A value found in a report, for a message.
fn found(value: Option<&Value>) -> String {
    value.map_or("no such key".into(), |v| v.to_string())
}

/// A metric for the plot: absent or null is `None`; on a log panel, 0 (a perfect score) is
/// also left out rather than drawn at −∞.
fn plotted_value(r: &RunReport, key: &str, scale: PanelScale) -> Option<f64> {
    let v = r.report[key].as_f64()?;
    (scale != PanelScale::Log || v > 0.0).then_some(v)
}

/// The markdown table: one row per run, one column per metric.
fn markdown_table(reports: &[RunReport]) -> String {
    let mut out = String::from("| run | objects |");
    for (_, heading, _) in COLUMNS {
        out.push_str(&format!(" {heading} |"));
    }
    out.push_str("\n|---|---:|");
    out.push_str(&"---:|".repeat(COLUMNS.len()));
    out.push('\n');
    for r in reports {
        out.push_str(&format!("| {} | {} |", r.label, r.report["n"]));
        for (key, _, percent) in COLUMNS {
            let cell = match r.report[key].as_f64() {
                None => "–".to_string(),
                Some(v) if percent => format!("{:.1} %", 100.0 * v),
                Some(v) => format_number(v),
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

/// Four significant digits, in scientific notation below 1e-3.
fn format_number(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.2e}")
    } else {
        format!("{v:.5}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(mae: f64, success: f64, crps: Option<f64>) -> Value {
        json!({
            "n": 100, "mae": mae, "r2": 0.9, "bias": 1e-4, "sigma_nmad": 2e-4,
            "eta_0_15": 0.0, "eta_0_05": 0.01, "success_0_003": success,
            "accuracy": crps.map(|_| 0.5), "crps": crps, "tv_distance": 0.01,
        })
    }

    #[test]
    fn compare_writes_the_table_json_and_plot_of_every_run() {
        let dir = std::env::temp_dir().join(format!("zcnn-compare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (a, b) = (dir.join("clean"), dir.join("snr5"));
        std::fs::create_dir_all(a.join("report")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let write = |p: PathBuf, v: Value| std::fs::write(p, v.to_string()).unwrap();
        write(a.join("report/report.json"), report(3e-4, 1.0, Some(4e-4)));
        write(b.join("report.json"), report(0.0116, 0.968, None));
        let out = dir.join("cmp");
        compare(&[a, b], None, "Noise study", &out, false).unwrap();
        let table = std::fs::read_to_string(out.join("comparison.md")).unwrap();
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(rows.len(), 4, "{table}");
        assert!(
            rows[2].starts_with("| clean | 100 | 3.00e-4 |"),
            "{}",
            rows[2]
        );
        assert!(
            rows[3].contains("| 96.8 % |") && rows[3].contains("| – |"),
            "{}",
            rows[3]
        );
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
                .unwrap();
        assert_eq!(json[1]["label"], "snr5");
        assert_eq!(json[1]["metrics"]["mae"], 0.0116);
        assert!(out.join("comparison.svg").is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_or_malformed_reports_and_bad_labels_are_named() {
        let dir = std::env::temp_dir().join(format!("zcnn-compare-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let err = compare(&[dir.join("nowhere")], None, "t", &out, false).unwrap_err();
        assert!(
            err.contains("nowhere") && err.contains("no report.json"),
            "{err}"
        );
        let bad = dir.join("bad.json");
        let cases = [
            (
                "{\"n\": 3, \"mae\": \"small\"}",
                "'mae' should be a number or null, found \"small\"",
            ),
            (
                "{}",
                "'n' (the number of objects) should be a whole number, found no such key",
            ),
            ("[]", "expected a JSON object"),
            (
                "{\"n\": 3, \"mae\": 0.1}",
                "'r2' should be a number or null, found no such key",
            ),
        ];
        for (text, expected) in cases {
            std::fs::write(&bad, text).unwrap();
            let err = compare(std::slice::from_ref(&bad), None, "t", &out, false).unwrap_err();
            assert!(
                err.contains("bad.json") && err.contains(expected),
                "{text}: {err}"
            );
        }
        std::fs::write(&bad, "not json").unwrap();
        let err = compare(std::slice::from_ref(&bad), None, "t", &out, false).unwrap_err();
        assert!(err.contains("not a JSON report"), "{err}");
        let err = compare(&[bad.clone(), bad], Some("one"), "t", &out, false).unwrap_err();
        assert!(err.contains("1 labels for 2 runs"), "{err}");
        assert!(compare(&[], None, "t", &out, false).is_err());
        assert!(!out.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
