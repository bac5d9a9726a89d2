//! The reference architectures of DESIGN.md, layer for layer as their PyTorch equivalents (so
//! parameter counts and checkpoint names match).

use crate::dims::Dims;
use crate::init::WeightInit;
use crate::layers::*;
use crate::loss::Loss;
use crate::model::{Head, Model};
use crate::sequential::Sequential;
use crate::Result;

/// What the last layer predicts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Output {
    /// `k` logits, trained with this classification loss.
    Classes { k: usize, loss: Loss },
    /// One value, trained with MSE.
    Regression,
}

impl Output {
    fn width(&self) -> usize {
        match *self {
            Output::Classes { k, .. } => k,
            Output::Regression => 1,
        }
    }

    fn loss(&self) -> Loss {
        match *self {
            Output::Classes { loss, .. } => loss,
            Output::Regression => Loss::Mse,
        }
    }
}

/// A single dense head named `name` on top of `trunk`.
fn dense_head(trunk: &Sequential, output: Output, init: Option<(WeightInit, f32)>) -> Result<Head> {
    let mut net = Sequential::new(trunk.out_dims());
    net.push_with(|d| Dense::new(d, output.width()))?;
    if let Some((w, b)) = init {
        net.layers_mut()[0].set_weight_init(w, b);
    }
    Ok(Head::new("z", net, output.loss()))
}

/// The spectroscopic seed's teaching network: input `[1780, 1]`;
/// 3 × [Conv1d(16, k 8, "same" = pad 3 left / 4 right) → ReLU → MaxPool(3, stride 2) →
/// BatchNorm] → Flatten → Dropout 0.5 → Dense 512 (no activation) → Dropout 0.5 → head
/// Dense(k or 1). Glorot-uniform weights, zero biases (Keras' defaults).
pub fn specz_baseline(input_len: usize, output: Output, seed: u64) -> Result<Model> {
    let mut t = Sequential::new(Dims::Seq {
        len: input_len,
        ch: 1,
    });
    for _ in 0..3 {
        t.push_with(|d| Conv1d::new(d, 16, 8, 1, Padding::Explicit(3, 4), 1))?
            .push_with(Relu::new)?
            .push_with(|d| MaxPool::new(d, 3, 2, Padding::Valid))?
            .push_with(BatchNorm::new)?;
    }
    t.push_with(Flatten::new)?
        .push_with(|d| Dropout::new(d, 0.5))?
        .push_with(|d| Dense::new(d, 512))?
        .push_with(|d| Dropout::new(d, 0.5))?;
    let head = dense_head(&t, output, None)?;
    Model::new(t, vec![head], 0, seed)
}

/// Kim & Brunner 2016: input `[44, 44, 5]`; conv 32 5×5 (valid), conv 32 3×3, maxpool 2;
/// 3 × conv 64 3×3, maxpool 2; 3 × conv 128 3×3, maxpool 2; Dropout 0.5 → FC 2048 →
/// Dropout 0.5 → FC 2048 → head FC k. Leaky ReLU (0.01) after every conv and hidden FC;
/// orthogonal weights with gain √(2/(1 + 0.01²)); biases 0.1 (conv) and 0.01 (FC).
pub fn kim_brunner(output: Output, seed: u64) -> Result<Model> {
    let slope = 0.01;
    let gain = (2.0f32 / (1.0 + slope * slope)).sqrt();
    let (conv_init, fc_init) = (
        (WeightInit::Orthogonal { gain }, 0.1),
        (WeightInit::Orthogonal { gain }, 0.01),
    );
    let mut t = Sequential::new(Dims::Image {
        h: 44,
        w: 44,
        ch: 5,
    });
    let conv = |t: &mut Sequential, ch: usize, k: usize, pad: Padding| -> Result<()> {
        t.push_with(|d| Conv2d::new(d, ch, k, 1, pad, 1))?;
        let last = t.layers().len() - 1;
        t.layers_mut()[last].set_weight_init(conv_init.0, conv_init.1);
        t.push_with(|d| LeakyRelu::new(d, slope))?;
        Ok(())
    };
    conv(&mut t, 32, 5, Padding::Valid)?;
    conv(&mut t, 32, 3, Padding::Explicit(1, 1))?;
    t.push_with(|d| MaxPool::new(d, 2, 2, Padding::Valid))?;
    for ch in [64, 128] {
        for _ in 0..3 {
            conv(&mut t, ch, 3, Padding::Explicit(1, 1))?;
        }
        t.push_with(|d| MaxPool::new(d, 2, 2, Padding::Valid))?;
    }
    t.push_with(Flatten::new)?;
    for _ in 0..2 {
        t.push_with(|d| Dropout::new(d, 0.5))?
            .push_with(|d| Dense::new(d, 2048))?;
        let last = t.layers().len() - 1;
        t.layers_mut()[last].set_weight_init(fc_init.0, fc_init.1);
        t.push_with(|d| LeakyRelu::new(d, slope))?;
    }
    let head = dense_head(&t, output, Some(fc_init))?;
    Model::new(t, vec![head], 0, seed)
}

/// A convolution with "same" padding followed by a PReLU whose slopes start at 0, Glorot
/// weights and 0.1 biases (Pasquet et al. 2019).
fn conv_prelu(seq: &mut Sequential, ch: usize, k: usize) -> Result<()> {
    seq.push_with(|d| Conv2d::new(d, ch, k, 1, Padding::Same, 1))?;
    let last = seq.layers().len() - 1;
    seq.layers_mut()[last].set_weight_init(WeightInit::GlorotUniform, 0.1);
    seq.push_with(|d| Prelu::new(d, 0.0))?;
    Ok(())
}

