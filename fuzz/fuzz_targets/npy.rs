//! NPY parsing never panics: any bytes give an array or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::io::npy::{parse_npy, NpyExpect};

fuzz_target!(|data: &[u8]| {
    let _ = parse_npy(data, &NpyExpect::default());
    let spectra = NpyExpect {
        shape: Some(vec![None, Some(4)]),
        allow_non_finite: false,
    };
    if let Ok(array) = parse_npy(data, &spectra) {
        assert_eq!(array.data.len(), array.shape.iter().product::<usize>());
    }
});
