//! `zcnn predict` and `zcnn evaluate` stopped part way: by Ctrl-C (SIGINT sent to the running
//! process), by a disk that fills mid-write (a file-size limit, RLIMIT_FSIZE, makes writes
//! fail with EFBIG as ENOSPC would), and outputs that cannot be written at all. Each run must
//! end with a clear message (exit 130 for Ctrl-C), leave no output and no temporary file, and keep the files of
//! an earlier run byte for byte although `--overwrite` allowed replacing them.
//!
//! HDF5 and Parquet outputs are checked when the test build has the features `hdf5` and
//! `parquet` (`cargo test --release --features hdf5,parquet --test interrupt`).
#![cfg(feature = "cli")]

mod support;

use std::collections::BTreeMap;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::{s, scratch, simulate_and_train};

/// Spectra in the small dataset the model is trained on.
const SMALL: usize = 200;
/// How many times the long input repeats the small dataset's spectra.
const REPEATS: usize = 60;
/// Longest wait for a child process to start writing or to end (a loaded host is slow).
const PATIENCE: Duration = Duration::from_secs(300);

/// A trained model, its small dataset, a long input (the small one repeated) and the small
/// one's spectra in another order (outputs of the same sizes with other bytes).
struct Setup {
    dir: PathBuf,
    data: PathBuf,
    checkpoint: PathBuf,
    long: PathBuf,
    reordered: PathBuf,
}

/// Built once for all the tests of this file.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = scratch("interrupt");
        let (data, checkpoint) = simulate_and_train(&dir, SMALL, 5, 80);
        // Beside wavelengths.npy, so that predict checks their grid as for any input.
        let (long, reordered) = (data.join("long.npy"), data.join("reordered.npy"));
        let spectra = data.join("spectra.npy");
        let repeated = (0..SMALL * REPEATS).map(|i| i % SMALL);
        write_rows(&spectra, SMALL, repeated, &long);
        write_rows(
            &spectra,
            SMALL,
            (0..SMALL).map(|i| (i + 1) % SMALL),
            &reordered,
        );
        Setup {
            dir,
            data,
            checkpoint,
            long,
            reordered,
        }
    })
}

/// Writes to `out` the rows `order` of the `rows` f32 rows of the NPY file `source`: a new
/// version 1.0 header (its `shape` changed) and the rows' bytes.
fn write_rows(source: &Path, rows: usize, order: impl ExactSizeIterator<Item = usize>, out: &Path) {
    let bytes = std::fs::read(source).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "an NPY 1.0 file");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8_lossy(&bytes[10..10 + header_len]);
    assert!(header.contains("'descr': '<f4'"), "{header}");
    let data = &bytes[10 + header_len..];
    let row_bytes = data.len() / rows;
    assert_eq!(data.len(), rows * row_bytes);
    let mut text = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        order.len(),
        row_bytes / 4
    );
    // Magic, version, length and text end on a multiple of 64 bytes, the text with '\n'.
    while (10 + text.len() + 1) % 64 != 0 {
        text.push(' ');
    }
    text.push('\n');
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend((text.len() as u16).to_le_bytes());
    npy.extend(text.as_bytes());
    for row in order {
        npy.extend_from_slice(&data[row * row_bytes..(row + 1) * row_bytes]);
    }
    std::fs::write(out, npy).unwrap();
}

/// The output flags of a run writing every format this build has into `dir`: the CSV `p.csv`,
/// the FITS catalogue with PDFs, the PDFs (qp HDF5 with the feature `hdf5`, else NPY) and, with
/// the feature `parquet`, a Parquet table.
fn every_output(dir: &Path) -> Vec<String> {
    let pdfs = if cfg!(feature = "hdf5") {
        "p.hdf5"
    } else {
        "p.npy"
    };
    let mut args = vec![
        "--out".to_string(),
        path_arg(&dir.join("p.csv")),
        "--catalog".into(),
        path_arg(&dir.join("c.fits")),
        "--catalog-pdf".into(),
        "--pdfs".into(),
        path_arg(&dir.join(pdfs)),
    ];
    if cfg!(feature = "parquet") {
        args.extend(["--parquet".into(), path_arg(&dir.join("t.parquet"))]);
    }
    args
}

fn path_arg(path: &Path) -> String {
    s(path).to_string()
}

