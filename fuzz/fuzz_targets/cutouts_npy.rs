//! The NPY row reader, as `zcnn import-images` opens cutouts `[n, bands, height, width]`,
//! never panics on arbitrary bytes (written to a scratch file, as the reader reads files): an
//! accepted header's shape fits the bytes exactly, every row reads back (in order and out of
//! order), and masking leaves only finite values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::io::cutouts::screen_nonfinite;
use zcnn::io::npy_rows::NpyRows;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("zcnn-fuzz-cutouts-{}.npy", std::process::id()));
    std::fs::write(&path, data).expect("a scratch file");
    let Ok(rows) = NpyRows::open_any(&path) else {
        return;
    };
    let [n, _, height, width] = rows.shape()[..] else {
        return;
    };
    let cols = rows.cols();
    assert_eq!(cols, rows.shape()[1..].iter().product::<usize>());
    assert!(
        n * cols * 4 <= data.len(),
        "more values than the file holds"
    );
    let (mut bytes, mut values) = (Vec::new(), vec![0.0; cols]);
    for row in (0..n).rev() {
        rows.read_values_at(row, &mut bytes, &mut values)
            .expect("the length was checked");
        screen_nonfinite(&mut values, height, width, true);
        assert!(values.iter().all(|v| v.is_finite()));
    }
    let mut all = vec![0.0; n * cols];
    rows.read_values_at(0, &mut bytes, &mut all)
        .expect("every row");
    // One row past the end is refused (a row of 0 values still counts as one row).
    let past = rows.read_values_at(n, &mut bytes, &mut vec![0.0; cols.max(1)]);
    assert!(past.is_err());
});
