//! Epilogues: what a kernel producing a `[pixels, channels]` output applies to each value as it
//! writes it — a per-channel bias, then an activation — so that the output is written once
//! instead of once per operation. And the folding of a per-channel affine map (a batch norm in
//! evaluation mode) into the weights and bias of the layer before it.
//!
//! ```text
//! y[p, c] = act(v + bias[c])      v = the kernel's sum for pixel p, channel c
//! act(v) = v                      (identity)
//!        = v > 0 ? v : 0          (ReLU)
//!        = v > 0 ? v : α·v        (leaky ReLU)
//!        = v > 0 ? v : α[c]·v     (PReLU, He et al. 2015, eq. 1)
//! ```
//!
//! The operations are those of `add then activate` in separate passes (`v + bias[c]` rounded
//! once, then the same comparison and product as [`crate::activation`]), so a fused output
//! equals the unfused one bit for bit.

use crate::activation::{positive, select};
use crate::simd::{body_len, load, splat, store, F32s, LANES};

/// The activation an epilogue applies after the bias.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation<'a> {
    Identity,
    Relu,
    /// Leaky ReLU with slope `α` for negative inputs.
    LeakyRelu(f32),
    /// PReLU with one slope per channel.
    Prelu(&'a [f32]),
}

impl Activation<'_> {
    /// The activation of one vector `v` of channels; `slopes` loads the PReLU slopes of those
    /// channels from the slice of all of them (callers with partial vectors load them their way).
    #[inline(always)]
    pub fn vector(&self, v: F32s, slopes: impl FnOnce(&[f32]) -> F32s) -> F32s {
        match *self {
            Activation::Identity => v,
            Activation::Relu => positive(v) & v,
            Activation::LeakyRelu(alpha) => select(positive(v), v, splat(alpha) * v),
            Activation::Prelu(all) => select(positive(v), v, slopes(all) * v),
        }
    }
}

/// A per-channel bias (if any), then an activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epilogue<'a> {
    pub bias: Option<&'a [f32]>,
    pub activation: Activation<'a>,
}

impl<'a> Epilogue<'a> {
    /// The bias alone (what an unfused layer writes).
    pub fn bias(bias: Option<&'a [f32]>) -> Self {
        Epilogue {
            bias,
            activation: Activation::Identity,
        }
    }

    /// Whether applying it changes nothing.
    pub fn is_identity(&self) -> bool {
        self.bias.is_none() && self.activation == Activation::Identity
    }

    /// Panics unless the bias and the PReLU slopes have `channels` entries.
    pub fn assert_channels(&self, channels: usize) {
        if let Some(b) = self.bias {
            assert_eq!(b.len(), channels, "epilogue: bias length");
        }
        if let Activation::Prelu(slopes) = self.activation {
            assert_eq!(slopes.len(), channels, "epilogue: PReLU slopes length");
        }
    }

    /// `dst[p, c] = act(src[p, c] + bias[c])` over rows of `channels` floats (`src` and `dst` of
    /// equal length, a multiple of `channels`).
    pub fn apply(&self, channels: usize, src: &[f32], dst: &mut [f32]) {
        assert_eq!(
            src.len(),
            dst.len(),
            "epilogue: src and dst differ in length"
        );
        self.assert_channels(channels);
        for (s, d) in src
            .chunks_exact(channels)
            .zip(dst.chunks_exact_mut(channels))
        {
            self.apply_row(s, d);
        }
    }

    /// [`Epilogue::apply`] with `src = dst`.
    pub fn apply_in_place(&self, channels: usize, xy: &mut [f32]) {
        if self.is_identity() {
            return;
        }
        self.assert_channels(channels);
        let body = body_len(channels);
        for row in xy.chunks_exact_mut(channels) {
            for c in (0..body).step_by(LANES) {
                let v = self.lanes(c, load(&row[c..]));
                store(v, &mut row[c..]);
            }
            for (c, v) in row.iter_mut().enumerate().skip(body) {
                *v = self.scalar(c, *v);
            }
        }
    }

