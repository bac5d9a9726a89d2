//! Reader of ASCII `.sed` files: a rest-frame spectral energy distribution as two
//! whitespace-separated columns, wavelength λ \[Å\] and f_λ (any units). Lines whose first
//! non-blank character is `#` are comments; blank lines are skipped. Wavelengths must be finite,
//! non-negative and strictly increasing; fluxes finite. A row that exactly repeats the previous
//! one (same λ, same f_λ) is skipped: LePhare's COSMOS templates repeat their 10 000 Å row.
//! Every error names the file and the line.
//!
//! A template folder may also hold FITS spectra (`.fits`, `.fit`, `.fts`; read by
//! [`crate::io::fits`] with the feature `cli`): their bad pixels (ivar ≤ 0, NaN, masked) are
//! dropped from the points.

use std::path::{Path, PathBuf};

/// A tabulated SED: `lambda` \[Å\] strictly increasing, `flux` the f_λ at each wavelength.
#[derive(Clone, Debug, PartialEq)]
pub struct SedPoints {
    pub lambda: Vec<f64>,
    pub flux: Vec<f64>,
}

/// Parses the text of a `.sed` file; `source` names it in error messages
/// (`"{source}:{line}: {what is wrong}"`).
pub fn parse_sed(text: &str, source: &str) -> Result<SedPoints, String> {
    parse_two_columns(text, source, "flux")
}

/// [`parse_sed`] for any two-column table of wavelength \[Å\] and one value per wavelength
/// (e.g. a filter's throughput), whose column `value_name` names in error messages.
pub fn parse_two_columns(text: &str, source: &str, value_name: &str) -> Result<SedPoints, String> {
    let mut points = SedPoints {
        lambda: Vec::new(),
        flux: Vec::new(),
    };
    let mut previous_line = 0;
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (lambda, flux) = parse_data_line(line, value_name)
            .map_err(|what| format!("{source}:{line_number}: {what}"))?;
        if let (Some(&last), Some(&last_flux)) = (points.lambda.last(), points.flux.last()) {
            if lambda == last && flux == last_flux {
                continue;
            }
            if lambda <= last {
                return Err(format!(
                    "{source}:{line_number}: wavelength {lambda} is not greater than the \
                     previous one ({last} on line {previous_line}); wavelengths must increase"
                ));
            }
        }
        points.lambda.push(lambda);
        points.flux.push(flux);
        previous_line = line_number;
    }
    match points.lambda.len() {
        0 => Err(format!(
            "{source}: no data lines (the file is empty or only comments)"
        )),
        1 => Err(format!(
            "{source}: only one data line; an SED needs at least two wavelengths"
        )),
        _ => Ok(points),
    }
}

/// Splits one data line into (λ, f_λ), or says what is wrong with it.
fn parse_data_line(line: &str, value_name: &str) -> Result<(f64, f64), String> {
    let columns: Vec<&str> = line.split_whitespace().collect();
    if columns.len() != 2 {
        return Err(format!(
            "expected 2 columns (wavelength and {value_name}), found {}: '{line}'",
            columns.len()
        ));
    }
    let lambda = parse_number(columns[0], "wavelength")?;
    let flux = parse_number(columns[1], value_name)?;
    if lambda < 0.0 {
        return Err(format!("wavelength {lambda} is negative"));
    }
    Ok((lambda, flux))
}

/// Parses a finite number; `what` names the column in the error.
fn parse_number(text: &str, what: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{what} '{text}' is not a number"))?;
    if !value.is_finite() {
        return Err(format!("{what} '{text}' is not finite (NaN or infinity)"));
    }
    Ok(value)
}

/// Reads and parses one `.sed` file.
pub fn read_sed_file(path: &Path) -> Result<SedPoints, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_sed(&text, &path.display().to_string())
}

/// Reads every `*.sed` and FITS file of a folder (not recursively), sorted by file name, as
/// `(file path, points)`. A folder without such files is an error.
pub fn read_sed_dir(dir: &Path) -> Result<Vec<(PathBuf, SedPoints)>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read the folder: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("{}: cannot list the folder: {e}", dir.display()))?
            .path();
        if path.is_file() && (path.extension().is_some_and(|ext| ext == "sed") || is_fits(&path)) {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(format!(
            "{}: no .sed or .fits files in this folder",
            dir.display()
        ));
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let points = if is_fits(&path) {
                read_fits_template(&path)
            } else {
                read_sed_file(&path)
            };
            points.map(|points| (path, points))
        })
        .collect()
}

/// File extensions of FITS spectra and templates (compared without regard to case).
pub const FITS_EXTENSIONS: [&str; 3] = ["fits", "fit", "fts"];

