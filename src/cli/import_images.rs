//! `zcnn import-images`: real galaxy cutouts → an image dataset folder (the layout `zcnn
//! simulate --preset sdss` writes), with bounded memory.
//!
//! Inputs: one NPY array `[n, bands, height, width]` (float32 or float64, either byte order),
//! or a folder of FITS files, one per object (id = file stem; a 3-D cube or one 2-D image HDU
//! per band), and a CSV catalogue. Rows come out in catalogue order. An NPY row is found by
//! the catalogue's `index` column when it has one (a subset, in any order), else by position
//! (then the counts must agree). The folder receives
//! - `images.npy`: float32 `[n, bands, height, width]`, written a cutout at a time;
//! - `labels.csv`: `index`, `id`, `z`, `ebv` (when the catalogue has it), the catalogue's
//!   `mag_*`/`magerr_*` columns as written, `masked_fraction`, and where each cutout came from
//!   (`source_row` of the NPY array, or `source_file` in the FITS folder);
//! - `images.toml`: bands, height, width, the source files and the options.
//!
//! All three appear together or not at all ([`StagedDir`]).

use super::paths::Plan;
use super::{NonFinite, Overwrite};
use crate::data::spectra::is_fits;
use crate::io::atomic::{write_atomic, StagedDir};
use crate::io::cutouts::{
    read_cutout_catalog, read_fits_cutout, screen_nonfinite, CatalogColumns, CutoutCatalog,
    NpyStream,
};
use crate::io::npy_rows::NpyRows;
use clap::Args;
use indicatif::ProgressBar;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The files of the folder, in the order they are listed in messages.
pub const FILES: [&str; 3] = ["images.npy", "labels.csv", "images.toml"];

/// Bytes of NPY rows read at a time (the memory bound of an NPY import, besides one row).
const CHUNK_BYTES: usize = 16 << 20;

/// How many missing files an error lists before "…".
const LISTED: usize = 10;

/// Flags of `zcnn import-images`.
#[derive(Debug, Clone, Args)]
pub struct ImportImages {
    /// Output folder (images.npy, labels.csv, images.toml).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Cutouts as one NPY array [n, bands, height, width] (float32 or float64, either byte order).
    #[arg(
        long,
        required_unless_present = "fits_dir",
        conflicts_with = "fits_dir"
    )]
    pub npy: Option<PathBuf>,
    /// A folder of .fits/.fit/.fts files, one per object (id = file stem): a 3-D cube or one 2-D image HDU per band.
    #[arg(long)]
    pub fits_dir: Option<PathBuf>,
    /// CSV catalogue, one row per cutout, in the order of the output.
    #[arg(long)]
    pub catalog: PathBuf,
    /// The catalogue's id column.
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// The catalogue's redshift column.
    #[arg(long, default_value = "z")]
    pub z_column: String,
    /// The catalogue's E(B−V) column (default: `ebv` when there is one).
    #[arg(long)]
    pub ebv_column: Option<String>,
    /// Band names, comma-separated, in output order (FITS bands named by FILTER/BAND are put in this order).
    #[arg(long, value_delimiter = ',')]
    pub bands: Option<Vec<String>>,
    /// NaN or infinite pixels: reject the cutout, or set them to 0 and record masked_fraction.
    #[arg(long, value_enum, default_value_t = NonFinite::Reject)]
    pub nonfinite: NonFinite,
    #[command(flatten)]
    pub overwrite: Overwrite,
}

/// Checks the outputs, then imports.
pub fn run(args: &ImportImages) -> Result<(), String> {
    let mut plan = Plan::default().reads("--catalog", &args.catalog);
    if let Some(npy) = &args.npy {
        plan = plan.reads("--npy", npy);
    }
    if let Some(dir) = &args.fits_dir {
        plan = plan.reads("--fits-dir", dir);
    }
    plan.writes_in("--out", &args.out, &FILES)
        .check(args.overwrite.overwrite)?;
    if let Some(bands) = &args.bands {
        check_band_names(bands)?;
    }
    let columns = CatalogColumns {
        id: args.id_column.clone(),
        z: args.z_column.clone(),
        ebv: args.ebv_column.clone(),
        index: args.npy.as_ref().map(|_| "index".to_string()),
    };
    let catalog = read_cutout_catalog(&args.catalog, &columns)?;
    let start = std::time::Instant::now();
    let staged = StagedDir::new(&args.out).map_err(|e| e.to_string())?;
    let mut out = Output::new(&staged, &catalog, args.npy.is_some())?;
    let mask = args.nonfinite == NonFinite::Mask;
    let (bands, source) = match (&args.npy, &args.fits_dir) {
        (Some(npy), _) => (
            import_npy(npy, &catalog, args.bands.as_deref(), mask, &mut out)?,
            npy,
        ),
        (None, Some(dir)) => (
            import_fits(dir, &catalog, args.bands.as_deref(), mask, &mut out)?,
            dir,
        ),
        (None, None) => return Err("give --npy FILE or --fits-dir DIR".into()),
    };
    let summary = out.finish()?;
    let toml = images_toml(&bands, &summary, source, &args.catalog, args.nonfinite)?;
    write_atomic(&staged.file(FILES[2]), toml.as_bytes()).map_err(|e| e.to_string())?;
    staged.commit().map_err(|e| e.to_string())?;
    eprintln!(
        "imported {} cutouts of {} bands × {}×{} px in {:.1} s ({} with masked pixels, mean \
         masked fraction {:.3} %) → {}",
        catalog.len(),
        bands.len(),
        summary.height,
        summary.width,
        start.elapsed().as_secs_f64(),
        summary.masked_cutouts,
        100.0 * summary.masked_sum / catalog.len() as f64,
        args.out.display()
    );
    Ok(())
}

