//! A chain of layers as PyTorch's `nn.Sequential`: layer `i` is named `"{i}."`.

use super::layers::{export_layer, import_layer, output_order};
use super::layout::FeatureOrder;
use super::tensor::{TensorSink, TensorSource};
use crate::sequential::Sequential;
use crate::Result;

/// Writes every layer's tensors in PyTorch's layout; layer `i` is named `"{first_index + i}."`
/// inside `out`. `input` is the order of the chain's input features; returns the order of its
/// output features.
pub(super) fn export_chain(
    chain: &Sequential,
    params: &[f32],
    first_index: usize,
    input: FeatureOrder,
    out: &mut TensorSink,
) -> FeatureOrder {
    let mut order = input;
    for (i, layer) in chain.layers().iter().enumerate() {
        let mut sink = out.within(&(first_index + i).to_string());
        export_layer(&**layer, &params[chain.param_range(i)], order, &mut sink);
        order = output_order(&**layer, order);
    }
    order
}

/// Reads every layer's tensors, named as [`export_chain`] writes them; returns the order of
/// the chain's output features.
pub(super) fn import_chain(
    chain: &mut Sequential,
    params: &mut [f32],
    first_index: usize,
    input: FeatureOrder,
    source: &TensorSource,
) -> Result<FeatureOrder> {
    let mut order = input;
    for i in 0..chain.layers().len() {
        let range = chain.param_range(i);
        let layer = &mut *chain.layers_mut()[i];
        let source = source.within(&(first_index + i).to_string());
        import_layer(layer, &source, order, &mut params[range])?;
        order = output_order(layer, order);
    }
    Ok(order)
}
