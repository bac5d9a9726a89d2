//! The catalogue estimator's pieces: the photometric table readers (CSV and FITS) and their
//! errors, the observed-magnitude columns of `zcnn simulate`, the `photoz_catalog` preset, and
//! a learning test on simulated SDSS photometry.

// Not every helper of the shared test support is used here.
#[allow(dead_code)]
mod support;

use std::ops::ControlFlow;
use std::path::Path;

use zcnn::cli::catalog_data::{catalog_features, feature_count, table_features};
use zcnn::data::images::{simulate_images, ImageSimConfig};
use zcnn::dims::Dims;
use zcnn::io::fits_write::{BinTableWriter, Column, ColumnType, Value};
use zcnn::io::photometry::{
    parse_photometry_csv, read_photometry, PhotometryColumns, PhotometryTable,
};
use zcnn::kernels::optim::AdamConfig;
use zcnn::loss::Loss;
use zcnn::metrics::PointMetrics;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{photoz_catalog, Output};
use zcnn::redshift::ZBinning;
use zcnn::train::{evaluate, predict, Dataset, TargetData, TrainConfig, Trainer};

const GRI: [&str; 3] = ["g", "r", "i"];

fn csv(text: &str) -> Result<PhotometryTable, String> {
    parse_photometry_csv(
        text.as_bytes(),
        "cat.csv",
        &PhotometryColumns::simulated(&GRI),
    )
}

fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "'{part}' not in: {text}");
    }
}

const HEADER: &str = "id,z,mag_obs_g,mag_obs_r,mag_obs_i,magerr_g,magerr_r,magerr_i,extra";

#[test]
fn a_csv_catalogue_is_read_by_column_pattern() {
    let text = format!(
        "{HEADER}\na,0.1,18.5,17.5,17.0,0.02,0.01,0.01,x\nb,0.2,19,18,17.25,0.05,0.02,0.02,y\n"
    );
    let t = csv(&text).unwrap();
    assert_eq!(t.ids, ["a", "b"]);
    assert_eq!(t.z, Some(vec![0.1, 0.2]));
    assert_eq!(t.mags, [18.5, 17.5, 17.0, 19.0, 18.0, 17.25]);
    assert_eq!(t.errs, [0.02, 0.01, 0.01, 0.05, 0.02, 0.02]);
    // Other patterns, case-insensitive names, no z, no id (row numbers).
    let columns = PhotometryColumns {
        bands: vec!["G".into(), "R".into()],
        magnitude: "{band}_mag".into(),
        error: "{band}_err".into(),
        id: None,
        z: None,
        hdu: None,
    };
    let t =
        parse_photometry_csv(b"g_mag,r_mag,g_err,r_err\n20,19,0.1,0.1\n", "c", &columns).unwrap();
    assert_eq!(
        (t.ids, t.z, t.mags),
        (vec!["1".to_string()], None, vec![20.0, 19.0])
    );
}

#[test]
fn csv_errors_name_the_file_the_column_and_the_row() {
    let row = |values: &str| format!("{HEADER}\na,0.1,18.5,17.5,17.0,0.02,0.01,0.01,x\n{values}\n");
    let cases: [(&str, &[&str]); 7] = [
        (
            "b,0.1,18.5,17.5,oops,0.02,0.01,0.01,x",
            &["cat.csv", "'mag_obs_i'", "row 2", "'oops' is not a number"],
        ),
        (
            "b,0.1,18.5,NaN,17,0.02,0.01,0.01,x",
            &["cat.csv", "'mag_obs_r'", "row 2", "magnitude NaN"],
        ),
        (
            "b,0.1,18.5,99,17,0.02,0.01,0.01,x",
            &["'mag_obs_r'", "row 2", "magnitude 99", "sentinel"],
        ),
        (
            "b,0.1,18.5,17.5,17,0.02,0,0.01,x",
            &["'magerr_r'", "row 2", "error 0", "> 0"],
        ),
        (
            "b,0.1,18.5,17.5,17,0.02,-0.1,0.01,x",
            &["'magerr_r'", "row 2", "error -0.1"],
        ),
        (
            "b,inf,18.5,17.5,17,0.02,0.1,0.01,x",
            &["'z'", "row 2", "redshift inf"],
        ),
        (
            "a,0.1,18.5,17.5,17,0.02,0.1,0.01,x",
            &["'id'", "row 2", "id 'a' already used in row 1"],
        ),
    ];
    for (values, parts) in cases {
        assert_contains(&csv(&row(values)).unwrap_err(), parts);
    }
    let missing = csv("id,z,mag_obs_g,mag_obs_r,magerr_g,magerr_r,magerr_i\n").unwrap_err();
    assert_contains(
        &missing,
        &[
            "cat.csv",
            "no column 'mag_obs_i'",
            "columns: id, z, mag_obs_g",
        ],
    );
    assert_contains(&csv(HEADER).unwrap_err(), &["cat.csv", "no rows"]);
    let mut columns = PhotometryColumns::simulated(&GRI);
    columns.error = "magerr".into();
    let err = parse_photometry_csv(HEADER.as_bytes(), "cat.csv", &columns).unwrap_err();
    assert_contains(
        &err,
        &["cat.csv", "error column pattern 'magerr'", "{band}"],
    );
}

