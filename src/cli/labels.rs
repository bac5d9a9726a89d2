//! `labels.csv` of a dataset folder, matched to the rows of `spectra.npy` by key: the `index`
//! column names the spectrum of each row, so the rows may come in any order. Every spectrum
//! needs exactly one row; an `id` column, where present, must not repeat.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The rows of a `labels.csv`, put in the order of the spectra of `spectra.npy`.
pub struct Labels {
    path: PathBuf,
    headers: csv::StringRecord,
    /// Row `i` describes spectrum `i`.
    rows: Vec<csv::StringRecord>,
    /// The file line of each row, for messages.
    lines: Vec<u64>,
}

/// Reads `path`, a `labels.csv` for `n` spectra, and orders its rows by their `index` column.
/// A repeated, missing or out-of-range index, or a repeated `id`, is an error naming the line.
pub fn read_labels(path: &Path, n: usize) -> Result<Labels, String> {
    let at = path.display();
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{at}: {e}"))?;
    let headers = reader.headers().map_err(|e| format!("{at}: {e}"))?.clone();
    let index_col = headers.iter().position(|h| h == "index").ok_or_else(|| {
        format!(
            "{at}: no column 'index' (columns: {}); labels.csv needs 'index' (the row of the \
             spectrum in spectra.npy, from 0) and 'z'",
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })?;
    let id_col = headers.iter().position(|h| h == "id");
    let mut rows = vec![None; n];
    let mut lines = vec![0u64; n];
    let mut id_lines: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{at}: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |col: usize| record.get(col).unwrap_or("").trim().to_string();
        let index: usize = field(index_col).parse().map_err(|_| {
            format!(
                "{at}: line {line}: index '{}' is not a whole number ≥ 0",
                field(index_col)
            )
        })?;
        if index >= n {
            return Err(format!(
                "{at}: line {line}: index {index} is out of range: spectra.npy holds {n} \
                 spectra (indices 0 to {})",
                n.saturating_sub(1)
            ));
        }
        if rows[index].is_some() {
            return Err(format!(
                "{at}: line {line}: index {index} appears twice (also on line {})",
                lines[index]
            ));
        }
        if let Some(col) = id_col {
            if let Some(first) = id_lines.insert(field(col), line) {
                return Err(format!(
                    "{at}: line {line}: id '{}' appears twice (also on line {first})",
                    field(col)
                ));
            }
        }
        rows[index] = Some(record);
        lines[index] = line;
    }
    let missing: Vec<usize> = (0..n).filter(|&i| rows[i].is_none()).collect();
    if let Some(first) = missing.first() {
        return Err(format!(
            "{at}: no row for {} of the {n} spectra of spectra.npy (the first: index {first})",
            missing.len()
        ));
    }
    Ok(Labels {
        path: path.to_path_buf(),
        headers,
        rows: rows.into_iter().flatten().collect(),
        lines,
    })
}

impl Labels {
    /// The values of `column` for the spectra `range`, in their order; `None` when the file
    /// has no such column.
    pub fn column(&self, column: &str, range: Range<usize>) -> Option<Vec<&str>> {
        let position = self.headers.iter().position(|h| h == column)?;
        Some(
            self.rows[range]
                .iter()
                .map(|r| r.get(position).unwrap_or("").trim())
                .collect(),
        )
    }

    /// The values of `column` for the spectra `range` as numbers ("inf" and "NaN" included);
    /// `None` when the file has no such column. A value that is not a number is an error naming
    /// its line.
    pub fn numbers(&self, column: &str, range: Range<usize>) -> Result<Option<Vec<f64>>, String> {
        let Some(values) = self.column(column, range.clone()) else {
            return Ok(None);
        };
        values
            .iter()
            .zip(&self.lines[range])
            .map(|(text, line)| {
                text.parse::<f64>().map_err(|_| {
                    format!(
                        "{}: line {line}: {column} '{text}' is not a number",
                        self.path.display()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// As [`Labels::numbers`], and every value finite (an error naming the line otherwise).
    pub fn finite_numbers(
        &self,
        column: &str,
        range: Range<usize>,
    ) -> Result<Option<Vec<f64>>, String> {
        let Some(values) = self.numbers(column, range.clone())? else {
            return Ok(None);
        };
        if let Some((value, line)) = values
            .iter()
            .zip(&self.lines[range])
            .find(|(v, _)| !v.is_finite())
        {
            return Err(format!(
                "{}: line {line}: {column} is {value}",
                self.path.display()
            ));
        }
        Ok(Some(values))
    }

    /// The `z` column of the `n` objects, as f32 (the precision datasets keep).
    pub fn redshifts(&self, n: usize) -> Result<Vec<f32>, String> {
        let z = self.finite_numbers("z", 0..n)?.ok_or_else(|| {
            format!(
                "{}: no column 'z' (columns: {})",
                self.path.display(),
                self.columns()
            )
        })?;
        Ok(z.into_iter().map(|v| v as f32).collect())
    }

    /// The names of the columns, for messages.
    fn columns(&self) -> String {
        self.headers.iter().collect::<Vec<_>>().join(", ")
    }
}

/// The redshift (column `z`) of each of the `n` spectra, in the spectra's order.
pub fn read_redshifts(path: &Path, n: usize) -> Result<Vec<f32>, String> {
    read_labels(path, n)?.redshifts(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("zcnn-labels-{name}-{}.csv", std::process::id()));
        std::fs::write(&path, text).expect("write labels");
        path
    }

    #[test]
    fn rows_in_any_order_map_to_their_spectra() {
        let path = labels("order", "id,z,index\nc,1.3,2\na,1.1,0\nb,1.2,1\n");
        assert_eq!(read_redshifts(&path, 3).expect("valid"), [1.1, 1.2, 1.3]);
        std::fs::remove_file(path).expect("clean up");
    }

    #[test]
    fn columns_come_in_the_order_of_the_spectra() {
        let path = labels("columns", "index,z,class\n1,1.2,passive\n0,1.1,seyfert\n");
        let table = read_labels(&path, 2).expect("valid");
        assert_eq!(
            table.column("class", 0..2),
            Some(vec!["seyfert", "passive"])
        );
        assert_eq!(table.numbers("z", 1..2).expect("numbers"), Some(vec![1.2]));
        assert_eq!(table.column("snr", 0..2), None);
        std::fs::remove_file(path).expect("clean up");
    }

    #[test]
    fn bad_keys_are_errors_naming_the_file_and_line() {
        let cases = [
            (
                "index,z\n0,1.0\n0,1.1\n",
                "line 3: index 0 appears twice (also on line 2)",
            ),
            ("index,z\n0,1.0\n5,1.1\n", "line 3: index 5 is out of range"),
            ("index,z\n0,1.0\n", "no row for 1 of the 2 spectra"),
            (
                "index,z\n0,1.0\n-1,1.1\n",
                "line 3: index '-1' is not a whole number",
            ),
            (
                "index,id,z\n0,a,1.0\n1,a,1.1\n",
                "line 3: id 'a' appears twice",
            ),
            ("z\n1.0\n1.1\n", "no column 'index'"),
            ("index,z\n0,1.0\n1,nan\n", "line 3: z is NaN"),
        ];
        for (k, (text, expected)) in cases.iter().enumerate() {
            let path = labels(&format!("bad{k}"), text);
            let err = read_redshifts(&path, 2).expect_err(text);
            assert!(
                err.contains(&*path.display().to_string()) && err.contains(expected),
                "{text:?}: {err}"
            );
            std::fs::remove_file(path).expect("clean up");
        }
    }
}
