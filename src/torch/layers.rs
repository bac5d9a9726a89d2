//! Each layer type's tensors in PyTorch's layout, and what it does to the order of flat
//! features.
//!
//! The engine's [`Layer`] trait knows nothing of PyTorch. This file gives each layer type that
//! has tensors, or that keeps the order of its features, a [`TorchLayer`] side, and finds it
//! from a `dyn Layer` by the layer's concrete type ([`std::any::Any`]). Any other layer (the
//! pools, a layer defined outside zcnn) has no tensors and forgets the feature order.

use super::chain::{export_chain, import_chain};
use super::layout::{
    conv_weight_from_torch, conv_weight_to_torch, dense_weight_from_torch, dense_weight_to_torch,
    FeatureOrder,
};
use super::tensor::{TensorSink, TensorSource};
use crate::dims::Dims;
use crate::layers::{
    AppendScalars, BatchNorm, Conv1d, Conv2d, Dense, Dropout, Flatten, Inception, Layer, LeakyRelu,
    Prelu, Relu,
};
use crate::Result;
use std::any::Any;

/// The PyTorch side of a layer type. `input` is the order of the layer's input features.
trait TorchLayer {
    /// The order of the output features. The default (a layer that mixes or reshapes its
    /// features) forgets the order.
    fn output_order(&self, _input: FeatureOrder) -> FeatureOrder {
        FeatureOrder::Plain
    }

    /// Writes the layer's tensors (parameters from `params`, and state) in PyTorch's layout,
    /// named relative to the layer (`"weight"`, `"running_mean"`, …).
    fn export_tensors(&self, _params: &[f32], _input: FeatureOrder, _out: &mut TensorSink) {}

    /// Reads the layer's tensors, the inverse of [`TorchLayer::export_tensors`]. Fails on a
    /// missing tensor or a wrong shape or dtype.
    fn import_tensors(
        &mut self,
        _source: &TensorSource,
        _input: FeatureOrder,
        _params: &mut [f32],
    ) -> Result<()> {
        Ok(())
    }
}

/// The order of `layer`'s output features, given that of its input.
pub(super) fn output_order(layer: &dyn Layer, input: FeatureOrder) -> FeatureOrder {
    torch_side(layer).map_or(FeatureOrder::Plain, |l| l.output_order(input))
}

/// Writes `layer`'s tensors into `out` (nothing for a layer without tensors).
pub(super) fn export_layer(
    layer: &dyn Layer,
    params: &[f32],
    input: FeatureOrder,
    out: &mut TensorSink,
) {
    if let Some(l) = torch_side(layer) {
        l.export_tensors(params, input, out);
    }
}

/// Reads `layer`'s tensors from `source` (nothing for a layer without tensors).
pub(super) fn import_layer(
    layer: &mut dyn Layer,
    source: &TensorSource,
    input: FeatureOrder,
    params: &mut [f32],
) -> Result<()> {
    match torch_side_mut(layer) {
        Some(l) => l.import_tensors(source, input, params),
        None => Ok(()),
    }
}

/// Lists the layer types that have a PyTorch side, once, for the shared and the mutable lookup.
macro_rules! torch_layer_types {
    ($($ty:ty),+ $(,)?) => {
        /// The PyTorch side of `layer`, if its type has one.
        fn torch_side(layer: &dyn Layer) -> Option<&dyn TorchLayer> {
            let any: &dyn Any = layer;
            $(
                if let Some(l) = any.downcast_ref::<$ty>() {
                    return Some(l);
                }
            )+
            None
        }

        /// The PyTorch side of `layer`, mutable, if its type has one.
        fn torch_side_mut(layer: &mut dyn Layer) -> Option<&mut dyn TorchLayer> {
            let any: &mut dyn Any = layer;
            $(
                if any.is::<$ty>() {
                    return any.downcast_mut::<$ty>().map(|l| l as &mut dyn TorchLayer);
                }
            )+
            None
        }
    };
}

