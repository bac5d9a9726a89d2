//! What `predict --labels` reads beside the spectra: a `labels.csv` as `zcnn simulate` and
//! `zcnn import` write it, its rows matched to the spectra by their `index` column
//! ([`read_labels`]). Columns used when present: `id` (else `index`) passed through to the
//! outputs, `z` (the truth, written as qp's `redshift`), `masked_fraction` (sets the
//! MASKED_INPUT warning), `ebv` (the Galactic reddening image models take). Others are ignored.

use super::labels::{read_labels, Labels};
use std::path::Path;

/// Per-spectrum labels, in the order of the spectra.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowLabels {
    pub ids: Option<Vec<String>>,
    pub z: Option<Vec<f64>>,
    pub masked_fraction: Option<Vec<f64>>,
    pub ebv: Option<Vec<f64>>,
}

impl RowLabels {
    /// The labels of the rows `range` only.
    pub fn rows(&self, range: std::ops::Range<usize>) -> RowLabels {
        fn part<T: Clone>(v: &Option<Vec<T>>, r: &std::ops::Range<usize>) -> Option<Vec<T>> {
            v.as_ref().map(|v| v[r.clone()].to_vec())
        }
        RowLabels {
            ids: part(&self.ids, &range),
            z: part(&self.z, &range),
            masked_fraction: part(&self.masked_fraction, &range),
            ebv: part(&self.ebv, &range),
        }
    }
}

/// Reads `path`, the labels of `rows` spectra. Errors name the file, the line and the column.
pub fn read_row_labels(path: &Path, rows: usize) -> Result<RowLabels, String> {
    RowLabels::of(&read_labels(path, rows)?, rows)
}

impl RowLabels {
    /// The columns this needs of the label table of `rows` objects, those it has.
    pub fn of(labels: &Labels, rows: usize) -> Result<RowLabels, String> {
        let all = 0..rows;
        let ids = labels
            .column("id", all.clone())
            .or_else(|| labels.column("index", all.clone()))
            .map(|ids| ids.into_iter().map(String::from).collect());
        // z rounded to f32, as the dataset reader keeps it, so that metrics agree bit for bit.
        let as_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32 as f64).collect();
        Ok(RowLabels {
            ids,
            z: labels.finite_numbers("z", all.clone())?.map(as_f32),
            masked_fraction: labels
                .finite_numbers("masked_fraction", all.clone())?
                .map(as_f32),
            ebv: labels.finite_numbers("ebv", all)?.map(as_f32),
        })
    }
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
    fn reads_the_columns_present_in_the_order_of_the_spectra() {
        let path = write(
            "ok",
            "index,id,z,masked_fraction,other\n1,b,1.25,0.1,y\n0,a,0.5,0,x\n",
        );
        let l = read_row_labels(&path, 2).expect("valid");
        assert_eq!(l.ids, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(l.z, Some(vec![0.5, 1.25]));
        assert_eq!(l.masked_fraction, Some(vec![0.0, 0.1f32 as f64]));
        let path = write("index", "index,z\n0,0.5\n");
        let l = read_row_labels(&path, 1).expect("valid");
        assert_eq!(l.ids, Some(vec!["0".to_string()]));
        assert_eq!(l.masked_fraction, None);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let path = write("bad", "index,id,z\n0,a,0.5\n1,b,zz\n");
        let err = read_row_labels(&path, 2).expect_err("not a number");
        assert!(
            err.contains("line 3") && err.contains("zcnn-labels-bad"),
            "{err}"
        );
        let path = write("count", "index,id,z\n0,a,0.5\n");
        assert!(read_row_labels(&path, 2)
            .expect_err("count")
            .contains("no row for 1 of the 2 spectra"));
    }
}