/// `zcnn predict` of `spectra` with the model of the setup, in chunks of 32, and `extra`.
fn predict(spectra: &Path, extra: &[String]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zcnn"));
    command
        .args(["predict", "--checkpoint", s(&setup().checkpoint)])
        .args(["--spectra", s(spectra), "--chunk-size", "32"])
        .args(extra);
    command
}

/// Runs `command` to its end; asserts it succeeded.
fn run_ok(mut command: Command) {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file in `dir`, by name, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Asserts that `dir` holds the files `before`, byte for byte, and nothing else.
fn assert_unchanged(dir: &Path, before: &BTreeMap<String, Vec<u8>>, context: &str) {
    let after = snapshot(dir);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{context}: the files in {}",
        dir.display()
    );
    for (name, bytes) in before {
        assert!(&after[name] == bytes, "{context}: {name} changed");
    }
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A folder `name` of the setup holding the complete outputs of a run of `flags` over the
/// small dataset: the good files a later failed run must leave as they are.
fn earlier_outputs(name: &str, flags: impl Fn(&Path) -> Vec<String>) -> PathBuf {
    let dir = setup().dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    run_ok(predict(&setup().data.join("spectra.npy"), &flags(&dir)));
    dir
}

/// Whether `dir` holds a temporary file of the CSV `csv` with rows in it.
fn csv_under_way(dir: &Path, csv: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| {
        entries.any(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&format!("{csv}."))
                && name.ends_with(".tmp")
                && e.metadata().is_ok_and(|m| m.len() > 0)
        })
    })
}

/// Waits until the child has written part of its CSV `dir/p.csv` (its temporary file holds
/// rows, so the run is under way and its Ctrl-C handler installed), then sends it SIGINT and
/// returns its end. A run that ends before is a failure: the input is then too short for this
/// host.
fn interrupt_mid_run(child: Child, dir: &Path) -> Output {
    interrupt_when(child, || csv_under_way(dir, "p.csv"))
}

/// Sends the child SIGINT once `under_way` holds and returns its end.
fn interrupt_when(mut child: Child, under_way: impl Fn() -> bool) -> Output {
    let started = Instant::now();
    while !under_way() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the run ended ({status}) before it could be interrupted:\n{}",
                text(&out)
            );
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the run never started writing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0, "send SIGINT");
    wait_with_patience(child)
}

