//! Fixed-time throughput of one workload, measured the way the peer script
//! `scripts/peers/torch_bench.py` measures PyTorch, for `scripts/bench_vs_pytorch.sh`:
//! 3 warm-up training steps, training steps for `seconds`, then 3 warm-up inference passes and
//! inference passes for `seconds / 2`. Runs in its own process so that its peak resident memory
//! (VmHWM) belongs to this workload alone.
//!
//! ```text
//! cargo bench -p zcnn --bench throughput -- specz-baseline 32 [seconds]
//! ```
//!
//! prints one line:
//!
//! ```text
//! zcnn specz-baseline batch 32 params 2.23M train 812.3 samples/s infer 6012.5 samples/s peak_rss_mb 95.1
//! ```
//!
//! Threads: rayon's global pool, so `RAYON_NUM_THREADS` sets them.

mod common;

use common::{Preset, Workload};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Measurement time of training when none is given (torch_bench.py's default).
const DEFAULT_SECONDS: f64 = 8.0;
/// Untimed calls before each measurement.
const WARM_UP_CALLS: usize = 3;

/// Calls `f` until `seconds` have passed (at least once); returns calls per second.
fn calls_per_second(seconds: f64, mut f: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut calls = 0u64;
    while calls == 0 || start.elapsed() < budget {
        f();
        calls += 1;
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

/// Peak resident set size of this process in MB (VmHWM of `/proc/self/status`), where Linux
/// provides it.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The workload, batch and seconds from the command line (cargo adds `--bench`; skip it).
fn parse_args() -> Result<(Preset, usize, f64), String> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let usage = "usage: throughput <specz-baseline|kim-brunner|pasquet> <batch> [seconds]";
    let (name, batch) = match args.as_slice() {
        [name, batch] | [name, batch, _] => (name, batch),
        _ => return Err(usage.to_string()),
    };
    let preset = Preset::parse(name).ok_or_else(|| format!("unknown model '{name}'; {usage}"))?;
    let batch = match batch.parse::<usize>() {
        Ok(b) if b > 0 => b,
        _ => {
            return Err(format!(
                "batch '{batch}' is not a positive integer; {usage}"
            ))
        }
    };
    let seconds = match args.get(2) {
        None => DEFAULT_SECONDS,
        Some(s) => match s.parse::<f64>() {
            Ok(v) if v > 0.0 => v,
            _ => return Err(format!("seconds '{s}' is not a positive number; {usage}")),
        },
    };
    Ok((preset, batch, seconds))
}

fn main() -> ExitCode {
    let (preset, batch, seconds) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let mut w = Workload::new(preset, batch);
    for _ in 0..WARM_UP_CALLS {
        w.train_step();
    }
    let train = batch as f64
        * calls_per_second(seconds, || {
            w.train_step();
        });
    for _ in 0..WARM_UP_CALLS {
        w.infer();
    }
    let infer = batch as f64 * calls_per_second(seconds / 2.0, || w.infer());
    let rss = peak_rss_mb().map_or("n/a".to_string(), |mb| format!("{mb:.1}"));
    println!(
        "zcnn {} batch {batch} params {:.2}M train {train:.1} samples/s infer {infer:.1} samples/s peak_rss_mb {rss}",
        preset.name(),
        w.model.param_count() as f64 / 1e6,
    );
    ExitCode::SUCCESS
}
