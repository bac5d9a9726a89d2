//! `zcnn import-images` as a user runs it: NPY and FITS cutouts (FITS fixtures written by
//! astropy in tests/data/cutouts, see scripts/make_fits_fixtures.py; others built here byte by
//! byte) → an image dataset folder; and every error, each naming the file and the HDU or row.
#![cfg(feature = "cli")]

mod support;

use std::path::{Path, PathBuf};
use support::{fails, ok, s, scratch};
use zcnn::io::cutouts::parse_fits_cutout;
use zcnn::io::npy::{read_npy, write_npy, NpyArray, NpyExpect};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cutouts")
        .join(name)
}

fn npy(path: &Path) -> NpyArray {
    read_npy(path, &NpyExpect::default()).expect("a valid NPY file")
}

/// The rows of a CSV file as maps from column name to text.
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn column(path: &Path, name: &str) -> Vec<String> {
    let (header, rows) = csv_rows(path);
    let at = header.iter().position(|h| h == name).expect(name);
    rows.into_iter().map(|r| r[at].clone()).collect()
}

// --- NPY files written by hand (float64 and big-endian, which zcnn never writes) ----------

fn npy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}), }}",
        dims.join(", ")
    );
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// `n` cutouts of 3 bands × 4 × 5 whose values are all distinct.
fn cutout_values(n: usize) -> Vec<f32> {
    (0..n * 60).map(|v| v as f32 * 0.25 - 7.0).collect()
}