/// Writes a FITS catalogue: id (K), z (D), mag_obs_<b> (E), magerr_<b> (E) for g r i.
fn write_fits(path: &Path, rows: &[(i64, f64, [f32; 3], [f32; 3])]) {
    let column = |name: &str, kind| Column {
        name: name.into(),
        kind,
        unit: None,
        description: String::new(),
    };
    let mut columns = vec![column("ID", ColumnType::I64), column("Z", ColumnType::F64)];
    for prefix in ["mag_obs", "magerr"] {
        columns.extend(GRI.map(|b| column(&format!("{prefix}_{b}"), ColumnType::F32)));
    }
    let mut w = BinTableWriter::create(path, &[], "PHOTOMETRY", columns, &[]).unwrap();
    for (id, z, mags, errs) in rows {
        let mut values = vec![Value::I64(*id), Value::F64(*z)];
        values.extend(mags.iter().chain(errs).map(|&v| Value::F32(v)));
        w.append(&values).unwrap();
    }
    w.finish().unwrap().commit().unwrap();
}

#[test]
fn a_fits_table_is_read_with_exact_integer_ids_and_its_errors_name_the_hdu_column_and_row() {
    let dir = support::scratch("catalog-fits");
    let path = dir.join("cat.fits");
    let big_id = 1_237_645_941_297_135_741; // an SDSS objID, beyond f64's exact integers
    write_fits(
        &path,
        &[
            (big_id, 0.05, [18.0, 17.0, 16.5], [0.02, 0.01, 0.01]),
            (7, 0.3, [20.0, 19.0, 18.0], [0.1, 0.05, 0.04]),
        ],
    );
    let columns = PhotometryColumns::simulated(&GRI);
    let t = read_photometry(&path, &columns).unwrap();
    assert_eq!(t.ids, [big_id.to_string(), "7".to_string()]);
    assert_eq!(t.z, Some(vec![0.05, 0.3]));
    assert_eq!(t.mags, [18.0, 17.0, 16.5, 20.0, 19.0, 18.0]);
    assert_eq!(t.errs, [0.02, 0.01, 0.01, 0.1, 0.05, 0.04]);
    let mut named = columns.clone();
    named.hdu = Some("photometry".into());
    assert_eq!(read_photometry(&path, &named).unwrap(), t);
    named.hdu = Some("SPECTRA".into());
    let err = read_photometry(&path, &named).unwrap_err();
    assert_contains(
        &err,
        &[
            "cat.fits",
            "no binary table named 'SPECTRA'",
            "HDU 1 (PHOTOMETRY)",
        ],
    );
    let mut wrong = columns.clone();
    wrong.magnitude = "mag_{band}".into();
    let err = read_photometry(&path, &wrong).unwrap_err();
    assert_contains(
        &err,
        &[
            "cat.fits",
            "HDU 1 (PHOTOMETRY)",
            "no column 'mag_g'",
            "mag_obs_g",
        ],
    );
    let mut float_id = columns.clone();
    float_id.id = Some("z".into());
    let err = read_photometry(&path, &float_id).unwrap_err();
    assert_contains(&err, &["column 'Z'", "TFORM2 = 'D'", "B, I, J, K"]);

    let bad = dir.join("bad.fits");
    write_fits(
        &bad,
        &[
            (1, 0.05, [18.0, 17.0, 16.5], [0.02, 0.01, 0.01]),
            (2, 0.3, [20.0, f32::NAN, 18.0], [0.1, 0.05, 0.04]),
        ],
    );
    let err = read_photometry(&bad, &columns).unwrap_err();
    assert_contains(
        &err,
        &[
            "bad.fits",
            "HDU 1 (PHOTOMETRY)",
            "'mag_obs_r'",
            "row 2",
            "NaN",
        ],
    );
    write_fits(&bad, &[(1, 0.05, [18.0, 17.0, 16.5], [0.02, 0.0, 0.01])]);
    let err = read_photometry(&bad, &columns).unwrap_err();
    assert_contains(&err, &["bad.fits", "'magerr_r'", "row 1", "error 0"]);
    // Truncated: the structural check refuses it before fitsrs reads it.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() - 2880]).unwrap();
    assert_contains(
        &read_photometry(&bad, &columns).unwrap_err(),
        &["bad.fits", "HDU 1"],
    );
}

