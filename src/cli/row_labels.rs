//! What `predict --labels` reads beside the spectra: a CSV with one row per spectrum, in
//! order (the `labels.csv` that `zcnn simulate` and `zcnn import` write). Columns used when
//! present: `id` (else `index`) passed through to the outputs, `z` (the truth, written as qp's
//! `redshift`), `masked_fraction` (sets the MASKED_INPUT warning). Others are ignored.

use std::path::Path;

/// Per-row labels of the spectra.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowLabels {
    pub ids: Option<Vec<String>>,
    pub z: Option<Vec<f64>>,
    pub masked_fraction: Option<Vec<f64>>,
}

/// Reads `path`, which must have `rows` data rows. Errors name the file, the row (1 = first
/// after the header) and the column.
pub fn read_row_labels(path: &Path, rows: usize) -> Result<RowLabels, String> {
    let source = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{source}: {e}"))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{source}: {e}"))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let id_at = find("id").or_else(|| find("index"));
    let (z_at, masked_at) = (find("z"), find("masked_fraction"));
    let mut labels = RowLabels {
        ids: id_at.map(|_| Vec::with_capacity(rows)),
        z: z_at.map(|_| Vec::with_capacity(rows)),
        masked_fraction: masked_at.map(|_| Vec::with_capacity(rows)),
    };
    let mut count = 0;
    for (index, record) in reader.records().enumerate() {
        let row = index + 1;
        let record = record.map_err(|e| format!("{source}: row {row}: {e}"))?;
        let number = |at: usize, name: &str| -> Result<f64, String> {
            let text = record.get(at).unwrap_or("");
            // z is parsed as f32, as `read_dataset` does, so that metrics agree bit for bit.
            let value: f32 = text
                .parse()
                .map_err(|_| format!("{source}: row {row}: {name} '{text}' is not a number"))?;
            if !value.is_finite() {
                return Err(format!("{source}: row {row}: {name} is {value}"));
            }
            Ok(value as f64)
        };
        if let (Some(at), Some(ids)) = (id_at, labels.ids.as_mut()) {
            ids.push(record.get(at).unwrap_or("").to_string());
        }
        if let (Some(at), Some(z)) = (z_at, labels.z.as_mut()) {
            z.push(number(at, "z")?);
        }
        if let (Some(at), Some(m)) = (masked_at, labels.masked_fraction.as_mut()) {
            m.push(number(at, "masked_fraction")?);
        }
        count += 1;
    }
    if count != rows {
        return Err(format!(
            "{source}: {count} rows, but the spectra hold {rows}: one label row per spectrum, in order"
        ));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("zcnn-labels-{name}-{}.csv", std::process::id()));
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn reads_the_columns_present() {
        let path = write(
            "ok",
            "index,id,z,masked_fraction,other\n0,a,0.5,0,x\n1,b,1.25,0.1,y\n",
        );
        let l = read_row_labels(&path, 2).expect("valid");
        assert_eq!(l.ids, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(l.z, Some(vec![0.5, 1.25]));
        assert_eq!(l.masked_fraction, Some(vec![0.0, 0.1f32 as f64]));
        let path = write("index", "index,z\n7,0.5\n");
        let l = read_row_labels(&path, 1).expect("valid");
        assert_eq!(l.ids, Some(vec!["7".to_string()]));
        assert_eq!(l.masked_fraction, None);
    }

    #[test]
    fn errors_name_the_file_and_row() {
        let path = write("bad", "id,z\na,0.5\nb,zz\n");
        let err = read_row_labels(&path, 2).expect_err("not a number");
        assert!(
            err.contains("row 2") && err.contains("zcnn-labels-bad"),
            "{err}"
        );
        let path = write("count", "id,z\na,0.5\n");
        assert!(read_row_labels(&path, 2)
            .expect_err("count")
            .contains("1 rows"));
    }
}
