//! What each subcommand does.

use super::config::RunConfig;
use super::contract::{self, InputContract};
use super::files;
use super::labels::read_labels;
use super::paths::{self, Plan};
use super::pipeline::{self, build_model, check, check_run, dataset, optimizer, splits};
use super::progress::Progress;
use super::report;
use super::{
    images, import, import_images, outputs, predict_sink, row_labels, Command, Common, NonFinite,
    Overrides, Threads,
};
use crate::io::fits::FitsOptions;
use crate::train::{predict, EarlyStopping, History, StopMetric, TrainConfig, Trainer};
use std::path::Path;

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Stopped by Ctrl-C after saving its checkpoint.
    Interrupted,
}

/// Runs one parsed command, after checking that its outputs are safe to write ([`Plan`]).
pub fn dispatch(command: Command) -> Result<Outcome, String> {
    match command {
        Command::Run {
            out,
            overrides,
            common,
            overwrite,
        } => {
            let config = settings(&common, |c| apply(&overrides, c), check_run)?;
            settings_inputs(&common, &config)
                .writes_in("--out", &out.join("data"), &DATASET_FILES)
                .writes_in("--out", &out.join("model"), &TRAINING_FILES)
                .writes_in("--out", &out.join("report"), &report::FILES)
                .check(overwrite.overwrite)?;
            run(&config, &out)
        }
        Command::Simulate {
            out,
            preset,
            n_spectra,
            no_ebv,
            snr,
            sed_dir,
            common,
            overwrite,
        } => {
            if let Some(name) = preset.as_deref().filter(|p| images::is_image_preset(p)) {
                if snr.is_some() || sed_dir.is_some() {
                    return Err(format!(
                        "--snr and --sed-dir are for spectra, not --preset {name}"
                    ));
                }
                let config = settings(&common, |_| {}, check)?;
                let n = n_spectra.unwrap_or(images::DEFAULT_IMAGES);
                let sim = images::settings(name, n, config.simulate.seed, !no_ebv)?;
                settings_inputs(&common, &config)
                    .writes_in("--out", &out, &images::FILES)
                    .check(overwrite.overwrite)?;
                return images::simulate(name, &sim, &out).map(|()| Outcome::Done);
            }
            if no_ebv {
                return Err("--no-ebv is for the image presets (sdss, sdss44, hsc)".into());
            }
            let flags = |c: &mut RunConfig| {
                let s = &mut c.simulate;
                s.preset = preset.unwrap_or(s.preset.clone());
                s.n_spectra = n_spectra.unwrap_or(s.n_spectra);
                s.snr = snr.or(s.snr);
                s.sed_dir = sed_dir
                    .map(|d| d.display().to_string())
                    .or(s.sed_dir.clone());
            };
            let config = settings(&common, flags, check)?;
            settings_inputs(&common, &config)
                .writes_in("--out", &out, &DATASET_FILES)
                .check(overwrite.overwrite)?;
            simulate(&config, &out).map(|()| Outcome::Done)
        }
        Command::Import {
            fits,
            grid,
            out,
            catalog,
            id_column,
            z_column,
            normalise,
            nonfinite,
            hdu,
            overwrite,
        } => {
            let mut plan = Plan::default();
            for path in &fits {
                plan = plan.reads("--fits", path);
            }
            if let Some(path) = &catalog {
                plan = plan.reads("--catalog", path);
            }
            if Path::new(&grid).is_file() {
                plan = plan.reads("--grid", Path::new(&grid));
            }
            plan.writes_in("--out", &out, &DATASET_FILES[..3])
                .check(overwrite.overwrite)?;
            import::run(&import::Import {
                fits,
                grid,
                out,
                catalog: catalog.map(|c| (c, id_column, z_column)),
                normalisation: normalise,
                fits_options: FitsOptions {
                    hdu,
                    mask_nonfinite: nonfinite == NonFinite::Mask,
                },
            })
            .map(|()| Outcome::Done)
        }
        Command::ImportImages(args) => import_images::run(&args).map(|()| Outcome::Done),
        Command::Train {
            data,
            out,
            resume,
            overrides,
            common,
            overwrite,
        } => {
            let config = settings(&common, |c| apply(&overrides, c), check)?;
            // Resuming from the checkpoint of `out` continues that run: its files may be replaced.
            let own_checkpoint = out.join(files::CHECKPOINT);
            let continuing = match &resume {
                Some(path) => paths::same_file(path, &own_checkpoint)?,
                None => false,
            };
            let mut plan = settings_inputs(&common, &config)
                .reads_in("--data", &data, &[files::SPECTRA, files::LABELS])
                .writes_in("--out", &out, &TRAINING_FILES);
            if let (Some(path), false) = (&resume, continuing) {
                plan = plan.reads("--resume", path);
            }
            plan.check(overwrite.overwrite || continuing)?;
            let set = files::read_dataset(&data)?;
            let (_, history) = train(&config, &data, &set, &out, resume.as_deref())?;
            Ok(outcome(&history))
        }
        Command::Evaluate {
            checkpoint,
            data,
            out,
            all,
            threads,
            overwrite,
        } => {
            Plan::default()
                .reads("--checkpoint", &checkpoint)
                .reads_in("--data", &data, &[files::SPECTRA, files::LABELS])
                .writes_in("--out", &out, &report::FILES)
                .check(overwrite.overwrite)?;
            set_threads(&threads)?;
            evaluate(&checkpoint, &data, &out, all).map(|()| Outcome::Done)
        }
        Command::Predict {
            checkpoint,
            spectra,
            wavelengths,
            out,
            pdfs,
            catalog,
            catalog_pdf,
            parquet,
            labels,
            chunk_size,
            threads,
            overwrite,
        } => {
            let mut plan = Plan::default()
                .reads("--checkpoint", &checkpoint)
                .reads("--spectra", &spectra)
                .writes("--out", &out);
            for (flag, path) in [("--wavelengths", &wavelengths), ("--labels", &labels)] {
                if let Some(path) = path {
                    plan = plan.reads(flag, path);
                }
            }
            for (flag, path) in [
                ("--pdfs", &pdfs),
                ("--catalog", &catalog),
                ("--parquet", &parquet),
            ] {
                if let Some(path) = path {
                    plan = plan.writes(flag, path);
                }
            }
            plan.check(overwrite.overwrite)?;
            set_threads(&threads)?;
            let paths = predict_sink::OutputPaths {
                csv: &out,
                catalog: catalog.as_deref(),
                catalog_pdf,
                pdfs: pdfs.as_deref(),
                parquet: parquet.as_deref(),
            };
            let files = PredictInputs {
                checkpoint: &checkpoint,
                spectra: &spectra,
                wavelengths: wavelengths.as_deref(),
                labels: labels.as_deref(),
            };
            predict_file(&files, chunk_size, &paths).map(|()| Outcome::Done)
        }
        Command::Compare {
            runs,
            labels,
            title,
            out,
            overwrite,
        } => super::compare::compare(&runs, labels.as_deref(), &title, &out, overwrite.overwrite)
            .map(|()| Outcome::Done),
    }
}

