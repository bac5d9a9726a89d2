//! What each subcommand does.

use super::config::RunConfig;
use super::data_folder::{self, DataFolder};
use super::debias;
use super::files;
use super::image_data::ImageRows;
use super::input_reader::{run_chunks, InputReader};
use super::labels::read_labels;
use super::paths::{self, Plan};
use super::pipeline::{self, build_model, check, check_run, optimizer, splits};
use super::progress::{ctrl_c_flag, Progress};
use super::report;
use super::{
    evaluate, images, import, import_images, lsst_catalog, outputs, predict_sink, row_labels,
    Command, Common, NonFinite, Overrides, Threads,
};
use crate::data::photometry::lsst::SURVEY_YEARS;
use crate::data::photometry::{LsstCatalogueConfig, GOLD_I_MAX};
use crate::io::fits::FitsOptions;
use crate::train::{EarlyStopping, History, StopMetric, TrainConfig, Trainer};
use std::path::Path;

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Stopped by Ctrl-C: training after saving its checkpoint, prediction with no output.
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
            i_max,
            years,
            no_ebv,
            snr,
            sed_dir,
            common,
            overwrite,
        } => {
            if preset.as_deref() == Some(lsst_catalog::PRESET) {
                if snr.is_some() || sed_dir.is_some() || no_ebv {
                    return Err(format!(
                        "--snr, --sed-dir and --no-ebv are not for --preset {}",
                        lsst_catalog::PRESET
                    ));
                }
                let config = settings(&common, |_| {}, check)?;
                let catalogue = LsstCatalogueConfig {
                    n: n_spectra,
                    seed: config.simulate.seed,
                    i_max: i_max.unwrap_or(GOLD_I_MAX),
                    years: years.unwrap_or(SURVEY_YEARS),
                };
                settings_inputs(&common, &config)
                    .writes_in("--out", &out, &lsst_catalog::FILES)
                    .check(overwrite.overwrite)?;
                return lsst_catalog::simulate(&catalogue, &out).map(|()| Outcome::Done);
            }
            if i_max.is_some() || years.is_some() {
                return Err(format!(
                    "--i-max and --years are for --preset {}",
                    lsst_catalog::PRESET
                ));
            }
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
                .reads_in("--data", &data, &data_folder::input_files(&data, &config))
                .writes_in("--out", &out, &TRAINING_FILES);
            if let (Some(path), false) = (&resume, continuing) {
                plan = plan.reads("--resume", path);
            }
            plan.check(overwrite.overwrite || continuing)?;
            let set = DataFolder::open(&data, &config)?;
            let (_, history) = train(&config, &set, &out, resume.as_deref())?;
            Ok(outcome(&history))
        }
        Command::Evaluate {
            checkpoint,
            data,
            out,
            all,
            survey,
            chunk_size,
            threads,
            overwrite,
        } => {
            let ckpt = files::read_checkpoint(&checkpoint)?;
            let mut plan = Plan::default()
                .reads("--checkpoint", &checkpoint)
                .reads_in(
                    "--data",
                    &data,
                    &data_folder::input_files(&data, &ckpt.config),
                )
                .writes_in("--out", &out, &report::FILES);
            if !survey.files().is_empty() {
                plan = plan.writes_in("--out", &out, &[evaluate::PREDICTIONS]);
            }
            for (flag, path) in survey.files() {
                plan = plan.writes(flag, path);
            }
            plan.check(overwrite.overwrite)?;
            check_writable(&survey.files())?;
            set_threads(&threads)?;
            match evaluate::evaluate(&ckpt, &data, &out, all, &survey, chunk_size)? {
                evaluate::Evaluated::Done => Ok(Outcome::Done),
                evaluate::Evaluated::Interrupted => Ok(Outcome::Interrupted),
            }
        }
        Command::Predict {
            checkpoint,
            spectra,
            images,
            photometry,
            wavelengths,
            out,
            survey,
            labels,
            chunk_size,
            threads,
            overwrite,
        } => {
            let mut plan = Plan::default()
                .reads("--checkpoint", &checkpoint)
                .writes("--out", &out);
            for (flag, path) in [
                ("--spectra", &spectra),
                ("--images", &images),
                ("--photometry", &photometry),
                ("--wavelengths", &wavelengths),
                ("--labels", &labels),
            ] {
                if let Some(path) = path {
                    plan = plan.reads(flag, path);
                }
            }
            for (flag, path) in survey.files() {
                plan = plan.writes(flag, path);
            }
            plan.check(overwrite.overwrite)?;
            check_writable(&[&[("--out", out.as_path())][..], &survey.files()].concat())?;
            set_threads(&threads)?;
            let paths = predict_sink::OutputPaths::new(&out, &survey);
            let input = match (&spectra, &images, &photometry) {
                (Some(path), None, None) => PredictInput::Spectra {
                    path,
                    wavelengths: wavelengths.as_deref(),
                },
                (None, _, _) if wavelengths.is_some() => {
                    return Err("--wavelengths is for --spectra".into())
                }
                (None, Some(path), None) => PredictInput::Images(path),
                (None, None, Some(path)) => PredictInput::Photometry(path),
                _ => return Err("give one of --spectra, --images, --photometry".into()),
            };
            let files = PredictInputs {
                checkpoint: &checkpoint,
                input,
                labels: labels.as_deref(),
            };
            predict_file(&files, chunk_size, &paths)
        }
        Command::Debias {
            data,
            out,
            steps,
            common,
            overwrite,
        } => {
            let steps = steps.as_deref().map(debias::parse_steps).transpose()?;
            let config = settings(
                &common,
                |c| {
                    if let Some(steps) = steps {
                        c.debias.steps = steps;
                    }
                },
                check,
            )?;
            settings_inputs(&common, &config)
                .reads_in("--data", &data, &data_folder::input_files(&data, &config))
                .writes_in("--out", &out, &debias::FILES)
                .writes_in("--out", &out.join("step0"), &TRAINING_FILES)
                .check(overwrite.overwrite)?;
            debias::run(&config, &data, &out, |config, set, dir| {
                train(config, set, dir, None).map(|(model, _)| model)
            })
            .map(|()| Outcome::Done)
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
    if let Some(dir) = &config.simulate.continua {
        plan = plan.reads("simulate.continua", Path::new(dir));
    }
    if !config.train.init_from.is_empty() {
        plan = plan.reads("--init-from", Path::new(&config.train.init_from));
    }
    plan
}

