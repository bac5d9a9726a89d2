//! Tests of the pooling kernels: shape validation, hand-computed cases, fast path against the
//! reference (bit for bit), finite-difference gradients, accumulation and thread independence.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::*;
use crate::gradcheck::{check_gradient, projection_loss, random_vec, GradCheck};
use crate::shape::same_padding;
use crate::simd::LANES;

const MODES: [AvgPadding; 2] = [AvgPadding::IncludePad, AvgPadding::ExcludePad];

fn shape1d(
    batch: usize,
    in_len: usize,
    channels: usize,
    kernel: usize,
    stride: usize,
) -> Pool1dShape {
    Pool1dShape {
        batch,
        in_len,
        channels,
        kernel,
        stride,
        pad_left: 0,
        pad_right: 0,
    }
}

/// A square-window 2D shape without padding.
fn shape2d(
    batch: usize,
    h: usize,
    w: usize,
    channels: usize,
    kernel: usize,
    stride: usize,
) -> Pool2dShape {
    Pool2dShape {
        batch,
        in_h: h,
        in_w: w,
        channels,
        kernel_h: kernel,
        kernel_w: kernel,
        stride_h: stride,
        stride_w: stride,
        pad_top: 0,
        pad_bottom: 0,
        pad_left: 0,
        pad_right: 0,
    }
}