#[test]
fn corrupted_fits_catalogues_give_errors_that_name_the_file() {
    // Every byte of the headers and of the data, overwritten with a few values: the reader
    // returns a table or an error naming the file, never a panic (fitsrs' own panics are
    // caught and reported, see io::fits).
    let dir = support::scratch("catalog-corrupt");
    let path = dir.join("cat.fits");
    let row = |id| (id, 0.1, [18.0, 17.0, 16.5], [0.02, 0.01, 0.01]);
    write_fits(&path, &[row(1), row(2), row(3)]);
    let clean = std::fs::read(&path).unwrap();
    let columns = PhotometryColumns::simulated(&GRI);
    let mut errors = 0;
    for at in (0..clean.len()).filter(|i| i % 80 < 40 || *i >= 3 * 2880) {
        for byte in [b'0', b' ', b'\'', 0xFF] {
            let mut bytes = clean.clone();
            bytes[at] = byte;
            match zcnn::io::photometry_fits::parse_photometry_fits(&bytes, "c.fits", &columns) {
                Ok(t) => assert_eq!(t.len(), 3),
                Err(e) => {
                    assert!(e.starts_with("c.fits: "), "{e}");
                    errors += 1;
                }
            }
        }
    }
    assert!(errors > 100, "only {errors} corruptions were noticed");
}

#[test]
fn simulated_labels_carry_observed_magnitudes_the_catalogue_reader_takes() {
    let dir = support::scratch("catalog-simulate");
    let out = dir.join("set");
    support::ok(&[
        "simulate",
        "--preset",
        "sdss44",
        "-n",
        "6",
        "--seed",
        "3",
        "--out",
        support::s(&out),
    ]);
    let labels = out.join("labels.csv");
    let table = read_photometry(
        &labels,
        &PhotometryColumns::simulated(&["u", "g", "r", "i", "z"]),
    )
    .unwrap();
    assert_eq!(table.len(), 6);
    let truth = parse_photometry_csv(
        &std::fs::read(&labels).unwrap(),
        "labels.csv",
        &PhotometryColumns {
            magnitude: "mag_{band}".into(),
            ..PhotometryColumns::simulated(&["u", "g", "r", "i", "z"])
        },
    )
    .unwrap();
    for (i, (obs, err)) in table.mags.iter().zip(&table.errs).enumerate() {
        let true_mag = truth.mags[i];
        // A 3″ aperture holds less than all the light (fainter), but not < 10 % of it, except
        // where noise dominates (u): then the error says so.
        assert!(*err > 0.0 && *err < 2.0, "object {i}: error {err}");
        assert!(
            (*obs > true_mag - 3.0 * err && *obs < true_mag + 2.5) || *err > 0.3,
            "object {}, band {}: observed {obs} ± {err}, true {true_mag}",
            i / 5,
            i % 5
        );
    }
}

