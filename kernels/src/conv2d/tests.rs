//! Fast path against the scalar reference, finite-difference checks, thread determinism.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::*;
use crate::gradcheck::{assert_close, check_gradient, projection_loss, random_vec, GradCheck};

/// A shape from compact tuples: kernel `(kh, kw)`, stride `(sh, sw)`, padding
/// `(top, bottom, left, right)`, dilation `(dh, dw)`.
#[allow(clippy::too_many_arguments)]
pub(super) fn shape(
    batch: usize,
    (in_h, in_w): (usize, usize),
    (in_ch, out_ch): (usize, usize),
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (pad_top, pad_bottom, pad_left, pad_right): (usize, usize, usize, usize),
    (dilation_h, dilation_w): (usize, usize),
) -> Conv2dShape {
    Conv2dShape {
        batch,
        in_h,
        in_w,
        in_ch,
        out_ch,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        pad_top,
        pad_bottom,
        pad_left,
        pad_right,
        dilation_h,
        dilation_w,
    }
}

/// A stride-1, dilation-1 `k×k` convolution with the same padding `pad` on every side.
fn square(
    batch: usize,
    hw: usize,
    (cin, cout): (usize, usize),
    k: usize,
    pad: usize,
) -> Conv2dShape {
    shape(
        batch,
        (hw, hw),
        (cin, cout),
        (k, k),
        (1, 1),
        (pad, pad, pad, pad),
        (1, 1),
    )
}

/// The convolutions of the kim-brunner and pasquet presets, at batch 2.
fn preset_shapes() -> Vec<Conv2dShape> {
    vec![
        square(2, 44, (5, 32), 5, 0),
        square(2, 40, (32, 32), 3, 1),
        square(2, 20, (32, 64), 3, 1),
        square(2, 20, (64, 64), 3, 1),
        square(2, 10, (64, 128), 3, 1),
        square(2, 10, (128, 128), 3, 1),
        square(2, 64, (5, 64), 5, 2),
        square(2, 32, (64, 48), 1, 0),
        square(2, 32, (64, 64), 1, 0),
        square(2, 32, (48, 64), 3, 1),
        square(2, 32, (48, 64), 5, 2),
        square(2, 16, (92, 128), 3, 1),
        square(2, 16, (64, 92), 5, 2),
        square(2, 8, (92, 128), 3, 1),
        square(2, 8, (128, 128), 1, 0),
    ]
}