torch_layer_types!(
    Conv1d,
    Conv2d,
    Dense,
    BatchNorm,
    Prelu,
    Inception,
    Flatten,
    Relu,
    LeakyRelu,
    Dropout,
    AppendScalars,
);

impl TorchLayer for Conv1d {
    /// `weight` `[out, in, k]` (PyTorch's `Conv1d`) and `bias` `[out]`.
    fn export_tensors(&self, params: &[f32], _input: FeatureOrder, out: &mut TensorSink) {
        let s = self.shape();
        let (w, b) = params.split_at(s.weight_len());
        let torch = conv_weight_to_torch(w, s.kernel, s.in_ch, s.out_ch);
        out.f32("weight", vec![s.out_ch, s.in_ch, s.kernel], torch);
        out.f32("bias", vec![s.out_ch], b.to_vec());
    }

    fn import_tensors(
        &mut self,
        source: &TensorSource,
        _input: FeatureOrder,
        params: &mut [f32],
    ) -> Result<()> {
        let s = self.shape();
        let torch = source.f32("weight", &[s.out_ch, s.in_ch, s.kernel])?;
        let bias = source.f32("bias", &[s.out_ch])?;
        let (w, b) = params.split_at_mut(s.weight_len());
        conv_weight_from_torch(torch, s.kernel, s.in_ch, s.out_ch, w);
        b.copy_from_slice(bias);
        Ok(())
    }
}

impl TorchLayer for Conv2d {
    /// `weight` `[out, in, kh, kw]` (PyTorch's `Conv2d`) and `bias` `[out]`.
    fn export_tensors(&self, params: &[f32], _input: FeatureOrder, out: &mut TensorSink) {
        let s = self.shape();
        let (w, b) = params.split_at(s.weight_len());
        let taps = s.kernel_h * s.kernel_w;
        let torch = conv_weight_to_torch(w, taps, s.in_ch, s.out_ch);
        out.f32(
            "weight",
            vec![s.out_ch, s.in_ch, s.kernel_h, s.kernel_w],
            torch,
        );
        out.f32("bias", vec![s.out_ch], b.to_vec());
    }

    fn import_tensors(
        &mut self,
        source: &TensorSource,
        _input: FeatureOrder,
        params: &mut [f32],
    ) -> Result<()> {
        let s = self.shape();
        let torch = source.f32("weight", &[s.out_ch, s.in_ch, s.kernel_h, s.kernel_w])?;
        let bias = source.f32("bias", &[s.out_ch])?;
        let (w, b) = params.split_at_mut(s.weight_len());
        conv_weight_from_torch(torch, s.kernel_h * s.kernel_w, s.in_ch, s.out_ch, w);
        b.copy_from_slice(bias);
        Ok(())
    }
}

impl TorchLayer for Dense {
    /// `weight` `[out, in]` with its columns in PyTorch's order (channels first after a
    /// flatten) and `bias` `[out]`.
    fn export_tensors(&self, params: &[f32], input: FeatureOrder, out: &mut TensorSink) {
        let s = self.shape();
        let (w, b) = params.split_at(s.weight_len());
        let torch = dense_weight_to_torch(w, s.out_features, input);
        out.f32("weight", vec![s.out_features, s.in_features], torch);
        out.f32("bias", vec![s.out_features], b.to_vec());
    }

    fn import_tensors(
        &mut self,
        source: &TensorSource,
        input: FeatureOrder,
        params: &mut [f32],
    ) -> Result<()> {
        let s = self.shape();
        let torch = source.f32("weight", &[s.out_features, s.in_features])?;
        let bias = source.f32("bias", &[s.out_features])?;
        let (w, b) = params.split_at_mut(s.weight_len());
        dense_weight_from_torch(torch, s.out_features, input, w);
        b.copy_from_slice(bias);
        Ok(())
    }
}

impl TorchLayer for BatchNorm {
    /// Per-channel (per-feature for a flat input): the features keep their order.
    fn output_order(&self, input: FeatureOrder) -> FeatureOrder {
        input
    }

