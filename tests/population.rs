//! The simulated population and its report as a user meets them: `[simulate]` populations and
//! redshift ranges (validated against the templates' coverage), the label columns they write,
//! and the confidence and per-population metrics of evaluate and predict.
#![cfg(feature = "cli")]

mod support;

use std::path::Path;
use support::{fails, ok, s, scratch};

/// Writes a config holding `simulate` lines (plus a small model) and returns its path.
fn config(dir: &Path, name: &str, simulate: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    let text = format!("[simulate]\nn_spectra = 300\n{simulate}\n[model]\nbins = 80\n");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The values of `column` in a CSV file.
fn column(path: &Path, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("{} has no column {column}", path.display()));
    reader
        .records()
        .map(|r| r.unwrap().get(at).unwrap().to_string())
        .collect()
}

fn numbers(values: &[String]) -> Vec<f64> {
    values.iter().map(|v| v.parse().unwrap()).collect()
}

#[test]
fn populations_and_z_ranges_shape_the_labels() {
    let dir = scratch("population-labels");
    let mixed = dir.join("mixed");
    let cfg = config(
        &dir,
        "mixed",
        "population = \"mixed\"\nz_min = 1.1\nz_max = 1.3\n",
    );
    ok(&["simulate", "--config", &cfg, "--out", s(&mixed)]);
    let labels = mixed.join("labels.csv");
    let z = numbers(&column(&labels, "z"));
    assert!(z.iter().all(|&z| (1.1..1.3).contains(&z)), "{z:?}");
    let classes = column(&labels, "class");
    let ew = numbers(&column(&labels, "halpha_ew"));
    for (class, ew) in classes.iter().zip(&ew) {
        match class.as_str() {
            "passive" | "post_starburst" => assert_eq!(*ew, 0.0),
            "retired" => assert!((0.5..3.0).contains(ew), "{ew}"),
            "star_forming" => assert!(*ew >= 3.0),
            "seyfert" => assert!(*ew >= 6.0),
            other => panic!("unknown class {other}"),
        }
    }
    let passive = classes.iter().filter(|c| *c == "passive").count();
    // 25 % of 300: 75 ± 4 binomial σ (≈ 30).
    assert!((45..=105).contains(&passive), "{passive} passive of 300");
    assert!(numbers(&column(&labels, "snr"))
        .iter()
        .all(|v| v.is_infinite()));

    // An Hα-selected population has no passive galaxies and takes the euclid flux scale.
    let euclid = dir.join("euclid");
    let cfg = config(
        &dir,
        "euclid",
        "preset = \"euclid\"\npopulation = \"halpha\"\n",
    );
    ok(&["simulate", "--config", &cfg, "--out", s(&euclid)]);
    let classes = column(&euclid.join("labels.csv"), "class");
    assert!(classes
        .iter()
        .all(|c| c == "star_forming" || c == "seyfert"));
    let snr = numbers(&column(&euclid.join("labels.csv"), "snr"));
    assert!(snr.iter().all(|v| v.is_finite() && *v > 0.0), "{snr:?}");
    // A mixed population cannot be scaled by Hα flux: the error names the class.
    let cfg = config(&dir, "bad", "preset = \"euclid\"\npopulation = \"mixed\"\n");
    let err = fails(&["simulate", "--config", &cfg, "--out", s(&dir.join("bad"))]);
    assert!(
        err.contains("(passive) has no Hα line") || err.contains("(post_starburst) has no Hα line"),
        "{err}"
    );
}

