//! After the first step, a training step performs no heap allocation: every buffer was
//! allocated for the batch size before. Counted with a global allocator wrapper.
//!
//! The steps run on a thread of the global rayon pool (`use_current_thread`): a parallel call made
//! from outside the pool is queued in rayon's injector, which allocates a block every 63 jobs.

mod common_models;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use zcnn::kernels::optim::AdamConfig;
use zcnn::optim::{Optimizer, Rule, Schedule};
use zcnn::presets::{kim_brunner, specz_baseline, Output};
use zcnn::train::{TrainConfig, Trainer};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn assert_steps_do_not_allocate(name: &str, mut model: zcnn::model::Model, batch: usize) {
    let data = common_models::random_data(&model, 3 * batch, 1);
    let rule = Rule::Adam(AdamConfig {
        lr: 1e-3,
        ..AdamConfig::default()
    });
    let mut opt = Optimizer::new(rule, Schedule::Constant, model.param_count()).unwrap();
    let mut trainer = Trainer::new(
        &model,
        &data,
        TrainConfig {
            batch,
            ..TrainConfig::default()
        },
    )
    .unwrap();
    let idx: Vec<usize> = (0..batch).collect();
    trainer.step(&mut model, &mut opt, &data, &idx).unwrap(); // warm-up: allocates the buffers
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..3 {
        trainer.step(&mut model, &mut opt, &data, &idx).unwrap();
    }
    let during = ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert_eq!(
        during, 0,
        "{name}: {during} heap allocations in 3 training steps after warm-up"
    );
}

#[test]
fn training_steps_after_warm_up_do_not_allocate() {
    // One test function: the allocation counter is global to the process.
    // The global pool, as the CLI builds it: a local pool with `use_current_thread` would be
    // terminated when dropped while this thread stays registered in it, and the next parallel
    // call would wait forever for its exited worker.
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .use_current_thread()
        .build_global()
        .expect("a 2-thread global pool including this thread");
    assert_steps_do_not_allocate("tiny_1d", common_models::tiny_1d(1), 8);
    assert_steps_do_not_allocate("tiny_2d", common_models::tiny_2d(2), 8);
    let classes = |k| Output::Classes {
        k,
        loss: zcnn::loss::Loss::CrossEntropy,
    };
    let specz = specz_baseline(1780, classes(800), 3).unwrap();
    assert_steps_do_not_allocate("specz-baseline", specz, 16);
    assert_steps_do_not_allocate("kim-brunner", kim_brunner(classes(2), 4).unwrap(), 4);
}
