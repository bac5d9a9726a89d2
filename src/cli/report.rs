//! Evaluation: metrics of predicted against true redshifts, the JSON report scripts read, the
//! table people read, and the plots.

use super::config::ModelConfig;
use super::files::{plot_history, write_atomic};
use super::labels::Labels;
use super::pipeline::{binning, redshifts};
use super::population_report::{
    plot_tables, population_tables, tables_json, tables_text, PopulationTable,
};
use crate::io::atomic::StagedDir;
use crate::metrics::attractors::attractor_redshifts;
use crate::metrics::object_scores::PdfScores;
use crate::metrics::selection::{
    most_complete_with_purity, purity_completeness, thin_curve, SelectionPoint,
};
use crate::metrics::{
    delta_z, pit_histogram, residual_profile, total_variation_distance, PitStatistics,
    PointMetrics, RailPointMetrics, ResidualAxis, ResidualProfile, RESIDUAL_PROFILE_BINS,
    SLOPE_Z_MIN,
};
use crate::redshift::binning::ZBinning;
use crate::redshift::confidence::{Confidence, SUCCESS_HALF_WIDTH};
use crate::report::bias_plots::{plot_residual_profiles, plot_z_histograms};
use crate::report::plots::{plot_pit_histogram, plot_residuals, plot_z_pred_vs_true};
use crate::report::selection::plot_purity_completeness;
use crate::train::History;
use serde_json::{json, Value};
use std::ops::Range;
use std::path::Path;

/// Bins of the PIT histogram.
const PIT_BINS: usize = 20;

/// The purity a confident selection should reach (issue 13: ≥ 99 % of the kept succeed).
const TARGET_PURITY: f64 = 0.99;

/// Points of each purity–completeness curve stored in report.json, and drawn.
const CURVE_POINTS: usize = 50;
const PLOTTED_CURVE_POINTS: usize = 2000;

/// Attractors: the 5 fullest z_pred cells of width 0.01 among the failures with |Δz| > 0.05.
const ATTRACTOR_THRESHOLD: f64 = 0.05;
const ATTRACTOR_WIDTH: f64 = 0.01;
const ATTRACTOR_TOP: usize = 5;

/// The metric definitions stated in every report (DESIGN.md).
const DEFINITIONS: &str = "dz = (z_pred - z_true)/(1 + z_true); bias = mean(dz), bias_median = median(dz); \
sigma_nmad = 1.4826 median|dz - median dz|; eta_X = fraction |dz| > X; frac_0_01 = fraction |dz| > 0.01; \
success_0_003 = fraction |dz| <= 0.003; accuracy = predicted bin == true bin; \
crps = mean over objects of sum_k (CDF_pred,k - CDF_true,k)^2 * bin width; pit = CDF_pred(z_true); \
tv_distance = total-variation distance between the histograms of z_pred and z_true over the 40 bins of the \
model's z range (plus one bucket below and one above); \
residual_vs_z_spec, residual_vs_z_photo = mean dz in 40 bins of z_true (z_spec) or of z_pred (z_photo) over the \
model's z range, std_error = sqrt(sum (dz - mean dz)^2 / (N (N - 1))) per bin, slope_above_0_15 = weighted least-squares slope \
(weights 1/std_error^2) of mean dz against the bin centre over the bins centred above z = 0.15 holding >= 2 objects \
with spread (Lin et al. 2022); residual_slope = unweighted slope of residual_profile (vs z_true) over all its bins; \
populations.mag_r: bias, sigma_nmad and eta_0_05 (|dz| > 0.05, Pasquet et al. 2019) in 0.5-mag bins of r \
(wider when more than 12 are needed), magnitudes beyond the 1st/99th percentiles in open end bins, \
NaN and values outside -40..50 (sentinels) in none; \
z_conf = PDF mass within +-0.003(1 + z_pred) of z_pred; peak_log_ratio = ln(z_conf / largest such mass \
centred more than 0.006(1 + z_pred) away); selection: keeping objects with a figure >= threshold, \
completeness = kept/all, purity = success_0_003 among kept; attractors = the fullest z_pred cells of \
width 0.01 among objects with |dz| > 0.05; \
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
    /// Purity–completeness curves of the confidence figures (classifiers only).
    pub selection: Vec<(&'static str, Vec<SelectionPoint>)>,
    /// Metrics in bins of the dataset's labels (see [`add_populations`]).
    pub populations: Vec<PopulationTable>,
    /// The 40 bins over the model's z range of the residual profiles and the histograms.
    pub profile_bins: ZBinning,
    /// Mean Δz in bins of z_true (z_spec) and of z_pred (z_photo).
    pub by_spec: ResidualProfile,
    pub by_photo: ResidualProfile,
    pub report: Value,
}