#[test]
fn z_ranges_and_populations_are_validated() {
    let dir = scratch("population-validate");
    let cfg = config(&dir, "reversed", "z_min = 1.5\nz_max = 1.2\n");
    let err = fails(&["simulate", "--config", &cfg, "--out", s(&dir.join("x"))]);
    assert!(err.contains("simulate.z_min/z_max"), "{err}");
    let cfg = config(&dir, "nolines", "lines = false\npopulation = \"mixed\"\n");
    let err = fails(&["simulate", "--config", &cfg, "--out", s(&dir.join("x"))]);
    assert!(err.contains("use population = \"passive\""), "{err}");
    let cfg = config(&dir, "family", "families = [\"bc03\"]\n");
    let err = fails(&["simulate", "--config", &cfg, "--out", s(&dir.join("x"))]);
    assert!(err.contains("simulate.families: unknown 'bc03'"), "{err}");
    let cfg = config(
        &dir,
        "cww",
        "families = [\"cww_kinney\"]\npopulation = \"passive\"\n",
    );
    ok(&["simulate", "--config", &cfg, "--out", s(&dir.join("cww"))]);
    let cfg = config(&dir, "unknown", "population = \"lsst\"\n");
    let err = fails(&["simulate", "--config", &cfg, "--out", s(&dir.join("x"))]);
    assert!(
        err.contains("unknown population 'lsst'") && err.contains("strong_lines"),
        "{err}"
    );

    // Templates covering 3450–9850 Å are refused on the seed grid for 1 ≤ z < 1.8; the error
    // says which range fits, and that range is accepted.
    let seds = dir.join("seds");
    std::fs::create_dir_all(&seds).unwrap();
    std::fs::write(seds.join("flat.sed"), "3450 1\n9850 1\n").unwrap();
    let sed_dir = format!("sed_dir = \"{}\"\n", s(&seds));
    let cfg = config(&dir, "short", &sed_dir);
    let err = fails(&["simulate", "--config", &cfg, "--out", s(&dir.join("x"))]);
    let advice = err
        .split("narrow z_min/z_max to within [")
        .nth(1)
        .unwrap_or_else(|| panic!("no advice in: {err}"));
    let (lo, hi) = advice.split_once(']').unwrap().0.split_once(", ").unwrap();
    let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
    assert!(lo > 1.0 && lo < hi, "[{lo}, {hi}]");
    let fits = format!(
        "{sed_dir}z_min = {}\nz_max = {}\n",
        lo + 0.001,
        hi.min(1.8) - 0.001
    );
    let cfg = config(&dir, "fits", &fits);
    ok(&["simulate", "--config", &cfg, "--out", s(&dir.join("fits"))]);
    let cfg = config(&dir, "both", &format!("{sed_dir}population = \"mixed\"\n"));
    let err = fails(&["simulate", "--config", &cfg, "--out", s(&dir.join("x"))]);
    assert!(
        err.contains("simulate.population, simulate.families and simulate.continua apply"),
        "{err}"
    );
}

