//! The fast path against the reference, both against finite differences, and thread-count
//! independence.
//!
//! Tolerance fast vs reference: `|fast − ref| ≤ 1e-5·|ref| + 1e-6·terms`, where `terms` is the
//! number of products summed into one element (`kernel·in_ch` for `y`, `kernel·out_ch` for
//! `dx`, `batch·out_len` for `dw` and `db`): the two paths sum in different orders, and the
//! rounding error of a sum of `terms` products of values in `[-1, 1]` grows with `terms`.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::*;
use crate::gradcheck::{assert_close, check_gradient, projection_loss, random_vec, GradCheck};

fn shape(
    batch: usize,
    in_len: usize,
    (in_ch, out_ch): (usize, usize),
    kernel: usize,
    stride: usize,
    (pad_left, pad_right): (usize, usize),
    dilation: usize,
) -> Conv1dShape {
    Conv1dShape {
        batch,
        in_len,
        in_ch,
        out_ch,
        kernel,
        stride,
        pad_left,
        pad_right,
        dilation,
    }
}

/// The three convolutions of specz-baseline (stride 1, Keras "same" padding 3/4).
fn specz_layers(batch: usize) -> [Conv1dShape; 3] {
    [
        shape(batch, 1780, (1, 16), 8, 1, (3, 4), 1),
        shape(batch, 889, (16, 16), 8, 1, (3, 4), 1),
        shape(batch, 443, (16, 16), 8, 1, (3, 4), 1),
    ]
}

/// Seeded inputs of one shape: `x`, `w`, `b` and an upstream gradient `dy`.
struct Case {
    s: Conv1dShape,
    x: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
    dy: Vec<f32>,
}

impl Case {
    fn new(s: Conv1dShape, seed: u64) -> Case {
        s.validate().expect("test shape is valid");
        Case {
            s,
            x: random_vec(seed, s.input_len(), 1.0),
            w: random_vec(seed + 1, s.weight_len(), 1.0),
            b: random_vec(seed + 2, s.out_ch, 1.0),
            dy: random_vec(seed + 3, s.output_len(), 1.0),
        }
    }

    fn forward_ref(&self, bias: bool) -> Vec<f32> {
        let mut y = vec![f32::NAN; self.s.output_len()];
        let b = bias.then_some(&self.b[..]);
        conv1d_forward_ref(&self.s, &self.x, &self.w, b, &mut y);
        y
    }

    /// The fast forward, with output and scratch filled with NaN so that a value read before
    /// it is written shows.
    fn forward_fast(&self, bias: bool) -> Vec<f32> {
        let mut y = vec![f32::NAN; self.s.output_len()];
        let mut scratch = vec![f32::NAN; self.s.forward_scratch_len()];
        let b = bias.then_some(&self.b[..]);
        conv1d_forward(&self.s, &self.x, &self.w, b, &mut y, &mut scratch);
        y
    }

    /// Gradients `(dx, dw, db)` started from `start` (`None`: zeros) and accumulated by the
    /// reference or the fast backward; `dx`/`db` are skipped (and returned empty) unless asked.
    fn backward(&self, fast: bool, with_dx: bool, with_db: bool, start: Option<u64>) -> Grads {
        let s = &self.s;
        let init = |len: usize, salt: u64| match start {
            Some(seed) => random_vec(seed + salt, len, 1.0),
            None => vec![0.0; len],
        };
        let mut g = Grads {
            dx: if with_dx {
                init(s.input_len(), 0)
            } else {
                vec![]
            },
            dw: init(s.weight_len(), 1),
            db: if with_db { init(s.out_ch, 2) } else { vec![] },
        };
        let dx = with_dx.then_some(&mut g.dx[..]);
        let db = with_db.then_some(&mut g.db[..]);
        if fast {
            let mut scratch = vec![f32::NAN; s.backward_scratch_len()];
            conv1d_backward(
                s,
                &self.x,
                &self.w,
                &self.dy,
                dx,
                &mut g.dw,
                db,
                &mut scratch,
            );
        } else {
            conv1d_backward_ref(s, &self.x, &self.w, &self.dy, dx, &mut g.dw, db);
        }
        g
    }
}

#[derive(Debug, PartialEq)]
struct Grads {
    dx: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
}

const RTOL: f32 = 1e-5;

fn atol(terms: usize) -> f32 {
    1e-6 * terms as f32
}

fn check_forward(s: Conv1dShape, seed: u64) {
    let c = Case::new(s, seed);
    for bias in [true, false] {
        let what = format!("forward y (bias {bias}) {s:?}");
        let terms = s.kernel * s.in_ch;
        assert_close(
            &what,
            &c.forward_fast(bias),
            &c.forward_ref(bias),
            RTOL,
            atol(terms),
        );
    }
}

