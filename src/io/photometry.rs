//! Photometric catalogues: a magnitude and its error per band for every object, with an
//! optional id and redshift, from a CSV file (header row) or a FITS binary table
//! ([`super::photometry_fits`]).
//!
//! Columns are chosen by name (case-insensitive after an exact match fails): for every band of
//! [`PhotometryColumns::bands`], the magnitude column is the pattern
//! [`PhotometryColumns::magnitude`] with `{band}` replaced by the band (`mag_obs_{band}` →
//! `mag_obs_r`, the columns `zcnn simulate` writes for images), the error column likewise.
//! Other columns are ignored.
//!
//! Every value is checked; an error names the file, the column and the data row (1 = the first
//! row after the header, or the first table row): magnitudes finite and within
//! [`MAGNITUDE_RANGE`] (so non-detection sentinels such as 99 or −99 are refused rather than
//! learnt: give asinh magnitudes, which are finite for any flux, or drop those rows), errors
//! finite and > 0, redshifts finite, ids non-empty and unique.

use std::collections::HashMap;
use std::path::Path;

/// The magnitudes accepted (AB; asinh magnitudes of zero flux lie near 22–30).
pub const MAGNITUDE_RANGE: (f64, f64) = (-10.0, 50.0);

/// Which columns hold what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotometryColumns {
    /// Band names, in the order of the magnitudes (e.g. `u g r i z`).
    pub bands: Vec<String>,
    /// Magnitude column pattern; `{band}` stands for the band name.
    pub magnitude: String,
    /// Error column pattern.
    pub error: String,
    /// Id column; without one the ids are the row numbers.
    pub id: Option<String>,
    /// Redshift column (training and evaluation); none for prediction.
    pub z: Option<String>,
    /// FITS only: the binary table with this `EXTNAME` (else the first binary table).
    pub hdu: Option<String>,
}

impl PhotometryColumns {
    /// `mag_obs_{band}` and `magerr_{band}` (what `zcnn simulate` writes), ids from `id`,
    /// redshifts from `z`.
    pub fn simulated(bands: &[&str]) -> Self {
        PhotometryColumns {
            bands: bands.iter().map(|b| b.to_string()).collect(),
            magnitude: "mag_obs_{band}".into(),
            error: "magerr_{band}".into(),
            id: Some("id".into()),
            z: Some("z".into()),
            hdu: None,
        }
    }

    /// The magnitude column of every band, then the error column of every band.
    pub fn band_columns(&self) -> Result<(Vec<String>, Vec<String>), String> {
        if self.bands.is_empty() {
            return Err("no bands given".into());
        }
        let expand = |pattern: &str, what: &str| -> Result<Vec<String>, String> {
            if !pattern.contains("{band}") {
                return Err(format!(
                    "the {what} column pattern '{pattern}' has no {{band}} in it"
                ));
            }
            Ok(self
                .bands
                .iter()
                .map(|b| pattern.replace("{band}", b))
                .collect())
        };
        Ok((
            expand(&self.magnitude, "magnitude")?,
            expand(&self.error, "error")?,
        ))
    }
}

/// A photometric catalogue, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct PhotometryTable {
    /// The file it came from.
    pub source: String,
    pub bands: Vec<String>,
    pub ids: Vec<String>,
    pub z: Option<Vec<f64>>,
    /// `[n, bands]`, row-major.
    pub mags: Vec<f32>,
    /// `[n, bands]`, 1σ magnitude errors.
    pub errs: Vec<f32>,
}

impl PhotometryTable {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Reads a catalogue: a FITS table when the name ends in `.fits`, `.fit` or `.fts`
/// (any case), else CSV.
pub fn read_photometry(
    path: &Path,
    columns: &PhotometryColumns,
) -> Result<PhotometryTable, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let source = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if [".fits", ".fit", ".fts"].iter().any(|e| name.ends_with(e)) {
        super::photometry_fits::parse_photometry_fits(&bytes, &source, columns)
    } else {
        parse_photometry_csv(&bytes, &source, columns)
    }
}

