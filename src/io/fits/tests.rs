//! FITS files built in memory (cards and big-endian data written out by hand), so that every
//! layout and every error path has a test.

use super::*;
use std::path::Path;

/// One 80-character card.
fn card(text: &str) -> String {
    assert!(text.len() <= 80, "card too long: {text}");
    format!("{text:<80}")
}

/// `KEY     = value` with the value right-aligned in columns 11–30 (FITS fixed format).
fn kv(key: &str, value: &str) -> String {
    card(&format!("{key:<8}= {value:>20}"))
}

/// A header unit: the cards, END, padded with spaces to 2880 bytes.
fn header(cards: &[String]) -> Vec<u8> {
    let mut text: String = cards.concat();
    text.push_str(&card("END"));
    let mut bytes = text.into_bytes();
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    bytes
}

/// A data unit padded with zeros to 2880 bytes.
fn data(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.resize(bytes.len().div_ceil(2880) * 2880, 0);
    bytes
}

fn primary_empty() -> Vec<u8> {
    header(&[kv("SIMPLE", "T"), kv("BITPIX", "8"), kv("NAXIS", "0")])
}

/// A primary 1D float image with extra cards.
fn image_1d(values: &[f32], extra: &[String]) -> Vec<u8> {
    let mut cards = vec![
        kv("SIMPLE", "T"),
        kv("BITPIX", "-32"),
        kv("NAXIS", "1"),
        kv("NAXIS1", &values.len().to_string()),
    ];
    cards.extend_from_slice(extra);
    let mut bytes = header(&cards);
    bytes.extend(data(values.iter().flat_map(|v| v.to_be_bytes()).collect()));
    bytes
}

/// A column of a binary table: name, TFORM type letter and one value per row.
struct Col<'a> {
    name: &'a str,
    kind: char,
    values: &'a [f64],
}

fn col<'a>(name: &'a str, kind: char, values: &'a [f64]) -> Col<'a> {
    Col { name, kind, values }
}

fn encode(kind: char, v: f64) -> Vec<u8> {
    match kind {
        'E' => (v as f32).to_be_bytes().to_vec(),
        'D' => v.to_be_bytes().to_vec(),
        'I' => (v as i16).to_be_bytes().to_vec(),
        'J' => (v as i32).to_be_bytes().to_vec(),
        'K' => (v as i64).to_be_bytes().to_vec(),
        other => panic!("no encoder for {other}"),
    }
}

/// A BINTABLE extension, one row per value, with extra header cards.
fn table(columns: &[Col], extra: &[String]) -> Vec<u8> {
    let rows = columns[0].values.len();
    let width: usize = columns.iter().map(|c| encode(c.kind, 0.0).len()).sum();
    let mut cards = vec![
        card("XTENSION= 'BINTABLE'"),
        kv("BITPIX", "8"),
        kv("NAXIS", "2"),
        kv("NAXIS1", &width.to_string()),
        kv("NAXIS2", &rows.to_string()),
        kv("PCOUNT", "0"),
        kv("GCOUNT", "1"),
        kv("TFIELDS", &columns.len().to_string()),
    ];
    for (i, c) in columns.iter().enumerate() {
        cards.push(card(&format!("TTYPE{:<3}= '{}'", i + 1, c.name)));
        cards.push(card(&format!("TFORM{:<3}= '{}'", i + 1, c.kind)));
    }
    cards.extend_from_slice(extra);
    let mut body = Vec::new();
    for row in 0..rows {
        for c in columns {
            body.extend(encode(c.kind, c.values[row]));
        }
    }
    let mut bytes = header(&cards);
    bytes.extend(data(body));
    bytes
}

fn with_extname(name: &str) -> Vec<String> {
    vec![card(&format!("EXTNAME = '{name}'"))]
}

/// An SDSS-like file: empty primary, a `COADD` table of flux, loglam, ivar and and_mask.
fn sdss_like(flux: &[f64], ivar: &[f64], mask: &[f64]) -> Vec<u8> {
    let loglam: Vec<f64> = (0..flux.len()).map(|i| 3.6 + 1e-4 * i as f64).collect();
    let mut bytes = primary_empty();
    bytes.extend(table(
        &[
            col("flux", 'E', flux),
            col("loglam", 'E', &loglam),
            col("ivar", 'E', ivar),
            col("and_mask", 'J', mask),
        ],
        &with_extname("COADD"),
    ));
    bytes
}