/// Odd sizes, every path, strides, asymmetric paddings and dilations.
fn odd_shapes() -> Vec<Conv2dShape> {
    vec![
        square(1, 7, (1, 1), 3, 1),
        square(3, 9, (3, 17), 3, 1),
        square(2, 5, (17, 3), 5, 2),
        square(1, 1, (3, 5), 3, 1),
        square(2, 1, (4, 6), 1, 0),
        square(3, 6, (17, 19), 1, 0),
        shape(2, (5, 11), (3, 7), (2, 4), (1, 1), (0, 1, 2, 1), (1, 1)),
        shape(2, (8, 6), (5, 4), (8, 1), (1, 1), (3, 4, 0, 0), (1, 1)),
        shape(2, (9, 7), (3, 5), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
        shape(1, (10, 9), (2, 3), (3, 2), (2, 1), (0, 2, 1, 0), (1, 1)),
        shape(2, (7, 10), (4, 3), (2, 3), (1, 2), (1, 0, 0, 2), (1, 1)),
        shape(2, (9, 9), (3, 4), (3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),
        shape(2, (9, 8), (3, 4), (3, 2), (1, 1), (1, 0, 3, 1), (2, 1)),
        shape(2, (8, 9), (3, 4), (2, 3), (1, 1), (0, 1, 1, 2), (1, 2)),
        shape(3, (11, 10), (5, 6), (3, 3), (2, 2), (2, 1, 0, 3), (2, 2)),
        shape(2, (6, 6), (5, 3), (1, 1), (2, 2), (0, 0, 0, 0), (1, 1)),
        shape(2, (4, 5), (3, 3), (1, 1), (1, 1), (1, 0, 0, 1), (1, 1)),
        shape(1, (3, 3), (2, 2), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1)),
    ]
}

/// A random valid shape: sizes, strides 1–2, paddings 0–2 per side, dilations 1–2.
fn random_shape(rng: &mut Xoshiro256PlusPlus) -> Conv2dShape {
    loop {
        let s = shape(
            rng.gen_range(1..5),
            (rng.gen_range(1..12), rng.gen_range(1..12)),
            (rng.gen_range(1..20), rng.gen_range(1..20)),
            (rng.gen_range(1..5), rng.gen_range(1..5)),
            (rng.gen_range(1..3), rng.gen_range(1..3)),
            (
                rng.gen_range(0..3),
                rng.gen_range(0..3),
                rng.gen_range(0..3),
                rng.gen_range(0..3),
            ),
            (rng.gen_range(1..3), rng.gen_range(1..3)),
        );
        if s.validate().is_ok() {
            return s;
        }
    }
}

/// Number of products in one output sum (forward and `dx`): bounds the rounding difference.
fn taps(s: &Conv2dShape) -> usize {
    s.kernel_h * s.kernel_w * s.in_ch.max(s.out_ch)
}

/// `|fast − ref| ≤ 1e-4·|ref| + 1e-6·terms`: a sum of `terms` products of values below 1 in
/// another order differs by at most about `terms·ε_f32·max|partial sum|`.
fn assert_matches(what: &str, got: &[f32], want: &[f32], terms: usize) {
    assert_close(what, got, want, 1e-4, 1e-6 * terms as f32);
}

/// Random `(x, w, bias)` for a shape.
fn inputs(s: &Conv2dShape, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    (
        random_vec(seed, s.input_len(), 1.0),
        random_vec(seed + 1, s.weight_len(), 1.0),
        random_vec(seed + 2, s.out_ch, 1.0),
    )
}

/// Fast forward into a NaN-filled output with NaN-filled scratch (so stale reads show).
fn fast_forward(s: &Conv2dShape, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let mut y = vec![f32::NAN; s.output_len()];
    let mut scratch = vec![f32::NAN; s.forward_scratch_len()];
    conv2d_forward(s, x, w, bias, &mut y, &mut scratch);
    y
}

fn ref_forward(s: &Conv2dShape, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let mut y = vec![f32::NAN; s.output_len()];
    conv2d_forward_ref(s, x, w, bias, &mut y);
    y
}

fn check_forward(s: &Conv2dShape, seed: u64) {
    s.validate().expect("test shape is valid");
    let (x, w, b) = inputs(s, seed);
    for bias in [Some(&b[..]), None] {
        let want = ref_forward(s, &x, &w, bias);
        let got = fast_forward(s, &x, &w, bias);
        assert_matches(
            &format!("forward {s:?} bias {}", bias.is_some()),
            &got,
            &want,
            taps(s),
        );
    }
}

/// Gradients of one backward call, accumulated onto the given starting values.
struct Grads {
    dx: Option<Vec<f32>>,
    dw: Vec<f32>,
    db: Option<Vec<f32>>,
}

impl Grads {
    /// Random starting values, to check that the backward accumulates.
    fn start(s: &Conv2dShape, seed: u64, with_dx: bool, with_db: bool) -> Self {
        Grads {
            dx: with_dx.then(|| random_vec(seed, s.input_len(), 1.0)),
            dw: random_vec(seed + 1, s.weight_len(), 1.0),
            db: with_db.then(|| random_vec(seed + 2, s.out_ch, 1.0)),
        }
    }

    /// All three gradients, zeroed.
    fn zero(s: &Conv2dShape) -> Self {
        Grads {
            dx: Some(vec![0.0; s.input_len()]),
            dw: vec![0.0; s.weight_len()],
            db: Some(vec![0.0; s.out_ch]),
        }
    }
}

fn backward_ref(s: &Conv2dShape, x: &[f32], w: &[f32], dy: &[f32], mut g: Grads) -> Grads {
    conv2d_backward_ref(
        s,
        x,
        w,
        dy,
        g.dx.as_deref_mut(),
        &mut g.dw,
        g.db.as_deref_mut(),
    );
    g
}

fn backward_fast(s: &Conv2dShape, x: &[f32], w: &[f32], dy: &[f32], mut g: Grads) -> Grads {
    let mut scratch = vec![f32::NAN; s.backward_scratch_len()];
    conv2d_backward(
        s,
        x,
        w,
        dy,
        g.dx.as_deref_mut(),
        &mut g.dw,
        g.db.as_deref_mut(),
        &mut scratch,
    );
    g
}

fn check_backward(s: &Conv2dShape, seed: u64, with_dx: bool, with_db: bool) {
    let (x, w, _) = inputs(s, seed);
    let dy = random_vec(seed + 3, s.output_len(), 1.0);
    let start = || Grads::start(s, seed + 4, with_dx, with_db);
    let want = backward_ref(s, &x, &w, &dy, start());
    let got = backward_fast(s, &x, &w, &dy, start());
    let what = format!("{s:?} dx {with_dx} db {with_db}");
    let pixels = s.batch * s.out_h() * s.out_w();
    assert_matches(&format!("dw {what}"), &got.dw, &want.dw, pixels);
    if let (Some(got), Some(want)) = (&got.dx, &want.dx) {
        assert_matches(&format!("dx {what}"), got, want, taps(s));
    }
    if let (Some(got), Some(want)) = (&got.db, &want.db) {
        assert_matches(&format!("db {what}"), got, want, pixels);
    }
}

#[test]
fn validate_names_the_field_and_values() {
    assert!(square(128, 44, (5, 32), 5, 0).validate().is_ok());
    let mut s = square(2, 8, (3, 4), 3, 1);
    s.stride_w = 0;
    let err = s.validate().unwrap_err().0;
    assert!(err.contains("stride_w") && err.contains('0'), "{err}");
    let mut s = square(2, 8, (3, 4), 3, 1);
    s.in_ch = 0;
    assert!(s.validate().unwrap_err().0.contains("in_ch"));
    let err = square(2, 4, (3, 4), 7, 1).validate().unwrap_err().0;
    assert!(
        err.contains("kernel_h 7") && err.contains("height 6"),
        "{err}"
    );
    let wide = shape(1, (9, 3), (1, 1), (3, 3), (1, 1), (0, 0, 0, 0), (1, 2));
    let err = wide.validate().unwrap_err().0;
    assert!(
        err.contains("kernel_w 3") && err.contains("dilation_w 2") && err.contains("width 3"),
        "{err}"
    );
}

#[test]
fn lengths_and_output_size() {
    let s = shape(3, (10, 9), (2, 5), (3, 2), (2, 1), (0, 2, 1, 0), (1, 1));
    assert_eq!((s.out_h(), s.out_w()), (5, 9));
    assert_eq!(s.input_len(), 3 * 10 * 9 * 2);
    assert_eq!(s.output_len(), 3 * 5 * 9 * 5);
    assert_eq!(s.weight_len(), 3 * 2 * 2 * 5);
    // The 1×1 path needs no image, only each part's GEMM pack: 4 samples of 8 rows are cut
    // into 4 bands of 2 rows (16 pixels) each, one part per band.
    let pointwise = square(4, 8, (64, 64), 1, 0);
    let pack = crate::gemm::pack_len(2 * 8, 64, 64);
    assert_eq!(pointwise.forward_scratch_len(), 16 * pack);
}

#[test]
fn forward_matches_reference_on_presets() {
    for (i, s) in preset_shapes().iter().enumerate() {
        check_forward(s, 100 + i as u64);
    }
}

/// The direct path on the preset shapes that the forward sends to Winograd.
#[test]
fn direct_forward_matches_reference_where_winograd_pays() {
    use crate::epilogue::Epilogue;
    let shapes: Vec<_> = preset_shapes().into_iter().filter(winograd_pays).collect();
    assert!(
        shapes.len() >= 3,
        "presets with a Winograd forward: {shapes:?}"
    );
    for (i, s) in shapes.iter().enumerate() {
        let (x, w, b) = inputs(s, 1400 + i as u64);
        let mut y = vec![f32::NAN; s.output_len()];
        let mut scratch = vec![f32::NAN; s.direct_forward_scratch_len()];
        conv2d_forward_direct(s, &x, &w, &Epilogue::bias(Some(&b)), &mut y, &mut scratch);
        let want = ref_forward(s, &x, &w, Some(&b));
        assert_matches(&format!("direct {s:?}"), &y, &want, taps(s));
    }
}

#[test]
fn forward_matches_reference_on_odd_shapes() {
    for (i, s) in odd_shapes().iter().enumerate() {
        check_forward(s, 200 + i as u64);
    }
}

#[test]
fn forward_matches_reference_on_random_shapes() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    for i in 0..80 {
        check_forward(&random_shape(&mut rng), 300 + i);
    }
}

