//! `zcnn evaluate`: the metrics of a checkpoint on a dataset folder, streamed over its inputs
//! a chunk at a time. Memory holds one chunk of inputs and outputs, and a few numbers per
//! object ([`ObjectScores`]: the point estimate, and the scores of the PDF), not the inputs or
//! the PDFs. With survey outputs, the evaluated objects' predictions are written as they come,
//! with their ids and true redshifts. Ctrl-C stops it after the current chunk: nothing is
//! written and earlier files are kept.

use super::checkpoint::Checkpoint;
use super::contract;
use super::data_folder::{catalog_redshifts, folder_kind, read_catalog, FolderKind};
use super::files;
use super::image_data::ImageFolder;
use super::input_reader::{run_chunks, InputReader};
use super::labels::{read_labels, Labels};
use super::pipeline::{self, splits};
use super::progress::ctrl_c_flag;
use super::report::{self, ObjectScores};
use super::row_labels::RowLabels;
use super::{outputs, predict_sink, SurveyOutputs};
use crate::io::atomic::StagedDir;
use std::path::Path;

/// The predictions CSV `zcnn evaluate` writes beside its report when survey outputs are asked.
pub const PREDICTIONS: &str = "predictions.csv";

/// Whether the evaluation ran to its end.
pub enum Evaluated {
    Done,
    Interrupted,
}

/// Evaluates `ckpt` on the test split of the folder `data` (on all of it with `all`), writes
/// the report folder `out` and prints its table; with `survey`, the predictions too. Inputs
/// are read and run `chunk` at a time.
pub fn evaluate(
    ckpt: &Checkpoint,
    data: &Path,
    out: &Path,
    all: bool,
    survey: &SurveyOutputs,
    chunk: usize,
) -> Result<Evaluated, String> {
    let m = &ckpt.config.model;
    let (mut reader, z, labels) = open(ckpt, data)?;
    let (n, shape, _) = reader.describe();
    let mut model = ckpt.model(&shape)?;
    let range = if all {
        0..n
    } else {
        splits(n, &ckpt.config.train)?[2].clone()
    };
    let z_true: Vec<f64> = z[range.clone()].iter().map(|&v| v as f64).collect();
    let stop = ctrl_c_flag();
    // The report and the predictions CSV are staged in `out` and appear together at the end.
    let staged = StagedDir::new(out).map_err(|e| e.to_string())?;
    let csv = staged.file(PREDICTIONS);
    let mut sink = if survey.files().is_empty() {
        None
    } else {
        let rows = match &labels {
            Some(labels) => RowLabels::of(labels, n)?.rows(range.clone()),
            None => RowLabels::default(),
        };
        let binning = pipeline::is_classifier(m)?
            .then(|| pipeline::binning(m))
            .transpose()?;
        let provenance = outputs::Provenance::new(&ckpt.path, m)?;
        let paths = predict_sink::OutputPaths::new(&csv, survey);
        let sink =
            predict_sink::PredictionSink::create(&paths, &provenance, binning, rows, range.len())?;
        Some(sink.starting_at(range.start))
    };
    let mut scores = ObjectScores::default();
    let ran = run_chunks(
        &mut reader,
        ckpt,
        &mut model,
        range.clone(),
        chunk,
        &stop,
        |first, z_pred, pdfs| {
            let local = first - range.start;
            let truth = &z_true[local..local + z_pred.len()];
            scores.add(m, z_pred, pdfs, truth, first)?;
            match &mut sink {
                Some(sink) => sink.append(local, z_pred, pdfs),
                None => Ok(()),
            }
        },
    )?;
    if ran < range.len() {
        // Dropping the sink and the staged folder removes their temporary files.
        drop(sink);
        drop(staged);
        eprintln!(
            "interrupted after {ran} of {} inputs: no output was written, earlier files are \
             unchanged",
            range.len()
        );
        return Ok(Evaluated::Interrupted);
    }
    let mut evaluation = report::evaluate_scores(m, scores, z_true)?;
    if let Some(labels) = &labels {
        report::add_populations(&mut evaluation, labels, range)?;
    }
    report::write_into(&staged, &evaluation, &ckpt.history)?;
    if let Some(sink) = sink {
        sink.finish()?;
    }
    staged.commit().map_err(|e| e.to_string())?;
    println!("{}", report::table(&evaluation));
    println!("report: {}", out.display());
    Ok(Evaluated::Done)
}

/// Opens the inputs of the folder `dir` for the checkpoint's model (spectra and cutouts are read
/// from disk as they are needed), with their true redshifts and, when the folder has one, its
/// label table.
fn open(ckpt: &Checkpoint, dir: &Path) -> Result<(InputReader, Vec<f32>, Option<Labels>), String> {
    let config = &ckpt.config;
    let labels_path = dir.join(files::LABELS);
    match folder_kind(dir, config) {
        FolderKind::Spectra => {
            let path = dir.join(files::SPECTRA);
            let normalisation = contract::folder_normalisation(dir)?;
            let reader = InputReader::spectra(ckpt, &path, None, normalisation)?;
            let (n, _, _) = reader.describe();
            let labels = read_labels(&labels_path, n)?;
            let z = labels.redshifts(n)?;
            Ok((reader, z, Some(labels)))
        }
        FolderKind::Images => {
            let (folder, labels) = ImageFolder::open_with_labels(dir)?;
            ckpt.check_images(folder.rows.path(), &folder.rows.shape(), &[], 0)?;
            Ok((
                InputReader::images(folder.rows, folder.ebv),
                folder.z,
                Some(labels),
            ))
        }
        FolderKind::Catalog => {
            let c = &config.catalog;
            let path = dir.join(&c.table);
            let table = read_catalog(&path, c, true)?;
            let z = catalog_redshifts(&table, &path, c)?;
            let reader = InputReader::catalog(&path, &table, &c.reference)?;
            let (_, shape, _) = reader.describe();
            ckpt.check_images(&path, &shape, &[], 0)?;
            // Only a table that is the folder's labels.csv has rows matched to its objects.
            let labels = path
                .ends_with(files::LABELS)
                .then(|| read_labels(&path, z.len()))
                .transpose()?;
            Ok((reader, z, labels))
        }
    }
}