/// A square-window 2D shape with TensorFlow "SAME" padding.
fn shape2d_same(
    batch: usize,
    h: usize,
    w: usize,
    channels: usize,
    kernel: usize,
    stride: usize,
) -> Pool2dShape {
    let (pad_top, pad_bottom) = same_padding(h, kernel, stride, 1);
    let (pad_left, pad_right) = same_padding(w, kernel, stride, 1);
    Pool2dShape {
        pad_top,
        pad_bottom,
        pad_left,
        pad_right,
        ..shape2d(batch, h, w, channels, kernel, stride)
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn assert_bit_identical(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
        panic!("{what}: index {i}: got {}, want {}", got[i], want[i]);
    }
}

fn err_message(result: Result<(), ShapeError>) -> String {
    match result {
        Ok(()) => panic!("an invalid shape passed validation"),
        Err(ShapeError(message)) => message,
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes

#[test]
fn validate_rejects_impossible_shapes_and_names_the_field() {
    let ok = shape1d(2, 10, 3, 3, 2);
    assert_eq!(ok.validate(), Ok(()));
    let cases = [
        (Pool1dShape { stride: 0, ..ok }, "stride is 0"),
        (Pool1dShape { kernel: 0, ..ok }, "kernel is 0"),
        (Pool1dShape { in_len: 0, ..ok }, "in_len is 0"),
        (Pool1dShape { batch: 0, ..ok }, "batch is 0"),
        (Pool1dShape { channels: 0, ..ok }, "channels is 0"),
        (
            Pool1dShape {
                kernel: 13,
                pad_left: 1,
                pad_right: 1,
                ..ok
            },
            "larger than the padded input",
        ),
        (Pool1dShape { pad_left: 3, ..ok }, "pad_left 3"),
        (Pool1dShape { pad_right: 4, ..ok }, "pad_right 4"),
    ];
    for (shape, expected) in cases {
        let message = err_message(shape.validate());
        assert!(
            message.contains(expected),
            "{shape:?}: message {message:?} lacks {expected:?}"
        );
    }

    let ok2 = shape2d_same(1, 5, 7, 4, 2, 1);
    assert_eq!(ok2.validate(), Ok(()));
    let cases2 = [
        (Pool2dShape { stride_w: 0, ..ok2 }, "stride_w is 0"),
        (Pool2dShape { stride_h: 0, ..ok2 }, "stride_h is 0"),
        (
            Pool2dShape { kernel_h: 7, ..ok2 },
            "kernel_h 7 is larger than the padded input (in_h 5",
        ),
        (Pool2dShape { kernel_w: 9, ..ok2 }, "kernel_w 9 is larger"),
        (Pool2dShape { pad_top: 2, ..ok2 }, "pad_top 2"),
        (
            Pool2dShape {
                pad_right: 2,
                ..ok2
            },
            "pad_right 2",
        ),
        (Pool2dShape { in_w: 0, ..ok2 }, "in_w is 0"),
        (
            Pool2dShape {
                batch: 1 << 30,
                ..ok2
            },
            "more than a u32 argmax can index",
        ),
    ];
    for (shape, expected) in cases2 {
        let message = err_message(shape.validate());
        assert!(
            message.contains(expected),
            "{shape:?}: message {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn output_lengths_of_the_presets() {
    // specz-baseline: Keras "same" convs keep the length, MaxPool(3, 2) floors.
    let lens: Vec<usize> = [1780, 889, 444]
        .iter()
        .map(|&l| shape1d(32, l, 16, 3, 2).out_len())
        .collect();
    assert_eq!(lens, [889, 444, 221]);
    assert_eq!(shape1d(32, 444, 16, 3, 2).output_len(), 32 * 221 * 16);
    // kim-brunner: 2×2 stride 2 halves 40 → 20 → 10 → 5.
    for (side, half) in [(40, 20), (20, 10), (10, 5)] {
        let s = shape2d(128, side, side, 32, 2, 2);
        assert_eq!((s.out_h(), s.out_w()), (half, half));
    }
    // pasquet: 2×2 stride 1 "SAME" keeps the size with one row and column of padding after.
    let s = shape2d_same(128, 32, 32, 48, 2, 1);
    assert_eq!(
        (s.pad_top, s.pad_bottom, s.pad_left, s.pad_right),
        (0, 1, 0, 1)
    );
    assert_eq!((s.out_h(), s.out_w()), (32, 32));
    assert_eq!(s.input_len(), 128 * 32 * 32 * 48);
    assert_eq!(s.output_len(), s.input_len());
}

// ---------------------------------------------------------------------------------------------
// Hand-computed cases

/// TensorFlow `avg_pool2d(x, 2, 1, "SAME")` on a 3×3 input 1..9: the right column and the
/// bottom row average 2 real elements, the bottom-right corner only itself.
#[test]
fn tf_same_average_excludes_padding() {
    let s = shape2d_same(1, 3, 3, 1, 2, 1);
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let want = [3.0, 4.0, 4.5, 6.0, 7.0, 7.5, 7.5, 8.5, 9.0];
    let mut y = vec![0.0; 9];
    avgpool2d_forward_ref(&s, AvgPadding::ExcludePad, &x, &mut y);
    assert_eq!(y, want);
    avgpool2d_forward(&s, AvgPadding::ExcludePad, &x, &mut y);
    assert_eq!(y, want);
}

/// PyTorch `avg_pool2d` with `count_include_pad=True` divides by 4 everywhere.
#[test]
fn include_pad_average_divides_by_the_kernel_size() {
    let s = shape2d_same(1, 3, 3, 1, 2, 1);
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let want = [3.0, 4.0, 2.25, 6.0, 7.0, 3.75, 3.75, 4.25, 2.25];
    let mut y = vec![0.0; 9];
    avgpool2d_forward_ref(&s, AvgPadding::IncludePad, &x, &mut y);
    assert_eq!(y, want);
    avgpool2d_forward(&s, AvgPadding::IncludePad, &x, &mut y);
    assert_eq!(y, want);

    // Backward: each output spreads dy/4 over its real elements; x[0,0] is only in window 0.
    let dy = [1.0; 9];
    let mut dx = vec![0.0; 9];
    avgpool2d_backward(&s, AvgPadding::IncludePad, &dy, &mut dx);
    assert_eq!(dx, [0.25, 0.5, 0.5, 0.5, 1.0, 1.0, 0.5, 1.0, 1.0]);
    let mut dx = vec![0.0; 9];
    avgpool2d_backward(&s, AvgPadding::ExcludePad, &dy, &mut dx);
    assert_eq!(dx, [0.25, 0.5, 0.75, 0.5, 1.0, 1.5, 0.75, 1.5, 2.25]);
}

/// Padding is never selected even when every real value is negative, ties go to the first
/// element in scan order, and argmax indexes the whole batch.
#[test]
fn maxpool_ignores_padding_and_breaks_ties_first() {
    let s = Pool1dShape {
        pad_left: 1,
        pad_right: 1,
        ..shape1d(2, 5, 1, 3, 2)
    };
    let x = [-3.0, -1.0, -1.0, -2.0, -5.0, 4.0, 4.0, 0.0, 7.0, 7.0];
    let want_y = [-1.0, -1.0, -2.0, 4.0, 7.0, 7.0];
    let want_argmax = [1, 1, 3, 5, 8, 8];
    for forward in [maxpool1d_forward_ref, maxpool1d_forward] {
        let (mut y, mut argmax) = (vec![0.0; 6], vec![0; 6]);
        forward(&s, &x, &mut y, &mut argmax);
        assert_eq!(y, want_y);
        assert_eq!(argmax, want_argmax);
    }
    let dy = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let mut dx = vec![0.0; 10];
    maxpool1d_backward(&s, &dy, &want_argmax, &mut dx);
    assert_eq!(dx, [0.0, 3.0, 0.0, 3.0, 0.0, 4.0, 0.0, 0.0, 11.0, 0.0]);
}

/// A NaN in a window wins (as in PyTorch), in the SIMD lanes and in the scalar tail.
#[test]
fn maxpool_propagates_nan() {
    let channels = LANES + 1;
    let s = shape1d(1, 3, channels, 3, 1);
    let mut x = random_vec(7, s.input_len(), 1.0);
    for c in [0, LANES] {
        x[channels + c] = f32::NAN;
    }
    for forward in [maxpool1d_forward_ref, maxpool1d_forward] {
        let (mut y, mut argmax) = (vec![0.0; channels], vec![0; channels]);
        forward(&s, &x, &mut y, &mut argmax);
        for c in 0..channels {
            let is_nan_channel = c == 0 || c == LANES;
            assert_eq!(y[c].is_nan(), is_nan_channel, "channel {c}");
            if is_nan_channel {
                assert_eq!(argmax[c] as usize, channels + c, "channel {c}");
            }
        }
    }
    let mut y = vec![0.0; channels];
    maxpool1d_forward_values(&s, &x, &mut y);
    for (c, v) in y.iter().enumerate() {
        assert_eq!(v.is_nan(), c == 0 || c == LANES, "values, channel {c}");
    }
}

#[test]
fn global_average_hand_computed() {
    // batch 2, spatial 3, channels 2.
    let x = [
        1.0, 10.0, 2.0, 20.0, 3.0, 30.0, -1.0, 0.5, -2.0, 0.5, -3.0, 0.5,
    ];
    let want = [2.0, 20.0, -2.0, 0.5];
    for forward in [global_avgpool_forward_ref, global_avgpool_forward] {
        let mut y = vec![0.0; 4];
        forward(2, 3, 2, &x, &mut y);
        assert_eq!(y, want);
    }
    let dy = [3.0, 6.0, -3.0, 0.0];
    let mut dx = vec![0.0; 12];
    global_avgpool_backward(2, 3, 2, &dy, &mut dx);
    assert_eq!(
        dx,
        [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, -1.0, 0.0, -1.0, 0.0, -1.0, 0.0]
    );
}

// ---------------------------------------------------------------------------------------------
// Fast path against the reference

/// Runs every 2D op (and its 1D view when `in_h == 1` with no vertical window) through the fast
/// path and the reference and requires identical bits. Backward buffers start from random
/// values so that accumulation is compared too.
fn assert_fast_matches_ref_2d(s: &Pool2dShape, seed: u64) {
    let what = format!("{s:?}");
    let x = random_vec(seed, s.input_len(), 2.0);
    let dy = random_vec(seed + 1, s.output_len(), 1.0);
    let dx0 = random_vec(seed + 2, s.input_len(), 1.0);

    let (mut y_ref, mut y_fast) = (vec![0.0; s.output_len()], vec![0.0; s.output_len()]);
    let (mut arg_ref, mut arg_fast) = (vec![0; s.output_len()], vec![0; s.output_len()]);
    maxpool2d_forward_ref(s, &x, &mut y_ref, &mut arg_ref);
    maxpool2d_forward(s, &x, &mut y_fast, &mut arg_fast);
    assert_bit_identical(&format!("maxpool2d forward {what}"), &y_fast, &y_ref);
    assert_eq!(arg_fast, arg_ref, "maxpool2d argmax {what}");
    let mut y_values = vec![0.0; s.output_len()];
    maxpool2d_forward_values(s, &x, &mut y_values);
    assert_bit_identical(&format!("maxpool2d values {what}"), &y_values, &y_ref);

    // Inputs rounded to a few integers make most windows hold ties, in the lanes and the tail.
    let x_with_ties: Vec<f32> = x.iter().map(|v| v.round()).collect();
    maxpool2d_forward_ref(s, &x_with_ties, &mut y_ref, &mut arg_ref);
    maxpool2d_forward(s, &x_with_ties, &mut y_fast, &mut arg_fast);
    assert_eq!(arg_fast, arg_ref, "maxpool2d argmax with ties {what}");

    let (mut dx_ref, mut dx_fast) = (dx0.clone(), dx0.clone());
    maxpool2d_backward_ref(s, &dy, &arg_ref, &mut dx_ref);
    maxpool2d_backward(s, &dy, &arg_ref, &mut dx_fast);
    assert_bit_identical(&format!("maxpool2d backward {what}"), &dx_fast, &dx_ref);

    for mode in MODES {
        avgpool2d_forward_ref(s, mode, &x, &mut y_ref);
        avgpool2d_forward(s, mode, &x, &mut y_fast);
        assert_bit_identical(
            &format!("avgpool2d {mode:?} forward {what}"),
            &y_fast,
            &y_ref,
        );

        let (mut dx_ref, mut dx_fast) = (dx0.clone(), dx0.clone());
        avgpool2d_backward_ref(s, mode, &dy, &mut dx_ref);
        avgpool2d_backward(s, mode, &dy, &mut dx_fast);
        assert_bit_identical(
            &format!("avgpool2d {mode:?} backward {what}"),
            &dx_fast,
            &dx_ref,
        );
    }
}

fn assert_fast_matches_ref_1d(s: &Pool1dShape, seed: u64) {
    let what = format!("{s:?}");
    let x = random_vec(seed, s.input_len(), 2.0);
    let dy = random_vec(seed + 1, s.output_len(), 1.0);
    let dx0 = random_vec(seed + 2, s.input_len(), 1.0);

    let (mut y_ref, mut y_fast) = (vec![0.0; s.output_len()], vec![0.0; s.output_len()]);
    let (mut arg_ref, mut arg_fast) = (vec![0; s.output_len()], vec![0; s.output_len()]);
    maxpool1d_forward_ref(s, &x, &mut y_ref, &mut arg_ref);
    maxpool1d_forward(s, &x, &mut y_fast, &mut arg_fast);
    assert_bit_identical(&format!("maxpool1d forward {what}"), &y_fast, &y_ref);
    assert_eq!(arg_fast, arg_ref, "maxpool1d argmax {what}");
    let mut y_values = vec![0.0; s.output_len()];
    maxpool1d_forward_values(s, &x, &mut y_values);
    assert_bit_identical(&format!("maxpool1d values {what}"), &y_values, &y_ref);

    let (mut dx_ref, mut dx_fast) = (dx0.clone(), dx0.clone());
    maxpool1d_backward_ref(s, &dy, &arg_ref, &mut dx_ref);
    maxpool1d_backward(s, &dy, &arg_ref, &mut dx_fast);
    assert_bit_identical(&format!("maxpool1d backward {what}"), &dx_fast, &dx_ref);

    for mode in MODES {
        avgpool1d_forward_ref(s, mode, &x, &mut y_ref);
        avgpool1d_forward(s, mode, &x, &mut y_fast);
        assert_bit_identical(
            &format!("avgpool1d {mode:?} forward {what}"),
            &y_fast,
            &y_ref,
        );

        let (mut dx_ref, mut dx_fast) = (dx0.clone(), dx0.clone());
        avgpool1d_backward_ref(s, mode, &dy, &mut dx_ref);
        avgpool1d_backward(s, mode, &dy, &mut dx_fast);
        assert_bit_identical(
            &format!("avgpool1d {mode:?} backward {what}"),
            &dx_fast,
            &dx_ref,
        );
    }
}

fn assert_fast_matches_ref_global(batch: usize, spatial: usize, channels: usize, seed: u64) {
    let what = format!("batch {batch} spatial {spatial} channels {channels}");
    let x = random_vec(seed, batch * spatial * channels, 2.0);
    let (mut y_ref, mut y_fast) = (vec![0.0; batch * channels], vec![0.0; batch * channels]);
    global_avgpool_forward_ref(batch, spatial, channels, &x, &mut y_ref);
    global_avgpool_forward(batch, spatial, channels, &x, &mut y_fast);
    assert_bit_identical(&format!("global forward {what}"), &y_fast, &y_ref);

    let dy = random_vec(seed + 1, batch * channels, 1.0);
    let dx0 = random_vec(seed + 2, x.len(), 1.0);
    let (mut dx_ref, mut dx_fast) = (dx0.clone(), dx0);
    global_avgpool_backward_ref(batch, spatial, channels, &dy, &mut dx_ref);
    global_avgpool_backward(batch, spatial, channels, &dy, &mut dx_fast);
    assert_bit_identical(&format!("global backward {what}"), &dx_fast, &dx_ref);
}

#[test]
fn fast_matches_ref_on_odd_sizes() {
    let odd_channels = [1, 3, 17, 20, LANES - 1, LANES, LANES + 1, 2 * LANES + 5];
    for (k, &channels) in odd_channels.iter().enumerate() {
        let seed = 100 * k as u64;
        // One sample; lengths that are not multiples of LANES; strides below, at and above the kernel.
        for (kernel, stride) in [(1, 1), (2, 1), (3, 2), (2, 3), (5, 2)] {
            assert_fast_matches_ref_1d(&shape1d(1, 13, channels, kernel, stride), seed);
            assert_fast_matches_ref_2d(&shape2d(1, 7, 9, channels, kernel, stride), seed + 1);
        }
        // Asymmetric padding on both axes, and a batch that gives uneven chunks (17 → 16 chunks).
        let asymmetric = Pool2dShape {
            pad_top: 2,
            pad_bottom: 0,
            pad_left: 1,
            pad_right: 2,
            ..shape2d(17, 6, 5, channels, 3, 2)
        };
        assert_fast_matches_ref_2d(&asymmetric, seed + 2);
        let asymmetric1d = Pool1dShape {
            pad_left: 0,
            pad_right: 3,
            ..shape1d(3, 11, channels, 4, 3)
        };
        assert_fast_matches_ref_1d(&asymmetric1d, seed + 3);
        assert_fast_matches_ref_2d(&shape2d_same(2, 5, 3, channels, 2, 1), seed + 4);
        assert_fast_matches_ref_2d(&shape2d_same(3, 7, 7, channels, 3, 2), seed + 5);
        assert_fast_matches_ref_global(1, 7, channels, seed + 6);
        assert_fast_matches_ref_global(19, 3, channels, seed + 7);
    }
}

/// Every pooling the presets use, at batch 2.
#[test]
fn fast_matches_ref_on_preset_shapes() {
    for len in [1780, 889, 444, 443] {
        assert_fast_matches_ref_1d(&shape1d(2, len, 16, 3, 2), len as u64);
    }
    for (side, channels) in [(40, 32), (20, 64), (10, 128)] {
        assert_fast_matches_ref_2d(&shape2d(2, side, side, channels, 2, 2), side as u64);
    }
    for (side, channels) in [(64, 64), (32, 92), (16, 128)] {
        assert_fast_matches_ref_2d(&shape2d(2, side, side, channels, 2, 2), 7 + side as u64);
    }
    for (side, channels) in [(32, 48), (16, 92), (8, 128), (8, 256)] {
        assert_fast_matches_ref_2d(
            &shape2d_same(2, side, side, channels, 2, 1),
            9 + side as u64,
        );
    }
    for (spatial, channels) in [(64, 256), (25, 92)] {
        assert_fast_matches_ref_global(2, spatial, channels, spatial as u64);
    }
}

/// A valid random 2D shape with small sizes, padding on any side, and sometimes a batch larger
/// than the chunk count.
fn random_shape(rng: &mut Xoshiro256PlusPlus) -> Pool2dShape {
    loop {
        let (kernel_h, kernel_w) = (rng.gen_range(1..=4), rng.gen_range(1..=4));
        let s = Pool2dShape {
            batch: if rng.gen_bool(0.2) {
                rng.gen_range(15..=40)
            } else {
                rng.gen_range(1..=4)
            },
            in_h: rng.gen_range(1..=12),
            in_w: rng.gen_range(1..=12),
            channels: rng.gen_range(1..=3 * LANES),
            kernel_h,
            kernel_w,
            stride_h: rng.gen_range(1..=4),
            stride_w: rng.gen_range(1..=4),
            pad_top: rng.gen_range(0..kernel_h),
            pad_bottom: rng.gen_range(0..kernel_h),
            pad_left: rng.gen_range(0..kernel_w),
            pad_right: rng.gen_range(0..kernel_w),
        };
        if s.validate().is_ok() {
            return s;
        }
    }
}

#[test]
fn fast_matches_ref_on_random_shapes() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    for i in 0..300 {
        let s = random_shape(&mut rng);
        assert_fast_matches_ref_2d(&s, 1000 + i);
        let s1 = Pool1dShape {
            batch: s.batch,
            in_len: s.in_w,
            channels: s.channels,
            kernel: s.kernel_w,
            stride: s.stride_w,
            pad_left: s.pad_left,
            pad_right: s.pad_right,
        };
        assert_fast_matches_ref_1d(&s1, 5000 + i);
        assert_fast_matches_ref_global(s.batch, s.in_h * s.in_w, s.channels, 9000 + i);
    }
}

// ---------------------------------------------------------------------------------------------
// Gradients

/// The settings for average pooling, which is linear in `x`: central differences have no
/// truncation error, so a step of 1e-2 costs nothing and divides by 10 the f32 rounding noise
/// of the averaged outputs (≈ 3e-8 per output, over 2·eps), which the default step of 1e-3
/// lets reach the 1e-5 absolute tolerance on small gradients.
fn linear_op_check() -> GradCheck {
    GradCheck {
        eps: 1e-2,
        ..GradCheck::default()
    }
}

fn gradcheck_maxpool2d(s: &Pool2dShape, seed: u64) {
    let mut x = random_vec(seed, s.input_len(), 1.0);
    let r = random_vec(seed + 1, s.output_len(), 1.0);
    let forward = |x: &[f32]| {
        let (mut y, mut argmax) = (vec![0.0; s.output_len()], vec![0; s.output_len()]);
        maxpool2d_forward(s, x, &mut y, &mut argmax);
        (y, argmax)
    };
    let (_, argmax) = forward(&x);
    let (mut dx_ref, mut dx_fast) = (vec![0.0; s.input_len()], vec![0.0; s.input_len()]);
    maxpool2d_backward_ref(s, &r, &argmax, &mut dx_ref);
    maxpool2d_backward(s, &r, &argmax, &mut dx_fast);
    let loss = |x: &[f32]| projection_loss(&forward(x).0, &r);
    for (name, dx) in [
        ("maxpool2d backward_ref", &dx_ref),
        ("maxpool2d backward", &dx_fast),
    ] {
        check_gradient(
            &format!("{name} {s:?}"),
            &mut x,
            dx,
            loss,
            GradCheck::default(),
        );
    }
}

fn gradcheck_maxpool1d(s: &Pool1dShape, seed: u64) {
    let mut x = random_vec(seed, s.input_len(), 1.0);
    let r = random_vec(seed + 1, s.output_len(), 1.0);
    let forward = |x: &[f32]| {
        let (mut y, mut argmax) = (vec![0.0; s.output_len()], vec![0; s.output_len()]);
        maxpool1d_forward(s, x, &mut y, &mut argmax);
        (y, argmax)
    };
    let (_, argmax) = forward(&x);
    let (mut dx_ref, mut dx_fast) = (vec![0.0; s.input_len()], vec![0.0; s.input_len()]);
    maxpool1d_backward_ref(s, &r, &argmax, &mut dx_ref);
    maxpool1d_backward(s, &r, &argmax, &mut dx_fast);
    let loss = |x: &[f32]| projection_loss(&forward(x).0, &r);
    for (name, dx) in [
        ("maxpool1d backward_ref", &dx_ref),
        ("maxpool1d backward", &dx_fast),
    ] {
        check_gradient(
            &format!("{name} {s:?}"),
            &mut x,
            dx,
            loss,
            GradCheck::default(),
        );
    }
}

fn gradcheck_avgpool2d(s: &Pool2dShape, mode: AvgPadding, seed: u64) {
    let mut x = random_vec(seed, s.input_len(), 1.0);
    let r = random_vec(seed + 1, s.output_len(), 1.0);
    let (mut dx_ref, mut dx_fast) = (vec![0.0; s.input_len()], vec![0.0; s.input_len()]);
    avgpool2d_backward_ref(s, mode, &r, &mut dx_ref);
    avgpool2d_backward(s, mode, &r, &mut dx_fast);
    let loss = |x: &[f32]| {
        let mut y = vec![0.0; s.output_len()];
        avgpool2d_forward(s, mode, x, &mut y);
        projection_loss(&y, &r)
    };
    for (name, dx) in [
        ("avgpool2d backward_ref", &dx_ref),
        ("avgpool2d backward", &dx_fast),
    ] {
        check_gradient(
            &format!("{name} {mode:?} {s:?}"),
            &mut x,
            dx,
            loss,
            linear_op_check(),
        );
    }
}

fn gradcheck_avgpool1d(s: &Pool1dShape, mode: AvgPadding, seed: u64) {
    let mut x = random_vec(seed, s.input_len(), 1.0);
    let r = random_vec(seed + 1, s.output_len(), 1.0);
    let (mut dx_ref, mut dx_fast) = (vec![0.0; s.input_len()], vec![0.0; s.input_len()]);
    avgpool1d_backward_ref(s, mode, &r, &mut dx_ref);
    avgpool1d_backward(s, mode, &r, &mut dx_fast);
    let loss = |x: &[f32]| {
        let mut y = vec![0.0; s.output_len()];
        avgpool1d_forward(s, mode, x, &mut y);
        projection_loss(&y, &r)
    };
    for (name, dx) in [
        ("avgpool1d backward_ref", &dx_ref),
        ("avgpool1d backward", &dx_fast),
    ] {
        check_gradient(
            &format!("{name} {mode:?} {s:?}"),
            &mut x,
            dx,
            loss,
            linear_op_check(),
        );
    }
}

fn gradcheck_global(batch: usize, spatial: usize, channels: usize, seed: u64) {
    let mut x = random_vec(seed, batch * spatial * channels, 1.0);
    let r = random_vec(seed + 1, batch * channels, 1.0);
    let (mut dx_ref, mut dx_fast) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    global_avgpool_backward_ref(batch, spatial, channels, &r, &mut dx_ref);
    global_avgpool_backward(batch, spatial, channels, &r, &mut dx_fast);
    let loss = |x: &[f32]| {
        let mut y = vec![0.0; batch * channels];
        global_avgpool_forward(batch, spatial, channels, x, &mut y);
        projection_loss(&y, &r)
    };
    for (name, dx) in [
        ("global backward_ref", &dx_ref),
        ("global backward", &dx_fast),
    ] {
        check_gradient(name, &mut x, dx, loss, linear_op_check());
    }
}

#[test]
fn backward_passes_match_finite_differences() {
    let odd = LANES + 3;
    let padded2d = Pool2dShape {
        pad_top: 1,
        pad_bottom: 0,
        pad_left: 0,
        pad_right: 2,
        ..shape2d(2, 5, 6, odd, 3, 2)
    };
    let shapes2d = [
        shape2d(2, 6, 6, 3, 2, 2),        // kim-brunner's 2×2 stride 2
        shape2d_same(2, 5, 5, odd, 2, 1), // pasquet's 2×2 stride 1 SAME
        shape2d(1, 7, 5, 2, 3, 2),        // overlapping windows
        padded2d,                         // asymmetric padding
    ];
    for (k, s) in shapes2d.iter().enumerate() {
        gradcheck_maxpool2d(s, 10 * k as u64);
        for mode in MODES {
            gradcheck_avgpool2d(s, mode, 10 * k as u64 + 3);
        }
    }
    let shapes1d = [
        shape1d(2, 17, odd, 3, 2), // specz-baseline's MaxPool(3, 2)
        Pool1dShape {
            pad_left: 2,
            pad_right: 1,
            ..shape1d(1, 9, 3, 4, 3)
        },
    ];
    for (k, s) in shapes1d.iter().enumerate() {
        gradcheck_maxpool1d(s, 50 + 10 * k as u64);
        for mode in MODES {
            gradcheck_avgpool1d(s, mode, 53 + 10 * k as u64);
        }
    }
    gradcheck_global(2, 9, odd, 90);
    gradcheck_global(1, 4, 3, 91);
}

// ---------------------------------------------------------------------------------------------
// Calling conventions

/// `backward(dx = d0)` must give `d0 + backward(dx = 0)`.
#[test]
fn backward_passes_accumulate() {
    let s = Pool2dShape {
        pad_bottom: 1,
        pad_left: 1,
        ..shape2d(3, 5, 4, LANES + 2, 2, 1)
    };
    let x = random_vec(1, s.input_len(), 1.0);
    let dy = random_vec(2, s.output_len(), 1.0);
    let d0 = random_vec(3, s.input_len(), 1.0);
    let (mut y, mut argmax) = (vec![0.0; s.output_len()], vec![0; s.output_len()]);
    maxpool2d_forward(&s, &x, &mut y, &mut argmax);

    let check = |what: &str, backward: &dyn Fn(&mut [f32])| {
        let mut from_zero = vec![0.0; d0.len()];
        backward(&mut from_zero);
        let mut onto_d0 = d0.clone();
        backward(&mut onto_d0);
        let want: Vec<f32> = d0.iter().zip(&from_zero).map(|(a, b)| a + b).collect();
        crate::gradcheck::assert_close(what, &onto_d0, &want, 1e-6, 1e-6);
    };
    check("maxpool2d_backward_ref", &|dx| {
        maxpool2d_backward_ref(&s, &dy, &argmax, dx)
    });
    check("maxpool2d_backward", &|dx| {
        maxpool2d_backward(&s, &dy, &argmax, dx)
    });
    for mode in MODES {
        check("avgpool2d_backward_ref", &|dx| {
            avgpool2d_backward_ref(&s, mode, &dy, dx)
        });
        check("avgpool2d_backward", &|dx| {
            avgpool2d_backward(&s, mode, &dy, dx)
        });
    }
    let (batch, spatial, channels) = (s.batch, s.in_h * s.in_w, s.channels);
    let dy_global = random_vec(4, batch * channels, 1.0);
    check("global_avgpool_backward_ref", &|dx| {
        global_avgpool_backward_ref(batch, spatial, channels, &dy_global, dx)
    });
    check("global_avgpool_backward", &|dx| {
        global_avgpool_backward(batch, spatial, channels, &dy_global, dx)
    });

    let s1 = Pool1dShape {
        pad_right: 1,
        ..shape1d(2, 9, 5, 3, 2)
    };
    let x1 = random_vec(5, s1.input_len(), 1.0);
    let dy1 = random_vec(6, s1.output_len(), 1.0);
    let (mut y1, mut argmax1) = (vec![0.0; s1.output_len()], vec![0; s1.output_len()]);
    maxpool1d_forward(&s1, &x1, &mut y1, &mut argmax1);
    let check1 = |what: &str, backward: &dyn Fn(&mut [f32])| {
        let mut from_zero = vec![0.0; s1.input_len()];
        backward(&mut from_zero);
        let mut onto_ones = vec![1.0; s1.input_len()];
        backward(&mut onto_ones);
        let want: Vec<f32> = from_zero.iter().map(|g| 1.0 + g).collect();
        crate::gradcheck::assert_close(what, &onto_ones, &want, 1e-6, 1e-6);
    };
    check1("maxpool1d_backward_ref", &|dx| {
        maxpool1d_backward_ref(&s1, &dy1, &argmax1, dx)
    });
    check1("maxpool1d_backward", &|dx| {
        maxpool1d_backward(&s1, &dy1, &argmax1, dx)
    });
    for mode in MODES {
        check1("avgpool1d_backward_ref", &|dx| {
            avgpool1d_backward_ref(&s1, mode, &dy1, dx)
        });
        check1("avgpool1d_backward", &|dx| {
            avgpool1d_backward(&s1, mode, &dy1, dx)
        });
    }
}

/// Every fast path run in a 1-thread and a 2-thread pool on a batch with uneven chunks.
fn all_fast_outputs(s: &Pool2dShape) -> Vec<Vec<u32>> {
    let x = random_vec(11, s.input_len(), 1.0);
    let dy = random_vec(12, s.output_len(), 1.0);
    let (mut y, mut argmax) = (vec![0.0; s.output_len()], vec![0; s.output_len()]);
    maxpool2d_forward(s, &x, &mut y, &mut argmax);
    let mut outputs = vec![bits(&y), argmax.clone()];
    let mut dx = vec![0.0; s.input_len()];
    maxpool2d_backward(s, &dy, &argmax, &mut dx);
    outputs.push(bits(&dx));
    for mode in MODES {
        avgpool2d_forward(s, mode, &x, &mut y);
        outputs.push(bits(&y));
        let mut dx = vec![0.0; s.input_len()];
        avgpool2d_backward(s, mode, &dy, &mut dx);
        outputs.push(bits(&dx));
    }
    let (spatial, channels) = (s.in_h * s.in_w, s.channels);
    let mut pooled = vec![0.0; s.batch * channels];
    global_avgpool_forward(s.batch, spatial, channels, &x, &mut pooled);
    outputs.push(bits(&pooled));
    let mut dx = vec![0.0; s.input_len()];
    global_avgpool_backward(s.batch, spatial, channels, &pooled, &mut dx);
    outputs.push(bits(&dx));
    outputs
}

#[test]
fn fast_paths_do_not_depend_on_the_thread_count() {
    let s = shape2d_same(37, 6, 7, LANES + 5, 2, 1);
    let run_in = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("build a rayon pool")
            .install(|| all_fast_outputs(&s))
    };
    assert_eq!(run_in(1), run_in(2));
}