#[test]
fn backward_matches_reference_on_presets() {
    for (i, s) in preset_shapes().iter().enumerate() {
        check_backward(s, 400 + i as u64, i != 0, true);
    }
}

#[test]
fn backward_matches_reference_on_odd_shapes() {
    for (i, s) in odd_shapes().iter().enumerate() {
        for (with_dx, with_db) in [(true, true), (false, true), (true, false)] {
            check_backward(s, 500 + i as u64, with_dx, with_db);
        }
    }
}

#[test]
fn backward_matches_reference_on_random_shapes() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    for i in 0..80 {
        check_backward(&random_shape(&mut rng), 600 + i, i % 3 != 0, i % 4 != 0);
    }
}

/// Finite differences of `L = Σ r⊙y` against the backward of `forward`/`backward`.
fn gradcheck_shape(s: &Conv2dShape, seed: u64, fast: bool) {
    let forward = |x: &[f32], w: &[f32], b: &[f32]| {
        if fast {
            fast_forward(s, x, w, Some(b))
        } else {
            ref_forward(s, x, w, Some(b))
        }
    };
    let (mut x, mut w, mut b) = inputs(s, seed);
    let r = random_vec(seed + 5, s.output_len(), 1.0);
    let zero = Grads::zero(s);
    let g = if fast {
        backward_fast(s, &x, &w, &r, zero)
    } else {
        backward_ref(s, &x, &w, &r, zero)
    };
    // L is linear in each of x, w and b, so central differences have no truncation error: a
    // step of 0.05 only shrinks the f32 rounding noise of the forward (≈ 1e-7·|L| / eps).
    let cfg = GradCheck {
        eps: 0.05,
        max_probes: 60,
        ..GradCheck::default()
    };
    let what = format!("{s:?} fast {fast}");
    let (w0, b0) = (w.clone(), b.clone());
    let dx = g.dx.expect("dx requested");
    check_gradient(
        &format!("dx {what}"),
        &mut x,
        &dx,
        |x| projection_loss(&forward(x, &w0, &b0), &r),
        cfg,
    );
    let x0 = x.clone();
    check_gradient(
        &format!("dw {what}"),
        &mut w,
        &g.dw,
        |w| projection_loss(&forward(&x0, w, &b0), &r),
        cfg,
    );
    let db = g.db.expect("db requested");
    check_gradient(
        &format!("db {what}"),
        &mut b,
        &db,
        |b| projection_loss(&forward(&x0, &w0, b), &r),
        cfg,
    );
}

