//! The outputs of `zcnn predict` that survey tools read: a FITS catalogue (`--catalog`) and a
//! qp ensemble of the PDFs in HDF5 (`--pdfs x.hdf5`, feature `hdf5`). Both carry the input id,
//! the point estimates and the provenance of the model.

use super::config::ModelConfig;
use crate::io::atomic::StagedPath;
use crate::io::fits_write::{BinTableWriter, Card, CardValue, Column, ColumnType, Value};
use crate::redshift::summary::PdfSummary;
use crate::redshift::zwarn::ZWARN_BITS;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Where the numbers came from, written into every output's header or metadata.
pub struct Provenance {
    pub version: &'static str,
    /// SHA-256 of the checkpoint file: the digest `sha256sum` prints, so anyone can check which
    /// model produced a catalogue.
    pub checkpoint_sha256: String,
    pub preset: String,
    pub estimator: String,
    pub z_min: f64,
    pub z_max: f64,
    pub bins: usize,
    pub seed: u64,
    /// UTC, `YYYY-MM-DDThh:mm:ss` (the FITS `DATE` format).
    pub date: String,
}

impl Provenance {
    pub fn new(checkpoint: &Path, m: &ModelConfig) -> Result<Self, String> {
        let mut file = std::fs::File::open(checkpoint)
            .map_err(|e| format!("{}: cannot read: {e}", checkpoint.display()))?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)
            .map_err(|e| format!("{}: cannot read: {e}", checkpoint.display()))?;
        let digest = hasher.finalize();
        Ok(Self {
            version: env!("CARGO_PKG_VERSION"),
            checkpoint_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            preset: m.preset.clone(),
            estimator: m.estimator.clone(),
            z_min: m.z_min,
            z_max: m.z_max,
            bins: m.bins,
            seed: m.seed,
            date: utc_now(),
        })
    }

    fn cards(&self) -> Vec<Card> {
        let text = |v: &str| CardValue::Text(v.to_string());
        let mut cards = vec![
            Card::new("ORIGIN", text("zcnn"), "software that wrote this file"),
            Card::new("ZCNNVER", text(self.version), "zcnn version"),
            Card::new("DATE", text(&self.date), "UTC date of writing"),
            Card::new(
                "CKPTSHA",
                text(&self.checkpoint_sha256),
                "SHA-256 of the checkpoint",
            ),
            Card::new("PRESET", text(&self.preset), "network preset"),
            Card::new(
                "ZEST",
                text(&self.estimator),
                "point estimate Z: mode, mean or median",
            ),
            Card::new(
                "ZMIN",
                CardValue::Float(self.z_min),
                "lower edge of the z grid",
            ),
            Card::new(
                "ZMAX",
                CardValue::Float(self.z_max),
                "upper edge of the z grid",
            ),
            Card::new(
                "NZBINS",
                CardValue::Int(self.bins as i64),
                "bins of the z grid",
            ),
            Card::new("SEED", CardValue::Int(self.seed as i64), "model seed"),
        ];
        for (bit, name, meaning) in ZWARN_BITS {
            cards.push(Card::new(&format!("ZWBIT{bit}"), text(name), meaning));
        }
        cards.push(Card::new(
            "ZWRESERV",
            text("5-15 zcnn, 16-23 afterburners"),
            "reserved ZWARN bits",
        ));
        cards
    }
}

/// One object's row: its id, point estimate `z`, PDF summary and PDF.
pub struct ObjectRow<'a> {
    pub id: &'a str,
    pub z: f64,
    pub summary: &'a PdfSummary,
    pub pdf: &'a [f32],
}

/// A FITS catalogue: HDU 1 `REDSHIFTS` with `ID`, `Z`, `ZERR`, `Z_MODE`, `Z_MEAN`,
/// `Z_MEDIAN`, the quantiles, `Z_CONF`, `P_MAX`, `ZWARN` and optionally the PDF as a vector.
pub struct CatalogWriter {
    table: BinTableWriter,
    numeric_ids: bool,
    with_pdf: bool,
}

/// Widest text id the catalogue stores.
const MAX_ID_BYTES: usize = 64;

