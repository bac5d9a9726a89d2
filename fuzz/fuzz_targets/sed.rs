//! The two-column text parsers (`.sed` templates and filter curves) never panic, and a filter
//! they accept has a finite, positive pivot wavelength.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::data::filters::FilterCurve;
use zcnn::data::spectra::parse_sed;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_sed(text, "fuzz.sed");
        if let Ok(filter) = FilterCurve::parse(text, "fuzz.dat") {
            let pivot = filter.pivot_wavelength();
            assert!(pivot.is_finite() && pivot > 0.0, "pivot {pivot}");
        }
    }
});
