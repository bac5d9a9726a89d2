//! 1D spectra from FITS files (feature `cli`), read with the pure-Rust `fitsrs` crate.
//!
//! Two layouts are understood:
//! - a binary table (the first BINTABLE, or the HDU named by [`FitsOptions::hdu`], e.g. SDSS's
//!   `COADD`) with one row per pixel, or rows of equal-length vector cells read one after
//!   the other. Columns are found case-insensitively: flux `flux`; wavelength `loglam` (log10 Å)
//!   or `wave`/`wavelength`/`lambda` (linear, unit `TUNITn`, default Å); inverse variance
//!   `ivar`; mask `and_mask` or `mask` (nonzero = bad). Floats are E or D, masks B, I, J or K;
//!   `TSCALn`/`TZEROn` apply.
//! - an image with NAXIS = 1 (or NAXIS = 2, whose first row is the flux); `BSCALE`/`BZERO`
//!   apply and integer `BLANK` pixels become NaN. Wavelengths come from SDSS's
//!   `COEFF0`/`COEFF1` (log10 λ = COEFF0 + COEFF1·i) or the WCS of axis 1: λ = CRVAL1 +
//!   (p − CRPIX1)·CDELT1 (or CD1_1; CRPIX1 defaults to 1; unit `CUNIT1`), log10 λ of that with
//!   IRAF's `DC-FLAG = 1`, and λ = CRVAL1·exp((p − CRPIX1)·CDELT1/CRVAL1) for
//!   `CTYPE1 = 'WAVE-LOG'` (Greisen et al. 2006, A&A 446, 747, eq. 5).
//!
//! Wavelengths must be finite, positive and increasing; flux and ivar finite unless
//! [`FitsOptions::mask_nonfinite`] is set. Every error names the file, the HDU and the column
//! or keyword.

mod image;
mod layout;
mod table;

/// For the other FITS tables zcnn reads (photometric catalogues, [`crate::io::photometry`]):
/// the structural check to run before fitsrs sees the bytes, and the column format parser.
pub(crate) use layout::{check as check_layout, parse_tform};
#[cfg(test)]
mod tests;

pub(crate) use image::physical_values;

use fitsrs::card::Value;
use fitsrs::hdu::header::ValueMap;
use fitsrs::{Fits, HDU};
use std::io::Cursor;
use std::path::Path;

/// A spectrum as stored in the file, with λ in Å.
#[derive(Clone, Debug, PartialEq)]
pub struct FitsSpectrum {
    /// Wavelengths \[Å\], strictly increasing.
    pub lambda: Vec<f64>,
    pub flux: Vec<f64>,
    /// Inverse variance, when the file has it.
    pub ivar: Option<Vec<f64>>,
    /// The mask column (nonzero = bad), when the file has one.
    pub bad: Option<Vec<bool>>,
}

/// How to read a FITS spectrum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FitsOptions {
    /// Read the HDU with this `EXTNAME` (case-insensitive) instead of the first one with data.
    pub hdu: Option<String>,
    /// Accept NaN and infinite flux or ivar (they are masked by [`FitsSpectrum::bad_pixels`]);
    /// otherwise they are an error.
    pub mask_nonfinite: bool,
}

impl FitsSpectrum {
    /// Bad pixels: ivar ≤ 0, non-finite flux or ivar, or a nonzero mask.
    pub fn bad_pixels(&self) -> Vec<bool> {
        (0..self.flux.len())
            .map(|i| {
                let ivar_bad = self
                    .ivar
                    .as_ref()
                    .is_some_and(|v| !(v[i].is_finite() && v[i] > 0.0));
                let masked = self.bad.as_ref().is_some_and(|m| m[i]);
                !self.flux[i].is_finite() || ivar_bad || masked
            })
            .collect()
    }

    /// The good pixels alone, as (λ, flux).
    pub fn good_points(&self) -> (Vec<f64>, Vec<f64>) {
        let bad = self.bad_pixels();
        let keep = |values: &[f64]| {
            values
                .iter()
                .zip(&bad)
                .filter(|(_, &b)| !b)
                .map(|(&v, _)| v)
                .collect()
        };
        (keep(&self.lambda), keep(&self.flux))
    }
}