/// The files of a dataset folder, as `zcnn simulate` writes them (`zcnn import`: the first three).
const DATASET_FILES: [&str; 4] = [
    files::SPECTRA,
    files::WAVELENGTHS,
    files::LABELS,
    files::SIMULATION,
];

/// The files `zcnn train` writes into its folder.
const TRAINING_FILES: [&str; 2] = [files::CHECKPOINT, files::HISTORY];

/// The files that the settings of a simulating or training command name: the config file, the
/// templates folder and the checkpoint to start from.
fn settings_inputs(common: &Common, config: &RunConfig) -> Plan {
    let mut plan = Plan::default();
    if let Some(path) = &common.config {
        plan = plan.reads("--config", path);
    }
    if let Some(dir) = &config.simulate.sed_dir {
        plan = plan.reads("--sed-dir", Path::new(dir));
    }
    if !config.train.init_from.is_empty() {
        plan = plan.reads("--init-from", Path::new(&config.train.init_from));
    }
    plan
}

/// Interrupted when Ctrl-C stopped the training.
fn outcome(history: &History) -> Outcome {
    if history.interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Done
    }
}

/// The settings of a command, built the same way for every command: the file given with
/// --config (or the defaults), then --seed, then the command's own `flags`; then checked once,
/// by `check`, before any work starts.
fn settings(
    common: &Common,
    flags: impl FnOnce(&mut RunConfig),
    check: fn(&RunConfig) -> Result<(), String>,
) -> Result<RunConfig, String> {
    set_threads(&common.threads)?;
    let mut c = match &common.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            RunConfig::from_toml(&text, &path.display().to_string())?
        }
        None => RunConfig::default(),
    };
    if let Some(seed) = common.seed {
        c.simulate.seed = seed;
        c.model.seed = seed;
        c.train.seed = seed;
    }
    flags(&mut c);
    check(&c)?;
    Ok(c)
}

