//! An output head: a chain with its loss, and the rule for head names.

use crate::loss::Loss;
use crate::sequential::Sequential;
use crate::{ensure, Result};

/// One output of the network with the loss it is trained with.
pub struct Head {
    pub name: String,
    pub net: Sequential,
    pub loss: Loss,
    /// Softmax probabilities of the last loss evaluation, `[batch, outputs]`.
    pub(super) probs: Vec<f32>,
    /// ∂L/∂output of the last loss evaluation, `[batch, outputs]`.
    pub(super) grad: Vec<f32>,
}

impl Head {
    pub fn new(name: impl Into<String>, net: Sequential, loss: Loss) -> Self {
        Head {
            name: name.into(),
            net,
            loss,
            probs: Vec::new(),
            grad: Vec::new(),
        }
    }

    /// Number of outputs per sample.
    pub fn outputs(&self) -> usize {
        self.net.out_dims().size()
    }
}

/// Head names become PyTorch module names (`heads.{name}`): unique, non-empty, without `.`.
pub(super) fn check_head_names<'a>(names: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        ensure!(
            !name.is_empty() && !name.contains('.'),
            "head name '{name}' must be non-empty and contain no '.'"
        );
        ensure!(seen.insert(name), "two heads are named '{name}'");
    }
    Ok(())
}
