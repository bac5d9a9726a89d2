//! `zcnn import`: FITS spectra → a dataset folder that train, evaluate and predict read.
//!
//! Each file (sorted by name; id = file stem) is read, its bad pixels (ivar ≤ 0, non-finite,
//! or flagged by a mask column) are masked, it is rebinned flux-conservingly onto the grid's
//! pixels and normalised as the simulator does. The folder holds `spectra.npy` [n, pixels],
//! `wavelengths.npy` [pixels] and `labels.csv` (`index,id,z,masked_fraction`; z only when a
//! catalogue gives it).

use super::files::{write_atomic, write_npy, LABELS, SPECTRA, WAVELENGTHS};
use crate::data::spectra::{is_fits, rebin_masked, Normalisation, SimConfig, PRESET_NAMES};
use crate::io::atomic::StagedDir;
use crate::io::catalog::{match_ids, read_catalog};
use crate::io::fits::{read_fits_spectrum, FitsOptions};
use crate::io::npy::{read_npy, NpyExpect};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

/// What `zcnn import` was asked to do.
pub struct Import {
    pub fits: Vec<PathBuf>,
    pub grid: String,
    pub out: PathBuf,
    /// The catalogue and its id and z column names.
    pub catalog: Option<(PathBuf, String, String)>,
    pub normalisation: Normalisation,
    pub fits_options: FitsOptions,
}

/// Runs the import.
pub fn run(args: &Import) -> Result<(), String> {
    let start = std::time::Instant::now();
    let files = fits_files(&args.fits)?;
    let ids: Vec<String> = files.iter().map(|f| stem(f)).collect();
    let z = match &args.catalog {
        Some((path, id_column, z_column)) => {
            Some(match_ids(&read_catalog(path, id_column, z_column)?, &ids)?)
        }
        None => None,
    };
    let (centres, edges) = grid(&args.grid)?;
    let pixels = centres.len();
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("importing {pos}/{len} {wide_bar} {eta}")
            .expect("a valid template"),
    );
    let mut spectra = Vec::with_capacity(files.len() * pixels);
    let mut masked = Vec::with_capacity(files.len());
    let (mut row, mut scratch) = (vec![0.0; pixels], Vec::new());
    let mut filled = 0;
    for file in &files {
        let s = read_fits_spectrum(file, &args.fits_options)?;
        let report = rebin_masked(&s.lambda, &s.flux, &s.bad_pixels(), &edges, &mut row)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        args.normalisation.apply(&mut row, &mut scratch);
        spectra.extend(row.iter().map(|&v| v as f32));
        masked.push(report.masked_fraction);
        filled += report.filled;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let out = &args.out;
    let staged = StagedDir::new(out).map_err(|e| e.to_string())?;
    write_npy(&staged.file(SPECTRA), &[files.len(), pixels], &spectra)?;
    let centres32: Vec<f32> = centres.iter().map(|&c| c as f32).collect();
    write_npy(&staged.file(WAVELENGTHS), &[pixels], &centres32)?;
    write_labels(&staged.file(LABELS), &ids, z.as_deref(), &masked)?;
    staged.commit().map_err(|e| e.to_string())?;
    let mean_masked = masked.iter().sum::<f64>() / masked.len() as f64;
    eprintln!(
        "imported {} spectra onto {pixels} pixels in {:.1} s (mean masked fraction {:.2} %, {filled} \
         pixels interpolated) → {}",
        files.len(),
        start.elapsed().as_secs_f64(),
        100.0 * mean_masked,
        out.display()
    );
    Ok(())
}

/// The files named, and the FITS files of the folders named, sorted by file name; their
/// stems (the ids) must be unique.
fn fits_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            let entries = std::fs::read_dir(path)
                .map_err(|e| format!("{}: cannot read the folder: {e}", path.display()))?;
            for entry in entries {
                let file = entry
                    .map_err(|e| format!("{}: cannot list the folder: {e}", path.display()))?
                    .path();
                if file.is_file() && is_fits(&file) {
                    files.push(file);
                }
            }
            if files.len() == before {
                return Err(format!(
                    "{}: no .fits, .fit or .fts files in this folder",
                    path.display()
                ));
            }
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    if files.is_empty() {
        return Err("--fits: no files given".into());
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()).then(a.cmp(b)));
    for pair in files.windows(2) {
        if stem(&pair[0]) == stem(&pair[1]) {
            return Err(format!(
                "{} and {} have the same id '{}' (ids are file stems)",
                pair[0].display(),
                pair[1].display(),
                stem(&pair[0])
            ));
        }
    }
    Ok(files)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Pixel centres and edges \[Å\] of a preset's grid or of a `wavelengths.npy` (centres; the
/// edges lie halfway between them and half a step beyond the ends).
fn grid(spec: &str) -> Result<(Vec<f64>, Vec<f64>), String> {
    if PRESET_NAMES.contains(&spec) {
        let grid = SimConfig::preset(spec)?.grid;
        return Ok((grid.centers(), grid.edges()));
    }
    let path = Path::new(spec);
    if !path.is_file() {
        return Err(format!(
            "--grid '{spec}': neither a preset ({}) nor a wavelengths.npy file",
            PRESET_NAMES.join(", ")
        ));
    }
    let expect = NpyExpect {
        shape: Some(vec![None]),
        ..NpyExpect::default()
    };
    let centres: Vec<f64> = read_npy(path, &expect)
        .map_err(|e| e.to_string())?
        .data
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    let ok = centres.len() >= 2 && centres[0] > 0.0 && centres.windows(2).all(|w| w[1] > w[0]);
    if !ok {
        return Err(format!(
            "{}: expected at least 2 positive, increasing wavelengths",
            path.display()
        ));
    }
    let n = centres.len();
    let mut edges = vec![centres[0] - 0.5 * (centres[1] - centres[0])];
    edges.extend(centres.windows(2).map(|w| 0.5 * (w[0] + w[1])));
    edges.push(centres[n - 1] + 0.5 * (centres[n - 1] - centres[n - 2]));
    Ok((centres, edges))
}

/// `labels.csv`: index, id, z (with a catalogue) and the masked fraction of each spectrum.
fn write_labels(
    path: &Path,
    ids: &[String],
    z: Option<&[f64]>,
    masked: &[f64],
) -> Result<(), String> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| e.to_string();
    let header: &[&str] = match z {
        Some(_) => &["index", "id", "z", "masked_fraction"],
        None => &["index", "id", "masked_fraction"],
    };
    csv.write_record(header).map_err(e)?;
    for (i, id) in ids.iter().enumerate() {
        let mut record = vec![i.to_string(), id.clone()];
        if let Some(z) = z {
            record.push(z[i].to_string());
        }
        record.push(masked[i].to_string());
        csv.write_record(&record).map_err(e)?;
    }
    write_atomic(path, &csv.into_inner().map_err(|e| e.to_string())?)
}
