//! The catalogue of a set of cutouts: a CSV file with a header row and one row per object, in
//! the order the imported set keeps. Columns (names matched exactly, else case-insensitively):
//! the id and the redshift (names given by the caller), optionally E(B−V) and the NPY row
//! (`index`), and any photometry columns `mag_*` / `magerr_*`, passed through as written.
//! Ids are unique and non-empty, z and E(B−V) finite, indices unique; a magnitude is a number
//! (NaN allowed: catalogues mark missing photometry so). Errors name the file, the data row
//! (1 = the first row after the header), the id and the column.

use crate::io::photometry::find_column;
use std::collections::HashMap;
use std::path::Path;

/// Prefixes of the photometry columns passed through (case-insensitive).
pub const PHOTOMETRY_PREFIXES: [&str; 2] = ["mag_", "magerr_"];

/// Which columns to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogColumns {
    pub id: String,
    pub z: String,
    /// E(B−V): `Some(name)` requires the column; `None` reads a column `ebv` when there is one.
    pub ebv: Option<String>,
    /// The column of NPY row numbers, read when present; `None` ignores it.
    pub index: Option<String>,
}

/// One catalogue, its rows in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct CutoutCatalog {
    /// The file, for messages.
    pub source: String,
    pub ids: Vec<String>,
    pub z: Vec<f64>,
    pub ebv: Option<Vec<f64>>,
    /// The row of each object in the NPY array, when the catalogue has the index column.
    pub index: Option<Vec<usize>>,
    /// Names of the photometry columns, as in the file.
    pub photometry_names: Vec<String>,
    /// Their values, one `Vec` per row, as written in the file (trimmed).
    pub photometry: Vec<Vec<String>>,
}

impl CutoutCatalog {
    /// Number of objects.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the catalogue has no rows (never true for a parsed catalogue).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Reads a catalogue file.
pub fn read_cutout_catalog(path: &Path, columns: &CatalogColumns) -> Result<CutoutCatalog, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_cutout_catalog(&bytes, &path.display().to_string(), columns)
}