/// Adds the metrics in bins of Hα EW, Hα flux, SNR, class and r magnitude, read from the rows
/// `range` of the dataset's `labels.csv`, to the evaluation (report key "populations").
pub fn add_populations(
    e: &mut Evaluation,
    labels: &Labels,
    range: Range<usize>,
) -> Result<(), String> {
    e.populations = population_tables(labels, range, &e.z_pred, &e.z_true)?;
    e.report["populations"] = tables_json(&e.populations);
    Ok(())
}

/// What an evaluation keeps of each object, in input order: its point estimate and, for a
/// classifier, the scores of its PDF ([`PdfScores`]), so that it can be filled a chunk of
/// network outputs at a time without keeping the PDFs.
#[derive(Default)]
pub struct ObjectScores {
    pub z_pred: Vec<f64>,
    pub pdf: Option<PdfScores>,
}

impl ObjectScores {
    /// Adds the objects `first..first + z_pred.len()`: their point estimates, their PDFs
    /// `[n, bins]` if the model (`m`) is a classifier, and their true redshifts.
    pub fn add(
        &mut self,
        m: &ModelConfig,
        z_pred: &[f64],
        pdfs: Option<&[f32]>,
        z_true: &[f64],
        first: usize,
    ) -> Result<(), String> {
        if let Some(pdfs) = pdfs {
            let chunk = PdfScores::of_chunk(&binning(m)?, pdfs, z_pred, z_true, first)?;
            self.pdf
                .get_or_insert_with(PdfScores::default)
                .append(chunk);
        }
        self.z_pred.extend_from_slice(z_pred);
        Ok(())
    }
}

/// Computes the metrics of network `outputs` (probabilities or values) against `z_true`.
pub fn evaluate(m: &ModelConfig, outputs: &[f32], z_true: &[f32]) -> Result<Evaluation, String> {
    let (z_pred, pdfs) = redshifts(m, outputs)?;
    let z_true: Vec<f64> = z_true.iter().map(|&z| z as f64).collect();
    let mut scores = ObjectScores::default();
    scores.add(m, &z_pred, pdfs.as_deref(), &z_true, 0)?;
    evaluate_scores(m, scores, z_true)
}

/// Computes the metrics of the objects' `scores` against `z_true`.
pub fn evaluate_scores(
    m: &ModelConfig,
    scores: ObjectScores,
    z_true: Vec<f64>,
) -> Result<Evaluation, String> {
    let ObjectScores { z_pred, pdf } = scores;
    let p = PointMetrics::compute(&z_pred, &z_true)?;
    // The range of the labels also bins the residual profiles and the mode-collapse histogram:
    // 40 bins, as Lin et al. (2022)'s test phase (research notes §1.11).
    let range = binning(m).unwrap_or(ZBinning::new(m.z_min, m.z_max, RESIDUAL_PROFILE_BINS)?);
    let profile_bins = ZBinning::new(range.z_min(), range.z_max(), RESIDUAL_PROFILE_BINS)?;
    let by_spec = residual_profile(&z_pred, &z_true, ResidualAxis::ZTrue, &profile_bins)?;
    let by_photo = residual_profile(&z_pred, &z_true, ResidualAxis::ZPred, &profile_bins)?;
    let tv = total_variation_distance(&profile_bins, &z_pred, &z_true)?;
    let rail = RailPointMetrics::compute(&z_pred, &z_true)?;
    let (accuracy, crps, cde, brier) = match &pdf {
        Some(s) => (
            Some(s.accuracy()),
            Some(s.mean_crps()),
            Some(s.cde_loss()),
            Some(s.brier()),
        ),
        None => (None, None, None, None),
    };
    let selection = match &pdf {
        Some(s) => selection_curves(&s.confidence, &z_pred, &z_true)?,
        None => Vec::new(),
    };
    let estimator = if pdf.is_some() {
        m.estimator.as_str()
    } else {
        "regression"
    };
    let pit = pdf.map(|s| s.pit);
    let attractors: Vec<Value> = attractor_redshifts(
        &z_pred,
        &z_true,
        ATTRACTOR_THRESHOLD,
        ATTRACTOR_WIDTH,
        ATTRACTOR_TOP,
    )?
    .iter()
    .map(|a| json!({ "z_pred": a.z, "count": a.count }))
    .collect();
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
        "residual_slope": by_spec.slope,
        "residual_profile": { "z_true_centers": by_spec.centers, "mean_dz": by_spec.mean_delta_z, "counts": by_spec.counts },
        "residual_vs_z_spec": profile_json(&by_spec),
        "residual_vs_z_photo": profile_json(&by_photo),
        "pit_histogram": pit_hist,
        "sigma_iqr": rail.sigma_iqr,
        "point_outlier_rate": rail.outlier_rate,
        "pit_ks": pit_stats.as_ref().map(|s| s.ks),
        "pit_cvm": pit_stats.as_ref().map(|s| s.cvm),
        "pit_ad": pit_stats.as_ref().and_then(|s| s.ad),
        "pit_outlier_rate": pit_stats.as_ref().map(|s| s.outlier_rate),
        "cde_loss": cde,
        "brier": brier,
        "estimator": estimator,
        "selection": selection_json(&selection),
        "attractors": attractors,
        "definitions": DEFINITIONS,
    });
    Ok(Evaluation {
        z_pred,
        z_true,
        pit,
        selection,
        populations: Vec::new(),
        profile_bins,
        by_spec,
        by_photo,
        report,
    })
}

