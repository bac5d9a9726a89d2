//! Run configurations: any text parses or gives an error, and a parsed config passes the
//! checks the command runs before any work or is refused, without panicking or exhausting
//! memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::cli::check_config;
use zcnn::cli::config::RunConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = RunConfig::from_toml(text, "fuzz.toml") {
            let _ = check_config(&config);
        }
    }
});
