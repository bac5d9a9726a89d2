//! What each subcommand does.

use super::config::RunConfig;
use super::files;
use super::pipeline::{self, build_model, check, dataset, optimizer, splits};
use super::progress::Progress;
use super::report;
use super::{import, outputs, predict_sink, row_labels, Command, Common, NonFinite, Overrides};
use crate::io::fits::FitsOptions;
use crate::train::{predict, EarlyStopping, History, StopMetric, TrainConfig, Trainer};
use std::path::Path;

/// Runs one parsed command.
pub fn dispatch(command: Command) -> Result<(), String> {
    match command {
        Command::Run {
            out,
            overrides,
            common,
        } => {
            let config = load_config(&common, &overrides)?;
            run(&config, &out)
        }
        Command::Simulate {
            out,
            preset,
            n_spectra,
            snr,
            sed_dir,
            common,
        } => {
            let mut config = load_config(&common, &Overrides::default())?;
            let s = &mut config.simulate;
            s.preset = preset.unwrap_or(s.preset.clone());
            s.n_spectra = n_spectra.unwrap_or(s.n_spectra);
            s.snr = snr.or(s.snr);
            s.sed_dir = sed_dir
                .map(|d| d.display().to_string())
                .or(s.sed_dir.clone());
            simulate(&config, &out)
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
        } => import::run(&import::Import {
            fits,
            grid,
            out,
            catalog: catalog.map(|c| (c, id_column, z_column)),
            normalisation: normalise,
            fits_options: FitsOptions {
                hdu,
                mask_nonfinite: nonfinite == NonFinite::Mask,
            },
        }),
        Command::Train {
            data,
            out,
            resume,
            overrides,
            common,
        } => {
            let config = load_config(&common, &overrides)?;
            let set = files::read_dataset(&data)?;
            train(&config, &set, &out, resume.as_deref()).map(|_| ())
        }
        Command::Evaluate {
            checkpoint,
            data,
            out,
            all,
            common,
        } => {
            set_threads(&common)?;
            evaluate(&checkpoint, &data, &out, all)
        }
        Command::Predict {
            checkpoint,
            spectra,
            out,
            pdfs,
            catalog,
            catalog_pdf,
            parquet,
            labels,
            chunk_size,
            common,
        } => {
            set_threads(&common)?;
            let inputs = [checkpoint.as_path(), spectra.as_path()];
            let paths = predict_sink::OutputPaths {
                csv: &out,
                catalog: catalog.as_deref(),
                catalog_pdf,
                pdfs: pdfs.as_deref(),
                parquet: parquet.as_deref(),
                inputs: &inputs,
            };
            predict_file(&checkpoint, &spectra, labels.as_deref(), chunk_size, &paths)
        }
        Command::Compare {
            runs,
            labels,
            title,
            out,
        } => super::compare::compare(&runs, labels.as_deref(), &title, &out),
    }
}

/// The configuration: the file given with --config (or the defaults), then the flags.
fn load_config(common: &Common, o: &Overrides) -> Result<RunConfig, String> {
    set_threads(common)?;
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
    check(&c)?;
    Ok(c)
}