/// Reads a spectrum from a FITS file.
pub fn read_fits_spectrum(path: &Path, options: &FitsOptions) -> Result<FitsSpectrum, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_fits_spectrum(&bytes, &path.display().to_string(), options)
}

/// Reads a spectrum from the bytes of a FITS file; `source` names it in errors.
pub fn parse_fits_spectrum(
    bytes: &[u8],
    source: &str,
    options: &FitsOptions,
) -> Result<FitsSpectrum, String> {
    let (place, columns) = read_guarded(bytes, source, |bytes| read_hdus(bytes, options))?;
    columns
        .validate(options)
        .map_err(|e| format!("{source}: {place}: {e}"))
}

/// Checks the structure of `bytes` ([`layout::check`]), then runs `read` (which walks them
/// with fitsrs); every error is prefixed by `source`.
pub(crate) fn read_guarded<T>(
    bytes: &[u8],
    source: &str,
    read: impl FnOnce(&[u8]) -> Result<T, String> + std::panic::UnwindSafe,
) -> Result<T, String> {
    layout::check(bytes).map_err(|e| format!("{source}: {e}"))?;
    // Last resort: layout::check refuses every input known to make fitsrs 0.4.1 panic, but
    // that crate indexes and slices without bounds checks in more places than a check can
    // mirror; a panic there must still reach the user as an error, not an abort.
    std::panic::catch_unwind(|| read(bytes))
        .unwrap_or_else(|_| Err("the FITS reader (fitsrs) failed on malformed content".into()))
        .map_err(|e| format!("{source}: {e}"))
}

/// What an HDU holds before validation; `names` say where λ, flux and ivar came from.
struct Columns {
    lambda: Vec<f64>,
    flux: Vec<f64>,
    ivar: Option<Vec<f64>>,
    bad: Option<Vec<bool>>,
    names: [String; 3],
}

impl Columns {
    fn validate(self, options: &FitsOptions) -> Result<FitsSpectrum, String> {
        let [lambda_name, flux_name, ivar_name] = &self.names;
        let n = self.flux.len();
        if n < 2 {
            return Err(format!(
                "{flux_name}: {n} pixels; a spectrum needs at least 2"
            ));
        }
        let lengths = [
            Some(self.lambda.len()),
            self.ivar.as_ref().map(Vec::len),
            self.bad.as_ref().map(Vec::len),
        ];
        if lengths.into_iter().flatten().any(|len| len != n) {
            return Err(format!(
                "the lengths disagree: {n} fluxes, {lengths:?} wavelengths, ivar, mask"
            ));
        }
        for (i, pair) in self.lambda.windows(2).enumerate() {
            if !(pair[0].is_finite() && pair[0] > 0.0) {
                return Err(format!(
                    "{lambda_name}: wavelength {} Å at pixel {i}; expected finite and positive",
                    pair[0]
                ));
            }
            if pair[1].partial_cmp(&pair[0]) != Some(std::cmp::Ordering::Greater) {
                return Err(format!(
                    "{lambda_name}: wavelength {} Å at pixel {} is not greater than {} Å at \
                     pixel {i}; wavelengths must increase",
                    pair[1],
                    i + 1,
                    pair[0]
                ));
            }
        }
        if !self.lambda[n - 1].is_finite() {
            return Err(format!(
                "{lambda_name}: wavelength {} Å at pixel {}; expected finite",
                self.lambda[n - 1],
                n - 1
            ));
        }
        if !options.mask_nonfinite {
            reject_nonfinite(&self.flux, flux_name)?;
            if let Some(ivar) = &self.ivar {
                reject_nonfinite(ivar, ivar_name)?;
            }
        }
        Ok(FitsSpectrum {
            lambda: self.lambda,
            flux: self.flux,
            ivar: self.ivar,
            bad: self.bad,
        })
    }
}

fn reject_nonfinite(values: &[f64], name: &str) -> Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(format!(
            "{name}: pixel {i} is {}; non-finite values are rejected unless masking is asked \
             for (--nonfinite mask)",
            values[i]
        )),
    }
}

