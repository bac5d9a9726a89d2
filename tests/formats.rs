//! Survey outputs (FITS catalogue, qp HDF5 PDFs, Parquet) as a user writes them with `zcnn predict`,
//! read back by the ecosystem's own readers (astropy, qp) through
//! `scripts/check_survey_outputs.py`, and the cases where nothing may be written.
//!
//! The Python check needs qp-prob, h5py, astropy and pyarrow (`.ci/run` installs them in a venv and
//! sets ZCNN_PYTHON). Under CI (CI=true) a missing reader fails the test; elsewhere it prints
//! "skipped: …".
#![cfg(feature = "cli")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{fails, ok, s, scratch, simulate_and_train};

/// A dataset, a one-epoch model and its report on every spectrum, in `dir`.
fn trained(dir: &Path) -> (PathBuf, PathBuf) {
    let (data, checkpoint) = simulate_and_train(dir, 200, 5, 80);
    ok(&[
        "evaluate",
        "--checkpoint",
        s(&checkpoint),
        "--data",
        s(&data),
        "--out",
        s(&dir.join("report")),
        "--all",
    ]);
    (data, checkpoint)
}

fn predict_args<'a>(checkpoint: &'a Path, data: &'a Path, out: &'a Path) -> Vec<String> {
    [
        "predict",
        "--checkpoint",
        s(checkpoint),
        "--spectra",
        s(&data.join("spectra.npy")),
        "--labels",
        s(&data.join("labels.csv")),
        "--out",
        s(&out.join("predictions.csv")),
    ]
    .map(String::from)
    .to_vec()
}

fn run(args: &[String]) -> String {
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The text of the header cards of the HDU starting at `offset`.
fn header_cards(bytes: &[u8], offset: usize) -> Vec<String> {
    bytes[offset..]
        .chunks(80)
        .map(|c| String::from_utf8_lossy(c).to_string())
        .take_while(|c| !c.starts_with("END "))
        .collect()
}

#[test]
fn predict_writes_a_catalogue_and_qp_pdfs_that_survey_tools_read() {
    let dir = scratch("survey");
    let (data, checkpoint) = trained(&dir);
    let mut args = predict_args(&checkpoint, &data, &dir);
    args.extend(["--catalog", s(&dir.join("catalog.fits")), "--catalog-pdf"].map(String::from));
    if cfg!(feature = "hdf5") {
        args.extend(["--pdfs", s(&dir.join("pdfs.hdf5"))].map(String::from));
    }
    if cfg!(feature = "parquet") {
        let parquet = dir.join("catalog.parquet");
        args.extend(["--parquet", s(&parquet), "--chunk-size", "64"].map(String::from));
    }
    run(&args);

    let bytes = std::fs::read(dir.join("catalog.fits")).expect("catalogue written");
    assert_eq!(bytes.len() % 2880, 0, "whole FITS blocks");
    let primary = header_cards(&bytes, 0);
    assert!(primary[0].starts_with("SIMPLE  =                    T"));
    assert!(primary
        .iter()
        .any(|c| c.starts_with("NAXIS   =                    0")));
    let sha = primary
        .iter()
        .find(|c| c.starts_with("CKPTSHA"))
        .expect("checkpoint hash card");
    assert_eq!(sha[11..75].len(), 64, "{sha}");
    let table = header_cards(&bytes, 2880);
    assert!(table[0].starts_with("XTENSION= 'BINTABLE'"));
    assert!(table
        .iter()
        .any(|c| c.starts_with("NAXIS2  =                  200")));
    assert!(table.iter().any(|c| c.starts_with("EXTNAME = 'REDSHIFTS'")));
    assert!(table.iter().any(|c| c.starts_with("TFORM14 = '80E     '")));
    if cfg!(feature = "hdf5") {
        let h5 = std::fs::read(dir.join("pdfs.hdf5")).expect("qp file written");
        assert_eq!(&h5[..8], b"\x89HDF\r\n\x1a\n", "an HDF5 signature");
    }
    let leftovers = temporaries(&dir);
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    python_check(&dir);
}

/// The names in `dir` ending in `.tmp` (the temporary files of staged outputs).
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

/// Runs scripts/check_survey_outputs.py on `dir`: its failures fail the test; a missing
/// reader fails under CI and is reported as skipped elsewhere.
fn python_check(dir: &Path) {
    let python = std::env::var("ZCNN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_survey_outputs.py");
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let output = Command::new(&python).arg(&script).arg(dir).output();
    let (code, text) = match output {
        Ok(o) => (
            o.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (Some(3), format!("cannot run {python}: {e}")),
    };
    match code {
        Some(0) => println!("{text}"),
        Some(3) if !in_ci => eprintln!("skipped: the astropy/qp check ({text})"),
        _ => panic!("survey outputs check failed ({python}, exit {code:?}):\n{text}"),
    }
}

#[test]
fn an_existing_output_is_replaced_only_with_overwrite_and_an_input_never() {
    let dir = scratch("no-overwrite");
    let (data, checkpoint) = trained(&dir);
    let existing = dir.join("catalog.fits");
    std::fs::write(&existing, b"a good catalogue").unwrap();
    let mut args = predict_args(&checkpoint, &data, &dir);
    args.extend(["--catalog", s(&existing)].map(String::from));
    let err = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains("--catalog") && err.contains("catalog.fits already exists"),
        "{err}"
    );
    assert!(err.contains("--overwrite"), "the message says how: {err}");
    assert_eq!(std::fs::read(&existing).unwrap(), b"a good catalogue");
    assert!(
        !dir.join("predictions.csv").exists(),
        "refused before any work"
    );

    // With --overwrite the complete new catalogue replaces the earlier one.
    args.push("--overwrite".into());
    run(&args);
    let bytes = std::fs::read(&existing).unwrap();
    assert!(bytes.starts_with(b"SIMPLE  =                    T"));
    let table = header_cards(&bytes, 2880);
    assert!(table
        .iter()
        .any(|c| c.starts_with("NAXIS2  =                  200")));
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));

    // An input is never an output, not even with --overwrite.
    let spectra = data.join("spectra.npy");
    let before = std::fs::read(&spectra).unwrap();
    let mut args = predict_args(&checkpoint, &data, &dir);
    args.extend(["--catalog", s(&spectra), "--overwrite"].map(String::from));
    let err = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains("--catalog") && err.contains("is also the input --spectra"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&spectra).unwrap(),
        before,
        "the input is untouched"
    );
    assert!(temporaries(&data).is_empty(), "{:?}", temporaries(&data));

    // Labels that do not match the spectra: an error naming the file, nothing written, the
    // earlier results kept although --overwrite allowed replacing them.
    let labels = dir.join("short.csv");
    std::fs::write(&labels, "index,id,z\n0,a,1.2\n").unwrap();
    let csv = dir.join("predictions.csv");
    let csv_before = std::fs::read(&csv).unwrap();
    let mut args = predict_args(&checkpoint, &data, &dir);
    let at = args.iter().position(|a| a == "--labels").unwrap();
    args[at + 1] = s(&labels).to_string();
    args.extend(["--catalog", s(&dir.join("new.fits")), "--overwrite"].map(String::from));
    let err = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains("short.csv") && err.contains("no row for"),
        "{err}"
    );
    assert!(!dir.join("new.fits").exists());
    assert_eq!(std::fs::read(&csv).unwrap(), csv_before);
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
}

