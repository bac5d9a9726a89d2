//! A Parquet table written one row group at a time (the `parquet` crate of apache/arrow-rs,
//! without Arrow and without compression codecs), under a temporary name renamed into place
//! when complete. Flat columns only: int64, int32, float and UTF-8 text.

use super::atomic::StagedPath;
use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, FloatType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParquetType {
    I64,
    I32,
    F32,
    Text,
}

/// One row group's values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum ParquetValues {
    I64(Vec<i64>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Text(Vec<String>),
}

impl ParquetValues {
    fn len(&self) -> usize {
        match self {
            Self::I64(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::Text(v) => v.len(),
        }
    }
}

/// A Parquet file being written.
pub struct ParquetTableWriter {
    writer: SerializedFileWriter<File>,
    staged: StagedPath,
    columns: Vec<(String, ParquetType)>,
}

impl ParquetTableWriter {
    /// Creates `path` (under a temporary name until the commit of what
    /// [`ParquetTableWriter::finish`] returns) with
    /// `columns` (all required) and `metadata` as the file's key-value metadata.
    pub fn create(
        path: &Path,
        columns: &[(&str, ParquetType)],
        metadata: &[(&str, String)],
    ) -> Result<Self, String> {
        let staged = StagedPath::new(path);
        let err = |e: parquet::errors::ParquetError| format!("{}: {e}", path.display());
        let fields = columns
            .iter()
            .map(|&(name, kind)| {
                let (physical, logical) = match kind {
                    ParquetType::I64 => (PhysicalType::INT64, None),
                    ParquetType::I32 => (PhysicalType::INT32, None),
                    ParquetType::F32 => (PhysicalType::FLOAT, None),
                    ParquetType::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
                };
                Type::primitive_type_builder(name, physical)
                    .with_repetition(Repetition::REQUIRED)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let schema = Type::group_type_builder("zcnn")
            .with_fields(fields)
            .build()
            .map_err(err)?;
        let properties = WriterProperties::builder()
            .set_created_by(format!("zcnn {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(
                metadata
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
                    .collect(),
            ))
            .build();
        let file = staged.create().map_err(|e| e.0)?;
        let writer =
            SerializedFileWriter::new(file, Arc::new(schema), Arc::new(properties)).map_err(err)?;
        Ok(Self {
            writer,
            staged,
            columns: columns.iter().map(|&(n, k)| (n.to_string(), k)).collect(),
        })
    }

    /// Writes one row group: one entry per column, in order, all of the same length.
    pub fn write_row_group(&mut self, values: &[ParquetValues]) -> Result<(), String> {
        let path = self.staged.path().display().to_string();
        let rows = values.first().map_or(0, ParquetValues::len);
        if values.len() != self.columns.len() || values.iter().any(|v| v.len() != rows) {
            return Err(format!(
                "{path}: a row group needs {} columns of equal length",
                self.columns.len()
            ));
        }
        let err = |e: parquet::errors::ParquetError| format!("{path}: {e}");
        let mut group = self.writer.next_row_group().map_err(err)?;
        for ((name, kind), column) in self.columns.iter().zip(values) {
            let mut writer = group
                .next_column()
                .map_err(err)?
                .ok_or_else(|| format!("{path}: no column {name} in the schema"))?;
            let written = match (kind, column) {
                (ParquetType::I64, ParquetValues::I64(v)) => {
                    writer.typed::<Int64Type>().write_batch(v, None, None)
                }
                (ParquetType::I32, ParquetValues::I32(v)) => {
                    writer.typed::<Int32Type>().write_batch(v, None, None)
                }
                (ParquetType::F32, ParquetValues::F32(v)) => {
                    writer.typed::<FloatType>().write_batch(v, None, None)
                }
                (ParquetType::Text, ParquetValues::Text(v)) => {
                    let bytes: Vec<ByteArray> = v.iter().map(|s| s.as_str().into()).collect();
                    writer
                        .typed::<ByteArrayType>()
                        .write_batch(&bytes, None, None)
                }
                _ => {
                    return Err(format!(
                        "{path}: column {name} is {kind:?}, given other values"
                    ))
                }
            };
            written.map_err(err)?;
            writer.close().map_err(err)?;
        }
        group.close().map_err(err)?;
        Ok(())
    }

    /// Writes the footer and syncs the file, still under its temporary name: the caller moves
    /// it into place with [`StagedPath::commit`].
    pub fn finish(mut self) -> Result<StagedPath, String> {
        let path = self.staged.path().display().to_string();
        self.writer.finish().map_err(|e| format!("{path}: {e}"))?;
        self.writer
            .inner()
            .sync_all()
            .map_err(|e| format!("{path}: {e}"))?;
        drop(self.writer);
        Ok(self.staged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_groups_are_written_and_checked() {
        let dir = std::env::temp_dir().join(format!("zcnn-parquet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.parquet");
        let columns = [
            ("id", ParquetType::Text),
            ("z", ParquetType::F32),
            ("w", ParquetType::I32),
        ];
        let mut w = ParquetTableWriter::create(&path, &columns, &[("k", "v".into())]).unwrap();
        let group = |ids: &[&str], z: Vec<f32>, w: Vec<i32>| {
            vec![
                ParquetValues::Text(ids.iter().map(|s| s.to_string()).collect()),
                ParquetValues::F32(z),
                ParquetValues::I32(w),
            ]
        };
        w.write_row_group(&group(&["a", "b"], vec![0.5, 1.5], vec![0, 1]))
            .unwrap();
        w.write_row_group(&group(&["c"], vec![2.5], vec![3]))
            .unwrap();
        let err = w
            .write_row_group(&group(&["d"], vec![1.0, 2.0], vec![0]))
            .expect_err("ragged");
        assert!(err.contains("equal length"), "{err}");
        assert!(!path.exists());
        w.finish().unwrap().commit().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
