//! Evaluation: metrics of predicted against true redshifts, the JSON report scripts read, the
//! table people read, and the plots.

use super::config::ModelConfig;
use super::files::write_atomic;
use super::pipeline::{binning, redshifts};
use crate::metrics::{
    brier_score, cde_loss, classification_accuracy, mean_crps, pit_histogram, pit_values,
    residual_profile, total_variation_distance, PitStatistics, PointMetrics, RailPointMetrics,
    ResidualAxis,
};
use crate::redshift::binning::ZBinning;
use crate::report::plots::{plot_pit_histogram, plot_residuals, plot_z_pred_vs_true};
use serde_json::{json, Value};
use std::path::Path;

/// Bins of the PIT histogram.
const PIT_BINS: usize = 20;

/// The metric definitions stated in every report (DESIGN.md).
const DEFINITIONS: &str = "dz = (z_pred - z_true)/(1 + z_true); bias = mean(dz), bias_median = median(dz); \
sigma_nmad = 1.4826 median|dz - median dz|; eta_X = fraction |dz| > X; frac_0_01 = fraction |dz| > 0.01; \
success_0_003 = fraction |dz| <= 0.003; accuracy = predicted bin == true bin; \
crps = mean over objects of sum_k (CDF_pred,k - CDF_true,k)^2 * bin width; pit = CDF_pred(z_true); \
tv_distance = total-variation distance between the histograms of z_pred and z_true; \
as LSST DESC RAIL/qp: sigma_iqr = (P75(dz) - P25(dz))/1.349; point_outlier_rate = fraction |dz| > max(0.06, 3 sigma_iqr); \
pit_ks, pit_cvm = scipy kstest / cramervonmises of the PIT against U(0,1); pit_ad = scipy anderson_ksamp of the PIT against linspace(0,1,n); \
pit_outlier_rate = mass of qp's 100-quantile piecewise PIT CDF below 1e-4 and above 0.9999; \
cde_loss = mean(sum_k p_k^2 - 2 p_bin(z_true)) / bin width (Izbicki & Lee 2017); brier = mean sum_k (p_k - onehot_k(z_true))^2";

/// Everything computed on one evaluation set.
pub struct Evaluation {
    pub z_pred: Vec<f64>,
    pub z_true: Vec<f64>,
    /// PIT values `CDF_pred(z_true)` of a classifier's distributions.
    pub pit: Option<Vec<f64>>,
    pub report: Value,
}

/// Computes the metrics of network `outputs` (probabilities or values) against `z_true`.
pub fn evaluate(m: &ModelConfig, outputs: &[f32], z_true: &[f32]) -> Result<Evaluation, String> {
    let (z_pred, pdfs) = redshifts(m, outputs)?;
    let z_true: Vec<f64> = z_true.iter().map(|&z| z as f64).collect();
    let p = PointMetrics::compute(&z_pred, &z_true)?;
    // The range of the labels also bins the residual profile and the mode-collapse histogram.
    let range = binning(m).unwrap_or(ZBinning::new(m.z_min, m.z_max, 40)?);
    let profile_bins = ZBinning::new(range.z_min(), range.z_max(), 40)?;
    let profile = residual_profile(&z_pred, &z_true, ResidualAxis::ZTrue, &profile_bins)?;
    let tv = total_variation_distance(&profile_bins, &z_pred, &z_true)?;
    let rail = RailPointMetrics::compute(&z_pred, &z_true)?;
    let (accuracy, crps, pit, cde, brier) = match &pdfs {
        Some(pdfs) => {
            let b = binning(m)?;
            (
                Some(classification_accuracy(&b, pdfs, &z_true)?),
                Some(mean_crps(&b, pdfs, &z_true)?),
                Some(pit_values(&b, pdfs, &z_true)?),
                Some(cde_loss(&b, pdfs, &z_true)?),
                Some(brier_score(&b, pdfs, &z_true)?),
            )
        }
        None => (None, None, None, None, None),
    };
    let pit_stats = pit.as_deref().map(PitStatistics::compute).transpose()?;
    let pit_hist = pit
        .as_ref()
        .map(|p| pit_histogram(p, PIT_BINS))
        .transpose()?;
    let report = json!({
        "n": p.n,
        "mse": p.mse,
        "mae": p.mae,
        "r2": p.r2,
        "bias": p.bias,
        "bias_median": p.bias_median,
        "sigma_nmad": p.sigma_nmad,
        "eta_0_15": p.eta_0_15,
        "eta_0_05": p.eta_0_05,
        "frac_0_01": p.frac_0_01,
        "success_0_003": p.success_0_003,
        "accuracy": accuracy,
        "crps": crps,
        "tv_distance": tv,
        "residual_slope": profile.slope,
        "residual_profile": { "z_true_centers": profile.centers, "mean_dz": profile.mean_delta_z, "counts": profile.counts },
        "pit_histogram": pit_hist,
        "sigma_iqr": rail.sigma_iqr,
        "point_outlier_rate": rail.outlier_rate,
        "pit_ks": pit_stats.as_ref().map(|s| s.ks),
        "pit_cvm": pit_stats.as_ref().map(|s| s.cvm),
        "pit_ad": pit_stats.as_ref().and_then(|s| s.ad),
        "pit_outlier_rate": pit_stats.as_ref().map(|s| s.outlier_rate),
        "cde_loss": cde,
        "brier": brier,
        "estimator": if pdfs.is_some() { m.estimator.as_str() } else { "regression" },
        "definitions": DEFINITIONS,
    });
    Ok(Evaluation {
        z_pred,
        z_true,
        pit,
        report,
    })
}

