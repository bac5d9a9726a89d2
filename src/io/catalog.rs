//! Redshift catalogues: a CSV file with a header row, an id column and a z column (named by
//! the caller, e.g. `id` and `z`); other columns are ignored. Ids are unique and non-empty, z
//! finite. [`match_ids`] pairs the catalogue with spectra by id. Every error names the file
//! and, where there is one, the data row (1 = the first row after the header) and the id.

use super::photometry::find_column;
use std::collections::HashMap;
use std::path::Path;

/// How many names an error lists before "…".
const LISTED: usize = 10;

/// A catalogue: the redshift of every id, and the file it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    pub source: String,
    pub z: HashMap<String, f64>,
}

/// Reads a catalogue file.
pub fn read_catalog(path: &Path, id_column: &str, z_column: &str) -> Result<Catalog, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_catalog(&bytes, &path.display().to_string(), id_column, z_column)
}

/// Parses the bytes of a catalogue; `source` names it in errors.
pub fn parse_catalog(
    bytes: &[u8],
    source: &str,
    id_column: &str,
    z_column: &str,
) -> Result<Catalog, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("{source}: {e}"))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    let find = |name: &str| find_column(&names, name).map_err(|e| format!("{source}: {e}"));
    let (id_at, z_at) = (find(id_column)?, find(z_column)?);
    let mut z = HashMap::new();
    let mut first_row = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 1;
        let record = record.map_err(|e| format!("{source}: row {row}: {e}"))?;
        let id = record.get(id_at).unwrap_or("").to_string();
        if id.is_empty() {
            return Err(format!("{source}: row {row}: empty id"));
        }
        let text = record.get(z_at).unwrap_or("");
        let value: f64 = text.parse().map_err(|_| {
            format!("{source}: row {row} (id '{id}'): {z_column} '{text}' is not a number")
        })?;
        if !value.is_finite() {
            return Err(format!(
                "{source}: row {row} (id '{id}'): {z_column} is {value}; expected a finite number"
            ));
        }
        if let Some(previous) = first_row.insert(id.clone(), row) {
            return Err(format!(
                "{source}: row {row}: id '{id}' repeats row {previous}"
            ));
        }
        z.insert(id, value);
    }
    if z.is_empty() {
        return Err(format!("{source}: no rows"));
    }
    Ok(Catalog {
        source: source.to_string(),
        z,
    })
}

/// The redshift of each of `ids`, in order. Spectra without an entry and entries without a
/// spectrum are both errors that name them.
pub fn match_ids(catalog: &Catalog, ids: &[String]) -> Result<Vec<f64>, String> {
    let unmatched: Vec<&str> = ids
        .iter()
        .filter(|id| !catalog.z.contains_key(*id))
        .map(String::as_str)
        .collect();
    if !unmatched.is_empty() {
        return Err(format!(
            "{}: no entry for {} of {} spectra: {}",
            catalog.source,
            unmatched.len(),
            ids.len(),
            listing(unmatched)
        ));
    }
    let known: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut orphans: Vec<&str> = catalog
        .z
        .keys()
        .map(String::as_str)
        .filter(|id| !known.contains(id))
        .collect();
    if !orphans.is_empty() {
        orphans.sort_unstable();
        return Err(format!(
            "{}: {} ids have no spectrum: {}",
            catalog.source,
            orphans.len(),
            listing(orphans)
        ));
    }
    Ok(ids.iter().map(|id| catalog.z[id]).collect())
}

/// The first [`LISTED`] names, comma-separated, then "…".
fn listing(names: Vec<&str>) -> String {
    let mut text = names
        .iter()
        .take(LISTED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        text.push_str(", …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Catalog, String> {
        parse_catalog(text.as_bytes(), "cat.csv", "id", "z")
    }

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_ids_and_redshifts_ignoring_other_columns() {
        let cat = parse("ra, id ,z,dec\n1.0,a,0.5,2\n3,b, 1.25 ,4\n").expect("valid");
        assert_eq!(match_ids(&cat, &ids(&["b", "a"])).unwrap(), vec![1.25, 0.5]);
        let named = parse_catalog(b"OBJID,Redshift\nx,2\n", "c", "objid", "redshift").unwrap();
        assert_eq!(named.z["x"], 2.0);
    }

    #[test]
    fn missing_columns_list_the_columns_found() {
        assert_eq!(
            parse("name,redshift\na,1\n").unwrap_err(),
            "cat.csv: no column 'id' (columns: name, redshift)"
        );
        assert_eq!(
            parse("id,zspec\na,1\n").unwrap_err(),
            "cat.csv: no column 'z' (columns: id, zspec)"
        );
    }

    #[test]
    fn bad_rows_are_named() {
        assert_eq!(
            parse("id,z\na,1\nb,2\na,3\n").unwrap_err(),
            "cat.csv: row 3: id 'a' repeats row 1"
        );
        assert_eq!(
            parse("id,z\na,1\nb,x\n").unwrap_err(),
            "cat.csv: row 2 (id 'b'): z 'x' is not a number"
        );
        assert_eq!(
            parse("id,z\na,NaN\n").unwrap_err(),
            "cat.csv: row 1 (id 'a'): z is NaN; expected a finite number"
        );
        assert_eq!(parse("id,z\n,1\n").unwrap_err(), "cat.csv: row 1: empty id");
        assert_eq!(parse("id,z\n").unwrap_err(), "cat.csv: no rows");
        assert!(parse("id,z\na,1,9\n")
            .unwrap_err()
            .starts_with("cat.csv: row 1: "));
    }

    #[test]
    fn unmatched_spectra_and_ids_are_named() {
        let cat = parse("id,z\na,1\nb,2\nc,3\n").expect("valid");
        assert_eq!(
            match_ids(&cat, &ids(&["a", "x", "b", "y"])).unwrap_err(),
            "cat.csv: no entry for 2 of 4 spectra: x, y"
        );
        assert_eq!(
            match_ids(&cat, &ids(&["b"])).unwrap_err(),
            "cat.csv: 2 ids have no spectrum: a, c"
        );
        let many: Vec<String> = (0..12).map(|i| format!("s{i:02}")).collect();
        let err = match_ids(&cat, &many).unwrap_err();
        assert!(err.ends_with("s08, s09, …"), "{err}");
    }
}