fn catalog(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("catalog.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn import_npy(input: &Path, catalog: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "import-images",
        "--npy",
        s(input),
        "--catalog",
        s(catalog),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

fn import_npy_fails(input: &Path, catalog: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "import-images",
        "--npy",
        s(input),
        "--catalog",
        s(catalog),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    let err = fails(&args);
    assert!(
        !out.join("images.npy").exists(),
        "a failed import leaves no output"
    );
    err
}

#[test]
fn npy_float32_float64_and_big_endian_round_trip_in_catalogue_order() {
    let dir = scratch("npy-round-trip");
    let values = cutout_values(4);
    let shape = [4, 3, 4, 5];
    let inputs = [
        (
            "f32.npy",
            npy_bytes("<f4", &shape, &bytes_of(&values, f32::to_le_bytes)),
        ),
        (
            "f32be.npy",
            npy_bytes(">f4", &shape, &bytes_of(&values, f32::to_be_bytes)),
        ),
        (
            "f64.npy",
            npy_bytes(
                "<f8",
                &shape,
                &bytes_of(&values, |v| f64::from(v).to_le_bytes()),
            ),
        ),
    ];
    let cat = catalog(
        &dir,
        "id,z,mag_r,other\nw,0.1,17,x\nx,0.2,18,y\ny,0.3,NaN,z\nz,0.4,19,w\n",
    );
    for (name, bytes) in inputs {
        let input = dir.join(name);
        std::fs::write(&input, bytes).unwrap();
        let out = dir.join(format!("out-{name}"));
        import_npy(&input, &cat, &out, &["--bands", "g,r,i"]);
        let images = npy(&out.join("images.npy"));
        assert_eq!(images.shape, shape, "{name}");
        assert_eq!(images.data, values, "{name}: images.npy equals the input");
        let labels = out.join("labels.csv");
        assert_eq!(
            csv_rows(&labels).0,
            ["index", "id", "z", "mag_r", "masked_fraction", "source_row"]
        );
        assert_eq!(column(&labels, "id"), ["w", "x", "y", "z"]);
        assert_eq!(column(&labels, "mag_r"), ["17", "18", "NaN", "19"]);
        let toml = std::fs::read_to_string(out.join("images.toml")).unwrap();
        assert!(toml.contains("bands = [\"g\", \"r\", \"i\"]"), "{toml}");
        assert!(
            toml.contains("height = 4") && toml.contains("width = 5"),
            "{toml}"
        );
    }
    // An `index` column picks NPY rows: a subset, in catalogue order.
    let subset = catalog(&dir, "index,id,z\n3,d,0.4\n1,b,0.2\n2,c,0.3\n");
    let out = dir.join("subset");
    import_npy(&dir.join("f32.npy"), &subset, &out, &[]);
    let images = npy(&out.join("images.npy"));
    let expected: Vec<f32> = [3, 1, 2]
        .iter()
        .flat_map(|&r| values[r * 60..(r + 1) * 60].iter().copied())
        .collect();
    assert_eq!(images.shape, [3, 3, 4, 5]);
    assert_eq!(images.data, expected);
    let labels = out.join("labels.csv");
    assert_eq!(column(&labels, "source_row"), ["3", "1", "2"]);
    assert_eq!(column(&labels, "index"), ["0", "1", "2"]);
    let toml = std::fs::read_to_string(out.join("images.toml")).unwrap();
    assert!(toml.contains("\"band0\", \"band1\", \"band2\""), "{toml}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn bytes_of<const N: usize>(values: &[f32], f: impl Fn(f32) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| f(v)).collect()
}

#[test]
fn npy_errors_name_the_file_the_row_and_what_is_wrong() {
    let dir = scratch("npy-errors");
    let input = dir.join("cutouts.npy");
    let mut values = cutout_values(3);
    values[60 + 20 + 7] = f32::NAN; // row 1, band 1, y 1, x 2
    values[60 + 50] = f32::INFINITY;
    write_npy(&input, &[3, 3, 4, 5], &values).unwrap();
    let out = dir.join("out");
    let three = catalog(&dir, "id,z\na,1\nb,2\nc,3\n");
    let err = import_npy_fails(&input, &three, &out, &["--bands", "g,r,i"]);
    assert!(
        err.contains(&format!(
            "{}: row 1 (catalogue row 2, id 'b'): band 1 (r): 2 of 60 pixels are not finite \
             (the first, NaN, at y = 1, x = 2); pass --nonfinite mask",
            input.display()
        )),
        "{err}"
    );
    // Masked: set to 0, and the fraction recorded.
    import_npy(&input, &three, &out, &["--nonfinite", "mask"]);
    let images = npy(&out.join("images.npy"));
    assert_eq!((images.data[87], images.data[110]), (0.0, 0.0));
    assert_eq!(images.data[86], values[86]);
    let fractions = column(&out.join("labels.csv"), "masked_fraction");
    assert_eq!(fractions, ["0", &(2.0f64 / 60.0).to_string(), "0"]);
    std::fs::remove_dir_all(&out).unwrap();

    let two = catalog(&dir, "id,z\na,1\nb,2\n");
    let err = import_npy_fails(&input, &two, &out, &[]);
    assert!(
        err.contains("has 2 rows and")
            && err.contains("holds 3 cutouts: without an `index` column"),
        "{err}"
    );
    let beyond = catalog(&dir, "index,id,z\n0,a,1\n3,b,2\n");
    let err = import_npy_fails(&input, &beyond, &out, &[]);
    assert!(
        err.contains("row 2 (id 'b'): index 3 is beyond the 3 cutouts of")
            && err.contains("(rows 0..2)"),
        "{err}"
    );
    let repeated = catalog(&dir, "index,id,z\n0,a,1\n0,b,2\n");
    let err = import_npy_fails(&input, &repeated, &out, &[]);
    assert!(
        err.contains("row 2 (id 'b'): index 0 repeats row 1"),
        "{err}"
    );
    let duplicate = catalog(&dir, "id,z\na,1\nb,2\na,3\n");
    let err = import_npy_fails(&input, &duplicate, &out, &[]);
    assert!(err.contains("row 3: id 'a' repeats row 1"), "{err}");
    let three = catalog(&dir, "id,z\na,1\nb,2\nc,3\n");
    let err = import_npy_fails(&input, &three, &out, &["--bands", "g,r"]);
    assert!(err.contains("has 3 bands, --bands names 2 (g,r)"), "{err}");
    let err = import_npy_fails(&input, &three, &out, &["--bands", "g,r,G"]);
    assert!(err.contains("--bands: 'G' is named twice"), "{err}");
    let empty = dir.join("empty.npy");
    write_npy(&empty, &[3, 3, 0, 5], &[]).unwrap();
    let err = import_npy_fails(&empty, &three, &out, &[]);
    assert!(
        err.contains("cutouts of 3 bands × 0×5 pixels hold no pixels"),
        "{err}"
    );
    let flat = dir.join("flat.npy");
    write_npy(&flat, &[3, 60], &cutout_values(3)).unwrap();
    let err = import_npy_fails(&flat, &three, &out, &[]);
    assert!(
        err.contains("expected shape [n, bands, height, width], found [3, 60]"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_output_equal_to_an_input_is_refused() {
    let dir = scratch("npy-refused");
    write_npy(&dir.join("images.npy"), &[1, 3, 4, 5], &cutout_values(1)).unwrap();
    let cat = catalog(&dir, "id,z\na,1\n");
    let err = fails(&[
        "import-images",
        "--npy",
        s(&dir.join("images.npy")),
        "--catalog",
        s(&cat),
        "--out",
        s(&dir),
    ]);
    assert!(err.contains("is also the input --npy"), "{err}");
    // The catalogue as labels.csv of the output folder.
    let labels = dir.join("labels.csv");
    std::fs::copy(&cat, &labels).unwrap();
    let err = fails(&[
        "import-images",
        "--npy",
        s(&dir.join("images.npy")),
        "--catalog",
        s(&labels),
        "--out",
        s(&dir),
        "--overwrite",
    ]);
    assert!(err.contains("is also the input"), "{err}");
    assert_eq!(
        std::fs::read(&labels).unwrap(),
        std::fs::read(&cat).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_simulated_sdss_folder_reimported_gives_identical_images() {
    let dir = scratch("sdss-again");
    let sim = dir.join("sim");
    ok(&[
        "simulate",
        "--preset",
        "sdss",
        "-n",
        "20",
        "--out",
        s(&sim),
        "--seed",
        "3",
    ]);
    let out = dir.join("imported");
    let sim_labels = sim.join("labels.csv");
    import_npy(
        &sim.join("images.npy"),
        &sim_labels,
        &out,
        &["--bands", "u,g,r,i,z"],
    );
    let (before, after) = (npy(&sim.join("images.npy")), npy(&out.join("images.npy")));
    assert_eq!(after.shape, [20, 5, 64, 64]);
    assert_eq!(after, before);
    let labels = out.join("labels.csv");
    for name in ["id", "z", "ebv", "mag_u", "mag_z"] {
        assert_eq!(column(&labels, name), column(&sim_labels, name), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// --- FITS ----------------------------------------------------------------------------------

fn import_fits(
    folder: &Path,
    catalog: &Path,
    out: &Path,
    extra: &[&str],
) -> Result<String, String> {
    let mut args = vec![
        "import-images",
        "--fits-dir",
        s(folder),
        "--catalog",
        s(catalog),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    let run = support::zcnn(&args);
    let text = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(!text.contains("panicked"), "{text}");
    if run.status.success() {
        Ok(text)
    } else {
        assert!(
            !out.join("images.npy").exists(),
            "a failed import leaves no output"
        );
        Err(text)
    }
}

#[test]
fn fits_cubes_and_per_band_hdus_give_the_same_images() {
    let dir = scratch("fits-layouts");
    let expected = npy(&fixture("expected.npy"));
    assert_eq!(expected.shape, [3, 3, 6, 5]);
    for layout in ["cube", "bands"] {
        let out = dir.join(layout);
        import_fits(
            &fixture(layout),
            &fixture("catalog.csv"),
            &out,
            &["--bands", "g,r,i"],
        )
        .expect(layout);
        assert_eq!(npy(&out.join("images.npy")), expected, "{layout}");
        let labels = out.join("labels.csv");
        assert_eq!(
            csv_rows(&labels).0,
            [
                "index",
                "id",
                "z",
                "ebv",
                "mag_g",
                "magerr_g",
                "masked_fraction",
                "source_file"
            ]
        );
        assert_eq!(column(&labels, "id"), ["b", "a", "c"]);
        assert_eq!(column(&labels, "ebv"), ["0.01", "0.02", "0.03"]);
        assert_eq!(
            column(&labels, "source_file"),
            ["b.fits", "a.fits", "c.fits"]
        );
    }
    // Per-band files name their bands: without --bands those names are kept, in the first
    // file's HDU order (i, g, r), and every other file follows it.
    let out = dir.join("named");
    import_fits(&fixture("bands"), &fixture("catalog.csv"), &out, &[]).unwrap();
    let toml = std::fs::read_to_string(out.join("images.toml")).unwrap();
    assert!(toml.contains("bands = [\"i\", \"g\", \"r\"]"), "{toml}");
    let images = npy(&out.join("images.npy"));
    assert_eq!(images.data[..30], expected.data[60..90], "band i first");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// FITS files built card by card, for the cases no fixture covers.
mod build {
    pub fn card(text: &str) -> String {
        format!("{text:<80}")
    }

    pub fn kv(key: &str, value: &str) -> String {
        card(&format!("{key:<8}= {value:>20}"))
    }

    fn padded(mut bytes: Vec<u8>, fill: u8) -> Vec<u8> {
        bytes.resize(bytes.len().div_ceil(2880) * 2880, fill);
        bytes
    }

    /// An image HDU of `axes` (NAXIS1 first) holding `values` stored with `bitpix` (integers
    /// as given: the caller supplies BSCALE/BZERO cards), with `extra` cards.
    pub fn image(
        primary: bool,
        bitpix: i32,
        axes: &[usize],
        values: &[f64],
        extra: &[String],
    ) -> Vec<u8> {
        let mut cards = vec![if primary {
            kv("SIMPLE", "T")
        } else {
            card("XTENSION= 'IMAGE   '")
        }];
        cards.push(kv("BITPIX", &bitpix.to_string()));
        cards.push(kv("NAXIS", &axes.len().to_string()));
        for (i, n) in axes.iter().enumerate() {
            cards.push(kv(&format!("NAXIS{}", i + 1), &n.to_string()));
        }
        if !primary {
            cards.push(kv("PCOUNT", "0"));
            cards.push(kv("GCOUNT", "1"));
        }
        cards.extend_from_slice(extra);
        cards.push(card("END"));
        let mut bytes = padded(cards.concat().into_bytes(), b' ');
        let data: Vec<u8> = values
            .iter()
            .flat_map(|&v| match bitpix {
                8 => vec![v as u8],
                16 => (v as i16).to_be_bytes().to_vec(),
                32 => (v as i32).to_be_bytes().to_vec(),
                64 => (v as i64).to_be_bytes().to_vec(),
                -32 => (v as f32).to_be_bytes().to_vec(),
                _ => v.to_be_bytes().to_vec(),
            })
            .collect();
        bytes.extend(padded(data, 0));
        bytes
    }

    pub fn empty_primary() -> Vec<u8> {
        image(true, 8, &[], &[], &[])
    }

    /// A file of one 2-D image HDU per band after an empty primary, named by FILTER.
    pub fn per_band(planes: &[(&str, Vec<f64>)], width: usize, height: usize) -> Vec<u8> {
        let mut bytes = empty_primary();
        for (name, values) in planes {
            bytes.extend(image(
                false,
                -32,
                &[width, height],
                values,
                &[kv("FILTER", &format!("'{name}'"))],
            ));
        }
        bytes
    }
}

#[test]
fn fits_integer_encodings_and_blank_pixels() {
    use build::*;
    let values: Vec<f64> = (0..6).map(|v| v as f64).collect();
    for bitpix in [8, 16, 32, 64, -32, -64] {
        let scaled = [kv("BSCALE", "2.5"), kv("BZERO", "-1.0")];
        let bytes = image(true, bitpix, &[3, 2], &values, &scaled);
        let cutout = parse_fits_cutout(&bytes, "x.fits").expect("readable");
        assert_eq!((cutout.height, cutout.width, cutout.bands()), (2, 3, 1));
        let physical: Vec<f32> = values.iter().map(|v| (-1.0 + 2.5 * v) as f32).collect();
        assert_eq!(cutout.pixels, physical, "BITPIX {bitpix}");
    }
    let blank = image(true, 16, &[3, 2], &values, &[kv("BLANK", "4")]);
    let cutout = parse_fits_cutout(&blank, "x.fits").unwrap();
    assert!(cutout.pixels[4].is_nan() && cutout.pixels[3] == 3.0);
}

#[test]
fn fits_structure_errors_name_the_hdu() {
    use build::*;
    let plane = |v: f64| vec![v; 6];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            {
                let mut b = build::per_band(&[("g", plane(1.0))], 3, 2);
                b.extend(image(
                    false,
                    -32,
                    &[3, 3],
                    &[0.0; 9],
                    &[kv("FILTER", "'r'")],
                ));
                b
            },
            "x.fits: HDU 2: 3×3 pixels (height × width), but HDU 1 has 2×3",
        ),
        (
            {
                let mut b = build::per_band(&[("g", plane(1.0))], 3, 2);
                b.extend(image(false, -32, &[3, 2], &plane(2.0), &[]));
                b
            },
            "x.fits: HDU 1 names its band (g) but HDU 2 has no FILTER or BAND keyword",
        ),
        (
            build::per_band(&[("g", plane(1.0)), ("G", plane(2.0))], 3, 2),
            "x.fits: HDU 1 and HDU 2 are both band 'G'",
        ),
        (
            {
                let mut b = image(true, -32, &[3, 2, 2], &[0.0; 12], &[]);
                b.extend(image(false, -32, &[3, 2], &plane(0.0), &[]));
                b
            },
            "x.fits: HDU 0 is a 3-D cube, but there are other images (HDU 1)",
        ),
        (
            image(true, -32, &[6], &plane(0.0), &[]),
            "x.fits: HDU 0: an image with NAXIS = 1; a cutout is one 3-D image",
        ),
        (
            empty_primary(),
            "x.fits: no image HDU with data (found: HDU 0 (no data))",
        ),
        (
            image(true, -32, &[3, 2], &[0.0; 5], &[])[..2880 + 8].to_vec(),
            "x.fits: HDU 0: the data unit needs 24 bytes but only 8 remain",
        ),
    ];
    for (bytes, message) in cases {
        let err = parse_fits_cutout(&bytes, "x.fits").unwrap_err();
        assert!(
            err.starts_with(message),
            "expected '{message}', got '{err}'"
        );
    }
}

/// A folder holding a copy of the per-band fixtures plus `extra` files.
fn fits_folder(dir: &Path, extra: &[(&str, Vec<u8>)]) -> PathBuf {
    let folder = dir.join("fits");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    for id in ["a", "b", "c"] {
        let name = format!("{id}.fits");
        std::fs::copy(fixture(&format!("bands/{name}")), folder.join(&name)).unwrap();
    }
    for (name, bytes) in extra {
        std::fs::write(folder.join(name), bytes).unwrap();
    }
    folder
}

#[test]
fn fits_folder_errors_name_the_file_and_the_hdu() {
    use build::*;
    let dir = scratch("fits-errors");
    let out = dir.join("out");
    let plane = |v: f64| vec![v; 30];
    let with_d = catalog(&dir, "id,z\nb,0.1\na,0.2\nd,0.4\nc,0.3\n");
    let bands = ["--bands", "g,r,i"];
    let run = |extra: &[(&str, Vec<u8>)], flags: &[&str]| {
        let folder = fits_folder(&dir, extra);
        import_fits(&folder, &with_d, &out, flags)
    };

    let err = run(&[], &bands).unwrap_err();
    assert!(
        err.contains("no FITS file (id.fits, .fit or .fts) in")
            && err.contains("for 1 of 4 ids: d"),
        "{err}"
    );

    let two_bands = per_band(&[("g", plane(1.0)), ("r", plane(2.0))], 5, 6);
    let err = run(&[("d.fits", two_bands)], &bands).unwrap_err();
    assert!(
        err.contains("d.fits: 2 bands (HDUs 1, 2), but 3 are expected (g, r, i)"),
        "{err}"
    );

    let other_band = per_band(
        &[("g", plane(1.0)), ("r", plane(2.0)), ("z", plane(3.0))],
        5,
        6,
    );
    let err = run(&[("d.fits", other_band)], &bands).unwrap_err();
    assert!(
        err.contains("d.fits: no HDU of band 'i' (the FILTER/BAND keywords name: g, r, z)"),
        "{err}"
    );

    let small = image(true, -32, &[4, 6, 3], &[0.0; 72], &[]);
    let err = run(&[("d.fits", small)], &bands).unwrap_err();
    assert!(
        err.contains("d.fits: HDU 0: 6×4 pixels (height × width), but")
            && err.contains("b.fits has 6×5"),
        "{err}"
    );

    let mut nan = plane(1.0);
    nan[7] = f64::NAN;
    nan[9] = f64::NAN;
    let with_nan = per_band(&[("i", plane(3.0)), ("g", plane(1.0)), ("r", nan)], 5, 6);
    let err = run(&[("d.fits", with_nan.clone())], &bands).unwrap_err();
    assert!(
        err.contains(
            "d.fits: HDU 3 (band r): 2 of 90 pixels are not finite (the first, NaN, at y = 1, x = 2); \
             pass --nonfinite mask"
        ),
        "{err}"
    );
    let unlisted = per_band(&[("g", plane(1.0))], 5, 6);
    let text = run(
        &[("d.fits", with_nan), ("e.fits", unlisted)],
        &["--bands", "g,r,i", "--nonfinite", "mask"],
    )
    .expect("masked");
    assert!(
        text.contains("note: 1 FITS files in") && text.contains("have no catalogue row"),
        "{text}"
    );
    let fractions = column(&out.join("labels.csv"), "masked_fraction");
    assert_eq!(fractions, ["0", "0", &(2.0f64 / 90.0).to_string(), "0"]);
    let images = npy(&out.join("images.npy"));
    let d = &images.data[2 * 90..3 * 90];
    assert_eq!(
        (d[30 + 7], d[30 + 9], d[30 + 8], d[0]),
        (0.0, 0.0, 1.0, 1.0)
    );
    std::fs::remove_dir_all(&out).unwrap();

    let valid = per_band(
        &[("g", plane(1.0)), ("r", plane(2.0)), ("i", plane(3.0))],
        5,
        6,
    );
    let err = run(
        &[("d.fits", valid.clone()), ("d.fit", valid.clone())],
        &bands,
    )
    .unwrap_err();
    assert!(
        err.contains("have the same id 'd' (ids are file stems)"),
        "{err}"
    );

    let broken = valid[..2 * 2880 + 50].to_vec();
    let err = run(&[("d.fits", broken)], &bands).unwrap_err();
    assert!(
        err.contains("d.fits: HDU 1: the data unit needs 120 bytes but only 50 remain"),
        "{err}"
    );

    let duplicate = catalog(&dir, "id,z\nb,0.1\na,0.2\nb,0.4\n");
    let err = import_fits(&fits_folder(&dir, &[]), &duplicate, &out, &bands).unwrap_err();
    assert!(
        err.contains("row 3: id 'b' repeats row 1 (ids must be unique)"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