/// The training flags of `run` and `train` applied to a configuration.
fn apply(o: &Overrides, c: &mut RunConfig) {
    let (t, m) = (&mut c.train, &mut c.model);
    t.epochs = o.epochs.unwrap_or(t.epochs);
    t.batch = o.batch.unwrap_or(t.batch);
    t.lr = o.lr.unwrap_or(t.lr);
    t.max_train = o.max_train.unwrap_or(t.max_train);
    if let Some(path) = &o.init_from {
        t.init_from = path.display().to_string();
    }
    m.bins = o.bins.unwrap_or(m.bins);
    m.loss = o.loss.clone().unwrap_or(m.loss.clone());
    m.target = o.target.clone().unwrap_or(m.target.clone());
    c.simulate.n_spectra = o.n_spectra.unwrap_or(c.simulate.n_spectra);
}

/// Builds the global thread pool (once per process) with the calling thread as one of its
/// workers: parallel work started from a thread outside the pool goes through rayon's shared
/// queue, which allocates now and then, while a pool thread's own queue does not.
fn set_threads(threads: &Threads) -> Result<(), String> {
    let mut builder = rayon::ThreadPoolBuilder::new().use_current_thread();
    if let Some(n) = threads.threads {
        if n == 0 {
            return Err("--threads must be at least 1".into());
        }
        builder = builder.num_threads(n);
    }
    builder
        .build_global()
        .map_err(|e| format!("thread pool: {e}"))
}