#[test]
fn an_error_after_some_chunks_leaves_no_output_behind() {
    let dir = scratch("mid-run");
    let (data, checkpoint) = trained(&dir);
    // The last pixel of the last spectrum becomes NaN: the run fails in its fourth chunk.
    let mut spectra = std::fs::read(data.join("spectra.npy")).unwrap();
    let end = spectra.len();
    spectra[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    let bad = dir.join("bad.npy");
    std::fs::write(&bad, spectra).unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let csv = out.join("predictions.csv");
    std::fs::write(&csv, "a good earlier CSV").unwrap();
    let mut args = predict_args(&checkpoint, &data, &out);
    let at = args.iter().position(|a| a == "--spectra").unwrap();
    args[at + 1] = s(&bad).to_string();
    // --overwrite: the failure, not the output plan, is what must keep the earlier CSV.
    args.extend(
        [
            "--overwrite",
            "--chunk-size",
            "50",
            "--catalog",
            s(&out.join("c.fits")),
            "--pdfs",
            s(&out.join("p.npy")),
        ]
        .map(String::from),
    );
    let err = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("bad.npy") && err.contains("row 199"), "{err}");
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, ["predictions.csv"], "only the earlier CSV remains");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "a good earlier CSV");
}

#[test]
fn results_do_not_depend_on_the_chunk_size() {
    let dir = scratch("chunks");
    let (data, checkpoint) = trained(&dir);
    let write = |name: &str, chunk: &str| {
        let out = dir.join(name);
        std::fs::create_dir_all(&out).unwrap();
        let mut args = predict_args(&checkpoint, &data, &out);
        args.extend(
            [
                "--chunk-size",
                chunk,
                "--catalog",
                s(&out.join("catalog.fits")),
                "--catalog-pdf",
                "--pdfs",
                s(&out.join("pdfs.npy")),
            ]
            .map(String::from),
        );
        run(&args);
        out
    };
    let (whole, pieces) = (write("whole", "4096"), write("pieces", "7"));
    for file in ["predictions.csv", "pdfs.npy"] {
        let a = std::fs::read(whole.join(file)).unwrap();
        assert_eq!(a, std::fs::read(pieces.join(file)).unwrap(), "{file}");
    }
    // The catalogues differ only in the DATE card.
    let without_date = |path: PathBuf| {
        let bytes = std::fs::read(path).unwrap();
        bytes
            .chunks(80)
            .filter(|c| !c.starts_with(b"DATE    ="))
            .flatten()
            .copied()
            .collect::<Vec<u8>>()
    };
    assert_eq!(
        without_date(whole.join("catalog.fits")),
        without_date(pieces.join("catalog.fits"))
    );
    let err = fails(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--spectra",
        s(&data.join("spectra.npy")),
        "--out",
        s(&dir.join("x.csv")),
        "--chunk-size",
        "0",
    ]);
    assert!(err.contains("--chunk-size"), "{err}");
}

#[cfg(not(feature = "hdf5"))]
#[test]
fn hdf5_pdfs_without_the_feature_are_a_clear_error() {
    let dir = scratch("no-hdf5");
    let (data, checkpoint) = trained(&dir);
    let mut args = predict_args(&checkpoint, &data, &dir);
    args.extend(["--pdfs", s(&dir.join("pdfs.hdf5"))].map(String::from));
    let err = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("--features hdf5"), "{err}");
    assert!(!dir.join("pdfs.hdf5").exists());
}