/// Band names are non-empty and distinct (case-insensitively, as FILTER keywords are matched).
fn check_band_names(bands: &[String]) -> Result<(), String> {
    for (i, band) in bands.iter().enumerate() {
        if band.trim().is_empty() {
            return Err(format!("--bands: name {} is empty", i + 1));
        }
        if bands[..i].iter().any(|b| b.eq_ignore_ascii_case(band)) {
            return Err(format!("--bands: '{band}' is named twice"));
        }
    }
    Ok(())
}

/// `--bands`, or `band0`, `band1`, … when neither the flag nor the files name them.
fn band_names(given: Option<&[String]>, count: usize, what: &str) -> Result<Vec<String>, String> {
    match given {
        Some(names) if names.len() != count => Err(format!(
            "{what} has {count} bands, --bands names {} ({})",
            names.len(),
            names.join(",")
        )),
        Some(names) => Ok(names.to_vec()),
        None => Ok((0..count).map(|b| format!("band{b}")).collect()),
    }
}

/// The NPY rows of the catalogue's objects: its `index` column, or 0..n when it has none.
fn npy_rows_of(catalog: &CutoutCatalog, rows: usize, npy: &Path) -> Result<Vec<usize>, String> {
    let Some(index) = &catalog.index else {
        if catalog.len() != rows {
            return Err(format!(
                "{} has {} rows and {} holds {rows} cutouts: without an `index` column, \
                 catalogue rows are matched to NPY rows by position, so the counts must agree",
                catalog.source,
                catalog.len(),
                npy.display()
            ));
        }
        return Ok((0..rows).collect());
    };
    if let Some(k) = index.iter().position(|&i| i >= rows) {
        return Err(format!(
            "{}: row {} (id '{}'): index {} is beyond the {rows} cutouts of {} (rows 0..{})",
            catalog.source,
            k + 1,
            catalog.ids[k],
            index[k],
            npy.display(),
            rows.saturating_sub(1)
        ));
    }
    Ok(index.clone())
}

/// Copies the catalogue's rows of an NPY array, a run of consecutive rows at a time.
fn import_npy(
    npy: &Path,
    catalog: &CutoutCatalog,
    bands: Option<&[String]>,
    mask: bool,
    out: &mut Output,
) -> Result<Vec<String>, String> {
    let rows = NpyRows::open_any(npy)?;
    let [_, count, height, width] = rows.shape()[..] else {
        return Err(format!(
            "{}: expected shape [n, bands, height, width], found {:?}",
            npy.display(),
            rows.shape()
        ));
    };
    if count == 0 || height == 0 || width == 0 {
        return Err(format!(
            "{}: cutouts of {count} bands × {height}×{width} pixels hold no pixels",
            npy.display()
        ));
    }
    let names = band_names(bands, count, &npy.display().to_string())?;
    let sources = npy_rows_of(catalog, rows.rows(), npy)?;
    out.start(count, height, width)?;
    let per_row = rows.cols();
    let chunk_rows = (CHUNK_BYTES / (4 * per_row)).max(1);
    let bar = ProgressBar::new(catalog.len() as u64);
    let (mut bytes, mut values) = (Vec::new(), Vec::new());
    let mut k = 0;
    while k < sources.len() {
        let first = sources[k];
        let run = sources[k..]
            .iter()
            .take(chunk_rows)
            .enumerate()
            .take_while(|&(j, &s)| s == first + j)
            .count();
        values.resize(run * per_row, 0.0);
        rows.read_values_at(first, &mut bytes, &mut values)?;
        for (j, cutout) in values.chunks_exact_mut(per_row).enumerate() {
            let place = || {
                format!(
                    "{}: row {} (catalogue row {}, id '{}')",
                    npy.display(),
                    first + j,
                    k + j + 1,
                    catalog.ids[k + j]
                )
            };
            let masked = match screen_nonfinite(cutout, height, width, mask) {
                Some(bad) if !mask => {
                    return Err(format!(
                        "{}: band {} ({}): {}; pass --nonfinite mask to set them to 0",
                        place(),
                        bad.band,
                        names[bad.band],
                        bad.describe(per_row)
                    ))
                }
                Some(bad) => bad.count,
                None => 0,
            };
            out.push(k + j, cutout, masked, &(first + j).to_string())?;
        }
        k += run;
        bar.set_position(k as u64);
    }
    bar.finish_and_clear();
    Ok(names)
}