#[test]
fn simulate_lsst_buzzard_writes_a_catalogue_the_estimator_trains_on() {
    let dir = support::scratch("catalog-lsst");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let args = |out: &Path, n: &'static str| -> Vec<String> {
        [
            "simulate",
            "--preset",
            "lsst-buzzard",
            "-n",
            n,
            "--seed",
            "5",
        ]
        .map(String::from)
        .into_iter()
        .chain(["--i-max".into(), "24".into(), "--out".into()])
        .chain([support::s(out).to_string()])
        .collect()
    };
    let run = |args: Vec<String>| support::ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let text = run(args(&a, "300"));
    assert!(text.contains("simulated 300 LSST-like galaxies"), "{text}");
    run(args(&b, "300"));
    // An existing catalogue is not replaced without --overwrite.
    let again = args(&a, "300");
    let err = support::fails(&again.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("--overwrite"), "{err}");
    // Seed-reproducible, byte for byte.
    let labels = std::fs::read(a.join("labels.csv")).unwrap();
    assert_eq!(labels, std::fs::read(b.join("labels.csv")).unwrap());
    let bands = ["u", "g", "r", "i", "z", "y"];
    let table =
        read_photometry(&a.join("labels.csv"), &PhotometryColumns::simulated(&bands)).unwrap();
    assert_eq!(table.len(), 300);
    let z = table.z.as_ref().unwrap();
    assert!(
        z.iter().all(|&v| v > 0.0 && v < 2.4),
        "z outside the mock's range"
    );
    for (i, (m, e)) in table.mags.chunks(6).zip(table.errs.chunks(6)).enumerate() {
        // The cut is on observed i; errors are positive and at least the 0.005 floor.
        assert!(m[3] < 24.0, "galaxy {i}: i = {}", m[3]);
        assert!(
            e.iter().all(|&v| (0.0049..1.0).contains(&v)),
            "galaxy {i}: {e:?}"
        );
    }
    let toml = std::fs::read_to_string(a.join("simulation.toml")).unwrap();
    assert!(toml.contains("preset = \"lsst-buzzard\"") && toml.contains("i_max = 24"));
    // The catalogue estimator reads it: one epoch of training on the six bands, reference i.
    let config = dir.join("lsst.toml");
    std::fs::write(
        &config,
        "[model]\npreset = \"photoz-catalog\"\nbins = 48\nz_min = 0.0\nz_max = 2.4\n\
         [train]\nepochs = 1\n\
         [catalog]\nbands = [\"u\", \"g\", \"r\", \"i\", \"z\", \"y\"]\nreference = \"i\"\n",
    )
    .unwrap();
    let model = dir.join("model");
    let text = support::ok(&[
        "train",
        "--data",
        support::s(&a),
        "--config",
        support::s(&config),
        "--out",
        support::s(&model),
    ]);
    assert!(text.contains("on 240 galaxies"), "{text}");
    // Bad flags are errors that name them.
    let bad = dir.join("bad");
    let out = support::s(&bad);
    let cases: [(&[&str], &str); 5] = [
        (&["--preset", "lsst-buzzard", "--snr", "5"], "--snr"),
        (
            &["--preset", "sdss", "--i-max", "24"],
            "--i-max and --years are for --preset lsst-buzzard",
        ),
        (
            &["--preset", "lsst-buzzard", "--years", "0"],
            "LSST survey years",
        ),
        (
            &["--preset", "lsst-buzzard", "--i-max", "18", "-n", "100000"],
            "only",
        ),
        (&["--preset", "lsst-buzzard", "-n", "0"], "at least 1"),
    ];
    for (flags, message) in cases {
        let mut all = vec!["simulate", "--out", out];
        all.extend_from_slice(flags);
        let err = support::fails(&all);
        assert!(err.contains(message), "{flags:?}: {err}");
    }
}

