//! Checkpoint parsing never panics, and whatever parses can be offered to a model: it loads
//! or is refused with an error, and a refused load leaves the model unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcnn::io::checkpoint::parse_checkpoint;
use zcnn::layers::{BatchNorm, Conv1d, Dense, Flatten, Padding};
use zcnn::loss::Loss;
use zcnn::model::{Head, Model};
use zcnn::sequential::Sequential;
use zcnn::Dims;

fn small_model() -> Model {
    let mut trunk = Sequential::new(Dims::Seq { len: 8, ch: 1 });
    trunk
        .push_with(|d| Conv1d::new(d, 2, 3, 1, Padding::Same, 1))
        .and_then(|t| t.push_with(BatchNorm::new))
        .and_then(|t| t.push_with(Flatten::new))
        .expect("a valid trunk");
    let mut head = Sequential::new(trunk.out_dims());
    head.push_with(|d| Dense::new(d, 3)).expect("a valid head");
    Model::new(trunk, vec![Head::new("z", head, Loss::CrossEntropy)], 0, 1).expect("a valid model")
}

fuzz_target!(|data: &[u8]| {
    if let Ok(checkpoint) = parse_checkpoint(data) {
        let mut model = small_model();
        let before = model.params().to_vec();
        if checkpoint.restore_model(&mut model).is_err() {
            assert_eq!(
                model.params(),
                &before[..],
                "a refused checkpoint changed the model"
            );
        }
    }
});