/// A residual profile in report.json: bin centres, mean Δz, standard errors, counts and the
/// weighted slope above z = 0.15 (null where a bin or the fit has too few objects).
fn profile_json(profile: &ResidualProfile) -> Value {
    json!({
        "centers": profile.centers,
        "mean_dz": profile.mean_delta_z,
        "std_error": profile.std_errors,
        "counts": profile.counts,
        "slope_above_0_15": profile.weighted_fit_above(SLOPE_Z_MIN).map(|fit| fit.slope),
    })
}

/// The purity–completeness curve of each confidence figure, success being |Δz| ≤ 0.003.
fn selection_curves(
    figures: &[Confidence],
    z_pred: &[f64],
    z_true: &[f64],
) -> Result<Vec<(&'static str, Vec<SelectionPoint>)>, String> {
    let success: Vec<bool> = delta_z(z_pred, z_true)?
        .iter()
        .map(|d| d.abs() <= SUCCESS_HALF_WIDTH)
        .collect();
    let z_conf: Vec<f64> = figures.iter().map(|f| f.z_conf).collect();
    let gap: Vec<f64> = figures.iter().map(|f| f.peak_log_ratio).collect();
    Ok(vec![
        ("z_conf", purity_completeness(&z_conf, &success)?),
        ("peak_log_ratio", purity_completeness(&gap, &success)?),
    ])
}

