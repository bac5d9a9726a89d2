//! Winograd F(2×2, 3×3) against an exact (f64) convolution within the error bound derived in
//! [`super::winograd`], the fused epilogue, thread and batch independence.

use super::*;
use crate::epilogue::{Activation, Epilogue};
use crate::gradcheck::random_vec;

/// A stride-1 3×3 convolution with paddings `(top, bottom, left, right)`.
fn shape3(
    batch: usize,
    size: (usize, usize),
    channels: (usize, usize),
    padding: (usize, usize, usize, usize),
) -> Conv2dShape {
    super::tests::shape(batch, size, channels, (3, 3), (1, 1), padding, (1, 1))
}

/// Odd and even sizes, 1 to 128 channels (with and without a SIMD tail), paddings 0–2 and
/// asymmetric ones, batches whose blocks span samples (20×20: 10 tiles a row, 9 rows a block) and
/// rows wider than a block (125 tiles).
fn shapes() -> Vec<Conv2dShape> {
    vec![
        shape3(1, (7, 7), (1, 1), (1, 1, 1, 1)),
        shape3(3, (9, 9), (3, 17), (1, 1, 1, 1)),
        shape3(2, (8, 8), (17, 5), (0, 0, 0, 0)),
        shape3(2, (6, 11), (48, 64), (2, 2, 2, 2)),
        shape3(2, (9, 8), (5, 7), (0, 2, 1, 0)),
        shape3(2, (1, 1), (3, 5), (1, 1, 1, 1)),
        shape3(5, (20, 20), (8, 16), (1, 1, 1, 1)),
        shape3(1, (3, 250), (2, 3), (1, 1, 1, 1)),
        shape3(2, (10, 10), (64, 64), (1, 1, 1, 1)),
        shape3(2, (5, 5), (128, 128), (1, 1, 1, 1)),
    ]
}

/// Random `(x, w, bias)` in [−1, 1).
fn inputs(s: &Conv2dShape, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    (
        random_vec(seed, s.input_len(), 1.0),
        random_vec(seed + 1, s.weight_len(), 1.0),
        random_vec(seed + 2, s.out_ch, 1.0),
    )
}

fn winograd(s: &Conv2dShape, x: &[f32], w: &[f32], epilogue: &Epilogue) -> Vec<f32> {
    let mut y = vec![f32::NAN; s.output_len()];
    let mut scratch = vec![f32::NAN; s.winograd_scratch_len()];
    conv2d_forward_winograd(s, x, w, epilogue, &mut y, &mut scratch);
    y
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Input pixel `(n, oh + i − pad_top, ow + j − pad_left, c)` as f64, zero in the padding.
fn pixel(s: &Conv2dShape, x: &[f32], n: usize, (h, w): (usize, usize), c: usize) -> f64 {
    match (h.checked_sub(s.pad_top), w.checked_sub(s.pad_left)) {
        (Some(ih), Some(iw)) if ih < s.in_h && iw < s.in_w => {
            x[((n * s.in_h + ih) * s.in_w + iw) * s.in_ch + c] as f64
        }
        _ => 0.0,
    }
}

/// `|P|·|Z|·|P|ᵀ` for a `r×c` matrix `P` and a `c×c` matrix `Z`, in f64.
fn abs_sandwich<const R: usize, const C: usize>(
    p: [[f64; C]; R],
    z: [[f64; C]; C],
) -> [[f64; R]; R] {
    std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            let mut sum = 0.0;
            for k in 0..C {
                for l in 0..C {
                    sum += p[i][k].abs() * z[k][l].abs() * p[j][l].abs();
                }
            }
            sum
        })
    })
}

const BT: [[f64; 4]; 4] = [
    [1.0, 0.0, -1.0, 0.0],
    [0.0, 1.0, 1.0, 0.0],
    [0.0, -1.0, 1.0, 0.0],
    [0.0, 1.0, 0.0, -1.0],
];
const G: [[f64; 3]; 4] = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.0, 0.0, 1.0],
];
const AT: [[f64; 4]; 2] = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];