/// `zcnn simulate`: writes the dataset folder.
fn simulate(config: &RunConfig, out: &Path) -> Result<(), String> {
    let start = std::time::Instant::now();
    let set = pipeline::simulate_spectra(&config.simulate)?;
    files::write_dataset(out, &set, config)?;
    eprintln!(
        "simulated {} spectra of {} pixels in {:.1} s → {}",
        set.len(),
        set.wavelengths.len(),
        start.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// `zcnn train`: trains on the dataset's training split, validating on its validation split,
/// and writes `checkpoint.safetensors` (every epoch) and `history.json` into `out`.
fn train(
    config: &RunConfig,
    data_dir: &Path,
    set: &files::DatasetFiles,
    out: &Path,
    resume: Option<&Path>,
) -> Result<(crate::model::Model, History), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: cannot create: {e}", out.display()))?;
    let (m, t) = (&config.model, &config.train);
    let pixels = set.pixels;
    let [train_idx, val_idx, _] = splits(set.z.len(), t)?;
    let rows = |r: &std::ops::Range<usize>| set.flux[r.start * pixels..r.end * pixels].to_vec();
    let train_set = dataset(m, rows(&train_idx), pixels, &set.z[train_idx.clone()])?;
    let val_set = if val_idx.is_empty() {
        None
    } else {
        Some(dataset(m, rows(&val_idx), pixels, &set.z[val_idx.clone()])?)
    };
    let inputs = contract::dataset_inputs(data_dir, set)?;
    let input_contract = InputContract::of_training(&inputs);
    let mut model = build_model(m, pixels)?;
    let iterations = (t.epochs * train_set.len().div_ceil(t.batch)) as u64;
    let mut opt = optimizer(t, model.param_count(), iterations)?;
    let mut first_epoch = 0;
    let mut history = History::default();
    if resume.is_none() && !t.init_from.is_empty() {
        let path = Path::new(&t.init_from);
        let ckpt = files::read_checkpoint(path)?;
        ckpt.check_inputs(&inputs)?;
        ckpt.restore_weights(&mut model)
            .map_err(|e| format!("init_from: {e}"))?;
        eprintln!("starting from the weights of {}", path.display());
    }
    if let Some(path) = resume {
        let ckpt = files::read_checkpoint(path)?;
        if ckpt.config.model != config.model {
            return Err(format!(
                "{}: the checkpoint's [model] settings differ from this run's",
                path.display()
            ));
        }
        ckpt.check_inputs(&inputs)?;
        if ckpt.epochs_done >= t.epochs {
            return Err(format!(
                "{}: {} epochs are done already and this run asks for {} in all: raise --epochs to train on",
                path.display(),
                ckpt.epochs_done,
                t.epochs
            ));
        }
        ckpt.restore_weights(&mut model)?;
        ckpt.restore_training(&mut model, &mut opt)?;
        first_epoch = ckpt.epochs_done;
        history = ckpt.history;
        eprintln!(
            "resuming from {} after epoch {}",
            path.display(),
            ckpt.epochs_done
        );
    }
    let early_stopping = (t.patience > 0 && val_set.is_some()).then_some(EarlyStopping {
        metric: StopMetric::ValLoss,
        patience: t.patience,
        restore_best: false,
    });
    let train_config = TrainConfig {
        batch: t.batch,
        epochs: t.epochs,
        seed: t.seed,
        first_epoch,
        early_stopping,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, &train_set, train_config).map_err(|e| e.to_string())?;
    eprintln!(
        "training {} ({} parameters) on {} spectra, validating on {}",
        m.preset,
        model.param_count(),
        train_set.len(),
        val_set.as_ref().map_or(0, |v| v.len())
    );
    let checkpoint_path = out.join(files::CHECKPOINT);
    let mut progress = Progress::new(t.epochs);
    let mut save_error = None;
    // The epochs completed: those of the resumed checkpoint, then this run's.
    let mut epochs_done = history.epochs.clone();
    let mut saved_after = None;
    let run = trainer.fit(
        &mut model,
        &mut opt,
        &train_set,
        val_set.as_ref(),
        &mut |event, model, opt| {
            let flow = progress.on_event(&event, model, opt);
            if let crate::train::Event::Epoch(summary) = &event {
                // An epoch cut short by Ctrl-C does not count as done: a resumed run redoes it
                // (from the weights reached so far, so not bit-identically), and it enters the
                // history then, once.
                if !progress.interrupted() {
                    epochs_done.push((*summary).clone());
                }
                let completed = epochs_done.len();
                if let Err(e) = files::write_checkpoint(
                    &checkpoint_path,
                    config,
                    &input_contract,
                    model,
                    opt,
                    completed,
                    &epochs_done,
                ) {
                    save_error = Some(e);
                    return std::ops::ControlFlow::Break(());
                }
                saved_after = Some(completed);
            }
            flow
        },
    );
    if let Some(e) = save_error {
        return Err(e);
    }
    let run = run.map_err(|e| match saved_after {
        Some(epochs) => format!(
            "{e} (the checkpoint saved after epoch {epochs}, {}, is intact)",
            checkpoint_path.display()
        ),
        None => format!("{e} (no epoch finished, so this run saved no checkpoint)"),
    })?;
    history.epochs = epochs_done;
    history.stopped_early = run.stopped_early;
    history.interrupted = run.interrupted;
    files::write_history(&out.join("history.json"), &history)?;
    if history.interrupted {
        eprintln!(
            "interrupted: checkpoint saved to {}; resume with --resume",
            checkpoint_path.display()
        );
    }
    Ok((model, history))
}

/// Predictions of `model` for the rows `range` of a dataset, in evaluation mode.
fn outputs(
    model: &mut crate::model::Model,
    set: &files::DatasetFiles,
    range: std::ops::Range<usize>,
) -> Result<Vec<f32>, String> {
    let flux = &set.flux[range.start * set.pixels..range.end * set.pixels];
    let mut out = predict(model, flux, &[], 256).map_err(|e| e.to_string())?;
    Ok(out.swap_remove(0))
}

/// `zcnn run`, the main job: simulate → train → evaluate → report, on the given settings.
fn run(config: &RunConfig, out: &Path) -> Result<Outcome, String> {
    let started = std::time::Instant::now();
    let data_dir = out.join("data");
    simulate(config, &data_dir)?;
    let set = files::read_dataset(&data_dir)?;
    let (mut model, history) = train(config, &data_dir, &set, &out.join("model"), None)?;
    if history.interrupted {
        return Ok(Outcome::Interrupted);
    }
    let [_, _, test] = splits(set.z.len(), &config.train)?;
    let mut evaluation = report::evaluate(
        &config.model,
        &outputs(&mut model, &set, test.clone())?,
        &set.z[test.clone()],
    )?;
    let labels = read_labels(&data_dir.join(files::LABELS), set.z.len())?;
    report::add_populations(&mut evaluation, &labels, test.clone())?;
    let report_dir = out.join("report");
    report::write(&report_dir, &evaluation, &history)?;
    println!(
        "\nzcnn main job: {} on {} ({} test spectra)\n",
        config.model.preset,
        config.simulate.preset,
        test.len()
    );
    println!("{}", report::table(&evaluation));
    println!(
        "report: {}  ({:.0} s in all)",
        report_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Done)
}

/// `zcnn evaluate`: metrics of a checkpoint on a dataset.
fn evaluate(checkpoint: &Path, data: &Path, out: &Path, all: bool) -> Result<(), String> {
    let ckpt = files::read_checkpoint(checkpoint)?;
    let set = files::read_dataset(data)?;
    ckpt.check_inputs(&contract::dataset_inputs(data, &set)?)?;
    let mut model = ckpt.model(set.pixels)?;
    let range = if all {
        0..set.z.len()
    } else {
        splits(set.z.len(), &ckpt.config.train)?[2].clone()
    };
    let mut evaluation = report::evaluate(
        &ckpt.config.model,
        &outputs(&mut model, &set, range.clone())?,
        &set.z[range.clone()],
    )?;
    let labels = read_labels(&data.join(files::LABELS), set.z.len())?;
    report::add_populations(&mut evaluation, &labels, range.clone())?;
    report::write(out, &evaluation, &ckpt.history)?;
    println!("{}", report::table(&evaluation));
    println!("report: {}", out.display());
    Ok(())
}

/// `zcnn predict`: z (and the distribution's summary) for each spectrum of an NPY file, read
/// and written a chunk at a time (memory bounded by the chunk, not the file), in input order,
/// with the survey outputs asked for. Ctrl-C stops it with no output left half-written.
/// The files `zcnn predict` reads.
struct PredictInputs<'a> {
    checkpoint: &'a Path,
    spectra: &'a Path,
    /// The spectra's grid (default: the `wavelengths.npy` beside them).
    wavelengths: Option<&'a Path>,
    /// A `labels.csv` giving ids, true z and masked fractions.
    labels: Option<&'a Path>,
}