/// Pasquet's inception module: concat of [1×1 → s2], [1×1 → s1, 5×5 → s2] (optional),
/// [1×1 → s1, 3×3 → s2], [1×1 → s1, 2×2 stride-1 "SAME" average pool].
fn inception_p(input: Dims, s1: usize, s2: usize, with_5x5: bool) -> Result<Inception> {
    let branch = |convs: &[(usize, usize)], pool: bool| -> Result<Sequential> {
        let mut b = Sequential::new(input);
        for &(ch, k) in convs {
            conv_prelu(&mut b, ch, k)?;
        }
        if pool {
            b.push_with(|d| AvgPool::new(d, 2, 1, Padding::Same))?;
        }
        Ok(b)
    };
    let mut branches = vec![branch(&[(s2, 1)], false)?];
    if with_5x5 {
        branches.push(branch(&[(s1, 1), (s2, 5)], false)?);
    }
    branches.push(branch(&[(s1, 1), (s2, 3)], false)?);
    branches.push(branch(&[(s1, 1)], true)?);
    Inception::new(input, branches)
}

/// Pasquet et al. 2019 / Lin et al. 2022 "Net_P": input `[64, 64, 5]`; conv 5×5 64 + PReLU →
/// avgpool → I(48, 64) → I(64, 92) → avgpool → I(92, 128) × 2 → avgpool → I(92, 128) without
/// the 5×5 branch → flatten, append E(B−V) → FC 1024 ReLU → FC 1024 ReLU → head FC k.
/// All pools are 2×2 average pools with TensorFlow "SAME" padding.
pub fn pasquet(output: Output, seed: u64) -> Result<Model> {
    let mut t = Sequential::new(Dims::Image {
        h: 64,
        w: 64,
        ch: 5,
    });
    conv_prelu(&mut t, 64, 5)?;
    let pool = |t: &mut Sequential| -> Result<()> {
        t.push_with(|d| AvgPool::new(d, 2, 2, Padding::Same))?;
        Ok(())
    };
    pool(&mut t)?;
    t.push_with(|d| inception_p(d, 48, 64, true))?
        .push_with(|d| inception_p(d, 64, 92, true))?;
    pool(&mut t)?;
    t.push_with(|d| inception_p(d, 92, 128, true))?
        .push_with(|d| inception_p(d, 92, 128, true))?;
    pool(&mut t)?;
    t.push_with(|d| inception_p(d, 92, 128, false))?;
    t.push_with(Flatten::new)?
        .push_with(|d| AppendScalars::new(d, 1))?;
    for _ in 0..2 {
        t.push_with(|d| Dense::new(d, 1024))?;
        let last = t.layers().len() - 1;
        t.layers_mut()[last].set_weight_init(WeightInit::GlorotUniform, 0.1);
        t.push_with(Relu::new)?;
    }
    let head = dense_head(&t, output, Some((WeightInit::GlorotUniform, 0.1)))?;
    Model::new(t, vec![head], 1, seed)
}

/// Width and depth of [`photoz_catalog`]'s hidden layers.
const CATALOG_WIDTH: usize = 256;
const CATALOG_DEPTH: usize = 3;

/// The catalogue estimator: input `[n_features]` (see `cli::catalog_data`: a reference
/// magnitude, the adjacent colours and the log errors) → 3 × [FC 256 → ReLU] → head FC k (or 1).
/// It is the fully connected stage of [`pasquet`] (ReLU FC layers, Glorot-uniform weights,
/// 0.1 biases) made narrower for ≈ 10 inputs, in the role of the dense photometry-only networks
/// the image papers compare with (GalaxiesML's photometry branch; shared research §4).
pub fn photoz_catalog(n_features: usize, output: Output, seed: u64) -> Result<Model> {
    let init = (WeightInit::GlorotUniform, 0.1);
    let mut t = Sequential::new(Dims::Flat(n_features));
    for _ in 0..CATALOG_DEPTH {
        t.push_with(|d| Dense::new(d, CATALOG_WIDTH))?;
        let last = t.layers().len() - 1;
        t.layers_mut()[last].set_weight_init(init.0, init.1);
        t.push_with(Relu::new)?;
    }
    let head = dense_head(&t, output, Some(init))?;
    Model::new(t, vec![head], 0, seed)
}

/// The name of the magnitude head of [`factorised_heads`]; the redshift heads are `z0`, `z1`, …
pub const MAGNITUDE_HEAD: &str = "mag";

/// The factorised output of Lin et al. (2022) (research notes §1.5) on features of shape
/// `input`: head 0 the magnitude head (`outputs` logits), then `outputs` redshift heads of
/// `bins` logits each; every head a dense layer trained with soft cross-entropy.
pub fn factorised_heads(input: Dims, outputs: usize, bins: usize) -> Result<Vec<Head>> {
    let dense = |name: String, k: usize| -> Result<Head> {
        let mut net = Sequential::new(input);
        net.push_with(|d| Dense::new(d, k))?;
        Ok(Head::new(name, net, Loss::SoftCrossEntropy))
    };
    let mut heads = vec![dense(MAGNITUDE_HEAD.into(), outputs)?];
    for k in 0..outputs {
        heads.push(dense(format!("z{k}"), bins)?);
    }
    Ok(heads)
}

/// The trunk of `preset` (a model built by one of the functions above) with the heads that
/// `heads` builds for the trunk's output shape; every parameter initialised afresh from `seed`.
pub fn with_heads(
    preset: Model,
    heads: impl FnOnce(Dims) -> Result<Vec<Head>>,
    seed: u64,
) -> Result<Model> {
    let n_extra = preset.n_extra();
    let trunk = preset.into_trunk();
    let heads = heads(trunk.out_dims())?;
    Model::new(trunk, heads, n_extra, seed)
}