/// Parses the bytes of a catalogue; `source` names it in errors.
pub fn parse_cutout_catalog(
    bytes: &[u8],
    source: &str,
    columns: &CatalogColumns,
) -> Result<CutoutCatalog, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("{source}: {e}"))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    let required = |name: &str| find_column(&names, name).map_err(|e| format!("{source}: {e}"));
    let position = |name: &str| find_column(&names, name).ok();
    let id_at = required(&columns.id)?;
    let z_at = required(&columns.z)?;
    let ebv_at = match &columns.ebv {
        Some(name) => Some((required(name)?, name.as_str())),
        None => position("ebv").map(|at| (at, "ebv")),
    };
    let index_at = columns
        .index
        .as_deref()
        .and_then(|name| position(name).map(|at| (at, name)));
    let photometry_at: Vec<usize> = (0..headers.len())
        .filter(|&i| {
            let lower = headers[i].to_ascii_lowercase();
            PHOTOMETRY_PREFIXES.iter().any(|p| lower.starts_with(p))
        })
        .collect();
    let mut catalog = CutoutCatalog {
        source: source.to_string(),
        ids: Vec::new(),
        z: Vec::new(),
        ebv: ebv_at.map(|_| Vec::new()),
        index: index_at.map(|_| Vec::new()),
        photometry_names: photometry_at
            .iter()
            .map(|&i| headers[i].to_string())
            .collect(),
        photometry: Vec::new(),
    };
    let mut row_of_id = HashMap::new();
    let mut row_of_index = HashMap::new();
    for (k, record) in reader.records().enumerate() {
        let row = k + 1;
        let record = record.map_err(|e| format!("{source}: row {row}: {e}"))?;
        let id = record.get(id_at).unwrap_or("").to_string();
        if id.is_empty() {
            return Err(format!("{source}: row {row}: empty id"));
        }
        if let Some(previous) = row_of_id.insert(id.clone(), row) {
            return Err(format!(
                "{source}: row {row}: id '{id}' repeats row {previous} (ids must be unique)"
            ));
        }
        let at = |column: usize, name: &str| {
            let text = record.get(column).unwrap_or("");
            (text, format!("{source}: row {row} (id '{id}'): {name}"))
        };
        let finite = |column: usize, name: &str| {
            let (text, place) = at(column, name);
            let value: f64 = text
                .parse()
                .map_err(|_| format!("{place} '{text}' is not a number"))?;
            if !value.is_finite() {
                return Err(format!("{place} is {value}; expected a finite number"));
            }
            Ok(value)
        };
        catalog.z.push(finite(z_at, &columns.z)?);
        if let (Some(values), Some((column, name))) = (&mut catalog.ebv, ebv_at) {
            values.push(finite(column, name)?);
        }
        if let (Some(values), Some((column, name))) = (&mut catalog.index, index_at) {
            let (text, place) = at(column, name);
            let index: usize = text
                .parse()
                .map_err(|_| format!("{place} '{text}' is not a row number (0, 1, 2, …)"))?;
            if let Some(previous) = row_of_index.insert(index, row) {
                return Err(format!(
                    "{place} {index} repeats row {previous} (each NPY row is imported once)"
                ));
            }
            values.push(index);
        }
        let mut photometry = Vec::with_capacity(photometry_at.len());
        for &column in &photometry_at {
            let (text, place) = at(column, &headers[column]);
            if text.parse::<f64>().is_err() {
                return Err(format!(
                    "{place} '{text}' is not a number (write NaN for a missing value)"
                ));
            }
            photometry.push(text.to_string());
        }
        catalog.photometry.push(photometry);
        catalog.ids.push(id);
    }
    if catalog.is_empty() {
        return Err(format!("{source}: no rows"));
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> CatalogColumns {
        CatalogColumns {
            id: "id".into(),
            z: "z".into(),
            ebv: None,
            index: Some("index".into()),
        }
    }

    fn parse(text: &str) -> Result<CutoutCatalog, String> {
        parse_cutout_catalog(text.as_bytes(), "cat.csv", &columns())
    }

    #[test]
    fn reads_rows_in_order_with_optional_columns() {
        let cat = parse(
            "ra,ID,z,EBV,mag_r,magerr_r,type\n1,b,0.5,0.02,17.5,0.01,2\n2,a,0.1,0,NaN,-99,1\n",
        )
        .expect("valid");
        assert_eq!(cat.ids, ["b", "a"]);
        assert_eq!(cat.z, [0.5, 0.1]);
        assert_eq!(cat.ebv, Some(vec![0.02, 0.0]));
        assert_eq!(cat.index, None);
        assert_eq!(cat.photometry_names, ["mag_r", "magerr_r"]);
        assert_eq!(cat.photometry[1], ["NaN", "-99"]);
        let plain = parse("id,z\nx,1\n").expect("valid");
        assert_eq!((plain.ebv, plain.photometry_names.len()), (None, 0));
        let indexed = parse("index,id,z\n4,x,1\n0,y,2\n").expect("valid");
        assert_eq!(indexed.index, Some(vec![4, 0]));
    }

    #[test]
    fn errors_name_the_row_the_id_and_the_column() {
        let cases = [
            ("id,z\na,1\na,2\n", "cat.csv: row 2: id 'a' repeats row 1 (ids must be unique)"),
            ("id,z\n,1\n", "cat.csv: row 1: empty id"),
            ("id,z\na,x\n", "cat.csv: row 1 (id 'a'): z 'x' is not a number"),
            ("id,z\na,inf\n", "cat.csv: row 1 (id 'a'): z is inf; expected a finite number"),
            ("id,z,ebv\na,1,NaN\n", "cat.csv: row 1 (id 'a'): ebv is NaN; expected a finite number"),
            ("id,z\n", "cat.csv: no rows"),
            ("name,z\na,1\n", "cat.csv: no column 'id' (columns: name, z)"),
            (
                "index,id,z\n0,a,1\n0,b,2\n",
                "cat.csv: row 2 (id 'b'): index 0 repeats row 1 (each NPY row is imported once)",
            ),
            (
                "index,id,z\n-1,a,1\n",
                "cat.csv: row 1 (id 'a'): index '-1' is not a row number (0, 1, 2, …)",
            ),
            (
                "id,z,mag_g\na,1,bright\n",
                "cat.csv: row 1 (id 'a'): mag_g 'bright' is not a number (write NaN for a missing value)",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text).unwrap_err(), message, "{text}");
        }
        let named = CatalogColumns {
            ebv: Some("EBV_SFD".into()),
            ..columns()
        };
        let err = parse_cutout_catalog(b"id,z\na,1\n", "cat.csv", &named).unwrap_err();
        assert_eq!(err, "cat.csv: no column 'EBV_SFD' (columns: id, z)");
    }
}