/// Whether `path` ends in one of [`FITS_EXTENSIONS`].
pub fn is_fits(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| FITS_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The good pixels of a FITS spectrum as template points.
#[cfg(feature = "cli")]
fn read_fits_template(path: &Path) -> Result<SedPoints, String> {
    let options = crate::io::fits::FitsOptions {
        mask_nonfinite: true,
        ..Default::default()
    };
    let (lambda, flux) = crate::io::fits::read_fits_spectrum(path, &options)?.good_points();
    if lambda.len() < 2 {
        return Err(format!(
            "{}: {} good pixels; a template needs at least two",
            path.display(),
            lambda.len()
        ));
    }
    Ok(SedPoints { lambda, flux })
}

#[cfg(not(feature = "cli"))]
fn read_fits_template(path: &Path) -> Result<SedPoints, String> {
    Err(format!(
        "{}: FITS templates need zcnn built with the feature \"cli\"",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        parse_sed(text, "gal.sed").expect_err("the text is invalid")
    }

    #[test]
    fn parses_comments_blank_lines_and_exponents() {
        let text = "# header\n\n  1000  1e-3\n# middle comment\n2000.5\t2.5E-3\n   \n3000 0\n";
        let points = parse_sed(text, "gal.sed").expect("valid");
        assert_eq!(points.lambda, vec![1000.0, 2000.5, 3000.0]);
        assert_eq!(points.flux, vec![1e-3, 2.5e-3, 0.0]);
    }

    #[test]
    fn non_numeric_values_name_the_file_line_and_column() {
        assert_eq!(
            error_of("# c\n1000 1\n2000 abc\n"),
            "gal.sed:3: flux 'abc' is not a number"
        );
        assert_eq!(
            error_of("1000x 1\n"),
            "gal.sed:1: wavelength '1000x' is not a number"
        );
    }

    #[test]
    fn a_single_column_is_reported() {
        assert_eq!(
            error_of("1000 1\n2000\n"),
            "gal.sed:2: expected 2 columns (wavelength and flux), found 1: '2000'"
        );
        assert!(error_of("1000 1 7\n").starts_with("gal.sed:1: expected 2 columns"));
    }

    #[test]
    fn non_increasing_wavelengths_are_reported() {
        assert_eq!(
            error_of("1000 1\n\n2000 1\n2000 3\n"),
            "gal.sed:4: wavelength 2000 is not greater than the previous one (2000 on line 3); \
             wavelengths must increase"
        );
        assert!(error_of("1000 1\n900 1\n").starts_with("gal.sed:2: wavelength 900"));
    }

    #[test]
    fn an_exactly_repeated_row_is_skipped() {
        let points = parse_sed("1000 1\n2000 2\n2000 2\n3000 3\n", "gal.sed").expect("valid");
        assert_eq!(points.lambda, vec![1000.0, 2000.0, 3000.0]);
    }

    #[test]
    fn nan_and_infinity_are_reported() {
        assert_eq!(
            error_of("1000 1\n2000 NaN\n"),
            "gal.sed:2: flux 'NaN' is not finite (NaN or infinity)"
        );
        assert_eq!(
            error_of("inf 1\n"),
            "gal.sed:1: wavelength 'inf' is not finite (NaN or infinity)"
        );
    }

    #[test]
    fn negative_wavelengths_are_reported() {
        assert_eq!(error_of("-5 1\n"), "gal.sed:1: wavelength -5 is negative");
    }

    #[test]
    fn empty_and_one_line_files_are_reported() {
        assert_eq!(
            error_of(""),
            "gal.sed: no data lines (the file is empty or only comments)"
        );
        assert_eq!(error_of("# only\n\n"), error_of(""));
        assert_eq!(
            error_of("1000 1\n"),
            "gal.sed: only one data line; an SED needs at least two wavelengths"
        );
    }

    #[test]
    fn folder_errors_name_the_folder_and_the_file() {
        let dir = std::env::temp_dir().join(format!("zcnn-sed-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let empty = read_sed_dir(&dir).expect_err("no .sed files");
        assert!(
            empty.ends_with("no .sed or .fits files in this folder"),
            "{empty}"
        );
        std::fs::write(dir.join("a.sed"), "1000 1\n2000 2\n").expect("write");
        std::fs::write(dir.join("b.sed"), "1000 1\n2000 x\n").expect("write");
        let bad = read_sed_dir(&dir).expect_err("b.sed is invalid");
        assert!(bad.ends_with("b.sed:2: flux 'x' is not a number"), "{bad}");
        std::fs::remove_file(dir.join("b.sed")).expect("remove");
        let good = read_sed_dir(&dir).expect("a.sed is valid");
        assert_eq!(good.len(), 1);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[cfg(feature = "cli")]
    #[test]
    fn fits_templates_sit_beside_sed_files_without_their_bad_pixels() {
        let dir = std::env::temp_dir().join(format!("zcnn-sed-fits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fits/template.fits");
        std::fs::copy(&fixture, dir.join("b.FITS")).expect("copy");
        std::fs::write(dir.join("a.sed"), "1000 1\n2000 2\n").expect("write");
        let read = read_sed_dir(&dir).expect("both are valid");
        assert_eq!(read.len(), 2);
        assert!(read[1].0.ends_with("b.FITS"));
        // 600 pixels, one of them NaN.
        assert_eq!(read[1].1.lambda.len(), 599);
        assert!(read[1].1.flux.iter().all(|f| f.is_finite()));
        std::fs::write(dir.join("c.fits"), b"SIMPLE  = junk").expect("write");
        let err = read_sed_dir(&dir).expect_err("c.fits is not FITS");
        assert!(
            err.contains("c.fits: HDU 0: the header has no END card"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
