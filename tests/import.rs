//! `zcnn import` as a user runs it: FITS spectra (tests/data/fits, written by
//! scripts/make_fits_fixtures.py) → a dataset that train, evaluate and predict read; and its
//! errors, each naming the file.
#![cfg(feature = "cli")]

mod support;

use std::path::{Path, PathBuf};
use support::{fails, ok, s, scratch};
use zcnn::io::npy::{read_npy, NpyExpect};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fits")
        .join(name)
}

/// A folder of `copies` copies of each observed-frame fixture, ids `<stem>-<k>`, and a
/// catalogue giving each a redshift.
fn spectra_folder(dir: &Path, copies: usize) -> PathBuf {
    let folder = dir.join("spectra");
    std::fs::create_dir_all(&folder).unwrap();
    let mut catalog = String::from("ra,id,z\n");
    for k in 0..copies {
        for (i, name) in [
            "spec-0001-51000-0001",
            "spec-0001-51000-0002",
            "image_linear",
            "image_loglam",
        ]
        .iter()
        .enumerate()
        {
            let id = format!("{name}-{k}");
            std::fs::copy(
                fixture(&format!("{name}.fits")),
                folder.join(format!("{id}.fits")),
            )
            .unwrap();
            catalog.push_str(&format!("0.0,{id},{}\n", 1.0 + 0.05 * (i + 4 * k) as f64));
        }
    }
    std::fs::write(dir.join("catalog.csv"), catalog).unwrap();
    folder
}

#[test]
fn imported_spectra_train_evaluate_and_predict() {
    let dir = scratch("pipeline");
    let folder = spectra_folder(&dir, 3);
    let (data, model) = (dir.join("data"), dir.join("model"));
    let cat = dir.join("catalog.csv");
    let common = [
        "import",
        "--fits",
        s(&folder),
        "--grid",
        "seed",
        "--out",
        s(&data),
        "--catalog",
        s(&cat),
    ];
    let err = fails(&common);
    assert!(
        err.contains("spec-0001-51000-0001-0.fits: HDU 1 (COADD): column 'flux': pixel 700 is NaN"),
        "{err}"
    );
    let text = ok(&[&common[..], &["--nonfinite", "mask"]].concat());
    assert!(
        text.contains("imported 12 spectra onto 1780 pixels"),
        "{text}"
    );

    let labels = std::fs::read_to_string(data.join("labels.csv")).unwrap();
    let mut lines = labels.lines();
    assert_eq!(lines.next(), Some("index,id,z,masked_fraction"));
    assert_eq!(lines.next(), Some("0,image_linear-0,1.1,0"));
    // Sorted by name: image_linear-0..2, image_loglam-0..2, then the SDSS-like files.
    let sdss: Vec<&str> = labels.lines().nth(7).unwrap().split(',').collect();
    assert_eq!(&sdss[..3], ["6", "spec-0001-51000-0001-0", "1"]);
    let fraction: f64 = sdss[3].parse().unwrap();
    assert!(
        fraction > 0.005 && fraction < 0.02,
        "masked fraction {fraction}"
    );

    // The masked spike (1e4 at 10^(4.03 + 3e-4·501) Å) does not leak; the line peak is 1.
    let spectra = read_npy(&data.join("spectra.npy"), &NpyExpect::default()).unwrap();
    assert_eq!(spectra.shape, vec![12, 1780]);
    let lambda = read_npy(&data.join("wavelengths.npy"), &NpyExpect::default()).unwrap();
    let row = &spectra.data[6 * 1780..7 * 1780];
    let spike = 10f64.powf(4.03 + 3e-4 * 501.0) as f32;
    for (value, l) in row.iter().zip(&lambda.data) {
        if (l - spike).abs() < 30.0 {
            assert!(*value < 0.3, "{value} at {l} Å near the masked spike");
        }
    }
    assert_eq!(row.iter().fold(0.0f32, |m, v| m.max(*v)), 1.0);

    ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&model),
        "--epochs",
        "1",
        "--bins",
        "80",
        "--batch",
        "4",
        "--threads",
        "1",
    ]);
    let ckpt = model.join("checkpoint.safetensors");
    ok(&[
        "evaluate",
        "--checkpoint",
        s(&ckpt),
        "--data",
        s(&data),
        "--out",
        s(&dir.join("report")),
        "--all",
    ]);

    // Without a catalogue: spectra for predict, labels without z.
    let unlabelled = dir.join("unlabelled");
    ok(&[
        "import",
        "--fits",
        s(&fixture("image_linear.fits")),
        s(&fixture("image_loglam.fits")),
        "--grid",
        s(&data.join("wavelengths.npy")),
        "--out",
        s(&unlabelled),
        "--normalise",
        "l2",
    ]);
    let labels = std::fs::read_to_string(unlabelled.join("labels.csv")).unwrap();
    assert!(
        labels.starts_with("index,id,masked_fraction\n0,image_linear,0\n"),
        "{labels}"
    );
    let preds = dir.join("preds.csv");
    ok(&[
        "predict",
        "--checkpoint",
        s(&ckpt),
        "--spectra",
        s(&unlabelled.join("spectra.npy")),
        "--out",
        s(&preds),
    ]);
    assert_eq!(std::fs::read_to_string(&preds).unwrap().lines().count(), 3);
    let err = fails(&[
        "train",
        "--data",
        s(&unlabelled),
        "--out",
        s(&dir.join("m2")),
    ]);
    assert!(err.contains("no column 'z'"), "{err}");
}