/// Per output: the exact convolution `y` (f64 sums of exact f32 products), the module's
/// `Ȳ = |Aᵀ| [Σ_c (|G||g_c||Gᵀ|) ⊙ (|Bᵀ||d_c||B|)] |A|` and the direct path's `Σ|w||x|`.
fn exact_and_bounds(s: &Conv2dShape, x: &[f32], w: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (out_h, out_w) = (s.out_h(), s.out_w());
    let mut y = vec![0.0; s.output_len()];
    let mut y_bar = vec![0.0; s.output_len()];
    let mut direct = vec![0.0; s.output_len()];
    let wv = |kh: usize, kw: usize, ci: usize, co: usize| {
        w[((kh * 3 + kw) * s.in_ch + ci) * s.out_ch + co] as f64
    };
    for n in 0..s.batch {
        for oh in 0..out_h {
            for ow in 0..out_w {
                let at = ((n * out_h + oh) * out_w + ow) * s.out_ch;
                for co in 0..s.out_ch {
                    for ci in 0..s.in_ch {
                        for kh in 0..3 {
                            for kw in 0..3 {
                                let p = pixel(s, x, n, (oh + kh, ow + kw), ci);
                                y[at + co] += p * wv(kh, kw, ci, co);
                                direct[at + co] += (p * wv(kh, kw, ci, co)).abs();
                            }
                        }
                    }
                }
            }
        }
        // Ȳ tile by tile: tile (ty, tx) reads the patch from padded pixel (2·ty, 2·tx).
        for ty in 0..out_h.div_ceil(2) {
            for tx in 0..out_w.div_ceil(2) {
                for co in 0..s.out_ch {
                    let mut sum = [[0.0f64; 4]; 4];
                    for ci in 0..s.in_ch {
                        let g =
                            std::array::from_fn(|kh| std::array::from_fn(|kw| wv(kh, kw, ci, co)));
                        let d = std::array::from_fn(|i| {
                            std::array::from_fn(|j| pixel(s, x, n, (2 * ty + i, 2 * tx + j), ci))
                        });
                        let (u, v) = (abs_sandwich(G, g), abs_sandwich(BT, d));
                        for (row, (ur, vr)) in sum.iter_mut().zip(u.iter().zip(&v)) {
                            for (e, (a, b)) in row.iter_mut().zip(ur.iter().zip(vr)) {
                                *e += a * b;
                            }
                        }
                    }
                    let tile = abs_sandwich(AT, sum);
                    for (i, row) in tile.iter().enumerate() {
                        for (j, &value) in row.iter().enumerate() {
                            let (oh, ow) = (2 * ty + i, 2 * tx + j);
                            if oh < out_h && ow < out_w {
                                y_bar[((n * out_h + oh) * out_w + ow) * s.out_ch + co] = value;
                            }
                        }
                    }
                }
            }
        }
    }
    (y, y_bar, direct)
}

/// `γ_n = n·u / (1 − n·u)` with `u = 2⁻²⁴` (Higham, Lemma 3.1).
fn gamma(n: usize) -> f64 {
    let nu = n as f64 * f64::from(f32::EPSILON) / 2.0;
    nu / (1.0 - nu)
}

/// `|ŷ − y| ≤ γ_{Cin+10}·Ȳ` per output without bias, and `|ŷ − act(y + b)| ≤ γ_{Cin+11}·(Ȳ + |b|)`
/// with bias and ReLU (exact and 1-Lipschitz), the bound of [`super::winograd`]. Prints the
/// worst error as a fraction of the bound and of `Σ|w||x|`, beside the direct path's.
#[test]
fn error_stays_within_the_derived_bound() {
    for (i, s) in shapes().iter().enumerate() {
        s.validate().expect("test shape is valid");
        let (x, w, b) = inputs(s, 10 + 3 * i as u64);
        let (exact, y_bar, direct) = exact_and_bounds(s, &x, &w);
        let plain = winograd(s, &x, &w, &Epilogue::bias(None));
        let relu = Epilogue {
            bias: Some(&b),
            activation: Activation::Relu,
        };
        let fused = winograd(s, &x, &w, &relu);
        let mut gemm_path = vec![f32::NAN; s.output_len()];
        let mut scratch = vec![f32::NAN; s.direct_forward_scratch_len()];
        conv2d_forward_direct(
            s,
            &x,
            &w,
            &Epilogue::bias(None),
            &mut gemm_path,
            &mut scratch,
        );
        let (mut worst, mut worst_direct, mut widest) = (0.0f64, 0.0f64, 0.0f64);
        let mut worst_gemm_path = 0.0f64;
        for (o, (&got, &want)) in plain.iter().zip(&exact).enumerate() {
            let err = (got as f64 - want).abs();
            let bound = gamma(s.in_ch + 10) * y_bar[o];
            assert!(
                err <= bound,
                "{s:?} output {o}: |Δ| {err:e} > bound {bound:e}"
            );
            worst = worst.max(err / bound);
            worst_direct = worst_direct.max(err / direct[o]);
            widest = widest.max(y_bar[o] / direct[o]);
            let gemm_err = (gemm_path[o] as f64 - want).abs();
            worst_gemm_path = worst_gemm_path.max(gemm_err / direct[o]);
            let co = o % s.out_ch;
            let want = (want + b[co] as f64).max(0.0);
            let err = (fused[o] as f64 - want).abs();
            let bound = gamma(s.in_ch + 11) * (y_bar[o] + (b[co] as f64).abs());
            assert!(
                err <= bound,
                "{s:?} ReLU output {o}: |Δ| {err:e} > bound {bound:e}"
            );
        }
        eprintln!(
            "cin {:3} cout {:3}: max |Δ|/bound {worst:.3}, max |Δ|/Σ|w||x| {worst_direct:.2e} \
             (direct path {worst_gemm_path:.2e}), max Ȳ/Σ|w||x| {widest:.1}",
            s.in_ch, s.out_ch
        );
    }
}