#[test]
fn gradients_match_finite_differences() {
    let shapes = [
        square(2, 6, (3, 4), 3, 1),
        square(2, 5, (3, 5), 1, 0),
        shape(2, (7, 6), (3, 2), (3, 2), (2, 2), (1, 0, 2, 1), (1, 1)),
        shape(1, (7, 8), (2, 3), (2, 3), (1, 1), (1, 2, 0, 1), (2, 2)),
    ];
    for (i, s) in shapes.iter().enumerate() {
        gradcheck_shape(s, 700 + i as u64, false);
        gradcheck_shape(s, 700 + i as u64, true);
    }
}

/// Forward and backward with rayon pools of 1, 2, 3, 7, 16 and 17 threads give identical bits,
/// at batch 2 (samples cut into bands of rows, channels into blocks) and batch 32, on every
/// path. Pools of up to 8 threads split a call into at most 16 parts, larger ones into up to
/// 64, so this also checks that those splits change no result.
#[test]
fn any_thread_count_gives_identical_bits() {
    let shapes = [
        square(2, 11, (64, 96), 3, 1),
        square(32, 9, (3, 17), 3, 1),
        square(2, 12, (40, 70), 1, 0),
        square(32, 6, (8, 5), 1, 0),
        shape(2, (9, 7), (3, 35), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
        shape(32, (9, 8), (3, 4), (3, 2), (1, 1), (1, 0, 3, 1), (2, 1)),
        square(32, 8, (20, 40), 5, 2),
    ];
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    for (i, s) in shapes.iter().enumerate() {
        let (x, w, b) = inputs(s, 800 + i as u64);
        let dy = random_vec(900 + i as u64, s.output_len(), 1.0);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            pool.install(|| {
                let y = fast_forward(s, &x, &w, Some(&b));
                let g = backward_fast(s, &x, &w, &dy, Grads::start(s, 1, true, true));
                [y, g.dx.expect("dx"), g.dw, g.db.expect("db")].map(|v| bits(&v))
            })
        };
        let one = run(1);
        for threads in [2, 3, 7, 16, 17] {
            let other = run(threads);
            for (name, (a, b)) in ["y", "dx", "dw", "db"].iter().zip(one.iter().zip(&other)) {
                assert!(a == b, "{name} differs with {threads} threads: {s:?}");
            }
        }
    }
}