/// The metrics table printed at the end of an evaluation.
pub fn table(report: &Value) -> String {
    let num = |k: &str| {
        report[k]
            .as_f64()
            .map_or("-".to_string(), |v| format!("{v:.5}"))
    };
    let pct = |k: &str| {
        report[k]
            .as_f64()
            .map_or("-".to_string(), |v| format!("{:.2} %", 100.0 * v))
    };
    let rows = [
        ("objects", report["n"].to_string()),
        ("MSE", num("mse")),
        ("MAE", num("mae")),
        ("R²", num("r2")),
        ("bias (mean Δz)", num("bias")),
        ("σ_NMAD", num("sigma_nmad")),
        ("η (|Δz| > 0.15)", pct("eta_0_15")),
        ("η (|Δz| > 0.05)", pct("eta_0_05")),
        ("|Δz| > 0.01", pct("frac_0_01")),
        ("success |Δz| ≤ 0.003", pct("success_0_003")),
        ("bin accuracy", pct("accuracy")),
        ("CRPS", num("crps")),
        ("σ_IQR (RAIL)", num("sigma_iqr")),
        (
            "outliers |Δz| > max(0.06, 3σ_IQR)",
            pct("point_outlier_rate"),
        ),
        ("PIT KS", num("pit_ks")),
        ("PIT CvM", num("pit_cvm")),
        ("PIT AD", num("pit_ad")),
        ("PIT outlier rate", pct("pit_outlier_rate")),
        ("CDE loss", num("cde_loss")),
        ("Brier score", num("brier")),
    ];
    let mut out = String::from("| metric | value |\n|---|---|\n");
    for (name, value) in rows {
        out.push_str(&format!("| {name} | {value} |\n"));
    }
    out
}

/// Writes `report.json` and the plots into `dir`.
pub fn write(dir: &Path, e: &Evaluation) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("{}: cannot create: {err}", dir.display()))?;
    let json = serde_json::to_string_pretty(&e.report).expect("a report always serialises");
    write_atomic(&dir.join("report.json"), json.as_bytes())?;
    plot_z_pred_vs_true(&dir.join("z_pred_vs_true.svg"), &e.z_pred, &e.z_true)?;
    plot_residuals(&dir.join("residuals.svg"), &e.z_pred, &e.z_true)?;
    if let Some(pit) = &e.pit {
        plot_pit_histogram(&dir.join("pit.svg"), pit, PIT_BINS)?;
    }
    Ok(())
}
