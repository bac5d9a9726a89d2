//! Inputs the fuzzers (fuzz/) found to crash zcnn, kept as regression tests: each must now
//! give a clear error instead of a panic.

use zcnn::dims::Dims;
use zcnn::layers::{Dense, Flatten};
use zcnn::loss::Loss;
use zcnn::model::{Head, Model};
use zcnn::sequential::Sequential;

/// fuzz/model: an empty trunk had no output buffer, so its heads read an empty input and a
/// length assertion fired during the forward pass.
#[test]
fn an_empty_trunk_or_head_is_an_error() {
    let input = Dims::Seq { len: 5, ch: 3 };
    let mut head = Sequential::new(input);
    head.push_with(Flatten::new)
        .unwrap()
        .push_with(|d| Dense::new(d, 3))
        .unwrap();
    let err = Model::new(
        Sequential::new(input),
        vec![Head::new("z", head, Loss::CrossEntropy)],
        0,
        7,
    )
    .err()
    .expect("an empty trunk is refused");
    assert!(err.0.contains("trunk needs at least one layer"), "{err}");

    let mut trunk = Sequential::new(input);
    trunk.push_with(Flatten::new).unwrap();
    let empty = Sequential::new(trunk.out_dims());
    let err = Model::new(trunk, vec![Head::new("z", empty, Loss::Mse)], 0, 7)
        .err()
        .expect("an empty head is refused");
    assert!(err.0.contains("head 'z' has no layers"), "{err}");
}

/// fuzz/npy: a 64-byte header of nested `{` made the NPY header parser backtrack for minutes
/// (the fuzzer's timeout); it is now refused before parsing.
#[test]
fn an_npy_header_of_nested_brackets_is_refused_at_once() {
    let mut bytes = b"\x93NUMPY\x01\x00\x40\x00{'desc*\x00\x00\x00r':".to_vec();
    bytes.extend([b' '; 21]);
    bytes.extend([b'{'; 25]);
    bytes.extend(b" None  'fo'f\"\"\"o\r\r tran_or\r\nerd'\x93NU: FalsMsMPe");
    let err = zcnn::io::npy::parse_npy(&bytes, &Default::default()).unwrap_err();
    assert!(err.0.contains("nests brackets"), "{err}");
}
