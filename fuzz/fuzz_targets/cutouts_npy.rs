//! The streaming NPY reader, opened for cutouts `[n, bands, height, width]`, never panics on
//! arbitrary bytes: an accepted header's shape fits the bytes exactly, every row reads back
//! (in order and after a seek), and masking leaves only finite values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use zcnn::io::cutouts::screen_nonfinite;
use zcnn::io::npy_rows::NpyRows;

fuzz_target!(|data: &[u8]| {
    let reader = Cursor::new(data);
    let Ok(mut rows) =
        NpyRows::from_reader(reader, data.len() as u64, "fuzz.npy", 4, "[n, b, h, w]")
    else {
        return;
    };
    let [n, _, height, width] = rows.shape()[..] else {
        panic!("a 4-D array was accepted with shape {:?}", rows.shape());
    };
    let mut values = Vec::new();
    let mut read = 0;
    while read < n {
        let count = rows
            .read_values(3, &mut values)
            .expect("the bytes were checked");
        assert_eq!(values.len(), count * rows.cols());
        for cutout in values.chunks_exact_mut(rows.cols().max(1)) {
            screen_nonfinite(cutout, height, width, true);
            assert!(cutout.iter().all(|v| v.is_finite()));
        }
        read += count;
    }
    if n > 0 {
        rows.seek_row(n - 1).expect("the last row");
        assert_eq!(rows.read_values(5, &mut values).expect("readable"), 1);
    }
});
