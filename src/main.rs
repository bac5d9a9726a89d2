//! The `zcnn` command-line tool (see `zcnn --help`).

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(missing) = zcnn::cpu::missing_features() {
        eprintln!(
            "error: this zcnn binary was compiled for CPU features this machine lacks ({missing}); \
             rebuild it here (`cargo build --release`) or build a portable one with \
             RUSTFLAGS=\"-C target-cpu=x86-64-v3\""
        );
        return ExitCode::FAILURE;
    }
    zcnn::cli::main()
}
