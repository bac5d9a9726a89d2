//! Inception block: parallel branches over the same input, concatenated over channels.

use super::{Ctx, Layer, Pass};
use crate::dims::Dims;
use crate::sequential::Sequential;
use crate::Result;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::ops::Range;
use zcnn_kernels::concat::{concat_channels, split_channels_backward};

/// Szegedy et al. 2015: every branch sees the block's input; their outputs (same spatial size)
/// are concatenated over channels in branch order. The backward splits `dy` by channel ranges
/// and every branch accumulates its input gradient into the same `dx`.
///
/// The branches run one after the other, so they share one scratch: the block's, which holds
/// the gradient of the branch output being split out of `dy`, then what the branch needs.
pub struct Inception {
    branches: Vec<Sequential>,
    /// Parameter range of each branch inside the block's slice.
    param_ranges: Vec<Range<usize>>,
}

impl Inception {
    /// A block of the given branches, all built on `input` (see [`Sequential::new`]).
    pub fn new(input: Dims, branches: Vec<Sequential>) -> Result<Self> {
        crate::ensure!(!branches.is_empty(), "inception: needs at least one branch");
        let first = branches[0].out_dims();
        for (i, b) in branches.iter().enumerate() {
            crate::ensure!(
                b.in_dims() == input,
                "inception: branch {i} takes {}, the block gets {input}",
                b.in_dims()
            );
            let d = b.out_dims();
            crate::ensure!(
                d.positions() == first.positions() && std::mem::discriminant(&d) == std::mem::discriminant(&first),
                "inception: branch {i} outputs {d}, branch 0 outputs {first}: spatial sizes must agree"
            );
        }
        let mut start = 0;
        let param_ranges = branches
            .iter()
            .map(|b| {
                start += b.param_len();
                start - b.param_len()..start
            })
            .collect();
        Ok(Inception {
            branches,
            param_ranges,
        })
    }

    /// The branches, in concatenation order.
    pub fn branches(&self) -> &[Sequential] {
        &self.branches
    }

    /// Mutable branches (when loading a checkpoint). Their layers must stay as they are: the
    /// block's parameter ranges were laid out from them.
    pub(crate) fn branches_mut(&mut self) -> &mut [Sequential] {
        &mut self.branches
    }

    /// Parameter range of branch `b` inside the block's slice.
    pub fn branch_range(&self, b: usize) -> Range<usize> {
        self.param_ranges[b].clone()
    }

    fn total_channels(&self) -> usize {
        self.branches.iter().map(|b| b.out_dims().channels()).sum()
    }

    /// Rows of the `[rows, channels]` view of one sample's output.
    fn rows_per_sample(&self) -> usize {
        self.branches[0].out_dims().positions()
    }
}

impl Layer for Inception {
    fn kind(&self) -> &'static str {
        "inception"
    }

    fn out_dims(&self) -> Dims {
        let d = self.branches[0].out_dims();
        match d {
            Dims::Seq { len, .. } => Dims::Seq {
                len,
                ch: self.total_channels(),
            },
            Dims::Image { h, w, .. } => Dims::Image {
                h,
                w,
                ch: self.total_channels(),
            },
            Dims::Flat(_) => Dims::Flat(self.total_channels()),
        }
    }

    fn param_len(&self) -> usize {
        self.branches.iter().map(Sequential::param_len).sum()
    }

    fn init_params(&mut self, params: &mut [f32], rng: &mut Xoshiro256PlusPlus) {
        for (branch, range) in self.branches.iter_mut().zip(&self.param_ranges) {
            branch.init_params(&mut params[range.clone()], rng);
        }
    }

    /// The branches run one at a time on the block's scratch, so they keep none of their own.
    fn prepare(&mut self, batch: usize) {
        for branch in &mut self.branches {
            branch.prepare_buffers(batch);
        }
    }

    /// The gradient of the widest branch output, then the most any branch needs.
    fn scratch_len(&self, batch: usize) -> usize {
        let widest = self.branches.iter().map(|b| batch * b.out_dims().size());
        let needs = self.branches.iter().map(|b| b.scratch_len(batch));
        widest.max().unwrap_or(0) + needs.max().unwrap_or(0)
    }

    fn forward(
        &mut self,
        ctx: &mut Ctx,
        params: &[f32],
        x: &[f32],
        y: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (batch, total) = (ctx.pass.batch, self.total_channels());
        let rows = batch * self.rows_per_sample();
        let mut offset = 0;
        for (branch, range) in self.branches.iter_mut().zip(&self.param_ranges) {
            branch.forward_with(ctx, &params[range.clone()], x, scratch);
            let ch = branch.out_dims().channels();
            concat_channels(rows, branch.output(batch), ch, y, total, offset);
            offset += ch;
        }
    }

    fn backward(
        &mut self,
        pass: Pass,
        params: &[f32],
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        mut dx: Option<&mut [f32]>,
        grads: &mut [f32],
        scratch: &mut [f32],
    ) {
        let (batch, total) = (pass.batch, self.total_channels());
        let rows = batch * self.rows_per_sample();
        let widest = self.branches.iter().map(|b| b.out_dims().channels()).max();
        let (branch_grad, scratch) = scratch.split_at_mut(rows * widest.unwrap_or(0));
        let mut offset = 0;
        for (branch, range) in self.branches.iter_mut().zip(&self.param_ranges) {
            let ch = branch.out_dims().channels();
            let g = &mut branch_grad[..rows * ch];
            g.fill(0.0);
            split_channels_backward(rows, dy, total, offset, g, ch);
            branch.backward_with(
                pass,
                &params[range.clone()],
                &mut grads[range.clone()],
                x,
                g,
                dx.as_deref_mut(),
                scratch,
            );
            offset += ch;
        }
    }
}