fn check_backward(s: Conv1dShape, seed: u64) {
    let c = Case::new(s, seed);
    let reduced = s.batch * s.out_len();
    for (with_dx, with_db) in [(true, true), (false, false), (true, false)] {
        let want = c.backward(false, with_dx, with_db, Some(seed + 10));
        let got = c.backward(true, with_dx, with_db, Some(seed + 10));
        let what = |name: &str| format!("backward {name} (dx {with_dx}, db {with_db}) {s:?}");
        let dx_terms = s.kernel * s.out_ch;
        assert_close(&what("dx"), &got.dx, &want.dx, RTOL, atol(dx_terms));
        assert_close(&what("dw"), &got.dw, &want.dw, RTOL, atol(reduced));
        assert_close(&what("db"), &got.db, &want.db, RTOL, atol(reduced));
    }
}

fn check_both(s: Conv1dShape, seed: u64) {
    check_forward(s, seed);
    check_backward(s, seed);
}

#[test]
fn validate_names_the_field_and_values() {
    let good = shape(2, 4, (3, 5), 5, 1, (1, 2), 1);
    assert_eq!(good.validate(), Ok(()));
    let long = Conv1dShape {
        dilation: 2,
        ..good
    };
    assert_eq!(
        long.validate().unwrap_err().0,
        "conv1d: dilated kernel 9 is longer than the padded input 7 (length 4 + padding 1 + 2)"
    );
    let zero_stride = Conv1dShape { stride: 0, ..good };
    assert_eq!(
        zero_stride.validate().unwrap_err().0,
        "conv1d: stride must be at least 1, got 0"
    );
    for zeroed in [
        Conv1dShape { batch: 0, ..good },
        Conv1dShape { in_len: 0, ..good },
        Conv1dShape { in_ch: 0, ..good },
        Conv1dShape { out_ch: 0, ..good },
        Conv1dShape { kernel: 0, ..good },
        Conv1dShape {
            dilation: 0,
            ..good
        },
    ] {
        let message = zeroed.validate().unwrap_err().0;
        assert!(message.contains("must be at least 1, got 0"), "{message}");
    }
}

#[test]
fn lengths_follow_the_shape() {
    let s = shape(2, 10, (3, 5), 4, 2, (1, 2), 1);
    assert_eq!(s.out_len(), 5); // ⌊(10 + 3 − 4) / 2⌋ + 1
    assert_eq!(s.input_len(), 60);
    assert_eq!(s.output_len(), 50);
    assert_eq!(s.weight_len(), 60);
    for s in specz_layers(32) {
        assert_eq!(s.out_len(), s.in_len, "'same' padding keeps the length");
    }
}

#[test]
fn reference_forward_matches_a_hand_computed_case() {
    // x = [1, 2, 3] (one channel), w = [1, 10], pad 1 left: y = [0·1 + 1·10, 1 + 20, 2 + 30].
    let s = shape(1, 3, (1, 1), 2, 1, (1, 0), 1);
    let mut y = [0.0; 3];
    conv1d_forward_ref(&s, &[1.0, 2.0, 3.0], &[1.0, 10.0], Some(&[0.5]), &mut y);
    assert_eq!(y, [10.5, 21.5, 32.5]);
}

#[test]
fn fast_matches_reference_on_specz_layers() {
    for (i, s) in specz_layers(3).into_iter().enumerate() {
        check_both(s, 100 + i as u64);
    }
}

#[test]
fn fast_matches_reference_on_odd_channels_and_lengths() {
    let mut seed = 200;
    for (in_ch, out_ch) in [
        (1, 1),
        (1, 3),
        (3, 1),
        (17, 20),
        (20, 17),
        (5, 33),
        (16, 16),
    ] {
        for in_len in [1, 2, 7, 9, 17, 31] {
            let (kernel, pads) = if in_len >= 3 {
                (3, (1, 1))
            } else {
                (1, (0, 0))
            };
            check_both(shape(1, in_len, (in_ch, out_ch), kernel, 1, pads, 1), seed);
            check_both(
                shape(3, in_len, (in_ch, out_ch), kernel, 1, pads, 1),
                seed + 1,
            );
            seed += 2;
        }
    }
}

#[test]
fn fast_matches_reference_over_strides_paddings_dilations() {
    let mut seed = 300;
    for stride in 1..=3 {
        for dilation in 1..=3 {
            for pads in [(0, 0), (3, 4), (4, 3), (0, 5), (2, 0)] {
                for kernel in [1, 2, 5, 8] {
                    let s = shape(2, 23, (3, 17), kernel, stride, pads, dilation);
                    if s.validate().is_ok() {
                        check_both(s, seed);
                    }
                    seed += 1;
                }
            }
        }
    }
}

#[test]
fn fast_matches_reference_on_random_shapes() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(400);
    let mut checked = 0;
    while checked < 50 {
        let s = shape(
            rng.gen_range(1..=19),
            rng.gen_range(1..=40),
            (rng.gen_range(1..=20), rng.gen_range(1..=20)),
            rng.gen_range(1..=9),
            rng.gen_range(1..=3),
            (rng.gen_range(0..=4), rng.gen_range(0..=4)),
            rng.gen_range(1..=3),
        );
        if s.validate().is_ok() {
            check_both(s, 500 + checked);
            checked += 1;
        }
    }
}