/// Refuses output files that cannot be created (a missing folder, no permission, a read-only
/// file system) before any work, naming the flag that gave each.
fn check_writable(files: &[(&str, &Path)]) -> Result<(), String> {
    files.iter().try_for_each(|(flag, path)| {
        crate::io::atomic::check_writable(path).map_err(|e| format!("{flag}: {}", e.0))
    })
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
    set: &DataFolder,
    out: &Path,
    resume: Option<&Path>,
) -> Result<(crate::model::Model, History), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: cannot create: {e}", out.display()))?;
    let (m, t) = (&config.model, &config.train);
    let [train_idx, val_idx, _] = splits(set.len(), t)?;
    let shape = set.shape();
    let mut model = build_model(m, &shape)?;
    let n_extra = model.n_extra();
    let train_set = set.dataset(m, n_extra, train_idx.clone())?;
    let val_set = if val_idx.is_empty() {
        None
    } else {
        Some(set.dataset(m, n_extra, val_idx)?)
    };
    let input_contract = set.training_contract(train_idx)?;
    let iterations = (t.epochs * train_set.len().div_ceil(t.batch)) as u64;
    let mut opt = optimizer(t, model.param_count(), iterations)?;
    let mut first_epoch = 0;
    let mut history = History::default();
    if resume.is_none() && !t.init_from.is_empty() {
        let path = Path::new(&t.init_from);
        let ckpt = files::read_checkpoint(path)?;
        set.check(&ckpt)?;
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
        set.check(&ckpt)?;
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
        augment: pipeline::augment(config, &shape)?,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&model, &train_set, train_config).map_err(|e| e.to_string())?;
    eprintln!(
        "training {} ({} parameters) on {} {}, validating on {}",
        m.preset,
        model.param_count(),
        train_set.len(),
        set.noun(),
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

/// `zcnn run`, the main job: simulate → train → evaluate → report, on the given settings.
fn run(config: &RunConfig, out: &Path) -> Result<Outcome, String> {
    let started = std::time::Instant::now();
    let data_dir = out.join("data");
    let s = &config.simulate;
    if images::is_image_preset(&s.preset) {
        let sim = images::settings(&s.preset, s.n_spectra, s.seed, true)?;
        images::simulate(&s.preset, &sim, &data_dir)?;
    } else {
        simulate(config, &data_dir)?;
    }
    let set = DataFolder::open(&data_dir, config)?;
    let (mut model, history) = train(config, &set, &out.join("model"), None)?;
    if history.interrupted {
        return Ok(Outcome::Interrupted);
    }
    let [_, _, test] = splits(set.len(), &config.train)?;
    let report_dir = out.join("report");
    let outputs = set.outputs(&mut model, test.clone(), None)?;
    println!(
        "\nzcnn main job: {} on {} ({} test {})\n",
        config.model.preset,
        s.preset,
        test.len(),
        set.noun()
    );
    report_on(
        &config.model,
        &set,
        &data_dir,
        &outputs,
        test,
        &history,
        &report_dir,
    )?;
    println!(
        "report: {}  ({:.0} s in all)",
        report_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Done)
}

/// Evaluates the `outputs` of the samples `range` of `set` (in `data_dir`), writes the report
/// folder and prints its table.
fn report_on(
    m: &crate::cli::config::ModelConfig,
    set: &DataFolder,
    data_dir: &Path,
    outputs: &[f32],
    range: std::ops::Range<usize>,
    history: &History,
    report_dir: &Path,
) -> Result<(), String> {
    let mut evaluation = report::evaluate(m, outputs, &set.z()[range.clone()])?;
    if let Some(path) = set.labels(data_dir) {
        let labels = read_labels(&path, set.len())?;
        report::add_populations(&mut evaluation, &labels, range)?;
    }
    report::write(report_dir, &evaluation, history)?;
    println!("{}", report::table(&evaluation));
    Ok(())
}

/// What `zcnn predict` runs the model on.
enum PredictInput<'a> {
    Spectra {
        path: &'a Path,
        /// The spectra's grid (default: the `wavelengths.npy` beside them).
        wavelengths: Option<&'a Path>,
    },
    Images(&'a Path),
    Photometry(&'a Path),
}

/// The files `zcnn predict` reads.
struct PredictInputs<'a> {
    checkpoint: &'a Path,
    input: PredictInput<'a>,
    /// A `labels.csv` giving ids, true z, masked fractions and E(B−V).
    labels: Option<&'a Path>,
}

/// `zcnn predict`: reads the spectra or cutouts `chunk_size` at a time, checks each chunk
/// against the checkpoint's input contract, and writes every output as it goes (memory
/// bounded by the chunk, not the file), in input order, with the survey outputs asked for.
/// Ctrl-C stops it after the current chunk, with no output written and earlier files kept.
fn predict_file(
    files: &PredictInputs,
    chunk_size: usize,
    paths: &predict_sink::OutputPaths,
) -> Result<Outcome, String> {
    let checkpoint = files.checkpoint;
    let ckpt = files::read_checkpoint(checkpoint)?;
    // A table's own ids, passed through unless --labels gives others.
    let mut table_ids = None;
    let mut reader = match files.input {
        PredictInput::Spectra { path, wavelengths } => {
            InputReader::spectra(&ckpt, path, wavelengths, None)?
        }
        PredictInput::Images(path) => {
            InputReader::images(std::sync::Arc::new(ImageRows::open(path)?), None)
        }
        PredictInput::Photometry(path) => {
            let c = &ckpt.config.catalog;
            let table = data_folder::read_catalog(path, c, false)?;
            table_ids = Some(table.ids.clone());
            InputReader::catalog(path, &table, &c.reference)?
        }
    };
    let (n, shape, source) = reader.describe();
    ckpt.check_images(&source, &shape, &[], 0)?;
    let mut labels = files
        .labels
        .map(|path| row_labels::read_row_labels(path, n))
        .transpose()?
        .unwrap_or_default();
    if labels.ids.is_none() {
        labels.ids = table_ids;
    }
    if let InputReader::Images { ebv, .. } = &mut reader {
        *ebv = labels
            .ebv
            .as_ref()
            .map(|v| v.iter().map(|&x| x as f32).collect());
    }
    let m = &ckpt.config.model;
    let mut model = ckpt.model(&shape)?;
    let binning = pipeline::is_classifier(m)?
        .then(|| pipeline::binning(m))
        .transpose()?;
    let provenance = outputs::Provenance::new(checkpoint, m)?;
    // Installed before the first temporary file exists, so that a Ctrl-C always finds a sink
    // to drop.
    let stop = ctrl_c_flag();
    let mut sink = predict_sink::PredictionSink::create(paths, &provenance, binning, labels, n)?;
    let started = std::time::Instant::now();
    let ran = run_chunks(
        &mut reader,
        &ckpt,
        &mut model,
        0..n,
        chunk_size,
        &stop,
        |first, z, pdfs| sink.append(first, z, pdfs),
    )?;
    if ran < n {
        // Dropping the sink removes its temporary files.
        drop(sink);
        eprintln!(
            "interrupted after {ran} of {n} inputs: no output was written, earlier files are \
             unchanged"
        );
        return Ok(Outcome::Interrupted);
    }
    sink.finish()?;
    eprintln!(
        "predicted {n} inputs of {} in {:.1} s ({:.0}/s) → {}",
        source.display(),
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64().max(1e-9),
        paths.csv.display()
    );
    Ok(Outcome::Done)
}