#[test]
fn evaluate_and_predict_report_confidence_and_populations() {
    let dir = scratch("population-report");
    let (data, model, report) = (dir.join("data"), dir.join("model"), dir.join("report"));
    let cfg = config(&dir, "run", "population = \"mixed\"\n");
    ok(&["simulate", "--config", &cfg, "--out", s(&data)]);
    ok(&[
        "train",
        "--config",
        &cfg,
        "--data",
        s(&data),
        "--out",
        s(&model),
        "--epochs",
        "1",
    ]);
    let ckpt = model.join("checkpoint.safetensors");
    let table = ok(&[
        "evaluate",
        "--checkpoint",
        s(&ckpt),
        "--data",
        s(&data),
        "--out",
        s(&report),
        "--all",
    ]);
    assert!(table.contains("| class | n | success"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    // Every spectrum falls in one EW bin and one class bin.
    for key in ["halpha_ew", "class"] {
        let bins = json["populations"][key].as_array().expect("bins");
        let n: u64 = bins.iter().map(|b| b["n"].as_u64().unwrap()).sum();
        assert_eq!(n, 300, "{key}: {bins:?}");
    }
    assert!(json["attractors"].is_array(), "{json}");
    let curve = json["selection"]["z_conf"]["curve"]
        .as_array()
        .expect("curve");
    let last = curve.last().expect("points");
    assert_eq!(last["completeness"].as_f64(), Some(1.0));
    assert_eq!(last["purity"].as_f64(), json["success_0_003"].as_f64());
    for plot in ["purity_completeness.svg", "populations_class.svg"] {
        assert!(report.join(plot).is_file(), "no {plot}");
    }

    let preds = dir.join("preds.csv");
    ok(&[
        "predict",
        "--checkpoint",
        s(&ckpt),
        "--spectra",
        s(&data.join("spectra.npy")),
        "--out",
        s(&preds),
    ]);
    let z_conf = numbers(&column(&preds, "z_conf"));
    assert_eq!(z_conf.len(), 300);
    assert!(
        z_conf.iter().all(|c| (0.0..=1.0 + 1e-9).contains(c)),
        "{z_conf:?}"
    );
    assert!(numbers(&column(&preds, "peak_log_ratio"))
        .iter()
        .all(|v| v.is_finite()));
}

/// A continuum covering 1000–30 000 Å every 10 Å whose F_ν steps up by `dn4000` at 3975 Å.
fn continuum(dn4000: f64) -> String {
    (0..=2900)
        .map(|k| {
            let lambda = 1000.0 + 10.0 * f64::from(k);
            let step = if lambda > 3975.0 { dn4000 } else { 1.0 };
            format!("{lambda} {}\n", step * 1e8 / (lambda * lambda))
        })
        .collect()
}

#[test]
fn continua_folders_are_validated_and_feed_the_population() {
    let dir = scratch("population-continua");
    let with = |name: &str, folder: &Path, extra: &str| {
        config(
            &dir,
            name,
            &format!("continua = \"{}\"\n{extra}", s(folder)),
        )
    };
    let out = dir.join("x");
    let missing = dir.join("no-such-folder");
    let err = fails(&[
        "simulate",
        "--config",
        &with("missing", &missing, ""),
        "--out",
        s(&out),
    ]);
    assert!(
        err.contains("simulate.continua:")
            && err.contains("no-such-folder is not a folder")
            && err.contains("scripts/build_sps_library.sh"),
        "{err}"
    );
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = fails(&[
        "simulate",
        "--config",
        &with("empty", &empty, ""),
        "--out",
        s(&out),
    ]);
    assert!(
        err.contains("simulate.continua:") && err.contains("no .sed or .fits files"),
        "{err}"
    );
    // Only young continua: the mixed population's passive and retired pool is empty.
    let young = dir.join("young");
    std::fs::create_dir_all(&young).unwrap();
    std::fs::write(young.join("young.sed"), continuum(1.1)).unwrap();
    let err = fails(&[
        "simulate",
        "--config",
        &with("young", &young, ""),
        "--out",
        s(&out),
    ]);
    assert!(
        err.contains("simulate.continua:")
            && err.contains("passive and retired galaxies need templates with Dn4000 ≥ 1.5"),
        "{err}"
    );
    let err = fails(&[
        "simulate",
        "--config",
        &with("families", &young, "families = [\"cosmos\"]\n"),
        "--out",
        s(&out),
    ]);
    assert!(err.contains("set one of the two"), "{err}");
    // Continua that end at 9,500 Å rest cannot fill the seed grid at z < 1.8: the coverage
    // error names the file and the redshifts that fit.
    let short = dir.join("short");
    std::fs::create_dir_all(&short).unwrap();
    let blue = |dn4000| {
        let text = continuum(dn4000);
        let kept: Vec<&str> = text
            .lines()
            .take_while(|l| !l.starts_with("9510 "))
            .collect();
        kept.join("\n")
    };
    std::fs::write(short.join("old.sed"), blue(2.0)).unwrap();
    std::fs::write(short.join("young.sed"), blue(1.1)).unwrap();
    let err = fails(&[
        "simulate",
        "--config",
        &with("short", &short, ""),
        "--out",
        s(&out),
    ]);
    assert!(
        err.contains(".sed: coverage too short: it reaches 1000.5–9499.5 Å")
            && err.contains("narrow z_min/z_max"),
        "{err}"
    );
    // Old and young continua: every class has a pool, and the spectra are simulated.
    std::fs::write(young.join("old.sed"), continuum(2.0)).unwrap();
    let data = dir.join("data");
    ok(&[
        "simulate",
        "--config",
        &with("both", &young, ""),
        "--out",
        s(&data),
    ]);
    let classes = column(&data.join("labels.csv"), "class");
    assert!(classes.iter().any(|c| c == "passive"));
    assert!(classes.iter().any(|c| c == "post_starburst"));
}
