//! What an inference pass fuses into a convolution, and the folding of a batch norm into its
//! parameters.

use super::Activation;
use zcnn_kernels::epilogue::fold_channel_affine;

/// What an inference pass fuses into a producing layer (a convolution): the per-channel affine
/// map `z = scale·y + shift` of a batch norm that follows it in evaluation mode (folded into its
/// weights and bias), then the activation that follows (applied as its output is written).
/// The fused layer writes `z` (or the activation of it) where the last fused layer would have.
pub struct Fused<'a> {
    /// `(scale, shift)` per output channel.
    pub affine: Option<(&'a [f32], &'a [f32])>,
    pub activation: Activation<'a>,
}

impl Fused<'_> {
    /// The weight and bias a convolution runs with: `(w, b)` themselves, or with the batch norm
    /// folded in (`w'[.., c] = w[.., c]·scale[c]`, `b' = b·scale + shift`), written into
    /// `folded` (`w.len() + b.len()` floats; done every pass, since the parameters may have
    /// changed since the last). The output channel is the fastest axis of `w`.
    pub(super) fn weights<'p>(
        &self,
        w: &'p [f32],
        b: &'p [f32],
        folded: &'p mut [f32],
    ) -> (&'p [f32], &'p [f32]) {
        match self.affine {
            Some((scale, shift)) => {
                let (fw, fb) = folded.split_at_mut(w.len());
                fold_channel_affine(w, Some(b), scale, shift, fw, &mut fb[..b.len()]);
                (fw, fb)
            }
            None => (w, b),
        }
    }
}