#[test]
fn the_catalogue_preset_maps_features_to_bins() {
    let k = 40;
    let output = Output::Classes {
        k,
        loss: Loss::CrossEntropy,
    };
    let mut model = photoz_catalog(10, output, 1).unwrap();
    assert_eq!(model.in_dims(), Dims::Flat(10));
    assert_eq!(model.n_extra(), 0);
    // 3 hidden layers of 256 and the head: weights + biases.
    let expected = (10 * 256 + 256) + 2 * (256 * 256 + 256) + (256 * k + k);
    assert_eq!(model.param_count(), expected);
    let x = vec![0.5f32; 3 * 10];
    let p = &predict(&mut model, &x, &[], 3).unwrap()[0];
    assert_eq!(p.len(), 3 * k);
    assert!((p[..k].iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let regression = photoz_catalog(10, Output::Regression, 1).unwrap();
    assert_eq!(regression.heads()[0].outputs(), 1);
    assert!(photoz_catalog(0, output, 1).is_err());
}

#[test]
fn the_catalogue_network_learns_redshift_from_simulated_sdss_photometry() {
    // 600 SDSS cutouts; their measured aperture magnitudes → features → 40 bins over
    // 0 ≤ z < 0.4. Trained on 450, scored on 150 against the median-z guess.
    let n = 600;
    let set = simulate_images(&ImageSimConfig::preset("sdss", n, 17).unwrap()).unwrap();
    let bands = set.bands.len();
    let mags: Vec<f32> = set
        .labels
        .iter()
        .flat_map(|l| l.observed_magnitudes.iter().map(|&m| m as f32))
        .collect();
    let errs: Vec<f32> = set
        .labels
        .iter()
        .flat_map(|l| l.magnitude_errors.iter().map(|&e| e as f32))
        .collect();
    let features = catalog_features(&mags, &errs, bands, 2);
    let width = feature_count(bands);
    let z: Vec<f64> = set.labels.iter().map(|l| l.z).collect();
    let binning = ZBinning::new(0.0, 0.4, 40).unwrap();
    let classes: Vec<u32> = z
        .iter()
        .map(|&z| binning.bin_of(z).unwrap() as u32)
        .collect();
    let split = 450;
    let part = |range: std::ops::Range<usize>| Dataset {
        sample: Dims::Flat(width),
        inputs: features[range.start * width..range.end * width]
            .to_vec()
            .into(),
        n_extra: 0,
        extra: vec![],
        targets: vec![TargetData::Classes(classes[range].to_vec())],
    };
    let (train, test) = (part(0..split), part(split..n));
    let output = Output::Classes {
        k: 40,
        loss: Loss::CrossEntropy,
    };
    let mut model = photoz_catalog(width, output, 5).unwrap();
    let adam = AdamConfig {
        lr: 1e-3,
        ..AdamConfig::default()
    };
    let mut opt =
        Optimizer::new(Rule::Adam(adam), Schedule::Constant, model.param_count()).unwrap();
    let config = TrainConfig {
        batch: 32,
        epochs: 40,
        seed: 6,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, &train, config).unwrap();
    trainer
        .fit(&mut model, &mut opt, &train, None, &mut |_, _, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
    let (test_loss, _) = evaluate(&mut model, &test, 64).unwrap();
    let test_inputs = test.inputs.in_memory().expect("features in memory");
    let pdfs = &predict(&mut model, test_inputs, &[], 64).unwrap()[0];
    let z_test = &z[split..];
    let z_pred: Vec<f64> = pdfs
        .chunks_exact(40)
        .map(|p| zcnn::redshift::estimates::mean(&binning, p).unwrap())
        .collect();
    let network = PointMetrics::compute(&z_pred, z_test).unwrap();
    let mut sorted = z[..split].to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = vec![sorted[split / 2]; z_test.len()];
    let guess = PointMetrics::compute(&median, z_test).unwrap();
    // The cross-entropy of the training set's n(z) histogram as the PDF of every object.
    let mut prior = vec![1e-3f64; 40];
    for &c in &classes[..split] {
        prior[c as usize] += 1.0;
    }
    let total: f64 = prior.iter().sum();
    let prior_loss = classes[split..]
        .iter()
        .map(|&c| -(prior[c as usize] / total).ln())
        .sum::<f64>()
        / z_test.len() as f64;
    eprintln!(
        "catalogue network: σ_NMAD {:.4} (median guess {:.4}), η₀.₀₅ {:.3} ({:.3}), bias {:.4}; \
         test loss {test_loss:.3} vs n(z) prior {prior_loss:.3}",
        network.sigma_nmad, guess.sigma_nmad, network.eta_0_05, guess.eta_0_05, network.bias
    );
    assert!(
        network.sigma_nmad < 0.6 * guess.sigma_nmad,
        "{network:?} vs {guess:?}"
    );
    assert!(
        (test_loss as f64) < prior_loss - 0.3,
        "loss {test_loss} vs prior {prior_loss}"
    );
    // table_features gives the same features from a table.
    let table = PhotometryTable {
        source: "sim".into(),
        bands: set.bands.clone(),
        ids: (0..n).map(|i| i.to_string()).collect(),
        z: Some(z.clone()),
        mags,
        errs,
    };
    let (dims, same) = table_features(&table, "r").unwrap();
    assert_eq!((dims, same), (Dims::Flat(width), features));
    assert_contains(
        &table_features(&table, "y").unwrap_err(),
        &["sim", "'y'", "u, g, r, i, z"],
    );
}