/// The end of `child`, killed (and the test failed) after [`PATIENCE`].
fn wait_with_patience(mut child: Child) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > PATIENCE {
            child.kill().unwrap();
            panic!("the run did not end within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn spawn(mut command: Command) -> Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn assert_interrupted(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "exit 130 on Ctrl-C:\n{err}");
    assert!(
        err.contains("interrupted after") && err.contains("no output was written"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn ctrl_c_mid_run_writes_nothing_and_keeps_earlier_outputs() {
    let long = &setup().long;
    // One thread: the run lasts long enough to be caught mid-way on a fast machine too.
    let predict = |spectra: &Path, flags: &[String]| {
        let mut command = predict(spectra, flags);
        command.args(["--threads", "1"]);
        command
    };
    // Into an empty folder: nothing at all is left.
    let fresh = setup().dir.join("ctrl-c-fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let out = interrupt_mid_run(spawn(predict(long, &every_output(&fresh))), &fresh);
    assert_interrupted(&out);
    assert!(names(&fresh).is_empty(), "left: {:?}", names(&fresh));

    // Over the complete outputs of an earlier run, with --overwrite: they stay byte for byte.
    let kept = earlier_outputs("ctrl-c-kept", every_output);
    let before = snapshot(&kept);
    assert!(before.len() >= 3, "{:?}", before.keys());
    let mut flags = every_output(&kept);
    flags.push("--overwrite".into());
    let out = interrupt_mid_run(spawn(predict(long, &flags)), &kept);
    assert_interrupted(&out);
    assert_unchanged(&kept, &before, "Ctrl-C");
    // 85 MB that no other test reads.
    std::fs::remove_file(long).unwrap();
}

/// `zcnn evaluate` of the long input as a dataset folder, into the report folder `out` with the
/// FITS catalogue `catalog`, in chunks of 32 on one thread.
fn evaluate_long(out: &Path, catalog: &Path, extra: &[&str]) -> Command {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    let folder = FOLDER.get_or_init(|| {
        let folder = setup().dir.join("long-folder");
        std::fs::create_dir_all(&folder).unwrap();
        let small = &setup().data;
        let repeated = (0..SMALL * REPEATS).map(|i| i % SMALL);
        write_rows(
            &small.join("spectra.npy"),
            SMALL,
            repeated,
            &folder.join("spectra.npy"),
        );
        std::fs::copy(
            small.join("wavelengths.npy"),
            folder.join("wavelengths.npy"),
        )
        .unwrap();
        let labels = std::fs::read_to_string(small.join("labels.csv")).unwrap();
        let mut rows = labels.lines();
        let header: Vec<&str> = rows.next().unwrap().split(',').collect();
        let z_at = header.iter().position(|&c| c == "z").unwrap();
        let index_at = header.iter().position(|&c| c == "index").unwrap();
        let mut z = vec![String::new(); SMALL];
        for row in rows {
            let cells: Vec<&str> = row.split(',').collect();
            z[cells[index_at].parse::<usize>().unwrap()] = cells[z_at].to_string();
        }
        let mut csv = String::from("index,z\n");
        for i in 0..SMALL * REPEATS {
            csv.push_str(&format!("{i},{}\n", z[i % SMALL]));
        }
        std::fs::write(folder.join("labels.csv"), csv).unwrap();
        folder
    });
    let mut command = Command::new(env!("CARGO_BIN_EXE_zcnn"));
    command
        .args(["evaluate", "--checkpoint", s(&setup().checkpoint)])
        .args(["--data", s(folder), "--out", s(out), "--all"])
        .args(["--catalog", s(catalog), "--chunk-size", "32"])
        .args(["--threads", "1"])
        .args(extra);
    command
}

/// Whether the staging folder of the report folder `out` holds rows of `predictions.csv`.
fn evaluation_under_way(out: &Path) -> bool {
    std::fs::read_dir(out).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let staging = e.file_name().to_string_lossy().starts_with(".zcnn-staging");
            staging && csv_under_way(&e.path(), "predictions.csv")
        })
    })
}

#[test]
fn ctrl_c_stops_evaluate_with_no_report_and_earlier_ones_kept() {
    // Into a new report folder: it is gone again, and the catalogue beside it was never made.
    let parent = setup().dir.join("evaluate-fresh");
    std::fs::create_dir_all(&parent).unwrap();
    let fresh = parent.join("report");
    let command = evaluate_long(&fresh, &parent.join("c.fits"), &[]);
    let out = interrupt_when(spawn(command), || evaluation_under_way(&fresh));
    assert_interrupted(&out);
    assert!(names(&parent).is_empty(), "left: {:?}", names(&parent));

    // Over a complete earlier report, with --overwrite: it stays byte for byte.
    let kept = setup().dir.join("evaluate-kept");
    std::fs::create_dir_all(&kept).unwrap();
    let mut earlier = Command::new(env!("CARGO_BIN_EXE_zcnn"));
    earlier
        .args(["evaluate", "--checkpoint", s(&setup().checkpoint)])
        .args(["--data", s(&setup().data), "--out", s(&kept), "--all"])
        .args(["--catalog", s(&kept.join("c.fits"))]);
    run_ok(earlier);
    let before = snapshot(&kept);
    assert!(
        before.contains_key("report.json") && before.contains_key("predictions.csv"),
        "{:?}",
        before.keys()
    );
    let command = evaluate_long(&kept, &kept.join("c.fits"), &["--overwrite"]);
    let out = interrupt_when(spawn(command), || evaluation_under_way(&kept));
    assert_interrupted(&out);
    assert_unchanged(&kept, &before, "Ctrl-C in evaluate");
}

/// `predict` with writes limited to `max_bytes` per file (RLIMIT_FSIZE): a write past it fails
/// with EFBIG, as on a full disk. With `ignore_sigxfsz` the process ignores SIGXFSZ and sees
/// the error; without, the kernel ends it with SIGXFSZ. No core file is written either way.
fn limited(mut command: Command, max_bytes: u64, ignore_sigxfsz: bool) -> Output {
    // SAFETY: the closure runs in the forked child before exec and calls only setrlimit(2) and
    // signal(2), which are async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let set = |resource, bytes| {
                let limit = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(resource, &limit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            };
            set(libc::RLIMIT_FSIZE, max_bytes)?;
            set(libc::RLIMIT_CORE, 0)?;
            if ignore_sigxfsz && libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    wait_with_patience(spawn(command))
}

/// One output format under a full disk: the flags writing the CSV and that file into a folder,
/// the name of that file, and the file-size limit from its complete size and the CSV's.
struct FullDiskCase {
    name: &'static str,
    file: &'static str,
    flags: fn(&Path) -> Vec<String>,
    max_bytes: fn(u64, u64) -> u64,
}

/// Between the CSV's size and the file's: the file fails mid-run, the CSV never.
fn between(file: u64, csv: u64) -> u64 {
    (csv + file) / 2
}

fn csv_flags(dir: &Path) -> Vec<String> {
    vec!["--out".into(), path_arg(&dir.join("p.csv"))]
}

fn with(dir: &Path, more: &[&str], file: &str) -> Vec<String> {
    let mut flags = csv_flags(dir);
    flags.extend(more.iter().map(|m| m.to_string()));
    flags.push(path_arg(&dir.join(file)));
    flags
}

/// Labels with ids of 200 characters: the Parquet table (ids stored in full) then outgrows
/// the CSV (which has no ids), so that a limit between the two fails the Parquet writer.
#[cfg(feature = "parquet")]
fn long_id_labels() -> PathBuf {
    let path = setup().dir.join("long-ids.csv");
    let mut csv = String::from("index,id\n");
    for i in 0..SMALL {
        csv.push_str(&format!("{i},galaxy-{i:04}-{}\n", "x".repeat(188)));
    }
    std::fs::write(&path, csv).unwrap();
    path
}

fn full_disk_cases() -> Vec<FullDiskCase> {
    let mut cases = vec![
        FullDiskCase {
            name: "csv",
            file: "p.csv",
            flags: csv_flags,
            max_bytes: |csv, _| csv / 2,
        },
        FullDiskCase {
            name: "fits",
            file: "c.fits",
            flags: |dir| with(dir, &["--catalog-pdf", "--catalog"], "c.fits"),
            max_bytes: between,
        },
        FullDiskCase {
            name: "npy",
            file: "p.npy",
            flags: |dir| with(dir, &["--pdfs"], "p.npy"),
            max_bytes: between,
        },
        // One byte short: the NPY file's last bytes, buffered until it is completed, fail
        // after the catalogue is complete; the catalogue must not be renamed into place.
        FullDiskCase {
            name: "npy-at-finish",
            file: "p.npy",
            flags: |dir| {
                let catalog = path_arg(&dir.join("c.fits"));
                with(dir, &["--catalog", &catalog, "--pdfs"], "p.npy")
            },
            max_bytes: |file, _| file - 1,
        },
    ];
    if cfg!(feature = "hdf5") {
        cases.push(FullDiskCase {
            name: "hdf5",
            file: "p.hdf5",
            flags: |dir| with(dir, &["--pdfs"], "p.hdf5"),
            max_bytes: between,
        });
    }
    #[cfg(feature = "parquet")]
    cases.push(FullDiskCase {
        name: "parquet",
        file: "t.parquet",
        flags: |dir| {
            let labels = path_arg(&long_id_labels());
            with(dir, &["--labels", &labels, "--parquet"], "t.parquet")
        },
        max_bytes: between,
    });
    cases
}

#[test]
fn a_disk_that_fills_mid_write_is_an_error_naming_the_file_and_keeps_earlier_outputs() {
    // Other bytes than the earlier run's, so that a file replaced by mistake differs.
    let spectra = &setup().reordered;
    for case in full_disk_cases() {
        let dir = earlier_outputs(&format!("full-{}", case.name), case.flags);
        let before = snapshot(&dir);
        // A limit that this file, and only it, outgrows.
        let size = |name: &str| before[name].len() as u64;
        let max_bytes = (case.max_bytes)(size(case.file), size("p.csv"));
        for name in before.keys() {
            assert_eq!(
                size(name) > max_bytes,
                name == case.file,
                "{}: {name} of {} bytes, limit {max_bytes}",
                case.name,
                size(name)
            );
        }
        let mut flags = (case.flags)(&dir);
        flags.push("--overwrite".into());
        let out = limited(predict(spectra, &flags), max_bytes, true);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", case.name);
        assert!(!err.contains("panicked"), "{}: {err}", case.name);
        assert!(
            err.contains(s(&dir.join(case.file))) && err.contains("File too large"),
            "{}: the error names the file and the cause: {err}",
            case.name
        );
        assert_unchanged(&dir, &before, case.name);
    }
}

#[test]
fn killed_by_sigxfsz_a_run_leaves_at_most_named_temporary_files() {
    // Without SIGXFSZ ignored the kernel ends the process at the first write past the limit:
    // no code runs to remove the temporary files, but none has replaced a good output.
    let spectra = &setup().reordered;
    let flags = |dir: &Path| with(dir, &["--catalog-pdf", "--catalog"], "c.fits");
    let dir = earlier_outputs("killed", flags);
    let before = snapshot(&dir);
    let (csv, fits) = (before["p.csv"].len() as u64, before["c.fits"].len() as u64);
    let mut args = flags(&dir);
    args.push("--overwrite".into());
    let out = limited(predict(spectra, &args), (csv + fits) / 2, false);
    assert_eq!(out.status.signal(), Some(libc::SIGXFSZ), "{}", text(&out));
    let after = snapshot(&dir);
    for (name, bytes) in &before {
        assert_eq!(&after[name], bytes, "{name} changed");
    }
    let left: Vec<&String> = after.keys().filter(|n| !before.contains_key(*n)).collect();
    assert!(
        left.iter().any(|n| n.starts_with("c.fits.")),
        "the catalogue being written is left: {left:?}"
    );
    for name in left {
        // `<output>.<pid>.<n>.tmp`, as `StagedPath` names it.
        let parts: Vec<&str> = name.rsplitn(4, '.').collect();
        assert!(
            parts.len() == 4
                && parts[0] == "tmp"
                && parts[1].parse::<u32>().is_ok()
                && parts[2].parse::<u32>().is_ok()
                && before.contains_key(parts[3]),
            "{name} is not a recognisable temporary file"
        );
        std::fs::remove_file(dir.join(name)).unwrap();
    }
}

/// A file where a folder is expected, and a folder zcnn may not write into.
#[test]
fn outputs_that_cannot_be_written_are_refused_before_any_work() {
    let dir = setup().dir.join("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a-file"), "not a folder").unwrap();
    let read_only = dir.join("read-only");
    std::fs::create_dir_all(&read_only).unwrap();
    std::fs::set_permissions(
        &read_only,
        std::os::unix::fs::PermissionsExt::from_mode(0o555),
    )
    .unwrap();
    // Permissions bind everyone but root.
    let enforced = std::fs::write(read_only.join("probe"), "x").is_err();
    // A checkpoint that is not one: the refusal comes before it is even read.
    let not_a_checkpoint = dir.join("not-a-checkpoint.safetensors");
    std::fs::write(&not_a_checkpoint, "garbage").unwrap();
    let spectra = path_arg(&setup().data.join("spectra.npy"));
    let csv = path_arg(&dir.join("p.csv"));
    let mut cases = vec![
        ("--out", dir.join("missing/p.csv"), "does not exist"),
        ("--catalog", dir.join("missing/c.fits"), "does not exist"),
        ("--pdfs", dir.join("a-file/p.npy"), "Not a directory"),
    ];
    if enforced {
        cases.push((
            "--parquet",
            read_only.join("t.parquet"),
            "Permission denied",
        ));
    } else {
        let _ = std::fs::remove_file(read_only.join("probe"));
        eprintln!("note: running as root, so the read-only folder case is not checked");
    }
    for (flag, path, why) in cases {
        let mut args = vec![
            "predict",
            "--checkpoint",
            s(&not_a_checkpoint),
            "--spectra",
            &spectra,
        ];
        if flag != "--out" {
            args.extend(["--out", &csv]);
        }
        args.extend([flag, s(&path)]);
        let err = support::fails(&args);
        assert!(
            err.contains(flag) && err.contains(s(&path)) && err.contains(why),
            "{flag}: {err}"
        );
        assert!(!err.contains("not-a-checkpoint"), "{err}");
        assert_eq!(
            names(&dir),
            ["a-file", "not-a-checkpoint.safetensors", "read-only"],
            "{flag}"
        );
        assert!(names(&read_only).is_empty());
    }
    // The same flags with a writable folder reach the checkpoint, which is then refused.
    let err = support::fails(&[
        "predict",
        "--checkpoint",
        s(&not_a_checkpoint),
        "--spectra",
        &spectra,
        "--out",
        &csv,
    ]);
    assert!(err.contains("not-a-checkpoint"), "{err}");
    assert!(!dir.join("p.csv").exists());
}
