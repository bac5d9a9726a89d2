//! The `zcnn` command-line tool (see `zcnn --help`).

fn main() -> std::process::ExitCode {
    zcnn::cli::main()
}