/// Builds the global thread pool (once per process) with the calling thread as one of its
/// workers: parallel work started from a thread outside the pool goes through rayon's shared
/// queue, which allocates now and then, while a pool thread's own queue does not.
fn set_threads(common: &Common) -> Result<(), String> {
    let mut builder = rayon::ThreadPoolBuilder::new().use_current_thread();
    if let Some(n) = common.threads {
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
    let mut model = build_model(m, pixels)?;
    let iterations = (t.epochs * train_set.len().div_ceil(t.batch)) as u64;
    let mut opt = optimizer(t, model.param_count(), iterations)?;
    let mut first_epoch = 0;
    let mut history = History::default();
    if resume.is_none() && !t.init_from.is_empty() {
        let path = Path::new(&t.init_from);
        files::read_checkpoint(path)?
            .restore(&mut model, None)
            .map_err(|e| format!("init_from {}: {e}", path.display()))?;
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
        ckpt.restore(&mut model, Some(&mut opt))?;
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
    let checkpoint_path = out.join("checkpoint.safetensors");
    let mut progress = Progress::new(t.epochs);
    let mut save_error = None;
    let mut epochs_done = history.epochs.clone();
    let run = trainer.fit(
        &mut model,
        &mut opt,
        &train_set,
        val_set.as_ref(),
        &mut |event, model, opt| {
            let flow = progress.on_event(&event, model, opt);
            if let crate::train::Event::Epoch(summary) = &event {
                // An epoch cut short by Ctrl-C does not count as done: a resumed run redoes it
                // (from the weights reached so far, so not bit-identically).
                let completed = if progress.interrupted() {
                    summary.epoch
                } else {
                    summary.epoch + 1
                };
                epochs_done.push((*summary).clone());
                if let Err(e) = files::write_checkpoint(
                    &checkpoint_path,
                    config,
                    model,
                    opt,
                    completed,
                    &epochs_done,
                ) {
                    save_error = Some(e);
                    return std::ops::ControlFlow::Break(());
                }
            }
            flow
        },
    );
    if let Some(e) = save_error {
        return Err(e);
    }
    let run = run.map_err(|e| {
        format!(
            "{e} (the last checkpoint, {}, is intact)",
            checkpoint_path.display()
        )
    })?;
    history.epochs.extend(run.epochs);
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
fn run(config: &RunConfig, out: &Path) -> Result<(), String> {
    let started = std::time::Instant::now();
    let data_dir = out.join("data");
    simulate(config, &data_dir)?;
    let set = files::read_dataset(&data_dir)?;
    let (mut model, history) = train(config, &set, &out.join("model"), None)?;
    if history.interrupted {
        return Ok(());
    }
    let [_, _, test] = splits(set.z.len(), &config.train)?;
    let evaluation = report::evaluate(
        &config.model,
        &outputs(&mut model, &set, test.clone())?,
        &set.z[test.clone()],
    )?;
    let report_dir = out.join("report");
    report::write(&report_dir, &evaluation)?;
    files::plot_history(&report_dir.join("loss_curves.svg"), &history)?;
    println!(
        "\nzcnn main job: {} on {} ({} test spectra)\n",
        config.model.preset,
        config.simulate.preset,
        test.len()
    );
    println!("{}", report::table(&evaluation.report));
    println!(
        "report: {}  ({:.0} s in all)",
        report_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `zcnn evaluate`: metrics of a checkpoint on a dataset.
fn evaluate(checkpoint: &Path, data: &Path, out: &Path, all: bool) -> Result<(), String> {
    let ckpt = files::read_checkpoint(checkpoint)?;
    let set = files::read_dataset(data)?;
    let mut model = build_model(&ckpt.config.model, set.pixels)?;
    ckpt.restore(&mut model, None)?;
    let range = if all {
        0..set.z.len()
    } else {
        splits(set.z.len(), &ckpt.config.train)?[2].clone()
    };
    let evaluation = report::evaluate(
        &ckpt.config.model,
        &outputs(&mut model, &set, range.clone())?,
        &set.z[range.clone()],
    )?;
    report::write(out, &evaluation)?;
    if !ckpt.history.epochs.is_empty() {
        files::plot_history(&out.join("loss_curves.svg"), &ckpt.history)?;
    }
    println!("{}", report::table(&evaluation.report));
    println!("report: {}", out.display());
    Ok(())
}

/// `zcnn predict`: z (and the distribution's summary) for each spectrum of an NPY file, read
/// and written a chunk at a time (memory bounded by the chunk, not the file), in input order,
/// with the survey outputs asked for. Ctrl-C stops it with no output left half-written.
fn predict_file(
    checkpoint: &Path,
    spectra: &Path,
    labels: Option<&Path>,
    chunk_size: usize,
    paths: &predict_sink::OutputPaths,
) -> Result<(), String> {
    if chunk_size == 0 {
        return Err("--chunk-size must be at least 1".into());
    }
    let ckpt = files::read_checkpoint(checkpoint)?;
    let mut rows = crate::io::npy_rows::NpyRows::open(spectra)?;
    let (n, pixels) = (rows.rows(), rows.cols());
    let labels = labels
        .map(|path| row_labels::read_row_labels(path, n))
        .transpose()?
        .unwrap_or_default();
    let m = &ckpt.config.model;
    let mut model = build_model(m, pixels)?;
    ckpt.restore(&mut model, None)?;
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
