//! Each object's r magnitude, which picks its magnitude row (research notes §1.5).

use crate::cli::config::RunConfig;
use crate::cli::data_folder::{read_catalog, DataFolder};
use crate::cli::labels::read_labels;
use std::path::Path;

/// The column of `labels.csv` read when `[debias] magnitude` is absent (images, spectra).
const DEFAULT_MAGNITUDE: &str = "mag_r";

/// Every object's r magnitude: the column `[debias] magnitude` of the folder's `labels.csv`;
/// when it is absent, `mag_r`, or for the catalogue the table's reference-band magnitude.
/// With a single row (`[debias] rows = 1`, as for spectra, which carry no magnitude) nothing is
/// read: every object gets `r_min`, the lower edge of that row.
pub fn magnitudes(
    config: &RunConfig,
    set: &DataFolder,
    data_dir: &Path,
) -> Result<Vec<f64>, String> {
    if config.debias.rows == 1 {
        return Ok(vec![config.debias.r_min; set.len()]);
    }
    let column = match (&config.debias.magnitude, set) {
        (Some(column), _) => column.as_str(),
        (None, DataFolder::Catalog { .. }) => return reference_magnitudes(config, data_dir),
        (None, _) => DEFAULT_MAGNITUDE,
    };
    let path = set.labels(data_dir).ok_or_else(|| {
        format!(
            "debias.magnitude: '{column}' is read from labels.csv, and {} has none for this \
             table (leave debias.magnitude out to use the table's reference band)",
            data_dir.display()
        )
    })?;
    let labels = read_labels(&path, set.len())?;
    labels.finite_numbers(column, 0..set.len())?.ok_or_else(|| {
        format!(
            "{}: no column '{column}' (debias.magnitude names the r magnitude column)",
            path.display()
        )
    })
}

/// The magnitudes of the `[catalog]` table in its reference band.
fn reference_magnitudes(config: &RunConfig, data_dir: &Path) -> Result<Vec<f64>, String> {
    let c = &config.catalog;
    let table = read_catalog(&data_dir.join(&c.table), c, false)?;
    let bands = table.bands.len();
    let at = table
        .bands
        .iter()
        .position(|b| *b == c.reference)
        .ok_or_else(|| {
            format!(
                "{}: the reference band '{}' is not among the bands",
                table.source, c.reference
            )
        })?;
    Ok(table
        .mags
        .chunks_exact(bands)
        .map(|m| f64::from(m[at]))
        .collect())
}