/// `zcnn predict`: reads the spectra `chunk_size` at a time, checks each chunk against the
/// checkpoint's input contract, and writes every output as it goes.
fn predict_file(
    files: &PredictInputs,
    chunk_size: usize,
    paths: &predict_sink::OutputPaths,
) -> Result<(), String> {
    if chunk_size == 0 {
        return Err("--chunk-size must be at least 1".into());
    }
    let (checkpoint, spectra) = (files.checkpoint, files.spectra);
    let ckpt = files::read_checkpoint(checkpoint)?;
    let mut rows = crate::io::npy_rows::NpyRows::open(spectra)?;
    let (n, pixels) = (rows.rows(), rows.cols());
    // The size and the grid are checked once, the scales chunk by chunk.
    let mut inputs: contract::Inputs<'static> =
        contract::spectra_inputs(spectra, files.wavelengths, pixels, &[], None)?;
    ckpt.check_inputs(&inputs)?;
    inputs.wavelengths = None;
    let labels = files
        .labels
        .map(|path| row_labels::read_row_labels(path, n))
        .transpose()?
        .unwrap_or_default();
    let m = &ckpt.config.model;
    let mut model = ckpt.model(pixels)?;
    let binning = pipeline::is_classifier(m)?
        .then(|| pipeline::binning(m))
        .transpose()?;
    let provenance = outputs::Provenance::new(checkpoint, m)?;
    let mut sink = predict_sink::PredictionSink::create(paths, &provenance, binning, labels, n)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    // A second installation in one process fails; Ctrl-C then ends the process as usual.
    let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    let bar = indicatif::ProgressBar::new(n as u64);
    let started = std::time::Instant::now();
    let mut flux = Vec::new();
    let mut first = 0;
    while first < n {
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(format!(
                "interrupted after {first} of {n} spectra: no output was written or replaced"
            ));
        }
        let count = rows.read_chunk(chunk_size, &mut flux)?;
        ckpt.check_scales(&contract::Inputs {
            flux: &flux,
            first,
            ..inputs.clone()
        })?;
        let mut raw = predict(&mut model, &flux, &[], 256).map_err(|e| e.to_string())?;
        let (z, pdfs) = pipeline::redshifts(m, &raw.swap_remove(0))?;
        sink.append(first, &z, pdfs.as_deref())?;
        first += count;
        bar.set_position(first as u64);
    }
    sink.finish()?;
    bar.finish_and_clear();
    eprintln!(
        "predicted {n} spectra in {:.1} s ({:.0} spectra/s) → {}",
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64().max(1e-9),
        paths.csv.display()
    );
    Ok(())
}
