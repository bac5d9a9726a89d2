//! Where `zcnn predict` puts its results, chunk by chunk in input order: the CSV, and on
//! request the FITS catalogue, the PDFs (NPY, or a qp ensemble in HDF5). Every file is built
//! under a temporary name and moved into place by [`PredictionSink::finish`]; an error or a
//! Ctrl-C drops the sink, which removes the temporary files and leaves earlier outputs as they
//! were. Which paths may be written (not an input; an earlier result only with `--overwrite`)
//! the command's output plan decided before the sink is created.

use super::outputs::{is_hdf5, CatalogWriter, ObjectRow, Provenance};
use super::row_labels::RowLabels;
use crate::io::atomic::{commit_all, StagedPath};
use crate::redshift::summary::{summarise, PdfSummary};
use crate::redshift::ZBinning;
use npyz::WriterBuilder;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// The files asked for.
pub struct OutputPaths<'a> {
    /// The predictions CSV.
    pub csv: &'a Path,
    pub catalog: Option<&'a Path>,
    /// Put each PDF into the catalogue as a vector column.
    pub catalog_pdf: bool,
    /// `.hdf5`/`.h5`: a qp ensemble; anything else: NPY `[n, bins]`.
    pub pdfs: Option<&'a Path>,
    /// A Parquet table of the point estimates, one row group per chunk.
    pub parquet: Option<&'a Path>,
}

impl<'a> OutputPaths<'a> {
    /// The CSV `csv` and the survey outputs asked for.
    pub fn new(csv: &'a Path, survey: &'a super::SurveyOutputs) -> Self {
        OutputPaths {
            csv,
            catalog: survey.catalog.as_deref(),
            catalog_pdf: survey.catalog_pdf,
            pdfs: survey.pdfs.as_deref(),
            parquet: survey.parquet.as_deref(),
        }
    }
}

/// The open outputs of one prediction run.
pub struct PredictionSink {
    csv: csv::Writer<BufWriter<File>>,
    csv_path: StagedPath,
    catalog: Option<CatalogWriter>,
    npy: Option<(npyz::NpyWriter<f32, BufWriter<File>>, StagedPath)>,
    #[cfg(feature = "hdf5")]
    qp: Option<crate::io::qp_hdf5::QpHistWriter>,
    #[cfg(feature = "parquet")]
    parquet: Option<(crate::io::parquet_write::ParquetTableWriter, bool)>,
    /// The bins of a classifier (none for a regression model, which writes only the CSV).
    binning: Option<ZBinning>,
    labels: RowLabels,
    /// The `index` the CSV gives the first object (its row in the input file).
    first_index: usize,
}

impl PredictionSink {
    /// Opens every output for `n` objects.
    pub fn create(
        paths: &OutputPaths,
        provenance: &Provenance,
        binning: Option<ZBinning>,
        labels: RowLabels,
        n: usize,
    ) -> Result<Self, String> {
        let wants_pdfs = paths.catalog.is_some() || paths.pdfs.is_some();
        if binning.is_none() && wants_pdfs {
            return Err(
                "--pdfs and --catalog need a classifier's PDFs; this model regresses z".into(),
            );
        }
        let csv_path = StagedPath::new(paths.csv);
        let mut csv = csv::Writer::from_writer(BufWriter::new(csv_path.create().map_err(|e| e.0)?));
        let header: &[&str] = match binning {
            Some(_) => &[
                "index",
                "z",
                "z_mode",
                "z_mean",
                "z_median",
                "z_std",
                "p_max",
                "z_conf",
                "peak_log_ratio",
            ],
            None => &["index", "z"],
        };
        csv.write_record(header)
            .map_err(|e| cannot_write(paths.csv, e))?;
        let ids = labels.ids.clone().unwrap_or_default();
        let catalog = paths
            .catalog
            .map(|path| CatalogWriter::create(path, provenance, &ids, paths.catalog_pdf))
            .transpose()?;
        let (mut npy, mut hdf5_path) = (None, None);
        match (paths.pdfs, &binning) {
            (Some(path), Some(_)) if is_hdf5(path) => hdf5_path = Some(path),
            (Some(path), Some(b)) => {
                let staged = StagedPath::new(path);
                let writer = npyz::WriteOptions::<f32>::new()
                    .dtype(npyz::DType::Plain(
                        "<f4".parse().expect("a valid type string"),
                    ))
                    .shape(&[n as u64, b.bins() as u64])
                    .writer(BufWriter::new(staged.create().map_err(|e| e.0)?))
                    .begin_nd()
                    .map_err(|e| cannot_write(path, e))?;
                npy = Some((writer, staged));
            }
            _ => {}
        }
        #[cfg(not(feature = "hdf5"))]
        no_hdf5(hdf5_path)?;
        #[cfg(not(feature = "parquet"))]
        if let Some(path) = paths.parquet {
            return Err(format!(
                "{}: this zcnn was built without Parquet; rebuild with `--features parquet`",
                path.display()
            ));
        }
        Ok(Self {
            csv,
            csv_path,
            catalog,
            npy,
            #[cfg(feature = "hdf5")]
            qp: match (hdf5_path, &binning) {
                (Some(path), Some(b)) => Some(open_qp(path, provenance, b, &labels, &ids, n)?),
                _ => None,
            },
            #[cfg(feature = "parquet")]
            parquet: paths
                .parquet
                .map(|path| super::parquet_out::create(path, provenance, &ids))
                .transpose()?,
            binning,
            labels,
            first_index: 0,
        })
    }