/// Per figure: the most complete selection reaching [`TARGET_PURITY`] and the thinned curve.
fn selection_json(curves: &[(&'static str, Vec<SelectionPoint>)]) -> Value {
    let point = |p: &SelectionPoint| json!({ "threshold": p.threshold, "completeness": p.completeness, "purity": p.purity });
    let figures: serde_json::Map<String, Value> = curves
        .iter()
        .map(|(name, curve)| {
            let best = most_complete_with_purity(curve, TARGET_PURITY);
            let thinned: Vec<Value> = thin_curve(curve, CURVE_POINTS).iter().map(point).collect();
            let value = json!({
                "target_purity": TARGET_PURITY,
                "at_target": best.as_ref().map(point),
                "curve": thinned,
            });
            (name.to_string(), value)
        })
        .collect();
    Value::Object(figures)
}

/// The metrics table printed at the end of an evaluation, then one table per population
/// property.
pub fn table(e: &Evaluation) -> String {
    format!(
        "{}\n{}",
        summary_table(&e.report),
        tables_text(&e.populations)
    )
}

fn summary_table(report: &Value) -> String {
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
        (
            "TV; slope above z = 0.15 vs z_spec; vs z_photo",
            bias_line(report),
        ),
        ("kept at 99 % purity (z_conf)", selected(report, "z_conf")),
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

/// The mode-collapse TV and the two residual slopes above z = 0.15, e.g.
/// "0.0780; −0.0350; +0.0020" ("-" for a missing one).
fn bias_line(report: &Value) -> String {
    let tv = report["tv_distance"]
        .as_f64()
        .map_or("-".to_string(), |v| format!("{v:.4}"));
    let slope = |key: &str| {
        report[key]["slope_above_0_15"]
            .as_f64()
            .map_or("-".to_string(), |v| format!("{v:+.4}"))
    };
    format!(
        "{tv}; {}; {}",
        slope("residual_vs_z_spec"),
        slope("residual_vs_z_photo")
    )
}

/// "completeness (threshold)" of the most complete selection on `figure` reaching the target
/// purity, "none" when no threshold does, "-" for a regression.
fn selected(report: &Value, figure: &str) -> String {
    let entry = &report["selection"][figure];
    if entry.is_null() {
        return "-".to_string();
    }
    let best = &entry["at_target"];
    match (best["completeness"].as_f64(), best["threshold"].as_f64()) {
        (Some(c), Some(t)) => format!("{:.2} % (z_conf ≥ {t:.3})", 100.0 * c),
        _ => "none".to_string(),
    }
}

/// The files [`write`] puts into a report folder.
pub const FILES: [&str; 13] = [
    "report.json",
    "z_pred_vs_true.svg",
    "residuals.svg",
    "pit.svg",
    "loss_curves.svg",
    "purity_completeness.svg",
    "residuals_z_spec_z_photo.svg",
    "z_histograms.svg",
    "populations_halpha_ew.svg",
    "populations_halpha_flux.svg",
    "populations_snr.svg",
    "populations_class.svg",
    "populations_mag_r.svg",
];

/// Writes `report.json` and the plots (the loss curves when `history` has epochs) into `dir`,
/// all at once: a failure on the way leaves `dir` as it was.
pub fn write(dir: &Path, e: &Evaluation, history: &History) -> Result<(), String> {
    let staged = StagedDir::new(dir).map_err(|err| err.to_string())?;
    write_into(&staged, e, history)?;
    staged.commit().map_err(|err| err.to_string())
}

/// Writes the report's files into `staged`, for a caller that commits them together with
/// files of its own.
pub fn write_into(staged: &StagedDir, e: &Evaluation, history: &History) -> Result<(), String> {
    let [report, scatter, residuals, pit, loss_curves, purity, profiles, histograms, ..] = FILES;
    let json = serde_json::to_string_pretty(&e.report).expect("a report always serialises");
    write_atomic(&staged.file(report), json.as_bytes())?;
    plot_z_pred_vs_true(&staged.file(scatter), &e.z_pred, &e.z_true)?;
    plot_residuals(&staged.file(residuals), &e.z_pred, &e.z_true)?;
    plot_residual_profiles(
        &staged.file(profiles),
        &e.profile_bins,
        &e.by_spec,
        &e.by_photo,
    )?;
    plot_z_histograms(
        &staged.file(histograms),
        &e.profile_bins,
        &e.z_pred,
        &e.z_true,
    )?;
    if let Some(values) = &e.pit {
        plot_pit_histogram(&staged.file(pit), values, PIT_BINS)?;
    }
    if !history.epochs.is_empty() {
        plot_history(&staged.file(loss_curves), history)?;
    }
    if !e.selection.is_empty() {
        // Thinned, so that the plot's size does not grow with the number of objects.
        let thinned: Vec<(&str, Vec<SelectionPoint>)> = e
            .selection
            .iter()
            .map(|(name, curve)| (*name, thin_curve(curve, PLOTTED_CURVE_POINTS)))
            .collect();
        let curves: Vec<(&str, &[SelectionPoint])> = thinned
            .iter()
            .map(|(name, curve)| (*name, curve.as_slice()))
            .collect();
        plot_purity_completeness(&staged.file(purity), &curves, TARGET_PURITY)?;
    }
    plot_tables(staged.path(), &e.populations)
}

#[cfg(test)]
mod tests {
    use super::super::labels::read_labels;
    use super::*;
    use crate::report::test_support::{assert_svg, TempDir};

    /// A regression over [0, 0.4): no PDFs, so only the point and distribution diagnostics.
    fn regression() -> ModelConfig {
        ModelConfig {
            target: "regression".into(),
            z_min: 0.0,
            z_max: 0.4,
            ..ModelConfig::default()
        }
    }

    /// 4000 objects evenly over [0, 0.4) with Δz = 0.01 − 0.04 z_true.
    fn linear_residuals() -> (Vec<f32>, Vec<f32>) {
        (0..4000)
            .map(|i| {
                let z = 0.4 * (i as f64 + 0.5) / 4000.0;
                let pred = z + (0.01 - 0.04 * z) * (1.0 + z);
                (pred as f32, z as f32)
            })
            .unzip()
    }

    #[test]
    fn report_json_holds_both_residual_profiles_and_their_slopes() {
        let (outputs, z_true) = linear_residuals();
        let e = evaluate(&regression(), &outputs, &z_true).expect("evaluated");
        let r = &e.report;
        let by_spec = &r["residual_vs_z_spec"];
        let counts: Vec<u64> = serde_json::from_value(by_spec["counts"].clone()).unwrap();
        assert_eq!(counts, vec![100; 40]);
        // Δz is linear in z_spec: every fit finds −0.04 (to the f32 rounding of the inputs).
        let slope = by_spec["slope_above_0_15"].as_f64().expect("a slope");
        assert!((slope + 0.04).abs() < 1e-4, "{slope}");
        let all_bins = r["residual_slope"].as_f64().expect("a slope");
        assert!((all_bins + 0.04).abs() < 1e-4, "{all_bins}");
        // The same objects binned by z_photo: Δz against z_photo ≈ 0.01 − 0.04 z_photo too
        // (z_photo − z_spec is at most 0.01), so the slope is close to −0.04 but not equal.
        let by_photo = &r["residual_vs_z_photo"];
        let photo_slope = by_photo["slope_above_0_15"].as_f64().expect("a slope");
        assert!((photo_slope + 0.04).abs() < 5e-3, "{photo_slope}");
        let photo_counts: Vec<u64> = serde_json::from_value(by_photo["counts"].clone()).unwrap();
        assert_ne!(photo_counts, counts, "z_photo bins differ from z_spec bins");
        assert_eq!(
            photo_counts.iter().sum::<u64>(),
            4000,
            "every estimate lies in [0, 0.4)"
        );
        assert_eq!(by_photo["std_error"].as_array().map(Vec::len), Some(40));
        let line = table(&e);
        let expected = format!(
            "| TV; slope above z = 0.15 vs z_spec; vs z_photo | {:.4}; {slope:+.4}; {photo_slope:+.4} |",
            r["tv_distance"].as_f64().expect("a TV")
        );
        assert!(line.contains(&expected), "{line}");
    }

    #[test]
    fn write_puts_every_diagnostic_plot_in_the_report_folder() {
        let dir = TempDir::new("report-write");
        let (outputs, z_true) = linear_residuals();
        let mut e = evaluate(&regression(), &outputs, &z_true).expect("evaluated");
        let labels_path = dir.0.join("labels.csv");
        let mut csv = String::from("index,z,mag_r\n");
        for (i, z) in z_true.iter().enumerate() {
            csv.push_str(&format!("{i},{z},{}\n", 14.0 + 3.5 * i as f64 / 4000.0));
        }
        std::fs::write(&labels_path, csv).expect("written");
        let labels = read_labels(&labels_path, z_true.len()).expect("valid");
        add_populations(&mut e, &labels, 0..z_true.len()).expect("tables");
        assert_eq!(
            e.report["populations"]["mag_r"].as_array().map(Vec::len),
            Some(7)
        );
        assert!(table(&e).contains("| r magnitude | n | bias | σ_NMAD | η (>0.05) |"));

        let out = dir.0.join("report");
        write(&out, &e, &History::default()).expect("written");
        for (file, text) in [
            ("residuals_z_spec_z_photo.svg", "slope above z = 0.15"),
            ("z_histograms.svg", "TV = "),
            ("populations_mag_r.svg", "r magnitude"),
            ("residuals.svg", "Δz vs z_true"),
        ] {
            assert!(FILES.contains(&file), "{file} is not in FILES");
            assert_svg(&out.join(file), &[text]);
        }
        // 7 long bin labels stand vertical; 14.5 ≤ 14 + 3.5 i/4000 < 15 for i = 572 … 1142.
        assert_svg(
            &out.join("populations_mag_r.svg"),
            &["14.5–15 (n=571)", "rotate(270"],
        );
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        assert!(json["residual_vs_z_photo"]["slope_above_0_15"].is_number());
        // A regression has no PIT, and no epochs draw no loss curves.
        assert!(!out.join("pit.svg").exists() && !out.join("loss_curves.svg").exists());
    }
}