    /// `weight`, `bias`, `running_mean`, `running_var` `[channels]` and `num_batches_tracked`
    /// (an `int64` scalar), as PyTorch's `BatchNorm1d`/`BatchNorm2d`.
    fn export_tensors(&self, params: &[f32], order: FeatureOrder, out: &mut TensorSink) {
        let ch = self.out_dims().channels();
        let (gamma, beta) = params.split_at(ch);
        let (mean, var) = self.running_stats();
        out.f32("weight", vec![ch], order.to_torch(gamma));
        out.f32("bias", vec![ch], order.to_torch(beta));
        out.f32("running_mean", vec![ch], order.to_torch(mean));
        out.f32("running_var", vec![ch], order.to_torch(var));
        let count = i64::try_from(self.num_batches_tracked()).unwrap_or(i64::MAX);
        out.i64("num_batches_tracked", vec![], vec![count]);
    }

    fn import_tensors(
        &mut self,
        source: &TensorSource,
        order: FeatureOrder,
        params: &mut [f32],
    ) -> Result<()> {
        let ch = self.out_dims().channels();
        let gamma = source.f32("weight", &[ch])?;
        let beta = source.f32("bias", &[ch])?;
        let mean = source.f32("running_mean", &[ch])?;
        let var = source.f32("running_var", &[ch])?;
        let count = source.i64("num_batches_tracked", &[])?[0];
        crate::ensure!(
            count >= 0,
            "tensor 'num_batches_tracked' of a batchnorm is negative ({count})"
        );
        crate::ensure!(
            var.iter().all(|&v| v >= 0.0),
            "tensor 'running_var' of a batchnorm holds a negative variance"
        );
        let (g, b) = params.split_at_mut(ch);
        order.from_torch(gamma, g);
        order.from_torch(beta, b);
        let (running_mean, running_var) = self.running_stats_mut();
        order.from_torch(mean, running_mean);
        order.from_torch(var, running_var);
        self.set_num_batches_tracked(count as u64);
        Ok(())
    }
}

impl TorchLayer for Prelu {
    /// One slope per feature of a flat input: the features keep their order.
    fn output_order(&self, input: FeatureOrder) -> FeatureOrder {
        input
    }

    /// `weight` `[channels]` (PyTorch's `PReLU(num_parameters = channels)`).
    fn export_tensors(&self, params: &[f32], order: FeatureOrder, out: &mut TensorSink) {
        out.f32("weight", vec![params.len()], order.to_torch(params));
    }

    fn import_tensors(
        &mut self,
        source: &TensorSource,
        order: FeatureOrder,
        params: &mut [f32],
    ) -> Result<()> {
        let slopes = source.f32("weight", &[params.len()])?;
        order.from_torch(slopes, params);
        Ok(())
    }
}

impl TorchLayer for Inception {
    /// Branch `b`'s layer `j` is named `branches.{b}.{j}.…` (an `nn.ModuleList` of
    /// `nn.Sequential`).
    fn export_tensors(&self, params: &[f32], _input: FeatureOrder, out: &mut TensorSink) {
        for (b, branch) in self.branches().iter().enumerate() {
            export_chain(
                branch,
                &params[self.branch_range(b)],
                0,
                FeatureOrder::Plain,
                &mut out.within(&format!("branches.{b}")),
            );
        }
    }

    fn import_tensors(
        &mut self,
        source: &TensorSource,
        _input: FeatureOrder,
        params: &mut [f32],
    ) -> Result<()> {
        for b in 0..self.branches().len() {
            let range = self.branch_range(b);
            import_chain(
                &mut self.branches_mut()[b],
                &mut params[range],
                0,
                FeatureOrder::Plain,
                &source.within(&format!("branches.{b}")),
            )?;
        }
        Ok(())
    }
}

impl TorchLayer for Flatten {
    /// A sequence or image becomes channels-last features; a flat input keeps its order.
    fn output_order(&self, input: FeatureOrder) -> FeatureOrder {
        match self.in_dims() {
            Dims::Flat(_) => input,
            d => FeatureOrder::ChannelsLast {
                positions: d.positions(),
                channels: d.channels(),
            },
        }
    }
}

