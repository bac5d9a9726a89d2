//! `predict --parquet`: the point estimates as a Parquet table, one row group per chunk, with
//! the lower-case column names of RAIL's ancillary data (`id`, `z_mode`, `z_mean`, …) and the
//! provenance as key-value metadata.

use super::outputs::Provenance;
use crate::io::parquet_write::{ParquetTableWriter, ParquetType, ParquetValues};
use crate::redshift::summary::PdfSummary;
use std::path::Path;

/// The float columns after `id`, each taken from the point estimate `z` and the summary.
const FLOAT_COLUMNS: [&str; 11] = [
    "z", "z_err", "z_mode", "z_mean", "z_median", "z_q2p5", "z_q16", "z_q84", "z_q97p5", "z_conf",
    "p_max",
];

/// Creates the table; ids are int64 when every one is an integer, else text. Returns the
/// writer and whether ids are numeric.
pub fn create(
    path: &Path,
    provenance: &Provenance,
    ids: &[String],
) -> Result<(ParquetTableWriter, bool), String> {
    let numeric_ids = ids.iter().all(|id| id.parse::<i64>().is_ok());
    let id_type = if numeric_ids {
        ParquetType::I64
    } else {
        ParquetType::Text
    };
    let mut columns = vec![("id", id_type)];
    columns.extend(FLOAT_COLUMNS.iter().map(|&name| (name, ParquetType::F32)));
    columns.push(("zwarn", ParquetType::I32));
    let metadata = [
        ("zcnn_version", provenance.version.to_string()),
        ("checkpoint_sha256", provenance.checkpoint_sha256.clone()),
        ("preset", provenance.preset.clone()),
        ("estimator", provenance.estimator.clone()),
        (
            "z_grid",
            format!(
                "{} {} {}",
                provenance.z_min, provenance.z_max, provenance.bins
            ),
        ),
        ("seed", provenance.seed.to_string()),
        ("date", provenance.date.clone()),
    ];
    Ok((
        ParquetTableWriter::create(path, &columns, &metadata)?,
        numeric_ids,
    ))
}

/// Writes one chunk of objects as a row group.
pub fn write_chunk(
    table: &mut ParquetTableWriter,
    numeric_ids: bool,
    ids: &[String],
    z: &[f64],
    summaries: &[PdfSummary],
) -> Result<(), String> {
    let id = if numeric_ids {
        ParquetValues::I64(
            ids.iter()
                .map(|id| {
                    id.parse()
                        .map_err(|_| format!("id '{id}' is not an integer"))
                })
                .collect::<Result<_, _>>()?,
        )
    } else {
        ParquetValues::Text(ids.to_vec())
    };
    let fields = |s: &PdfSummary, zi: f64| {
        let q = s.quantiles;
        [
            zi, s.z_std, s.z_mode, s.z_mean, s.z_median, q[0], q[1], q[3], q[4], s.z_conf, s.p_max,
        ]
    };
    let rows: Vec<[f64; 11]> = summaries
        .iter()
        .zip(z)
        .map(|(s, &zi)| fields(s, zi))
        .collect();
    let mut values = vec![id];
    values.extend(
        (0..FLOAT_COLUMNS.len())
            .map(|c| ParquetValues::F32(rows.iter().map(|r| r[c] as f32).collect())),
    );
    values.push(ParquetValues::I32(
        summaries.iter().map(|s| s.zwarn as i32).collect(),
    ));
    table.write_row_group(&values)
}