fn parse(bytes: &[u8]) -> Result<FitsSpectrum, String> {
    parse_fits_spectrum(bytes, "spec.fits", &FitsOptions::default())
}

fn masked(bytes: &[u8]) -> Result<FitsSpectrum, String> {
    let options = FitsOptions {
        mask_nonfinite: true,
        ..FitsOptions::default()
    };
    parse_fits_spectrum(bytes, "spec.fits", &options)
}

fn error(bytes: &[u8]) -> String {
    parse(bytes).expect_err("the file is invalid")
}

fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "'{part}' missing from: {text}");
    }
}

#[test]
fn an_sdss_like_table_gives_log_wavelengths_ivar_and_mask() {
    let bytes = sdss_like(
        &[1.0, 2.0, 3.0, 4.0],
        &[1.0, 0.0, 2.0, 1.0],
        &[0.0, 0.0, 0.0, 16.0],
    );
    let s = parse(&bytes).expect("valid");
    for (i, l) in s.lambda.iter().enumerate() {
        let expected = 10f64.powf(f64::from((3.6 + 1e-4 * i as f64) as f32));
        assert!((l - expected).abs() < 1e-9 * expected, "{l} vs {expected}");
    }
    assert_eq!(s.flux, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(s.ivar, Some(vec![1.0, 0.0, 2.0, 1.0]));
    assert_eq!(s.bad, Some(vec![false, false, false, true]));
    assert_eq!(s.bad_pixels(), vec![false, true, false, true]);
    assert_eq!(s.good_points().1, vec![1.0, 3.0]);
}

#[test]
fn nan_flux_is_rejected_unless_masking_is_asked_for() {
    let bytes = sdss_like(&[1.0, f64::NAN, 3.0], &[1.0; 3], &[0.0; 3]);
    assert_contains(
        &error(&bytes),
        &[
            "spec.fits: HDU 1 (COADD): column 'flux': pixel 1 is NaN",
            "--nonfinite mask",
        ],
    );
    let s = masked(&bytes).expect("masking asked for");
    assert_eq!(s.bad_pixels(), vec![false, true, false]);
    let bytes = sdss_like(&[1.0; 3], &[1.0, f64::INFINITY, 1.0], &[0.0; 3]);
    assert_contains(&error(&bytes), &["column 'ivar': pixel 1 is inf"]);
}

#[test]
fn columns_are_found_case_insensitively_with_linear_units_and_tzero() {
    let mut bytes = primary_empty();
    bytes.extend(table(
        &[
            col("WAVELENGTH", 'D', &[500.0, 501.0, 502.0]),
            col("Flux", 'D', &[1.0, 2.0, 3.0]),
            col("MASK", 'I', &[5.0, 4.0, 5.0]),
        ],
        &[card("TUNIT1  = 'nm'"), kv("TZERO3", "-5")],
    ));
    let s = parse(&bytes).expect("valid");
    assert_eq!(s.lambda, vec![5000.0, 5010.0, 5020.0]);
    assert_eq!(s.bad, Some(vec![false, true, false]));
    assert_eq!(s.ivar, None);
}

#[test]
fn a_named_hdu_is_read_and_a_missing_name_lists_the_hdus() {
    let mut bytes = sdss_like(&[9.0, 9.0], &[1.0; 2], &[0.0; 2]);
    bytes.extend(table(
        &[
            col("flux", 'E', &[1.0, 2.0]),
            col("wave", 'E', &[10.0, 20.0]),
        ],
        &with_extname("OTHER"),
    ));
    let options = |name: &str| FitsOptions {
        hdu: Some(name.into()),
        ..FitsOptions::default()
    };
    let s = parse_fits_spectrum(&bytes, "f.fits", &options("other")).expect("named");
    assert_eq!(s.flux, vec![1.0, 2.0]);
    let err = parse_fits_spectrum(&bytes, "f.fits", &options("SPZLINE")).expect_err("absent");
    assert_contains(
        &err,
        &["f.fits: no HDU named 'SPZLINE' (found: HDU 0, HDU 1 (COADD), HDU 2 (OTHER))"],
    );
}

#[test]
fn vector_cells_are_read_row_after_row() {
    let mut cards = vec![
        card("XTENSION= 'BINTABLE'"),
        kv("BITPIX", "8"),
        kv("NAXIS", "2"),
        kv("NAXIS1", "24"),
        kv("NAXIS2", "1"),
        kv("PCOUNT", "0"),
        kv("GCOUNT", "1"),
        kv("TFIELDS", "2"),
    ];
    cards.extend([
        card("TTYPE1  = 'WAVE'"),
        card("TFORM1  = '3E'"),
        card("TTYPE2  = 'FLUX'"),
        card("TFORM2  = '3E'"),
    ]);
    let values: Vec<u8> = [100f32, 200.0, 300.0, 1.0, 2.0, 3.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let mut bytes = primary_empty();
    bytes.extend(header(&cards));
    bytes.extend(data(values));
    let s = parse(&bytes).expect("valid");
    assert_eq!(s.lambda, vec![100.0, 200.0, 300.0]);
    assert_eq!(s.flux, vec![1.0, 2.0, 3.0]);
}

#[test]
fn a_linear_image_uses_crval_cdelt_crpix_and_cunit() {
    let wcs = [
        kv("CRVAL1", "6000.0"),
        kv("CDELT1", "2.0"),
        kv("CRPIX1", "2.0"),
    ];
    let s = parse(&image_1d(&[1.0, 2.0, 3.0], &wcs)).expect("valid");
    assert_eq!(s.lambda, vec![5998.0, 6000.0, 6002.0]);
    assert_eq!(s.flux, vec![1.0, 2.0, 3.0]);
    let cd = [
        kv("CRVAL1", "600.0"),
        kv("CD1_1", "0.5"),
        card("CUNIT1  = 'nm'"),
    ];
    let s = parse(&image_1d(&[1.0, 2.0], &cd)).expect("valid");
    assert_eq!(s.lambda, vec![6000.0, 6005.0]);
}

#[test]
fn log_images_follow_sdss_iraf_and_wave_log() {
    let sdss = [kv("COEFF0", "3.5"), kv("COEFF1", "0.0001")];
    let s = parse(&image_1d(&[1.0, 1.0], &sdss)).expect("valid");
    assert!((s.lambda[1] - 10f64.powf(3.5001)).abs() < 1e-9);
    let iraf = [
        kv("CRVAL1", "3.5"),
        kv("CDELT1", "0.001"),
        kv("DC-FLAG", "1"),
    ];
    let s = parse(&image_1d(&[1.0, 1.0], &iraf)).expect("valid");
    assert!((s.lambda[1] - 10f64.powf(3.501)).abs() < 1e-9);
    let wave_log = [
        kv("CRVAL1", "5000.0"),
        kv("CDELT1", "10.0"),
        card("CTYPE1  = 'WAVE-LOG'"),
    ];
    let s = parse(&image_1d(&[1.0, 1.0], &wave_log)).expect("valid");
    assert_eq!(s.lambda[0], 5000.0);
    assert!((s.lambda[1] - 5000.0 * (10.0f64 / 5000.0).exp()).abs() < 1e-9);
}

#[test]
fn a_two_dimensional_image_gives_its_first_row_with_bscale_and_blank() {
    let mut cards = vec![
        kv("SIMPLE", "T"),
        kv("BITPIX", "16"),
        kv("NAXIS", "2"),
        kv("NAXIS1", "3"),
        kv("NAXIS2", "2"),
        kv("CRVAL1", "100.0"),
        kv("CDELT1", "1.0"),
        kv("BSCALE", "2.0"),
        kv("BZERO", "1.0"),
    ];
    cards.push(kv("BLANK", "-1"));
    let values: Vec<u8> = [1i16, -1, 3, 7, 7, 7]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let mut bytes = header(&cards);
    bytes.extend(data(values));
    let s = masked(&bytes).expect("valid");
    assert_eq!(s.lambda, vec![100.0, 101.0, 102.0]);
    assert_eq!(s.flux[0], 3.0);
    assert!(s.flux[1].is_nan());
    assert_eq!(s.flux[2], 7.0);
    assert_contains(
        &error(&bytes),
        &["spec.fits: HDU 0: the image: pixel 1 is NaN"],
    );
}

#[test]
fn structural_errors_name_the_hdu_and_keyword() {
    assert_contains(&error(b""), &["spec.fits: empty file"]);
    assert_contains(
        &error(&[b'x'; 2880]),
        &["HDU 0: the first card is not SIMPLE = T"],
    );
    let good = sdss_like(&[1.0, 2.0], &[1.0; 2], &[0.0; 2]);
    assert_contains(
        &error(&good[..2880 + 800]),
        &["HDU 1: the header has no END card"],
    );
    assert_contains(
        &error(&good[..2880 * 2 + 10]),
        &["HDU 1: the data unit needs 32 bytes but only 10 remain"],
    );
    let mut trailing = good.clone();
    trailing.extend([b'A'; 2880]);
    assert_contains(
        &error(&trailing),
        &["HDU 2: the header does not start with XTENSION"],
    );
    let lone = header(&[kv("SIMPLE", "T"), card("OBJECT  = '"), kv("BITPIX", "8")]);
    assert_contains(
        &error(&lone),
        &["HDU 0: card 2: a string value that is a lone quote"],
    );
    let huge = header(&[
        kv("SIMPLE", "T"),
        kv("BITPIX", "-64"),
        kv("NAXIS", "2"),
        kv("NAXIS1", "4294967296"),
        kv("NAXIS2", "4294967296"),
    ]);
    assert_contains(&error(&huge), &["HDU 0: the data size overflows"]);
    let naxis = header(&[kv("SIMPLE", "T"), kv("BITPIX", "8"), kv("NAXIS", "1000")]);
    assert_contains(&error(&naxis), &["HDU 0: NAXIS = 1000; expected 0..=999"]);
    let bitpix = header(&[kv("SIMPLE", "T"), kv("BITPIX", "12"), kv("NAXIS", "0")]);
    assert_contains(&error(&bitpix), &["HDU 0: BITPIX = 12"]);
    let no_axis = header(&[kv("SIMPLE", "T"), kv("BITPIX", "8"), kv("NAXIS", "1")]);
    assert_contains(&error(&no_axis), &["HDU 0: no NAXIS1 keyword (NAXIS = 1)"]);
    assert_contains(
        &error(&primary_empty()),
        &["no image or binary table with data (found: HDU 0)"],
    );
}

/// A table header with these TFIELDS/TFORM cards after the mandatory ones.
fn table_header(naxis1: &str, cards: &[String]) -> Vec<u8> {
    let mut all = vec![
        card("XTENSION= 'BINTABLE'"),
        kv("BITPIX", "8"),
        kv("NAXIS", "2"),
        kv("NAXIS1", naxis1),
        kv("NAXIS2", "0"),
        kv("PCOUNT", "0"),
        kv("GCOUNT", "1"),
    ];
    all.extend_from_slice(cards);
    let mut bytes = primary_empty();
    bytes.extend(header(&all));
    bytes
}

#[test]
fn table_keywords_are_checked_before_fitsrs_sees_them() {
    let many = table_header("0", &[kv("TFIELDS", "1000000000000")]);
    assert_contains(
        &error(&many),
        &["HDU 1: TFIELDS = 1000000000000; expected 0..=999"],
    );
    let znaxis = table_header("0", &[kv("TFIELDS", "0"), kv("ZNAXIS", "99999999999")]);
    assert_contains(&error(&znaxis), &["HDU 1: ZNAXIS = 99999999999"]);
    let missing = table_header("4", &[kv("TFIELDS", "1")]);
    assert_contains(
        &error(&missing),
        &["HDU 1: no TFORM1 string keyword (TFIELDS = 1)"],
    );
    let bad_form = table_header("4", &[kv("TFIELDS", "1"), card("TFORM1  = '1Z'")]);
    assert_contains(
        &error(&bad_form),
        &["HDU 1: TFORM1 = '1Z': unknown type letter 'Z'"],
    );
    let overflow = table_header(
        "4",
        &[
            kv("TFIELDS", "1"),
            card("TFORM1  = '99999999999999999999E'"),
        ],
    );
    assert_contains(
        &error(&overflow),
        &["TFORM1 = '99999999999999999999E': repeat count"],
    );
    let width = table_header("5", &[kv("TFIELDS", "1"), card("TFORM1  = 'E'")]);
    assert_contains(
        &error(&width),
        &["HDU 1: NAXIS1 = 5 but the TFORMn columns add up to 4 bytes per row"],
    );
}

#[test]
fn column_errors_list_what_was_found() {
    let no_flux = {
        let mut b = primary_empty();
        b.extend(table(
            &[col("wave", 'E', &[1.0, 2.0]), col("sky", 'E', &[1.0, 2.0])],
            &[],
        ));
        b
    };
    assert_contains(
        &error(&no_flux),
        &["spec.fits: HDU 1: no 'flux' column (columns: wave, sky)"],
    );
    let no_wave = {
        let mut b = primary_empty();
        b.extend(table(&[col("flux", 'E', &[1.0, 2.0])], &[]));
        b
    };
    assert_contains(
        &error(&no_wave),
        &["no wavelength ('loglam', 'wave', 'wavelength', 'lambda') column"],
    );
    let int_flux = {
        let mut b = primary_empty();
        b.extend(table(
            &[col("flux", 'J', &[1.0, 2.0]), col("wave", 'E', &[1.0, 2.0])],
            &[],
        ));
        b
    };
    assert_contains(
        &error(&int_flux),
        &["column 'flux' has TFORM1 = 'J'; expected one of the types ED"],
    );
    let unit = {
        let mut b = primary_empty();
        b.extend(table(
            &[col("flux", 'E', &[1.0, 2.0]), col("wave", 'E', &[1.0, 2.0])],
            &[card("TUNIT2  = 'furlong'")],
        ));
        b
    };
    assert_contains(
        &error(&unit),
        &["TUNIT2 = 'furlong': unknown wavelength unit"],
    );
    let empty = table_header(
        "4",
        &[
            kv("TFIELDS", "2"),
            card("TTYPE1  = 'flux'"),
            card("TFORM1  = 'E'"),
            card("TTYPE2  = 'wave'"),
            card("TFORM2  = '0E'"),
        ],
    );
    assert_contains(&error(&empty), &["column 'wave' has TFORM2 = '0E'"]);
}

#[test]
fn wavelength_and_length_errors_name_the_pixel() {
    let decreasing = {
        let mut b = primary_empty();
        b.extend(table(
            &[
                col("flux", 'E', &[1.0; 3]),
                col("wave", 'E', &[1.0, 3.0, 2.0]),
            ],
            &with_extname("SPEC"),
        ));
        b
    };
    assert_contains(
        &error(&decreasing),
        &["spec.fits: HDU 1 (SPEC): column 'wave': wavelength 2 Å at pixel 2 is not greater than 3 Å at pixel 1"],
    );
    let nan = {
        let mut b = primary_empty();
        b.extend(table(
            &[
                col("flux", 'E', &[1.0; 2]),
                col("wave", 'E', &[f64::NAN, 3.0]),
            ],
            &[],
        ));
        b
    };
    assert_contains(
        &masked(&nan).expect_err("NaN λ"),
        &["column 'wave': wavelength NaN Å at pixel 0"],
    );
    let single = image_1d(&[1.0], &[kv("CRVAL1", "1.0"), kv("CDELT1", "1.0")]);
    assert_contains(
        &error(&single),
        &["HDU 0: the image: 1 pixels; a spectrum needs at least 2"],
    );
}

#[test]
fn image_header_errors_name_the_keyword() {
    assert_contains(
        &error(&image_1d(&[1.0, 2.0], &[])),
        &["HDU 0: no wavelengths: neither COEFF0/COEFF1 nor CRVAL1"],
    );
    assert_contains(
        &error(&image_1d(&[1.0, 2.0], &[kv("CRVAL1", "1.0")])),
        &["CRVAL1 without CDELT1 or CD1_1"],
    );
    let freq = [
        kv("CRVAL1", "1.0"),
        kv("CDELT1", "1.0"),
        card("CTYPE1  = 'FREQ'"),
    ];
    assert_contains(
        &error(&image_1d(&[1.0, 2.0], &freq)),
        &["CTYPE1 = 'FREQ' is not a wavelength axis"],
    );
    let text = [card("CRVAL1  = 'abc'"), kv("CDELT1", "1.0")];
    assert_contains(
        &error(&image_1d(&[1.0, 2.0], &text)),
        &["keyword CRVAL1 is not a number"],
    );
    let cube = header(&[
        kv("SIMPLE", "T"),
        kv("BITPIX", "8"),
        kv("NAXIS", "3"),
        kv("NAXIS1", "1"),
        kv("NAXIS2", "1"),
        kv("NAXIS3", "1"),
    ]);
    let mut cube = cube;
    cube.extend(data(vec![0]));
    assert_contains(&error(&cube), &["HDU 0: an image with NAXIS = 3"]);
}

#[test]
fn the_walk_finds_the_next_hdu_where_fitsrs_does() {
    // fitsrs skips NAXIS1 · NAXIS2 bytes after an ASCII table, ignoring PCOUNT; the check must
    // therefore see the lone-quote header that follows, not skip it as a heap.
    let mut bytes = primary_empty();
    bytes.extend(header(&[
        card("XTENSION= 'TABLE'"),
        kv("BITPIX", "8"),
        kv("NAXIS", "2"),
        kv("NAXIS1", "0"),
        kv("NAXIS2", "0"),
        kv("PCOUNT", "2880"),
        kv("GCOUNT", "1"),
        kv("TFIELDS", "0"),
    ]));
    bytes.extend(header(&[card("XTENSION= '")]));
    assert_contains(
        &masked(&bytes).unwrap_err(),
        &["HDU 2: card 1: a string value that is a lone quote"],
    );
}

/// Every prefix and many one-byte corruptions of valid files give a result, never a panic.
#[test]
fn truncated_and_corrupted_files_never_panic() {
    let files = [
        sdss_like(&[1.0, 2.0, 3.0], &[1.0, 0.0, 1.0], &[0.0, 1.0, 0.0]),
        image_1d(&[1.0, 2.0], &[kv("CRVAL1", "1.0"), kv("CDELT1", "1.0")]),
    ];
    for file in &files {
        for end in (0..file.len()).step_by(7) {
            let _ = masked(&file[..end]);
        }
        for position in (0..file.len()).step_by(3) {
            for byte in [b'\'', b'0', b'9', b'=', b' ', 0x80] {
                let mut corrupt = file.clone();
                corrupt[position] = byte;
                let _ = masked(&corrupt);
            }
        }
    }
}

/// The astropy-written files of tests/data/fits (scripts/make_fits_fixtures.py).
fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fits")
        .join(name)
}

#[test]
fn the_astropy_fixtures_read_as_written() {
    let nan = fixture("spec-0001-51000-0001.fits");
    let err = read_fits_spectrum(&nan, &FitsOptions::default()).expect_err("a NaN flux");
    assert_contains(
        &err,
        &["spec-0001-51000-0001.fits: HDU 1 (COADD): column 'flux': pixel 700 is NaN"],
    );
    let options = FitsOptions {
        mask_nonfinite: true,
        ..FitsOptions::default()
    };
    let s = read_fits_spectrum(&nan, &options).expect("masked");
    assert_eq!(s.flux.len(), 1000);
    let bad: Vec<usize> = (0..1000).filter(|&i| s.bad_pixels()[i]).collect();
    assert_eq!(bad, vec![100, 101, 102, 103, 500, 501, 502, 700]);
    assert!((s.lambda[0] - 10f64.powf(4.03)).abs() < 0.01);

    let linear = read_fits_spectrum(&fixture("image_linear.fits"), &FitsOptions::default())
        .expect("linear image");
    assert_eq!((linear.lambda[0], linear.lambda[949]), (10_900.0, 20_390.0));
    let log = read_fits_spectrum(&fixture("image_loglam.fits"), &FitsOptions::default())
        .expect("log image");
    assert_eq!(log.flux.len(), 900);
    assert!((log.lambda[899] / 10f64.powf(4.035 + 3.3e-4 * 899.0) - 1.0).abs() < 1e-12);
    let peak = (0..900)
        .max_by(|&a, &b| log.flux[a].total_cmp(&log.flux[b]))
        .unwrap();
    assert!(
        (log.lambda[peak] - 13_000.0).abs() < 15.0,
        "line at {}",
        log.lambda[peak]
    );

    let template = read_fits_spectrum(&fixture("template.fits"), &options).expect("template");
    let (lambda, flux) = template.good_points();
    assert_eq!((lambda.len(), flux.len()), (599, 599));
}
