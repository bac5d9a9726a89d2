//! The `zcnn` command as a user runs it: simulate → train → evaluate → predict, resuming, and
//! clear errors for bad input.
#![cfg(feature = "cli")]

mod support;

use std::path::Path;
use std::process::Command;
use support::{fails, ok, s, scratch};

#[test]
fn simulate_train_evaluate_predict_and_resume() {
    let dir = scratch("pipeline");
    let (data, model, report) = (dir.join("data"), dir.join("model"), dir.join("report"));
    ok(&["simulate", "--out", s(&data), "-n", "300", "--seed", "3"]);
    for f in [
        "spectra.npy",
        "wavelengths.npy",
        "labels.csv",
        "simulation.toml",
    ] {
        assert!(data.join(f).is_file(), "simulate wrote no {f}");
    }
    let text = ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&model),
        "--epochs",
        "2",
        "--bins",
        "80",
        "--threads",
        "2",
    ]);
    assert!(text.contains("epoch 2/2"), "{text}");
    let ckpt = model.join("checkpoint.safetensors");
    assert!(ckpt.is_file() && model.join("history.json").is_file());

    let table = ok(&[
        "evaluate",
        "--checkpoint",
        s(&ckpt),
        "--data",
        s(&data),
        "--out",
        s(&report),
    ]);
    assert!(table.contains("| MAE |"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    for key in [
        "mse",
        "mae",
        "r2",
        "bias",
        "sigma_nmad",
        "eta_0_15",
        "eta_0_05",
        "frac_0_01",
        "success_0_003",
        "accuracy",
        "crps",
    ] {
        assert!(
            json[key].is_number(),
            "report.json lacks a number for '{key}': {json}"
        );
    }
    for plot in [
        "z_pred_vs_true.svg",
        "residuals.svg",
        "pit.svg",
        "loss_curves.svg",
    ] {
        assert!(report.join(plot).is_file(), "no {plot}");
    }
    // Evaluation streams over its inputs; chunks of 7 spectra (the test split in several)
    // change nothing in the report, bit for bit.
    assert!(json["n"].as_u64().unwrap() > 14, "{}", json["n"]);
    let chunked = dir.join("report-chunked");
    let args = ["evaluate", "--checkpoint", s(&ckpt), "--data", s(&data)];
    ok(&[&args[..], &["--out", s(&chunked), "--chunk-size", "7"]].concat());
    let read = |dir: &Path| std::fs::read(dir.join("report.json")).unwrap();
    assert!(
        read(&chunked) == read(&report),
        "report.json depends on the chunk size"
    );

    let preds = dir.join("preds.csv");
    let pdfs = dir.join("pdfs.npy");
    ok(&[
        "predict",
        "--checkpoint",
        s(&ckpt),
        "--spectra",
        s(&data.join("spectra.npy")),
        "--out",
        s(&preds),
        "--pdfs",
        s(&pdfs),
    ]);
    let csv = std::fs::read_to_string(&preds).unwrap();
    assert!(
        csv.starts_with("index,z,z_mode,z_mean,z_median,z_std,p_max"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 301);
    assert!(pdfs.is_file());

    // Resuming after 2 of 3 epochs gives the checkpoint of 3 straight epochs, byte for byte.
    let straight = dir.join("straight");
    ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&straight),
        "--epochs",
        "3",
        "--bins",
        "80",
    ]);
    let resumed = dir.join("resumed");
    let text = ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&resumed),
        "--epochs",
        "3",
        "--bins",
        "80",
        "--resume",
        s(&ckpt),
    ]);
    assert!(text.contains("resuming"), "{text}");
    let a = std::fs::read(straight.join("checkpoint.safetensors")).unwrap();
    let b = std::fs::read(resumed.join("checkpoint.safetensors")).unwrap();
    assert!(
        a == b,
        "resumed checkpoint differs from the uninterrupted run's"
    );

    // Fine-tuning starts from the trained weights: its first epoch's loss is below that of
    // the first epoch from scratch. Another architecture is refused, naming the option.
    let tuned = dir.join("tuned");
    let text = ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&tuned),
        "--epochs",
        "1",
        "--bins",
        "80",
        "--init-from",
        s(&ckpt),
    ]);
    assert!(text.contains("starting from the weights"), "{text}");
    let first_loss = |run: &Path| {
        let h: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("history.json")).unwrap())
                .unwrap();
        h["epochs"][0]["train_loss"].as_f64().unwrap()
    };
    let (warm, cold) = (first_loss(&tuned), first_loss(&straight));
    assert!(warm < cold, "warm start {warm} vs from scratch {cold}");
    let err = fails(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&dir.join("mismatch")),
        "--epochs",
        "1",
        "--bins",
        "800",
        "--init-from",
        s(&ckpt),
    ]);
    assert!(err.contains("init_from"), "{err}");
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = scratch("errors");
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[train]\nepochz = 3\n").unwrap();
    let err = fails(&["run", "--config", s(&cfg), "--out", s(&dir.join("r"))]);
    assert!(
        err.contains("epochz") && err.contains("did you mean `epochs`"),
        "{err}"
    );

    let err = fails(&[
        "train",
        "--data",
        s(&dir.join("missing")),
        "--out",
        s(&dir.join("m")),
    ]);
    assert!(
        err.contains("missing") && err.contains("spectra.npy"),
        "{err}"
    );

    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"not a checkpoint").unwrap();
    let err = fails(&[
        "predict",
        "--checkpoint",
        s(&garbage),
        "--spectra",
        s(&garbage),
        "--out",
        s(&dir.join("p.csv")),
    ]);
    assert!(err.contains("garbage.safetensors"), "{err}");

    let err = fails(&["run", "--loss", "hinge", "--out", s(&dir.join("r"))]);
    assert!(
        err.contains("hinge") && err.contains("cross_entropy"),
        "{err}"
    );
    let err = fails(&["simulate", "--out", s(&dir.join("d")), "--preset", "hubble"]);
    assert!(err.contains("hubble"), "{err}");
    fails(&["train", "--no-such-flag"]);
    let err = fails(&[
        "compare",
        s(&dir.join("no-run")),
        "--out",
        s(&dir.join("c")),
    ]);
    assert!(
        err.contains("no-run") && err.contains("no report.json"),
        "{err}"
    );
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_exits_with_130() {
    let dir = scratch("ctrl_c");
    let data = dir.join("data");
    ok(&["simulate", "--out", s(&data), "-n", "3000", "--seed", "5"]);
    let model = dir.join("model");
    let child = Command::new(env!("CARGO_BIN_EXE_zcnn"))
        .args([
            "train",
            "--data",
            s(&data),
            "--out",
            s(&model),
            "--epochs",
            "50",
            "--threads",
            "1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("zcnn starts");
    // Let training start, then interrupt it as Ctrl-C would.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("zcnn exits");
    let err = String::from_utf8_lossy(&out.stderr);
    // 130 = 128 + SIGINT, as a shell reports a command stopped by Ctrl-C.
    assert_eq!(
        out.status.code(),
        Some(130),
        "zcnn did not exit with 130 after Ctrl-C:\n{err}"
    );
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        model.join("checkpoint.safetensors").is_file(),
        "no checkpoint after Ctrl-C"
    );
    let names: Vec<String> = std::fs::read_dir(&model)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "a temporary file was left behind: {names:?}"
    );
    // The checkpoint is usable: training resumes from it, in the same folder, and the
    // history holds every epoch once (the cut epoch is redone, not repeated).
    let epochs = |text: &str| -> Vec<u64> {
        let h: serde_json::Value = serde_json::from_str(text).unwrap();
        h["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["epoch"].as_u64().unwrap())
            .collect()
    };
    let history = model.join("history.json");
    let done = epochs(&std::fs::read_to_string(&history).unwrap()).len();
    let total = (done + 1).to_string();
    let text = ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&model),
        "--epochs",
        &total,
        "--resume",
        s(&model.join("checkpoint.safetensors")),
    ]);
    assert!(text.contains("resuming"), "{text}");
    let expected: Vec<u64> = (1..=done as u64 + 1).collect();
    assert_eq!(
        epochs(&std::fs::read_to_string(&history).unwrap()),
        expected
    );
}

#[test]
fn every_shipped_config_parses_and_passes_the_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let config =
                zcnn::cli::config::RunConfig::from_toml(&text, &path.display().to_string())
                    .unwrap_or_else(|e| panic!("{e}"));
            match (zcnn::cli::check_config(&config), &config.simulate.continua) {
                (Ok(()), _) => {}
                // A config naming a continuum library that is built locally, never shipped
                // (configs/main_sps.toml): on a clone without it, the error says how to build it.
                (Err(e), Some(dir)) if !Path::new(dir).exists() => assert!(
                    e.contains(&format!(
                        "build one with scripts/build_sps_library.sh {dir}"
                    )),
                    "{}: {e}",
                    path.display()
                ),
                (Err(e), _) => panic!("{}: {e}", path.display()),
            }
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} configs in {}", dir.display());
}
