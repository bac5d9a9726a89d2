//! Nothing lost, nothing silently wrong (issue 10, classes 4, 6 and 7): no command writes over
//! its inputs or, without `--overwrite`, over earlier results; labels are matched to spectra by
//! their index; flags exist only where they act; failures leave no partial results and say
//! the truth about the checkpoint.
#![cfg(feature = "cli")]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use support::{fails, ok, s, scratch};

/// A small simulated dataset in `dir/data`.
fn dataset(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    ok(&["simulate", "--out", s(&data), "-n", "200", "--seed", "3"]);
    data
}

/// Trains 80 bins on `data` into `out` with `extra` flags, for one epoch unless they say.
fn train(data: &Path, out: &Path, extra: &[&str]) -> Result<String, String> {
    let mut args = vec!["train", "--data", s(data), "--out", s(out), "--bins", "80"];
    if !extra.contains(&"--epochs") {
        args.extend_from_slice(&["--epochs", "1"]);
    }
    args.extend_from_slice(extra);
    let out = support::zcnn(&args);
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!text.contains("panicked"), "{args:?} panicked:\n{text}");
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// The names in `dir` ending in `.tmp` (temporary files or folders left behind).
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

/// The epoch numbers of a history.json.
fn history_epochs(path: &Path) -> Vec<u64> {
    let h: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    h["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["epoch"].as_u64().unwrap())
        .collect()
}

#[test]
fn train_replaces_a_trained_model_only_when_told() {
    let dir = scratch("out-train");
    let data = dataset(&dir);
    let model = dir.join("model");
    let ckpt = model.join("checkpoint.safetensors");
    train(&data, &model, &[]).unwrap();
    let trained = fs::read(&ckpt).unwrap();
    let err = train(&data, &model, &[]).unwrap_err();
    assert!(
        err.contains("checkpoint.safetensors already exists") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(fs::read(&ckpt).unwrap(), trained, "the model was replaced");
    // Resuming from the folder's own checkpoint continues that run, in place.
    train(&data, &model, &["--epochs", "2", "--resume", s(&ckpt)]).unwrap();
    assert_eq!(history_epochs(&model.join("history.json")), [1, 2]);
    // Starting from its weights into the same folder would replace the input.
    let err = train(&data, &model, &["--init-from", s(&ckpt), "--overwrite"]).unwrap_err();
    assert!(err.contains("is also the input --init-from"), "{err}");
    train(&data, &model, &["--overwrite"]).unwrap();
    assert_eq!(history_epochs(&model.join("history.json")), [1]);
}

#[test]
fn every_command_keeps_its_inputs_and_earlier_results() {
    let dir = scratch("out-commands");
    let data = dataset(&dir);
    let spectra = data.join("spectra.npy");
    let model = dir.join("model");
    train(&data, &model, &[]).unwrap();
    let ckpt = model.join("checkpoint.safetensors");
    let (spectra_bytes, ckpt_bytes) = (fs::read(&spectra).unwrap(), fs::read(&ckpt).unwrap());
    let predict = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "predict",
            "--checkpoint",
            s(&ckpt),
            "--spectra",
            s(&spectra),
            "--out",
            s(out),
        ];
        args.extend_from_slice(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let call = |args: &[String]| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        support::zcnn(&refs)
    };
    let refused = |args: Vec<String>, expected: &str| {
        let out = call(&args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(err.contains(expected), "{args:?}: {err}");
    };

    // predict: over the spectra (also through a symbolic link), over the checkpoint, twice
    // into one file.
    refused(predict(&spectra, &[]), "is also the input --spectra");
    let link = dir.join("link");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    refused(
        predict(&link.join("spectra.npy"), &[]),
        "is also the input --spectra",
    );
    refused(
        predict(&ckpt, &["--overwrite"]),
        "is also the input --checkpoint",
    );
    let preds = dir.join("preds.csv");
    let same = dir.join(".").join("preds.csv");
    refused(
        predict(&preds, &["--pdfs", s(&same)]),
        "--out and --pdfs both name",
    );
    assert_eq!(fs::read(&spectra).unwrap(), spectra_bytes);
    assert_eq!(fs::read(&ckpt).unwrap(), ckpt_bytes);
    assert!(call(&predict(&preds, &[])).status.success());
    fs::write(&preds, "an earlier result").unwrap();
    refused(predict(&preds, &[]), "preds.csv already exists");
    assert_eq!(fs::read_to_string(&preds).unwrap(), "an earlier result");
    assert!(call(&predict(&preds, &["--overwrite"])).status.success());
    let replaced = fs::read_to_string(&preds).unwrap();
    assert!(replaced.starts_with("index,z,"), "{replaced}");

    // simulate, evaluate, compare: a second run into the same folder needs --overwrite.
    let err = fails(&["simulate", "--out", s(&data), "-n", "200"]);
    assert!(err.contains("spectra.npy already exists"), "{err}");
    let report = dir.join("report");
    let evaluate = ["evaluate", "--checkpoint", s(&ckpt), "--data", s(&data)];
    ok(&[&evaluate[..], &["--out", s(&report)]].concat());
    let err = fails(&[&evaluate[..], &["--out", s(&report)]].concat());
    assert!(err.contains("report.json already exists"), "{err}");
    ok(&[&evaluate[..], &["--out", s(&report), "--overwrite"]].concat());
    let study = dir.join("study");
    ok(&["compare", s(&report), "--out", s(&study)]);
    let err = fails(&["compare", s(&report), "--out", s(&study)]);
    assert!(err.contains("comparison.md already exists"), "{err}");

    // import: its grid is an input. run: the main job checks before it simulates.
    let err = fails(&[
        "import",
        "--fits",
        s(&dir.join("a.fits")),
        "--grid",
        s(&data.join("wavelengths.npy")),
        "--out",
        s(&data),
        "--overwrite",
    ]);
    assert!(err.contains("is also the input --grid"), "{err}");
    let main = dir.join("main");
    fs::create_dir_all(main.join("report")).unwrap();
    fs::write(main.join("report/report.json"), "{}").unwrap();
    let err = fails(&["run", "--out", s(&main)]);
    assert!(err.contains("report.json already exists"), "{err}");
    assert!(!main.join("data").exists(), "run started before checking");

    // A folder where a result file goes fails before anything is written.
    let blocked = dir.join("blocked");
    fs::create_dir_all(blocked.join("labels.csv/x")).unwrap();
    let err = fails(&["simulate", "--out", s(&blocked), "-n", "20", "--overwrite"]);
    assert!(err.contains("is a folder"), "{err}");
    assert_eq!(
        fs::read_dir(&blocked).unwrap().count(),
        1,
        "simulate left files"
    );
    for folder in [&dir, &data, &model, &report, &study] {
        assert!(temporaries(folder).is_empty(), "{}", folder.display());
    }
}

#[test]
fn labels_are_matched_to_spectra_by_index() {
    let dir = scratch("out-labels");
    let data = dataset(&dir);
    // The same dataset with its label rows in reverse order.
    let shuffled = dir.join("shuffled");
    fs::create_dir_all(&shuffled).unwrap();
    for file in ["spectra.npy", "wavelengths.npy", "simulation.toml"] {
        fs::copy(data.join(file), shuffled.join(file)).unwrap();
    }
    let text = fs::read_to_string(data.join("labels.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].reverse();
    fs::write(shuffled.join("labels.csv"), lines.join("\n") + "\n").unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    train(&data, &a, &[]).unwrap();
    train(&shuffled, &b, &[]).unwrap();
    let checkpoint = |m: &Path| fs::read(m.join("checkpoint.safetensors")).unwrap();
    assert!(
        checkpoint(&a) == checkpoint(&b),
        "the row order changed the model"
    );
    let evaluate = |set: &Path, out: &Path| {
        let ckpt = a.join("checkpoint.safetensors");
        ok(&[
            "evaluate",
            "--checkpoint",
            s(&ckpt),
            "--data",
            s(set),
            "--out",
            s(out),
        ]);
        fs::read_to_string(out.join("report.json")).unwrap()
    };
    assert_eq!(
        evaluate(&data, &dir.join("ra")),
        evaluate(&shuffled, &dir.join("rb"))
    );
    // A repeated index is an error naming the file and the line.
    let duplicated = lines[1].split(',').next().unwrap().to_string();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[0] = &duplicated;
    let row = fields.join(",");
    lines[2] = &row;
    fs::write(shuffled.join("labels.csv"), lines.join("\n") + "\n").unwrap();
    let err = train(&shuffled, &dir.join("c"), &[]).unwrap_err();
    assert!(
        err.contains("shuffled/labels.csv")
            && err.contains("line 3")
            && err.contains(&format!("index {duplicated} appears twice")),
        "{err}"
    );
}

#[test]
fn flags_exist_only_where_they_act() {
    let dir = scratch("out-flags");
    let missing = dir.join("missing.toml");
    let common = ["--checkpoint", "c", "--out", "o"];
    for (command, flag) in [
        ("predict", "--config"),
        ("evaluate", "--config"),
        ("predict", "--seed"),
        ("evaluate", "--seed"),
    ] {
        let value = if flag == "--config" { s(&missing) } else { "1" };
        let mut args = vec![command, flag, value, "--spectra", "x", "--data", "d"];
        args.extend_from_slice(&common);
        let err = fails(&args);
        assert!(
            err.contains(&format!("unexpected argument '{flag}'")),
            "{args:?}: {err}"
        );
    }
    // Where it acts, a missing config is an error naming it.
    let err = fails(&[
        "simulate",
        "--config",
        s(&missing),
        "--out",
        s(&dir.join("d")),
    ]);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn a_diverging_run_says_that_no_checkpoint_was_saved() {
    let dir = scratch("out-nan");
    let data = dataset(&dir);
    let model = dir.join("model");
    let err = train(&data, &model, &["--lr", "1e30"]).unwrap_err();
    assert!(err.contains("the training loss became"), "{err}");
    assert!(
        err.contains("this run saved no checkpoint") && !err.contains("intact"),
        "{err}"
    );
    assert!(!model.join("checkpoint.safetensors").exists());
    assert!(temporaries(&model).is_empty());
}

#[test]
fn compare_refuses_reports_without_their_metrics() {
    let dir = scratch("out-compare");
    let empty = dir.join("empty");
    fs::create_dir_all(&empty).unwrap();
    fs::write(empty.join("report.json"), "{}").unwrap();
    let err = fails(&["compare", s(&empty), "--out", s(&dir.join("c"))]);
    assert!(
        err.contains("empty/report.json") && err.contains("'n'") && err.contains("no such key"),
        "{err}"
    );
    fs::write(empty.join("report.json"), r#"{"n": 10, "mae": 0.1}"#).unwrap();
    let err = fails(&["compare", s(&empty), "--out", s(&dir.join("c"))]);
    assert!(err.contains("'r2'") && err.contains("no such key"), "{err}");
    assert!(!dir.join("c").exists());
}
