//! NPY parsing never panics: any bytes give an array or an error, and an accepted array holds
//! exactly the values its shape claims (the shape's product computed with overflow checks, as
//! the parser must: an unchecked product wraps and would agree with a wrapped parser).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::io::npy::{data_size, parse_npy, NpyExpect};

fuzz_target!(|data: &[u8]| {
    let _ = parse_npy(data, &NpyExpect::default());
    let spectra = NpyExpect {
        shape: Some(vec![None, Some(4)]),
        allow_non_finite: false,
    };
    if let Ok(array) = parse_npy(data, &spectra) {
        let values = data_size(&array.shape, 1).expect("an accepted shape's size fits in usize");
        assert_eq!(array.data.len(), values);
        assert!(values * 4 <= data.len(), "more values than the file holds");
    }
});