/// Parses the bytes of a CSV catalogue; `source` names it in errors.
pub fn parse_photometry_csv(
    bytes: &[u8],
    source: &str,
    columns: &PhotometryColumns,
) -> Result<PhotometryTable, String> {
    let mut table = Builder::new(source, columns)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("{source}: {e}"))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    let find = |name: &str| find_column(&names, name).map_err(|e| format!("{source}: {e}"));
    let [mag_at, err_at] = table
        .band_columns()
        .map(|band| band.iter().map(|n| find(n)).collect::<Result<Vec<_>, _>>());
    let (mag_at, err_at) = (mag_at?, err_at?);
    let id_at = columns.id.as_deref().map(find).transpose()?;
    let z_at = columns.z.as_deref().map(find).transpose()?;
    for (index, record) in reader.records().enumerate() {
        let row = index + 1;
        let record = record.map_err(|e| format!("{source}: row {row}: {e}"))?;
        let number = |at: usize| -> Result<f64, String> {
            let text = record.get(at).unwrap_or("");
            text.parse::<f64>().map_err(|_| {
                format!(
                    "{source}: column '{}', row {row}: '{text}' is not a number",
                    names[at]
                )
            })
        };
        let id = match id_at {
            Some(at) => record.get(at).unwrap_or("").to_string(),
            None => row.to_string(),
        };
        let z = z_at.map(number).transpose()?;
        let mags = mag_at
            .iter()
            .map(|&at| number(at))
            .collect::<Result<Vec<_>, _>>()?;
        let errs = err_at
            .iter()
            .map(|&at| number(at))
            .collect::<Result<Vec<_>, _>>()?;
        table.push(row, id, z, &mags, &errs)?;
    }
    table.finish()
}

/// The index of column `name` among `names`: an exact match, else a case-insensitive one.
pub(crate) fn find_column<S: AsRef<str>>(names: &[S], name: &str) -> Result<usize, String> {
    names
        .iter()
        .position(|h| h.as_ref() == name)
        .or_else(|| {
            names
                .iter()
                .position(|h| h.as_ref().eq_ignore_ascii_case(name))
        })
        .ok_or_else(|| {
            let list: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
            format!("no column '{name}' (columns: {})", list.join(", "))
        })
}

/// Collects and checks rows into a [`PhotometryTable`] (shared by the CSV and FITS readers).
pub(super) struct Builder<'a> {
    source: &'a str,
    mag_names: Vec<String>,
    err_names: Vec<String>,
    id_name: Option<&'a str>,
    z_name: Option<&'a str>,
    first_row_of: HashMap<String, usize>,
    table: PhotometryTable,
}

impl<'a> Builder<'a> {
    /// An empty table of `columns` (with redshifts when `columns.z` names a column).
    pub(super) fn new(source: &'a str, columns: &'a PhotometryColumns) -> Result<Self, String> {
        let (mag_names, err_names) = columns
            .band_columns()
            .map_err(|e| format!("{source}: {e}"))?;
        Ok(Builder {
            source,
            mag_names,
            err_names,
            id_name: columns.id.as_deref(),
            z_name: columns.z.as_deref(),
            first_row_of: HashMap::new(),
            table: PhotometryTable {
                source: source.to_string(),
                bands: columns.bands.clone(),
                ids: Vec::new(),
                z: columns.z.as_ref().map(|_| Vec::new()),
                mags: Vec::new(),
                errs: Vec::new(),
            },
        })
    }

    /// The magnitude columns, then the error columns, one per band.
    pub(super) fn band_columns(&self) -> [&[String]; 2] {
        [&self.mag_names, &self.err_names]
    }

    /// Checks and appends data row `row` (1-based).
    pub(super) fn push(
        &mut self,
        row: usize,
        id: String,
        z: Option<f64>,
        mags: &[f64],
        errs: &[f64],
    ) -> Result<(), String> {
        let source = self.source;
        let at = |column: &str| format!("{source}: column '{column}', row {row}");
        let id_column = self.id_name.unwrap_or("id");
        if id.is_empty() {
            return Err(format!("{}: empty id", at(id_column)));
        }
        if let Some(first) = self.first_row_of.insert(id.clone(), row) {
            return Err(format!(
                "{}: id '{id}' already used in row {first}",
                at(id_column)
            ));
        }
        if let (Some(z), Some(all)) = (z, self.table.z.as_mut()) {
            if !z.is_finite() {
                return Err(format!(
                    "{}: redshift {z}; expected finite",
                    at(self.z_name.unwrap_or("z"))
                ));
            }
            all.push(z);
        }
        let (lo, hi) = MAGNITUDE_RANGE;
        for (m, name) in mags.iter().zip(&self.mag_names) {
            if !(m.is_finite() && (lo..=hi).contains(m)) {
                return Err(format!(
                    "{}: magnitude {m}; expected finite, within {lo}..{hi} (a non-detection \
                     sentinel? give asinh magnitudes or drop the row)",
                    at(name)
                ));
            }
        }
        for (e, name) in errs.iter().zip(&self.err_names) {
            if !(e.is_finite() && *e > 0.0) {
                return Err(format!(
                    "{}: magnitude error {e}; expected finite and > 0",
                    at(name)
                ));
            }
        }
        self.table.ids.push(id);
        self.table.mags.extend(mags.iter().map(|&m| m as f32));
        self.table.errs.extend(errs.iter().map(|&e| e as f32));
        Ok(())
    }

    pub(super) fn finish(self) -> Result<PhotometryTable, String> {
        if self.table.is_empty() {
            return Err(format!("{}: no rows", self.source));
        }
        Ok(self.table)
    }
}