/// The FITS files of `dir` by id (file stem); two files of one id are an error.
fn fits_by_id(dir: &Path) -> Result<HashMap<String, PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot read the folder: {e}", dir.display()))?;
    let mut files: HashMap<String, PathBuf> = HashMap::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("{}: cannot list the folder: {e}", dir.display()))?
            .path();
        if !(path.is_file() && is_fits(&path)) {
            continue;
        }
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(other) = files.get(&id) {
            return Err(format!(
                "{} and {} have the same id '{id}' (ids are file stems)",
                other.display(),
                path.display()
            ));
        }
        files.insert(id, path);
    }
    if files.is_empty() {
        return Err(format!(
            "{}: no .fits, .fit or .fts files in this folder",
            dir.display()
        ));
    }
    Ok(files)
}

/// Reads the FITS file of every catalogue id, in catalogue order.
fn import_fits(
    dir: &Path,
    catalog: &CutoutCatalog,
    bands: Option<&[String]>,
    mask: bool,
    out: &mut Output,
) -> Result<Vec<String>, String> {
    let files = fits_by_id(dir)?;
    let missing: Vec<&str> = catalog
        .ids
        .iter()
        .filter(|id| !files.contains_key(*id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let mut listed = missing[..missing.len().min(LISTED)].join(", ");
        if missing.len() > LISTED {
            listed.push_str(", …");
        }
        return Err(format!(
            "{}: no FITS file (id.fits, .fit or .fts) in {} for {} of {} ids: {listed}",
            catalog.source,
            dir.display(),
            missing.len(),
            catalog.len()
        ));
    }
    let unlisted = files.len() - catalog.len();
    if unlisted > 0 {
        eprintln!(
            "note: {unlisted} FITS files in {} have no catalogue row and are not imported",
            dir.display()
        );
    }
    // Set by the first file: the band names and the size every other file must have.
    let mut layout: Option<(Vec<String>, usize, usize, PathBuf)> = None;
    let bar = ProgressBar::new(catalog.len() as u64);
    for (k, id) in catalog.ids.iter().enumerate() {
        let path = &files[id];
        let name = path.display();
        let mut cutout = read_fits_cutout(path)?;
        let (names, height, width, first) = match &layout {
            Some(known) => known.clone(),
            None => {
                let names = match (&cutout.names, bands) {
                    (Some(found), None) => found.clone(),
                    _ => band_names(bands, cutout.bands(), &name.to_string())?,
                };
                (names, cutout.height, cutout.width, path.clone())
            }
        };
        if cutout.bands() != names.len() {
            return Err(format!(
                "{name}: {} bands (HDUs {}), but {} are expected ({})",
                cutout.bands(),
                hdu_list(&cutout.hdus),
                names.len(),
                names.join(", ")
            ));
        }
        cutout
            .order_bands(&names)
            .map_err(|e| format!("{name}: {e}"))?;
        if (cutout.height, cutout.width) != (height, width) {
            return Err(format!(
                "{name}: HDU {}: {}×{} pixels (height × width), but {} has {height}×{width}",
                cutout.hdus[0],
                cutout.height,
                cutout.width,
                first.display()
            ));
        }
        if layout.is_none() {
            out.start(names.len(), height, width)?;
            layout = Some((names.clone(), height, width, first));
        }
        let plane = height * width;
        let masked = match screen_nonfinite(&mut cutout.pixels, height, width, mask) {
            Some(bad) if !mask => {
                return Err(format!(
                    "{name}: HDU {} (band {}): {}; pass --nonfinite mask to set them to 0",
                    cutout.hdus[bad.band],
                    names[bad.band],
                    bad.describe(plane * names.len())
                ))
            }
            Some(bad) => bad.count,
            None => 0,
        };
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(k, &cutout.pixels, masked, &file_name)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(layout.map(|(names, ..)| names).unwrap_or_default())
}

/// "1, 2, 3" or "0" (a cube's one HDU).
fn hdu_list(hdus: &[usize]) -> String {
    let mut unique = hdus.to_vec();
    unique.dedup();
    unique
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The two streamed outputs: `images.npy` and `labels.csv`.
struct Output<'a> {
    images_path: PathBuf,
    images: Option<NpyStream>,
    labels: csv::Writer<std::fs::File>,
    labels_path: PathBuf,
    catalog: &'a CutoutCatalog,
    height: usize,
    width: usize,
    masked_cutouts: usize,
    masked_sum: f64,
}

/// What the import wrote.
struct Summary {
    n: usize,
    height: usize,
    width: usize,
    masked_cutouts: usize,
    masked_sum: f64,
}

impl<'a> Output<'a> {
    /// Creates `labels.csv` in the staging folder and writes its header.
    fn new(staged: &StagedDir, catalog: &'a CutoutCatalog, from_npy: bool) -> Result<Self, String> {
        let labels_path = staged.file(FILES[1]);
        let mut labels = csv::Writer::from_path(&labels_path)
            .map_err(|e| format!("cannot create {}: {e}", labels_path.display()))?;
        let mut header = vec!["index", "id", "z"];
        if catalog.ebv.is_some() {
            header.push("ebv");
        }
        header.extend(catalog.photometry_names.iter().map(String::as_str));
        header.push("masked_fraction");
        header.push(if from_npy {
            "source_row"
        } else {
            "source_file"
        });
        labels
            .write_record(&header)
            .map_err(|e| format!("cannot write {}: {e}", labels_path.display()))?;
        Ok(Output {
            images_path: staged.file(FILES[0]),
            images: None,
            labels,
            labels_path,
            catalog,
            height: 0,
            width: 0,
            masked_cutouts: 0,
            masked_sum: 0.0,
        })
    }

    /// Creates `images.npy` once the cutouts' shape is known.
    fn start(&mut self, bands: usize, height: usize, width: usize) -> Result<(), String> {
        let shape = [self.catalog.len(), bands, height, width];
        self.images = Some(NpyStream::create(&self.images_path, &shape)?);
        (self.height, self.width) = (height, width);
        Ok(())
    }

    /// Appends the cutout of catalogue row `k` (`masked` of its pixels set to 0), found at `source`.
    fn push(
        &mut self,
        k: usize,
        cutout: &[f32],
        masked: usize,
        source: &str,
    ) -> Result<(), String> {
        let images = self.images.as_mut().ok_or("images.npy was not started")?;
        images.push(cutout)?;
        let fraction = masked as f64 / cutout.len().max(1) as f64;
        if masked > 0 {
            self.masked_cutouts += 1;
            self.masked_sum += fraction;
        }
        let c = self.catalog;
        let mut record = vec![k.to_string(), c.ids[k].clone(), c.z[k].to_string()];
        if let Some(ebv) = &c.ebv {
            record.push(ebv[k].to_string());
        }
        record.extend(c.photometry[k].iter().cloned());
        record.push(fraction.to_string());
        record.push(source.to_string());
        self.labels
            .write_record(&record)
            .map_err(|e| format!("cannot write {}: {e}", self.labels_path.display()))
    }

    fn finish(self) -> Result<Summary, String> {
        let name = self.labels_path.display();
        self.images.ok_or("images.npy was not started")?.finish()?;
        let file = self
            .labels
            .into_inner()
            .map_err(|e| format!("cannot write {name}: {}", e.error()))?;
        file.sync_all()
            .map_err(|e| format!("cannot write {name}: {e}"))?;
        Ok(Summary {
            n: self.catalog.len(),
            height: self.height,
            width: self.width,
            masked_cutouts: self.masked_cutouts,
            masked_sum: self.masked_sum,
        })
    }
}

/// `images.toml`: what the pixels are and where they came from.
#[derive(serde::Serialize)]
struct ImagesToml<'a> {
    layout: &'a str,
    n: usize,
    bands: &'a [String],
    height: usize,
    width: usize,
    order: &'a str,
    source: String,
    catalog: String,
    nonfinite: &'a str,
}

fn images_toml(
    bands: &[String],
    summary: &Summary,
    source: &Path,
    catalog: &Path,
    nonfinite: NonFinite,
) -> Result<String, String> {
    let absolute = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let doc = ImagesToml {
        layout: "images.npy: float32 [n, bands, height, width]",
        n: summary.n,
        bands,
        height: summary.height,
        width: summary.width,
        order: "catalogue rows",
        source: absolute(source),
        catalog: absolute(catalog),
        nonfinite: match nonfinite {
            NonFinite::Reject => "reject",
            NonFinite::Mask => "mask (set to 0; labels.csv masked_fraction)",
        },
    };
    let body = toml::to_string(&doc).map_err(|e| format!("cannot write images.toml: {e}"))?;
    Ok(format!(
        "# zcnn image dataset imported from real cutouts (README \"Real cutouts\")\n{body}"
    ))
}