/// Element-wise layers without tensors: the features keep their order.
macro_rules! keeps_feature_order {
    ($($ty:ty),+) => {
        $(
            impl TorchLayer for $ty {
                fn output_order(&self, input: FeatureOrder) -> FeatureOrder {
                    input
                }
            }
        )+
    };
}

keeps_feature_order!(Relu, LeakyRelu, Dropout);

impl TorchLayer for AppendScalars {
    /// The appended scalars come after the features, whose order is kept.
    fn output_order(&self, input: FeatureOrder) -> FeatureOrder {
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{AvgPool, MaxPool, Padding};
    use crate::sequential::Sequential;

    /// Every layer type with tensors or an order to pass on is found from a `dyn Layer`; the
    /// pools are not (they have neither).
    #[test]
    fn layer_types_are_found_by_their_concrete_type() {
        let seq = Dims::Seq { len: 8, ch: 2 };
        let image = Dims::Image { h: 4, w: 4, ch: 2 };
        let flat = Dims::Flat(6);
        let mut branch = Sequential::new(image);
        branch
            .push_with(|d| Conv2d::new(d, 3, 1, 1, Padding::Valid, 1))
            .unwrap();
        let found: Vec<Box<dyn Layer>> = vec![
            Box::new(Conv1d::new(seq, 3, 2, 1, Padding::Valid, 1).unwrap()),
            Box::new(Conv2d::new(image, 3, 2, 1, Padding::Valid, 1).unwrap()),
            Box::new(Dense::new(flat, 2).unwrap()),
            Box::new(BatchNorm::new(flat).unwrap()),
            Box::new(Prelu::new(flat, 0.0).unwrap()),
            Box::new(Inception::new(image, vec![branch]).unwrap()),
            Box::new(Flatten::new(image).unwrap()),
            Box::new(Relu::new(flat).unwrap()),
            Box::new(LeakyRelu::new(flat, 0.1).unwrap()),
            Box::new(Dropout::new(flat, 0.5).unwrap()),
            Box::new(AppendScalars::new(flat, 1).unwrap()),
        ];
        for layer in &found {
            assert!(torch_side(&**layer).is_some(), "{}", layer.kind());
        }
        let unknown: Vec<Box<dyn Layer>> = vec![
            Box::new(MaxPool::new(image, 2, 2, Padding::Valid).unwrap()),
            Box::new(AvgPool::new(image, 2, 2, Padding::Valid).unwrap()),
        ];
        for mut layer in unknown {
            assert!(torch_side(&*layer).is_none(), "{}", layer.kind());
            assert!(torch_side_mut(&mut *layer).is_none(), "{}", layer.kind());
        }
    }

    /// A flatten of `[3 positions, 2 channels]`, passed on through dropout and appended
    /// scalars, reaches a dense layer; the dense layer forgets it.
    #[test]
    fn feature_order_follows_the_chain() {
        let image = Dims::Image { h: 1, w: 3, ch: 2 };
        let flatten: Box<dyn Layer> = Box::new(Flatten::new(image).unwrap());
        let dropout: Box<dyn Layer> = Box::new(Dropout::new(Dims::Flat(6), 0.5).unwrap());
        let append: Box<dyn Layer> = Box::new(AppendScalars::new(Dims::Flat(6), 1).unwrap());
        let dense: Box<dyn Layer> = Box::new(Dense::new(Dims::Flat(7), 2).unwrap());
        let flat = FeatureOrder::ChannelsLast {
            positions: 3,
            channels: 2,
        };
        let after_flatten = output_order(&*flatten, FeatureOrder::Plain);
        assert_eq!(after_flatten, flat);
        let after_append = output_order(&*append, output_order(&*dropout, after_flatten));
        assert_eq!(after_append, flat);
        assert_eq!(output_order(&*dense, after_append), FeatureOrder::Plain);
    }
}