#[test]
fn backward_accumulates_into_gradients() {
    let s = shape(3, 29, (5, 18), 4, 2, (2, 1), 2);
    let c = Case::new(s, 600);
    for fast in [false, true] {
        let from_zero = c.backward(fast, true, true, None);
        let from_start = c.backward(fast, true, true, Some(601));
        let start = Grads {
            dx: random_vec(601, s.input_len(), 1.0),
            dw: random_vec(602, s.weight_len(), 1.0),
            db: random_vec(603, s.out_ch, 1.0),
        };
        let added =
            |a: &[f32], b: &[f32]| -> Vec<f32> { a.iter().zip(b).map(|(u, v)| u + v).collect() };
        assert_close(
            "dx",
            &from_start.dx,
            &added(&start.dx, &from_zero.dx),
            1e-6,
            1e-6,
        );
        assert_close(
            "dw",
            &from_start.dw,
            &added(&start.dw, &from_zero.dw),
            1e-6,
            1e-6,
        );
        assert_close(
            "db",
            &from_start.db,
            &added(&start.db, &from_zero.db),
            1e-6,
            1e-6,
        );
    }
}

/// `dx`, `dw` and `db` of one path against central differences of `L = Σ r⊙y`, `r = dy`.
fn check_gradients_by_finite_differences(s: Conv1dShape, fast: bool) {
    let c = Case::new(s, 700);
    let forward = |x: &[f32], w: &[f32], b: &[f32]| {
        let mut y = vec![0.0; s.output_len()];
        if fast {
            let mut scratch = vec![0.0; s.forward_scratch_len()];
            conv1d_forward(&s, x, w, Some(b), &mut y, &mut scratch);
        } else {
            conv1d_forward_ref(&s, x, w, Some(b), &mut y);
        }
        projection_loss(&y, &c.dy)
    };
    let g = c.backward(fast, true, true, None);
    let cfg = GradCheck::default();
    let path = if fast { "fast" } else { "reference" };
    let (mut x, mut w, mut b) = (c.x.clone(), c.w.clone(), c.b.clone());
    check_gradient(
        &format!("{path} dx {s:?}"),
        &mut x,
        &g.dx,
        |x| forward(x, &c.w, &c.b),
        cfg,
    );
    check_gradient(
        &format!("{path} dw {s:?}"),
        &mut w,
        &g.dw,
        |w| forward(&c.x, w, &c.b),
        cfg,
    );
    check_gradient(
        &format!("{path} db {s:?}"),
        &mut b,
        &g.db,
        |b| forward(&c.x, &c.w, b),
        cfg,
    );
}

#[test]
fn gradients_match_finite_differences() {
    for s in [
        shape(2, 13, (3, 4), 8, 1, (3, 4), 1),
        shape(2, 11, (1, 17), 3, 2, (0, 2), 2),
        shape(1, 9, (5, 2), 2, 3, (2, 1), 3),
    ] {
        check_gradients_by_finite_differences(s, false);
        check_gradients_by_finite_differences(s, true);
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let run = |threads: usize, c: &Case| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            (
                c.forward_fast(true),
                c.backward(true, true, true, Some(800)),
            )
        })
    };
    for s in [
        shape(37, 50, (16, 16), 8, 1, (3, 4), 1),
        shape(5, 41, (3, 17), 5, 2, (1, 3), 2),
    ] {
        let c = Case::new(s, 801);
        assert_eq!(run(1, &c), run(2, &c), "{s:?}");
    }
}

/// The fused forward (activation applied to each output vector before it is stored) equals the
/// forward followed by the activation kernel bit for bit: the same comparison and product on
/// the same values (`crate::epilogue`), so the tolerance is zero. Channel counts with and
/// without a partial vector, strides and dilations.
#[test]
fn fused_forward_equals_forward_then_activation() {
    use crate::epilogue::activation_oracles;
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let shapes = specz_layers(2).into_iter().chain([
        shape(3, 37, (5, 19), 3, 2, (1, 2), 1),
        shape(2, 40, (7, 40), 5, 1, (2, 2), 2),
    ]);
    for (i, s) in shapes.enumerate() {
        let c = Case::new(s, 1400 + i as u64);
        let slopes = random_vec(1500 + i as u64, s.out_ch, 0.5);
        let plain = c.forward_fast(true);
        for (activation, want) in activation_oracles(s.out_ch, &plain, &slopes) {
            let mut y = vec![f32::NAN; s.output_len()];
            let mut scratch = vec![f32::NAN; s.forward_scratch_len()];
            conv1d_forward_fused(&s, &c.x, &c.w, Some(&c.b), activation, &mut y, &mut scratch);
            assert_eq!(bits(&y), bits(&want), "{activation:?} {s:?}");
        }
    }
}