impl CatalogWriter {
    /// Creates the catalogue; `ids` decide the ID column's type (`K` when every id is an
    /// integer, else text as wide as the longest).
    pub fn create(
        path: &Path,
        provenance: &Provenance,
        ids: &[String],
        with_pdf: bool,
    ) -> Result<Self, String> {
        let numeric_ids = ids.iter().all(|id| id.parse::<i64>().is_ok());
        let width = ids.iter().map(String::len).max().unwrap_or(1).max(1);
        if let Some(id) = ids
            .iter()
            .find(|id| id.len() > MAX_ID_BYTES || !id.is_ascii())
        {
            return Err(format!(
                "id '{id}': ids must be ASCII of at most {MAX_ID_BYTES} bytes"
            ));
        }
        let col = |name: &str, kind: ColumnType, description: &str| Column {
            name: name.into(),
            kind,
            unit: None,
            description: description.into(),
        };
        let id_kind = if numeric_ids {
            ColumnType::I64
        } else {
            ColumnType::Text(width)
        };
        let mut columns = vec![
            col("ID", id_kind, "input id"),
            col("Z", ColumnType::F32, "redshift (the ZEST estimate)"),
            col("ZERR", ColumnType::F32, "standard deviation of the PDF"),
            col("Z_MODE", ColumnType::F32, "centre of the most probable bin"),
            col("Z_MEAN", ColumnType::F32, "mean of the PDF"),
            col("Z_MEDIAN", ColumnType::F32, "median of the PDF"),
            col("Z_Q2P5", ColumnType::F32, "2.5 % quantile"),
            col("Z_Q16", ColumnType::F32, "16 % quantile"),
            col("Z_Q84", ColumnType::F32, "84 % quantile"),
            col("Z_Q97P5", ColumnType::F32, "97.5 % quantile"),
            col("Z_CONF", ColumnType::F32, "PDF mass within 0.003(1+Z) of Z"),
            col(
                "P_MAX",
                ColumnType::F32,
                "probability of the most probable bin",
            ),
            col("ZWARN", ColumnType::I32, "warning bits, 0 = none (ZWBITn)"),
        ];
        if with_pdf {
            columns.push(col(
                "PDF",
                ColumnType::F32Vector(provenance.bins),
                "bin probabilities, ZMIN..ZMAX",
            ));
        }
        // Redshift is dimensionless: no TUNITn (FITS 4.0 §8.1 has no unit string for it).
        let table = BinTableWriter::create(path, &provenance.cards(), "REDSHIFTS", columns, &[])?;
        Ok(Self {
            table,
            numeric_ids,
            with_pdf,
        })
    }

    /// Appends one object.
    pub fn append(&mut self, row: &ObjectRow) -> Result<(), String> {
        let s = row.summary;
        let id = if self.numeric_ids {
            Value::I64(
                row.id
                    .parse()
                    .map_err(|_| format!("id '{}' is not an integer", row.id))?,
            )
        } else {
            Value::Text(row.id)
        };
        let f = |v: f64| Value::F32(v as f32);
        let mut values = vec![
            id,
            f(row.z),
            f(s.z_std),
            f(s.z_mode),
            f(s.z_mean),
            f(s.z_median),
            f(s.quantiles[0]),
            f(s.quantiles[1]),
            f(s.quantiles[3]),
            f(s.quantiles[4]),
            f(s.z_conf),
            f(s.p_max),
            Value::I32(s.zwarn as i32),
        ];
        if self.with_pdf {
            values.push(Value::F32s(row.pdf));
        }
        self.table.append(&values)
    }

    /// Completes the file, still under its temporary name (see [`BinTableWriter::finish`]).
    pub fn finish(self) -> Result<StagedPath, String> {
        self.table.finish()
    }
}

/// The current UTC time as `YYYY-MM-DDThh:mm:ss`.
fn utc_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_from_unix(seconds)
}

/// `YYYY-MM-DDThh:mm:ss` of a Unix time, through the days-to-civil-date algorithm of
/// H. Hinnant ("chrono-Compatible Low-Level Date Algorithms", `civil_from_days`).
fn utc_from_unix(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let of_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Whether `path` names an HDF5 file (qp's `.hdf5`, or `.h5`).
pub fn is_hdf5(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("hdf5") || e.eq_ignore_ascii_case("h5"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_to_utc_dates() {
        assert_eq!(utc_from_unix(0), "1970-01-01T00:00:00");
        // date -u -d @951782400 → 2000-02-29 00:00:00 (a leap day)
        assert_eq!(utc_from_unix(951_782_400), "2000-02-29T00:00:00");
        // date -u -d @1796300000 → 2026-12-03T12:13:20
        assert_eq!(utc_from_unix(1_796_300_000), "2026-12-03T12:13:20");
    }
}