/// Bias and activation in the epilogue equal the plain Winograd output followed by
/// [`Epilogue::apply`], bit for bit, for every activation.
#[test]
fn fused_epilogue_equals_plain_then_epilogue() {
    for (i, s) in shapes().iter().enumerate() {
        let (x, w, b) = inputs(s, 100 + 3 * i as u64);
        let slopes = random_vec(200 + i as u64, s.out_ch, 0.5);
        let plain = winograd(s, &x, &w, &Epilogue::bias(None));
        for activation in [
            Activation::Identity,
            Activation::Relu,
            Activation::LeakyRelu(0.01),
            Activation::Prelu(&slopes),
        ] {
            let epilogue = Epilogue {
                bias: Some(&b),
                activation,
            };
            let mut want = vec![0.0; plain.len()];
            epilogue.apply(s.out_ch, &plain, &mut want);
            let got = winograd(s, &x, &w, &epilogue);
            assert_eq!(bits(&got), bits(&want), "{activation:?} {s:?}");
        }
    }
}

/// Pools of 1, 2, 3, 7, 16 and 17 threads give identical bits (more threads than parts
/// included).
#[test]
fn any_thread_count_gives_identical_bits() {
    for (i, s) in [
        shape3(32, (10, 10), (16, 24), (1, 1, 1, 1)),
        shape3(3, (20, 17), (20, 40), (1, 1, 1, 1)),
        shape3(2, (9, 8), (5, 7), (0, 2, 1, 0)),
    ]
    .iter()
    .enumerate()
    {
        let (x, w, b) = inputs(s, 300 + 3 * i as u64);
        let epilogue = Epilogue {
            bias: Some(&b),
            activation: Activation::Relu,
        };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            pool.install(|| bits(&winograd(s, &x, &w, &epilogue)))
        };
        let one = run(1);
        for threads in [2, 3, 7, 16, 17] {
            assert!(run(threads) == one, "{threads} threads: {s:?}");
        }
    }
}

/// A sample's output does not depend on the batch it is in (blocks span samples).
#[test]
fn per_sample_results_do_not_depend_on_the_batch() {
    let one = shape3(1, (13, 11), (6, 9), (1, 1, 1, 1));
    let batch = Conv2dShape { batch: 23, ..one };
    let (x, w, b) = inputs(&batch, 400);
    let epilogue = Epilogue::bias(Some(&b));
    let y = winograd(&batch, &x, &w, &epilogue);
    for n in [0, 11, 22] {
        let xs = &x[n * one.input_len()..][..one.input_len()];
        let alone = winograd(&one, xs, &w, &epilogue);
        let in_batch = &y[n * one.output_len()..][..one.output_len()];
        assert_eq!(bits(&alone), bits(in_batch), "sample {n}");
    }
}

/// Only 3×3, stride-1, undilated kernels are computed by Winograd, and the forward takes it
/// where `Cin·Cout ≥ 20·(Cin + Cout)` (the shapes where it was measured faster).
#[test]
fn applies_only_to_3x3_stride_1() {
    let s = shape3(1, (8, 8), (2, 2), (1, 1, 1, 1));
    assert!(winograd_applies(&s));
    assert!(!winograd_pays(&s));
    let wide = shape3(1, (8, 8), (32, 64), (1, 1, 1, 1));
    assert!(winograd_pays(&wide));
    assert_eq!(wide.forward_scratch_len(), wide.winograd_scratch_len());
    assert!(winograd_pays(&Conv2dShape {
        in_ch: 40,
        out_ch: 40,
        ..wide
    }));
    assert!(!winograd_pays(&Conv2dShape {
        in_ch: 32,
        out_ch: 32,
        ..wide
    }));
    assert!(!winograd_pays(&Conv2dShape {
        in_ch: 3,
        out_ch: 1000,
        ..wide
    }));
    for other in [
        Conv2dShape { kernel_h: 5, ..s },
        Conv2dShape { kernel_w: 1, ..s },
        Conv2dShape { stride_w: 2, ..s },
        Conv2dShape { dilation_h: 2, ..s },
    ] {
        assert!(!winograd_applies(&other), "{other:?}");
    }
}
