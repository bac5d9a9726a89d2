//! The study of `zcnn debias`: for each step its time and the bias metrics of its test
//! estimates (research notes §1.11–§1.12), as `study.json` and a markdown table `study.md`.

use super::steps::STEP_NAMES;
use crate::io::atomic::write_atomic;
use crate::metrics::distribution::{
    residual_profile, total_variation_distance, ResidualAxis, ResidualProfile,
    RESIDUAL_PROFILE_BINS, SLOPE_Z_MIN,
};
use crate::metrics::point::PointMetrics;
use crate::redshift::lin2022::MagnitudeRows;
use crate::redshift::ZBinning;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

/// The files the study writes into its folder (besides each step's own folder).
pub const FILES: [&str; 5] = [
    "study.json",
    "study.md",
    super::plots::FILES[0],
    super::plots::FILES[1],
    super::plots::FILES[2],
];

/// The residual slope is fitted above this z, where the paper's figures show the trend (§1.12).
pub const SLOPE_ABOVE: f64 = SLOPE_Z_MIN;
/// The bins of the residual-vs-z_photo profile that count for the flatness goal hold at least
/// this fraction of the objects (issue 12).
const MIN_BIN_FRACTION: f64 = 0.01;

/// One step's test estimates, its time and a note (subset size, …).
pub struct StepResult {
    pub step: usize,
    pub seconds: f64,
    pub z_photo: Vec<f64>,
    pub note: String,
}

impl StepResult {
    /// A result of `step`, timed from `started` to now.
    pub fn new(step: usize, started: Instant, z_photo: Vec<f64>, note: String) -> Self {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!("step {step} done in {seconds:.1} s");
        StepResult {
            step,
            seconds,
            z_photo,
            note,
        }
    }
}

/// The metrics of one step's estimates against z_spec.
#[derive(Clone, Debug)]
pub struct StepMetrics {
    pub point: PointMetrics,
    pub total_variation: f64,
    pub slope_vs_z_spec: Option<f64>,
    pub slope_vs_z_photo: Option<f64>,
    /// max |mean Δz| over the z_photo bins holding ≥ 1 % of the objects.
    pub max_residual_vs_z_photo: Option<f64>,
    /// σ_NMAD in each magnitude row (`None` for a row with fewer than two objects).
    pub nmad_per_row: Vec<Option<f64>>,
    pub profile_z_spec: ResidualProfile,
    pub profile_z_photo: ResidualProfile,
}

/// Computes the metrics of `z_photo` against `z_spec`; `row` is each object's magnitude row.
pub fn step_metrics(
    base: &ZBinning,
    rows: &MagnitudeRows,
    z_photo: &[f64],
    z_spec: &[f64],
    row: &[usize],
) -> Result<StepMetrics, String> {
    let profile_bins = ZBinning::new(base.z_min(), base.z_max(), RESIDUAL_PROFILE_BINS)?;
    let profile_z_spec = residual_profile(z_photo, z_spec, ResidualAxis::ZTrue, &profile_bins)?;
    let profile_z_photo = residual_profile(z_photo, z_spec, ResidualAxis::ZPred, &profile_bins)?;
    let min_count = MIN_BIN_FRACTION * z_photo.len() as f64;
    let max_residual_vs_z_photo = profile_z_photo
        .mean_delta_z
        .iter()
        .zip(&profile_z_photo.counts)
        .filter(|&(_, &count)| count as f64 >= min_count)
        .filter_map(|(mean, _)| mean.map(f64::abs))
        .reduce(f64::max);
    let nmad_per_row = (0..rows.rows())
        .map(|r| {
            let (p, s): (Vec<f64>, Vec<f64>) = z_photo
                .iter()
                .zip(z_spec)
                .zip(row)
                .filter(|&(_, &k)| k == r)
                .map(|((&p, &s), _)| (p, s))
                .unzip();
            (p.len() >= 2)
                .then(|| PointMetrics::compute(&p, &s).map(|m| m.sigma_nmad))
                .transpose()
        })
        .collect::<Result<_, _>>()?;
    Ok(StepMetrics {
        point: PointMetrics::compute(z_photo, z_spec)?,
        total_variation: total_variation_distance(base, z_photo, z_spec)?,
        slope_vs_z_spec: slope_above(&profile_z_spec, SLOPE_ABOVE),
        slope_vs_z_photo: slope_above(&profile_z_photo, SLOPE_ABOVE),
        max_residual_vs_z_photo,
        nmad_per_row,
        profile_z_spec,
        profile_z_photo,
    })
}