    /// Numbers the CSV's rows from `index` on: the objects are the rows `index..` of their
    /// input (e.g. the test split `zcnn evaluate` ran on).
    pub fn starting_at(mut self, index: usize) -> Self {
        self.first_index = index;
        self
    }

    /// Writes the objects `first..first + z.len()`: point estimates `z` and, for a
    /// classifier, their PDFs `[rows, bins]`.
    pub fn append(&mut self, first: usize, z: &[f64], pdfs: Option<&[f32]>) -> Result<(), String> {
        let csv_error = |e: csv::Error| cannot_write(self.csv_path.path(), e);
        let (Some(b), Some(pdfs)) = (&self.binning, pdfs) else {
            for (i, v) in z.iter().enumerate() {
                self.csv
                    .write_record([(self.first_index + first + i).to_string(), v.to_string()])
                    .map_err(csv_error)?;
            }
            return Ok(());
        };
        let summaries: Vec<PdfSummary> = pdfs
            .chunks_exact(b.bins())
            .zip(z)
            .enumerate()
            .map(|(i, (pdf, &zi))| {
                let masked = self.labels.masked_fraction.as_ref().map(|m| m[first + i]);
                summarise(b, pdf, zi, masked).map_err(|e| format!("object {}: {e}", first + i))
            })
            .collect::<Result<_, _>>()?;
        let index_ids: Vec<String>;
        let ids = match &self.labels.ids {
            Some(ids) => &ids[first..first + z.len()],
            None => {
                index_ids = (first..first + z.len()).map(|i| i.to_string()).collect();
                &index_ids[..]
            }
        };
        for (i, ((s, &zi), pdf)) in summaries
            .iter()
            .zip(z)
            .zip(pdfs.chunks_exact(b.bins()))
            .enumerate()
        {
            let row = [
                zi,
                s.z_mode,
                s.z_mean,
                s.z_median,
                s.z_std,
                s.p_max,
                s.z_conf,
                s.peak_log_ratio,
            ];
            let mut record = vec![(self.first_index + first + i).to_string()];
            record.extend(row.iter().map(|v| v.to_string()));
            self.csv.write_record(&record).map_err(csv_error)?;
            if let Some(catalog) = &mut self.catalog {
                catalog.append(&ObjectRow {
                    id: &ids[i],
                    z: zi,
                    summary: s,
                    pdf,
                })?;
            }
        }
        if let Some((npy, staged)) = &mut self.npy {
            npy.extend(pdfs.iter().copied())
                .map_err(|e| cannot_write(staged.path(), e))?;
        }
        #[cfg(feature = "parquet")]
        if let Some((table, numeric_ids)) = &mut self.parquet {
            super::parquet_out::write_chunk(table, *numeric_ids, ids, z, &summaries)?;
        }
        #[cfg(feature = "hdf5")]
        if let Some(qp) = &mut self.qp {
            write_qp_chunk(
                qp,
                ids,
                &summaries,
                pdfs,
                self.labels.z.as_ref().map(|z| &z[first..first + ids.len()]),
            )?;
        }
        Ok(())
    }

