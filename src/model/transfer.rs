//! Changing what trains, for two-stage training and transfer: freezing layers, replacing or
//! re-initialising a head, and the parameter ranges the optimiser updates.

use super::head::{check_head_names, Head};
use super::Model;
use crate::rng::{purpose, stream};
use crate::{ensure, Result};
use std::ops::Range;

impl Model {
    /// Freezes (or unfreezes) every trunk layer: for two-stage training, where only the heads
    /// learn on a second (e.g. balanced) training set.
    pub fn set_trunk_frozen(&mut self, frozen: bool) {
        for i in 0..self.trunk.layers().len() {
            self.trunk.set_frozen(i, frozen);
        }
        self.update_trainable();
    }

    /// Freezes (or unfreezes) layer `i` of the trunk.
    pub fn set_trunk_layer_frozen(&mut self, i: usize, frozen: bool) {
        self.trunk.set_frozen(i, frozen);
        self.update_trainable();
    }

    /// Freezes (or unfreezes) every layer of head `h`.
    pub fn set_head_frozen(&mut self, h: usize, frozen: bool) {
        for i in 0..self.heads[h].net.layers().len() {
            self.heads[h].net.set_frozen(i, frozen);
        }
        self.update_trainable();
    }

    /// Replaces head `h` (e.g. with a different number of classes) and initialises it from
    /// `seed`; the trunk and the other heads keep their parameters.
    pub fn replace_head(&mut self, h: usize, head: Head, seed: u64) -> Result<()> {
        ensure!(
            h < self.heads.len(),
            "no head {h}: the model has {}",
            self.heads.len()
        );
        ensure!(
            !head.net.layers().is_empty(),
            "head '{}' has no layers",
            head.name
        );
        let others = self.heads.iter().enumerate().filter(|&(i, _)| i != h);
        check_head_names(
            others
                .map(|(_, x)| x.name.as_str())
                .chain([head.name.as_str()]),
        )?;
        ensure!(
            head.net.in_dims() == self.trunk.out_dims(),
            "head '{}' takes {}, but the trunk outputs {}",
            head.name,
            head.net.in_dims(),
            self.trunk.out_dims()
        );
        let old = self.head_range(h);
        let mut fresh = vec![0.0; head.net.param_len()];
        self.heads[h] = head;
        self.heads[h]
            .net
            .init_params(&mut fresh, &mut stream(seed, purpose::INIT));
        self.params.splice(old.clone(), fresh);
        self.grads = vec![0.0; self.params.len()];
        self.batch = 0;
        self.update_trainable();
        Ok(())
    }

    /// Draws head `h`'s parameters afresh from `seed`.
    pub fn reinit_head(&mut self, h: usize, seed: u64) {
        let range = self.head_range(h);
        self.heads[h]
            .net
            .init_params(&mut self.params[range], &mut stream(seed, purpose::INIT));
    }

    /// The merged parameter ranges the optimiser updates.
    pub fn trainable_ranges(&self) -> &[Range<usize>] {
        &self.trainable
    }

    /// Recomputes [`Model::trainable_ranges`] after the frozen layers changed.
    pub(super) fn update_trainable(&mut self) {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut push = |r: Range<usize>| match ranges.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ if !r.is_empty() => ranges.push(r),
            _ => {}
        };
        for i in 0..self.trunk.layers().len() {
            if !self.trunk.is_frozen(i) {
                push(self.trunk.param_range(i));
            }
        }
        for h in 0..self.heads.len() {
            let base = self.head_range(h).start;
            for i in 0..self.heads[h].net.layers().len() {
                if !self.heads[h].net.is_frozen(i) {
                    let r = self.heads[h].net.param_range(i);
                    push(base + r.start..base + r.end);
                }
            }
        }
        self.trainable = ranges;
    }
}