/// Walks the HDUs with fitsrs and reads the chosen one; returns where it is ("HDU 1 (COADD)").
fn read_hdus(bytes: &[u8], options: &FitsOptions) -> Result<(String, Columns), String> {
    let mut fits = Fits::from_reader(Cursor::new(bytes));
    let mut seen = Vec::new();
    let mut index = 0;
    while let Some(hdu) = fits.next() {
        let hdu = hdu.map_err(|e| format!("HDU {index}: {e}"))?;
        let name = match &hdu {
            HDU::Primary(h) | HDU::XImage(h) => text(h.get_header(), "EXTNAME"),
            HDU::XBinaryTable(h) => text(h.get_header(), "EXTNAME"),
            HDU::XASCIITable(h) => text(h.get_header(), "EXTNAME"),
        }
        .map(|n| n.trim().to_string());
        let place = match &name {
            Some(n) => format!("HDU {index} ({n})"),
            None => format!("HDU {index}"),
        };
        let chosen = match &options.hdu {
            Some(want) => name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(want.trim())),
            None => match &hdu {
                HDU::Primary(h) | HDU::XImage(h) => {
                    h.get_header().get_xtension().get_num_pixels() > 0
                }
                HDU::XBinaryTable(_) => true,
                HDU::XASCIITable(_) => false,
            },
        };
        if chosen {
            let columns = match hdu {
                HDU::Primary(h) | HDU::XImage(h) => image::read(&mut fits, &h),
                HDU::XBinaryTable(h) => table::read(&mut fits, &h),
                HDU::XASCIITable(_) => {
                    Err("an ASCII table; spectra are read from binary tables or images".to_string())
                }
            }
            .map_err(|e| format!("{place}: {e}"))?;
            return Ok((place, columns));
        }
        seen.push(place);
        index += 1;
    }
    Err(match &options.hdu {
        Some(want) => format!("no HDU named '{want}' (found: {})", seen.join(", ")),
        None => format!(
            "no image or binary table with data (found: {})",
            seen.join(", ")
        ),
    })
}

/// The names of a binary table's columns (`TTYPEn`, trimmed; "" where absent).
pub(crate) fn column_names(
    header: &fitsrs::hdu::header::Header<fitsrs::hdu::header::extension::bintable::BinTable>,
) -> Vec<String> {
    (1..=header.get_xtension().get_num_cols())
        .map(|n| {
            text(header, &format!("TTYPE{n}"))
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .collect()
}

/// A string keyword.
pub(crate) fn text<'a>(values: &'a ValueMap, key: &str) -> Option<&'a str> {
    match values.get(key) {
        Some(Value::String { value, .. }) => Some(value),
        _ => None,
    }
}

/// A finite numeric keyword: `None` when absent, an error when present but not a number.
pub(crate) fn number(values: &ValueMap, key: &str) -> Result<Option<f64>, String> {
    let value = match values.get(key) {
        None | Some(Value::Undefined) => return Ok(None),
        Some(Value::Integer { value, .. }) => *value as f64,
        Some(Value::Float { value, .. }) => *value,
        Some(other) => return Err(format!("keyword {key} is not a number: {other:?}")),
    };
    if value.is_finite() {
        Ok(Some(value))
    } else {
        Err(format!("keyword {key} = {value} is not finite"))
    }
}

/// Ångström per unit of a wavelength unit string (FITS 4.0 Table 4), `None` if unknown.
fn angstroms_per(unit: &str) -> Option<f64> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "" | "angstrom" | "angstroms" | "a" | "aa" | "0.1nm" | "0.1 nm" => Some(1.0),
        "nm" => Some(10.0),
        "um" | "micron" | "microns" => Some(1e4),
        "m" => Some(1e10),
        _ => None,
    }
}

/// The unit factor of keyword `key` (default Å).
fn unit_factor(values: &ValueMap, key: &str) -> Result<f64, String> {
    let unit = text(values, key).unwrap_or("");
    angstroms_per(unit)
        .ok_or_else(|| format!("{key} = '{unit}': unknown wavelength unit (Angstrom, nm, um or m)"))
}
