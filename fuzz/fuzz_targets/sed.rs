//! The `.sed` template parser never panics, and what it accepts is a usable curve.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::data::spectra::parse_sed;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_sed(text, "fuzz.sed");
    }
});