#[test]
fn import_errors_name_the_file_or_flag() {
    let dir = scratch("errors");
    let folder = spectra_folder(&dir, 1);
    let out = dir.join("out");
    let run = |extra: &[&str]| {
        let mut args = vec!["import", "--out", s(&out), "--nonfinite", "mask"];
        args.extend_from_slice(extra);
        fails(&args)
    };
    let err = run(&["--fits", s(&folder), "--grid", "lsst"]);
    assert!(
        err.contains("--grid 'lsst': neither a preset (seed, euclid) nor a wavelengths.npy"),
        "{err}"
    );

    let partial = dir.join("partial.csv");
    std::fs::write(&partial, "id,z\nimage_linear-0,1.0\nghost,2\n").unwrap();
    let err = run(&[
        "--fits",
        s(&folder),
        "--grid",
        "seed",
        "--catalog",
        s(&partial),
    ]);
    assert!(
        err.contains("partial.csv: no entry for 3 of 4 spectra: image_loglam-0, spec-0001-51000-0001-0, spec-0001-51000-0002-0"),
        "{err}"
    );
    let err = run(&[
        "--fits",
        s(&folder),
        "--grid",
        "seed",
        "--catalog",
        s(&partial),
        "--z-column",
        "zspec",
    ]);
    assert!(
        err.contains("partial.csv: no column 'zspec' (columns: id, z)"),
        "{err}"
    );

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = run(&["--fits", s(&empty), "--grid", "seed"]);
    assert!(
        err.contains("no .fits, .fit or .fts files in this folder"),
        "{err}"
    );

    let truncated = dir.join("cut.fits");
    let bytes = std::fs::read(fixture("spec-0001-51000-0002.fits")).unwrap();
    std::fs::write(&truncated, &bytes[..2880 * 3 + 100]).unwrap();
    let err = run(&["--fits", s(&truncated), "--grid", "seed"]);
    assert!(
        err.contains("cut.fits: HDU 1: the data unit needs 16000 bytes but only"),
        "{err}"
    );

    // A rest-frame template (900–25 000 Å) does overlap, but a grid far away does not.
    let far = dir.join("far.npy");
    zcnn::io::npy::write_npy(&far, &[3], &[1e6, 1.1e6, 1.2e6]).unwrap();
    let err = run(&[
        "--fits",
        s(&fixture("image_linear.fits")),
        "--grid",
        s(&far),
    ]);
    assert!(
        err.contains("image_linear.fits: the spectrum (10900–20390 Å) does not overlap the grid"),
        "{err}"
    );

    let twin = dir.join("twin");
    std::fs::create_dir_all(&twin).unwrap();
    std::fs::copy(
        fixture("image_linear.fits"),
        twin.join("image_linear-0.fit"),
    )
    .unwrap();
    let err = run(&["--fits", s(&folder), s(&twin), "--grid", "seed"]);
    assert!(err.contains("have the same id 'image_linear-0'"), "{err}");
    assert!(!out.exists(), "a failed import wrote {}", out.display());
}

#[test]
fn simulate_reads_fits_templates_from_sed_dir() {
    let dir = scratch("templates");
    let seds = dir.join("seds");
    std::fs::create_dir_all(&seds).unwrap();
    std::fs::copy(fixture("template.fits"), seds.join("template.fits")).unwrap();
    let data = dir.join("data");
    ok(&[
        "simulate",
        "--out",
        s(&data),
        "-n",
        "20",
        "--sed-dir",
        s(&seds),
        "--seed",
        "1",
    ]);
    let spectra = read_npy(&data.join("spectra.npy"), &NpyExpect::default()).unwrap();
    assert_eq!(spectra.shape, vec![20, 1780]);
}