/// The residual slope above `z`, fitted as every report fits it
/// ([`ResidualProfile::weighted_fit_above`], Lin et al. 2022's weighted fit).
fn slope_above(profile: &ResidualProfile, z: f64) -> Option<f64> {
    profile.weighted_fit_above(z).map(|fit| fit.slope)
}

/// Writes `study.json`, `study.md` and the plots into `out`, and prints the table.
pub fn write(
    out: &Path,
    base: &ZBinning,
    rows: &MagnitudeRows,
    results: &[StepResult],
    z_spec: &[f64],
    row: &[usize],
) -> Result<(), String> {
    let metrics = results
        .iter()
        .map(|r| {
            step_metrics(base, rows, &r.z_photo, z_spec, row)
                .map_err(|e| format!("step {}: {e}", r.step))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let steps: Vec<Value> = results
        .iter()
        .zip(&metrics)
        .map(|(r, m)| {
            json!({
                "step": r.step,
                "name": STEP_NAMES[r.step],
                "seconds": r.seconds,
                "note": r.note,
                "n": m.point.n,
                "bias": m.point.bias,
                "sigma_nmad": m.point.sigma_nmad,
                "eta_0_05": m.point.eta_0_05,
                "total_variation": m.total_variation,
                "slope_above_0_15_vs_z_spec": m.slope_vs_z_spec,
                "slope_above_0_15_vs_z_photo": m.slope_vs_z_photo,
                "max_abs_mean_residual_vs_z_photo": m.max_residual_vs_z_photo,
                "sigma_nmad_per_row": m.nmad_per_row,
                "residual_vs_z_spec": profile_json(&m.profile_z_spec),
                "residual_vs_z_photo": profile_json(&m.profile_z_photo),
            })
        })
        .collect();
    let study = json!({
        "test_objects": z_spec.len(),
        "magnitude_rows": {"r_min": rows.r_min(), "width": rows.width(), "rows": rows.rows()},
        "slope_above": SLOPE_ABOVE,
        "steps": steps,
    });
    let text = serde_json::to_string_pretty(&study).map_err(|e| e.to_string())?;
    let json_path = out.join(FILES[0]);
    write_atomic(&json_path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", json_path.display()))?;
    let table = table(results, &metrics);
    let md_path = out.join(FILES[1]);
    write_atomic(&md_path, table.as_bytes()).map_err(|e| format!("{}: {e}", md_path.display()))?;
    super::plots::write(out, base, rows, results, &metrics, z_spec)?;
    println!("{table}");
    println!("study: {}", out.display());
    Ok(())
}

/// A residual profile as JSON (centres, mean Δz, counts).
fn profile_json(p: &ResidualProfile) -> Value {
    json!({"centers": p.centers, "mean_delta_z": p.mean_delta_z, "counts": p.counts})
}

/// The markdown table of the steps.
pub fn table(results: &[StepResult], metrics: &[StepMetrics]) -> String {
    let optional = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:+.4}"));
    let mut s = String::from(
        "| step | time (s) | bias | σ_NMAD | η(>0.05) | TV | slope vs z_spec | slope vs z_photo | max \\|mean Δz\\| vs z_photo |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for (r, m) in results.iter().zip(metrics) {
        s += &format!(
            "| {} | {:.1} | {:+.4} | {:.4} | {:.3} | {:.3} | {} | {} | {} |\n",
            STEP_NAMES[r.step],
            r.seconds,
            m.point.bias,
            m.point.sigma_nmad,
            m.point.eta_0_05,
            m.total_variation,
            optional(m.slope_vs_z_spec),
            optional(m.slope_vs_z_photo),
            m.max_residual_vs_z_photo
                .map_or("–".to_string(), |v| format!("{v:.4}")),
        );
    }
    for r in results.iter().filter(|r| !r.note.is_empty()) {
        s += &format!("\nStep {}: {}", r.step, r.note);
    }
    s.push('\n');
    s
}
