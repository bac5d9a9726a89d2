//! The FITS cutout reader never panics on arbitrary bytes, and what it accepts is consistent:
//! bands × height × width pixels, one HDU and (when named) one name per band; reordering the
//! bands by their own names, reversed, keeps every pixel.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::io::cutouts::parse_fits_cutout;

fuzz_target!(|data: &[u8]| {
    let Ok(mut cutout) = parse_fits_cutout(data, "fuzz.fits") else {
        return;
    };
    let plane = cutout.height * cutout.width;
    assert_eq!(cutout.pixels.len(), cutout.bands() * plane);
    if let Some(names) = cutout.names.clone() {
        assert_eq!(names.len(), cutout.bands());
        let mut sum_before: Vec<u32> = cutout.pixels.iter().map(|v| v.to_bits()).collect();
        let reversed: Vec<String> = names.iter().rev().cloned().collect();
        cutout
            .order_bands(&reversed)
            .expect("a file's own names order its bands");
        let mut sum_after: Vec<u32> = cutout.pixels.iter().map(|v| v.to_bits()).collect();
        sum_before.sort_unstable();
        sum_after.sort_unstable();
        assert_eq!(sum_before, sum_after);
    }
});
