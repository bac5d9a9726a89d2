//! The cutout catalogue parser never panics on arbitrary text, and an accepted catalogue has
//! one value of every column per row, finite redshifts and unique ids.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::io::cutouts::{parse_cutout_catalog, CatalogColumns};

fuzz_target!(|data: &[u8]| {
    let columns = CatalogColumns {
        id: "id".into(),
        z: "z".into(),
        ebv: None,
        index: Some("index".into()),
    };
    let Ok(catalog) = parse_cutout_catalog(data, "fuzz.csv", &columns) else {
        return;
    };
    let n = catalog.len();
    assert!(n > 0 && catalog.z.len() == n && catalog.photometry.len() == n);
    assert!(catalog.z.iter().all(|z| z.is_finite()));
    assert!(catalog.ebv.as_ref().is_none_or(|e| e.len() == n));
    assert!(catalog.index.as_ref().is_none_or(|i| i.len() == n));
    let mut ids = catalog.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
});