    /// Scalar reference of [`Epilogue::apply`].
    pub fn apply_ref(&self, channels: usize, src: &[f32], dst: &mut [f32]) {
        assert_eq!(
            src.len(),
            dst.len(),
            "epilogue: src and dst differ in length"
        );
        self.assert_channels(channels);
        for (s, d) in src
            .chunks_exact(channels)
            .zip(dst.chunks_exact_mut(channels))
        {
            for c in 0..channels {
                d[c] = self.scalar(c, s[c]);
            }
        }
    }

    /// One row of `channels` floats.
    #[inline(always)]
    fn apply_row(&self, src: &[f32], dst: &mut [f32]) {
        let body = body_len(src.len());
        for c in (0..body).step_by(LANES) {
            store(self.lanes(c, load(&src[c..])), &mut dst[c..]);
        }
        for c in body..src.len() {
            dst[c] = self.scalar(c, src[c]);
        }
    }

    /// Channels `c..c + LANES` of one pixel.
    #[inline(always)]
    fn lanes(&self, c: usize, v: F32s) -> F32s {
        let v = match self.bias {
            Some(b) => v + load(&b[c..]),
            None => v,
        };
        self.activation.vector(v, |slopes| load(&slopes[c..]))
    }

    /// Channel `c` of one pixel.
    #[inline(always)]
    fn scalar(&self, c: usize, v: f32) -> f32 {
        let v = match self.bias {
            Some(b) => v + b[c],
            None => v,
        };
        match self.activation {
            Activation::Identity => v,
            Activation::Relu => {
                if v > 0.0 {
                    v
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu(alpha) => {
                if v > 0.0 {
                    v
                } else {
                    alpha * v
                }
            }
            Activation::Prelu(slopes) => {
                if v > 0.0 {
                    v
                } else {
                    slopes[c] * v
                }
            }
        }
    }
}

/// Folds a per-channel affine map `z[.., c] = scale[c]·y[.., c] + shift[c]` applied to the output
/// of a layer `y = Σ w·x + b` (output channel the fastest axis of `w`, as HWIO and `[in, out]`
/// weights) into that layer:
///
/// ```text
/// w'[.., c] = w[.., c]·scale[c]        b'[c] = b[c]·scale[c] + shift[c]   (b = 0 if absent)
/// ```
///
/// so that `Σ w'·x + b' = z` up to rounding (the product by `scale[c]` moves inside the sum).
pub fn fold_channel_affine(
    w: &[f32],
    bias: Option<&[f32]>,
    scale: &[f32],
    shift: &[f32],
    w_out: &mut [f32],
    b_out: &mut [f32],
) {
    let channels = scale.len();
    assert_eq!(shift.len(), channels, "fold: shift length");
    assert_eq!(b_out.len(), channels, "fold: bias length");
    assert_eq!(w.len(), w_out.len(), "fold: weight lengths differ");
    assert_eq!(
        w.len() % channels,
        0,
        "fold: weights are not [.., channels]"
    );
    for (src, dst) in w
        .chunks_exact(channels)
        .zip(w_out.chunks_exact_mut(channels))
    {
        for c in 0..channels {
            dst[c] = src[c] * scale[c];
        }
    }
    for c in 0..channels {
        let b = bias.map_or(0.0, |b| b[c]);
        b_out[c] = b.mul_add(scale[c], shift[c]);
    }
}

/// What each activation makes of `plain` (rows of `channels` floats; PReLU with `slopes`),
/// computed by the activations' own kernels: the oracle the fused forwards of the convolutions
/// are tested against, bit for bit.
#[cfg(test)]
pub(crate) fn activation_oracles<'a>(
    channels: usize,
    plain: &[f32],
    slopes: &'a [f32],
) -> [(Activation<'a>, Vec<f32>); 4] {
    use crate::activation::{leaky_relu_forward_in_place, prelu_forward, relu_forward_in_place};
    let mut relu = plain.to_vec();
    relu_forward_in_place(&mut relu);
    let mut leaky = plain.to_vec();
    leaky_relu_forward_in_place(0.01, &mut leaky);
    let mut prelu = vec![0.0; plain.len()];
    prelu_forward(channels, plain, slopes, &mut prelu);
    [
        (Activation::Identity, plain.to_vec()),
        (Activation::Relu, relu),
        (Activation::LeakyRelu(0.01), leaky),
        (Activation::Prelu(slopes), prelu),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{leaky_relu_forward, prelu_forward, relu_forward};
    use crate::gradcheck::random_vec;

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|f| f.to_bits()).collect()
    }

    /// Fused bias + activation equals `y += bias` (the conv kernels' `axpy`) followed by the
    /// activation kernel, bit for bit, on channel counts with and without a SIMD tail; and the
    /// SIMD path equals its scalar reference.
    #[test]
    fn fused_equals_bias_then_activation_bit_for_bit() {
        for channels in [1, 3, 16, 17, 48, 92] {
            let pixels = 37;
            let src = random_vec(channels as u64, pixels * channels, 2.0);
            let bias = random_vec(100 + channels as u64, channels, 1.0);
            let slopes = random_vec(200 + channels as u64, channels, 0.5);
            let mut with_bias = src.clone();
            for pixel in with_bias.chunks_exact_mut(channels) {
                crate::simd::axpy(1.0, &bias, pixel);
            }
            let mut expected = vec![0.0; src.len()];
            type Unfused<'f> = &'f dyn Fn(&[f32], &mut [f32]);
            let cases: [(Activation, Unfused); 4] = [
                (Activation::Identity, &|x, y| y.copy_from_slice(x)),
                (Activation::Relu, &|x, y| relu_forward(x, y)),
                (Activation::LeakyRelu(0.01), &|x, y| {
                    leaky_relu_forward(0.01, x, y)
                }),
                (Activation::Prelu(&slopes), &|x, y| {
                    prelu_forward(channels, x, &slopes, y)
                }),
            ];
            for (activation, unfused) in cases {
                unfused(&with_bias, &mut expected);
                let e = Epilogue {
                    bias: Some(&bias),
                    activation,
                };
                let mut got = vec![f32::NAN; src.len()];
                e.apply(channels, &src, &mut got);
                assert_eq!(bits(&got), bits(&expected), "{activation:?} c={channels}");
                let mut in_place = src.clone();
                e.apply_in_place(channels, &mut in_place);
                assert_eq!(bits(&in_place), bits(&expected), "in place {activation:?}");
                let mut reference = vec![f32::NAN; src.len()];
                e.apply_ref(channels, &src, &mut reference);
                assert_eq!(bits(&reference), bits(&expected), "ref {activation:?}");
            }
        }
    }

    /// `Σ w'·x + b'` equals `scale·(Σ w·x + b) + shift` within the rounding of a K-term sum.
    #[test]
    fn folded_affine_matches_affine_after_the_layer() {
        let (k, channels) = (50, 7);
        let w = random_vec(1, k * channels, 1.0);
        let b = random_vec(2, channels, 1.0);
        let x = random_vec(3, k, 1.0);
        let scale = random_vec(4, channels, 2.0);
        let shift = random_vec(5, channels, 1.0);
        let (mut wf, mut bf) = (vec![0.0; w.len()], vec![0.0; channels]);
        fold_channel_affine(&w, Some(&b), &scale, &shift, &mut wf, &mut bf);
        for c in 0..channels {
            let y: f64 = (0..k)
                .map(|i| x[i] as f64 * w[i * channels + c] as f64)
                .sum();
            let want = scale[c] as f64 * (y + b[c] as f64) + shift[c] as f64;
            let got: f32 = (0..k).map(|i| x[i] * wf[i * channels + c]).sum::<f32>() + bf[c];
            assert!((got as f64 - want).abs() <= 1e-5 * k as f64, "c={c}");
        }
    }
}
