//! The FITS spectrum reader never panics on arbitrary bytes, with or without masking, and
//! what it accepts has matching lengths and increasing wavelengths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::io::fits::{parse_fits_spectrum, FitsOptions};

fuzz_target!(|data: &[u8]| {
    for mask_nonfinite in [false, true] {
        let options = FitsOptions {
            hdu: None,
            mask_nonfinite,
        };
        if let Ok(s) = parse_fits_spectrum(data, "fuzz.fits", &options) {
            assert_eq!(s.lambda.len(), s.flux.len());
            assert!(s.lambda.windows(2).all(|w| w[1] > w[0]));
        }
    }
});