/// A sample's output and input gradient do not depend on the batch it is in, though the batch
/// decides how samples are cut into bands (many bands at batch 1, one at batch 64).
#[test]
fn per_sample_results_do_not_depend_on_the_batch() {
    for (i, one) in [
        square(1, 13, (16, 40), 3, 1),
        square(1, 10, (24, 33), 1, 0),
        square(1, 12, (5, 8), 5, 2),
        shape(1, (11, 9), (3, 7), (3, 3), (2, 1), (1, 1, 0, 2), (1, 1)),
    ]
    .iter()
    .enumerate()
    {
        let batch = Conv2dShape { batch: 64, ..*one };
        let (x, w, b) = inputs(&batch, 1200 + i as u64);
        let dy = random_vec(1300 + i as u64, batch.output_len(), 1.0);
        let y = fast_forward(&batch, &x, &w, Some(&b));
        let dx = backward_fast(&batch, &x, &w, &dy, Grads::start(&batch, 1, true, false)).dx;
        let dx = dx.expect("dx");
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for n in [0, 17, 63] {
            let xs = &x[n * one.input_len()..][..one.input_len()];
            let dys = &dy[n * one.output_len()..][..one.output_len()];
            let y1 = fast_forward(one, xs, &w, Some(&b));
            let start = Grads::start(&batch, 1, true, false);
            let start_dx = start.dx.expect("dx");
            let mut g1 = Grads::start(one, 1, true, false);
            g1.dx = Some(start_dx[n * one.input_len()..][..one.input_len()].to_vec());
            let dx1 = backward_fast(one, xs, &w, dys, g1).dx.expect("dx");
            assert_eq!(
                bits(&y1),
                bits(&y[n * one.output_len()..][..one.output_len()])
            );
            assert_eq!(
                bits(&dx1),
                bits(&dx[n * one.input_len()..][..one.input_len()])
            );
        }
    }
}

/// The fused forward (bias and activation written with the output) equals the forward followed
/// by the activation kernel bit for bit, on every path (wide, pointwise, row-wise): the
/// epilogue performs the same roundings in the same order (`crate::epilogue`), so the
/// tolerance is zero.
#[test]
fn fused_forward_equals_forward_then_activation() {
    use crate::epilogue::{activation_oracles, Epilogue};
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    for (i, s) in preset_shapes().iter().chain(&odd_shapes()).enumerate() {
        let (x, w, b) = inputs(s, 1000 + i as u64);
        let slopes = random_vec(1100 + i as u64, s.out_ch, 0.5);
        let plain = fast_forward(s, &x, &w, Some(&b));
        for (activation, want) in activation_oracles(s.out_ch, &plain, &slopes) {
            let epilogue = Epilogue {
                bias: Some(&b),
                activation,
            };
            let mut y = vec![f32::NAN; s.output_len()];
            let mut scratch = vec![f32::NAN; s.forward_scratch_len()];
            conv2d_forward_fused(s, &x, &w, &epilogue, &mut y, &mut scratch);
            assert_eq!(bits(&y), bits(&want), "{activation:?} {s:?}");
        }
    }
}
