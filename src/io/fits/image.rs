//! A spectrum stored as an image HDU: NAXIS = 1, or NAXIS = 2 with the flux in the first row;
//! wavelengths from the header (see the module documentation of [`super`]).

use super::{number, text, unit_factor, Columns};
use fitsrs::hdu::header::extension::image::Image;
use fitsrs::hdu::header::ValueMap;
use fitsrs::{Fits, Pixels};
use std::io::Cursor;

/// Reads the flux of the first row and the wavelengths of its pixels.
pub(super) fn read(
    fits: &mut Fits<Cursor<&[u8]>>,
    hdu: &fitsrs::fits::HDU<Image>,
) -> Result<Columns, String> {
    let header = hdu.get_header();
    let axes = header.get_xtension().get_naxis();
    let n = match axes {
        [n] | [n, _] => *n as usize,
        _ => {
            return Err(format!(
                "an image with NAXIS = {}; a spectrum needs NAXIS = 1 (or 2, first row = flux)",
                axes.len()
            ))
        }
    };
    let (lambda, lambda_name) = wavelengths(header, n)?;
    let stored = physical_values(fits, hdu, n)?;
    Ok(Columns {
        lambda,
        flux: stored,
        ivar: None,
        bad: None,
        names: [lambda_name, "the image".into(), String::new()],
    })
}

/// The first `n` pixel values of an image HDU in physical units: BSCALE · stored + BZERO, with
/// integer pixels equal to BLANK undefined (NaN; FITS 4.0 §4.4.2.5). An error if the data unit
/// holds fewer than `n` pixels or a keyword is not a finite number.
pub(crate) fn physical_values(
    fits: &mut Fits<Cursor<&[u8]>>,
    hdu: &fitsrs::fits::HDU<Image>,
    n: usize,
) -> Result<Vec<f64>, String> {
    let header = hdu.get_header();
    let scale = number(header, "BSCALE")?.unwrap_or(1.0);
    let zero = number(header, "BZERO")?.unwrap_or(0.0);
    let blank = number(header, "BLANK")?;
    let int = |v: i64| {
        if blank == Some(v as f64) {
            f64::NAN
        } else {
            v as f64
        }
    };
    let stored: Vec<f64> = match fits.get_data(hdu).pixels() {
        Pixels::U8(it) => it.take(n).map(|v| int(v.into())).collect(),
        Pixels::I16(it) => it.take(n).map(|v| int(v.into())).collect(),
        Pixels::I32(it) => it.take(n).map(|v| int(v.into())).collect(),
        Pixels::I64(it) => it.take(n).map(int).collect(),
        Pixels::F32(it) => it.take(n).map(f64::from).collect(),
        Pixels::F64(it) => it.take(n).collect(),
    };
    if stored.len() != n {
        return Err(format!(
            "the data unit ends after {} of {n} pixels",
            stored.len()
        ));
    }
    // physical = BZERO + BSCALE · stored (FITS 4.0 §5.3, eq. 3).
    Ok(stored.iter().map(|v| zero + scale * v).collect())
}

/// λ \[Å\] of pixels i = 0..n (FITS pixel p = i + 1), and the keywords they came from.
fn wavelengths(header: &ValueMap, n: usize) -> Result<(Vec<f64>, String), String> {
    if let (Some(c0), Some(c1)) = (number(header, "COEFF0")?, number(header, "COEFF1")?) {
        // SDSS: log10 λ = COEFF0 + COEFF1 · i.
        let lambda = (0..n).map(|i| 10f64.powf(c0 + c1 * i as f64)).collect();
        return Ok((lambda, "keywords COEFF0/COEFF1".into()));
    }
    let crval = number(header, "CRVAL1")?
        .ok_or("no wavelengths: neither COEFF0/COEFF1 nor CRVAL1 with CDELT1 (or CD1_1)")?;
    let cdelt = match number(header, "CDELT1")? {
        Some(d) => d,
        None => number(header, "CD1_1")?.ok_or("CRVAL1 without CDELT1 or CD1_1")?,
    };
    let crpix = number(header, "CRPIX1")?.unwrap_or(1.0);
    let offset = |i: usize| (i as f64 + 1.0 - crpix) * cdelt;
    let name = "keywords CRVAL1/CDELT1/CRPIX1".to_string();
    if number(header, "DC-FLAG")? == Some(1.0) {
        // IRAF: DC-FLAG = 1 means the axis is log10 λ.
        let lambda = (0..n).map(|i| 10f64.powf(crval + offset(i))).collect();
        return Ok((lambda, format!("{name} (DC-FLAG = 1)")));
    }
    let unit = unit_factor(header, "CUNIT1")?;
    let ctype = text(header, "CTYPE1")
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let lambda = match ctype.as_str() {
        "WAVE-LOG" | "AWAV-LOG" => (0..n)
            .map(|i| unit * crval * (offset(i) / crval).exp())
            .collect(),
        "" | "WAVE" | "AWAV" | "LINEAR" | "LAMBDA" => {
            (0..n).map(|i| unit * (crval + offset(i))).collect()
        }
        other => {
            return Err(format!(
                "CTYPE1 = '{other}' is not a wavelength axis (WAVE, AWAV, WAVE-LOG or LINEAR)"
            ))
        }
    };
    Ok((lambda, name))
}