    /// Completes every file, then moves each into place: an error while completing any one
    /// (a full disk) leaves every earlier output as it was.
    pub fn finish(self) -> Result<(), String> {
        let csv_error = |e: &dyn std::fmt::Display| cannot_write(self.csv_path.path(), e);
        let file = self
            .csv
            .into_inner()
            .map_err(|e| csv_error(&e))?
            .into_inner()
            .map_err(|e| csv_error(&e))?;
        file.sync_all().map_err(|e| csv_error(&e))?;
        let mut complete = Vec::new();
        if let Some(catalog) = self.catalog {
            complete.push(catalog.finish()?);
        }
        if let Some((npy, staged)) = self.npy {
            npy.finish()
                .and_then(|()| File::open(staged.temporary())?.sync_all())
                .map_err(|e| cannot_write(staged.path(), e))?;
            complete.push(staged);
        }
        #[cfg(feature = "hdf5")]
        if let Some(qp) = self.qp {
            complete.push(qp.finish()?);
        }
        #[cfg(feature = "parquet")]
        if let Some((table, _)) = self.parquet {
            complete.push(table.finish()?);
        }
        // The CSV, the main output, last.
        complete.push(self.csv_path);
        commit_all(complete).map_err(|e| e.0)
    }
}

/// The message of a failed write (a full disk: "No space left on device").
fn cannot_write(path: &Path, e: impl std::fmt::Display) -> String {
    format!("cannot write {}: {e}", path.display())
}

#[cfg(not(feature = "hdf5"))]
fn no_hdf5(path: Option<&Path>) -> Result<(), String> {
    match path {
        Some(path) => Err(format!(
            "{}: this zcnn was built without HDF5; rebuild with `--features hdf5` (needs libhdf5-dev), or write NPY PDFs",
            path.display()
        )),
        None => Ok(()),
    }
}

#[cfg(feature = "hdf5")]
fn open_qp(
    path: &Path,
    provenance: &Provenance,
    binning: &ZBinning,
    labels: &RowLabels,
    ids: &[String],
    n: usize,
) -> Result<crate::io::qp_hdf5::QpHistWriter, String> {
    let attributes = [
        ("zcnn_version", provenance.version.to_string()),
        ("checkpoint_sha256", provenance.checkpoint_sha256.clone()),
        ("preset", provenance.preset.clone()),
        ("estimator", provenance.estimator.clone()),
        ("seed", provenance.seed.to_string()),
        ("date", provenance.date.clone()),
    ];
    let numeric_ids = ids.iter().all(|id| id.parse::<i64>().is_ok());
    crate::io::qp_hdf5::QpHistWriter::create(
        path,
        &binning.edges(),
        n,
        numeric_ids,
        labels.z.is_some(),
        &attributes,
    )
}

#[cfg(feature = "hdf5")]
fn write_qp_chunk(
    qp: &mut crate::io::qp_hdf5::QpHistWriter,
    ids: &[String],
    summaries: &[PdfSummary],
    pdfs: &[f32],
    redshift: Option<&[f64]>,
) -> Result<(), String> {
    let column = |f: fn(&PdfSummary) -> f64| summaries.iter().map(f).collect::<Vec<f64>>();
    let zwarn: Vec<u32> = summaries.iter().map(|s| s.zwarn).collect();
    qp.write_chunk(
        pdfs,
        &crate::io::qp_hdf5::AncilChunk {
            ids,
            zmode: &column(|s| s.z_mode),
            zmean: &column(|s| s.z_mean),
            zmedian: &column(|s| s.z_median),
            z_std: &column(|s| s.z_std),
            p_max: &column(|s| s.p_max),
            zconf: &column(|s| s.z_conf),
            zwarn: &zwarn,
            redshift,
        },
    )
}
