//! `labels.csv` of a dataset folder, matched to the rows of `spectra.npy` by key: the `index`
//! column names the spectrum of each row, so the rows may come in any order. Every spectrum
//! needs exactly one row; an `id` column, where present, must not repeat.

use std::collections::HashMap;
use std::path::Path;

/// The redshift (column `z`) of each of the `n` spectra, in the spectra's order.
pub fn read_redshifts(path: &Path, n: usize) -> Result<Vec<f32>, String> {
    let at = path.display();
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{at}: {e}"))?;
    let headers = reader.headers().map_err(|e| format!("{at}: {e}"))?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            format!(
                "{at}: no column '{name}' (columns: {}); labels.csv needs 'index' (the row of \
                 the spectrum in spectra.npy, from 0) and 'z'",
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let (index_col, z_col) = (column("index")?, column("z")?);
    let id_col = headers.iter().position(|h| h == "id");
    let mut z = vec![None; n];
    // The line of the row that gave each spectrum its redshift, and of each id.
    let mut line_of = vec![0u64; n];
    let mut id_lines: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{at}: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |col: usize| record.get(col).unwrap_or("").trim();
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
        if z[index].is_some() {
            return Err(format!(
                "{at}: line {line}: index {index} appears twice (also on line {})",
                line_of[index]
            ));
        }
        if let Some(col) = id_col {
            if let Some(first) = id_lines.insert(field(col).to_string(), line) {
                return Err(format!(
                    "{at}: line {line}: id '{}' appears twice (also on line {first})",
                    field(col)
                ));
            }
        }
        let value: f32 = field(z_col)
            .parse()
            .map_err(|_| format!("{at}: line {line}: z '{}' is not a number", field(z_col)))?;
        if !value.is_finite() {
            return Err(format!("{at}: line {line}: z is {value}"));
        }
        z[index] = Some(value);
        line_of[index] = line;
    }
    let missing: Vec<usize> = (0..n).filter(|&i| z[i].is_none()).collect();
    if let Some(first) = missing.first() {
        return Err(format!(
            "{at}: no row for {} of the {n} spectra of spectra.npy (the first: index {first})",
            missing.len()
        ));
    }
    Ok(z.into_iter().flatten().collect())
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
