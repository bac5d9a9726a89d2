//! The loss of one output head, and the targets it is compared with.

use crate::{ensure, Result};
use zcnn_kernels::loss::{
    js_entropy_loss, kl_divergence, mse_loss, soft_cross_entropy, softmax_cross_entropy,
};

/// Which loss a head is trained with. Every classification loss applies the softmax itself:
/// the head outputs logits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Mean squared error on the raw outputs (regression).
    Mse,
    /// Softmax cross-entropy with a class index per sample.
    CrossEntropy,
    /// Softmax cross-entropy with a target distribution per sample (soft labels).
    SoftCrossEntropy,
    /// λ1·JS(Q, P) + λ2·H(P) (Vernardos et al. 2020), with a target distribution.
    JsEntropy { lambda1: f32, lambda2: f32 },
    /// KL(Q‖P) with a target distribution.
    Kl,
}

/// The targets of one batch for one head.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// A class index per sample.
    Classes(&'a [u32]),
    /// A distribution (or, for MSE, a value vector) per sample, `[batch, outputs]`.
    Values(&'a [f32]),
}

/// Owned target buffers of one head for a batch (possibly longer than the batch: only the
/// first `batch` rows are used), as the training loop gathers them.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetBatch {
    Classes(Vec<u32>),
    Values(Vec<f32>),
}

impl TargetBatch {
    /// The first `batch` rows (of `width` values each, for value targets).
    pub fn as_targets(&self, batch: usize, width: usize) -> Targets<'_> {
        match self {
            TargetBatch::Classes(c) => Targets::Classes(&c[..batch.min(c.len())]),
            TargetBatch::Values(v) => Targets::Values(&v[..(batch * width).min(v.len())]),
        }
    }

    /// The class of sample `i`: its label, or the argmax of its target distribution.
    pub fn class_of(&self, i: usize, width: usize) -> usize {
        match self {
            TargetBatch::Classes(c) => c[i] as usize,
            TargetBatch::Values(v) => argmax(&v[i * width..(i + 1) * width]),
        }
    }
}

/// Index of the largest value (the first on ties): the class of a prediction or a target
/// distribution.
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

impl Loss {
    /// Whether the head's outputs are logits of a distribution (so predictions are softmaxed).
    pub fn is_classification(&self) -> bool {
        !matches!(self, Loss::Mse)
    }

    /// Checks that `targets` suit this loss for `batch` samples of `outputs` values.
    pub fn check_targets(&self, targets: &Targets, batch: usize, outputs: usize) -> Result<()> {
        match (self, targets) {
            (Loss::CrossEntropy, Targets::Classes(labels)) => {
                ensure!(
                    labels.len() == batch,
                    "cross-entropy: {} labels for a batch of {batch}",
                    labels.len()
                );
                if let Some((i, &l)) = labels
                    .iter()
                    .enumerate()
                    .find(|(_, &l)| l as usize >= outputs)
                {
                    return Err(crate::Error(format!(
                        "cross-entropy: label {l} of sample {i} is not below the {outputs} classes"
                    )));
                }
                Ok(())
            }
            (Loss::CrossEntropy, Targets::Values(_)) => Err(crate::Error(
                "cross-entropy needs class labels; use soft_cross_entropy for distributions".into(),
            )),
            (_, Targets::Values(v)) => {
                ensure!(
                    v.len() == batch * outputs,
                    "{self:?}: targets hold {} values, expected {batch} × {outputs}",
                    v.len()
                );
                Ok(())
            }
            (_, Targets::Classes(_)) => Err(crate::Error(format!(
                "{self:?} needs value or distribution targets, not class labels"
            ))),
        }
    }

    /// Computes the batch-mean loss, writes `∂L/∂output` into `grad` and, for classification
    /// losses, the softmax probabilities into `probs`. Targets must have passed
    /// [`Loss::check_targets`].
    pub fn evaluate(
        &self,
        outputs: usize,
        out: &[f32],
        targets: &Targets,
        probs: &mut [f32],
        grad: &mut [f32],
    ) -> f32 {
        match (*self, *targets) {
            (Loss::Mse, Targets::Values(t)) => mse_loss(out, t, grad),
            (Loss::CrossEntropy, Targets::Classes(labels)) => {
                softmax_cross_entropy(outputs, out, labels, probs, grad)
            }
            (Loss::SoftCrossEntropy, Targets::Values(q)) => {
                soft_cross_entropy(outputs, out, q, probs, grad)
            }
            (Loss::JsEntropy { lambda1, lambda2 }, Targets::Values(q)) => {
                js_entropy_loss(outputs, lambda1, lambda2, out, q, probs, grad)
            }
            (Loss::Kl, Targets::Values(q)) => kl_divergence(outputs, out, q, probs, grad),
            (loss, _) => unreachable!("{loss:?}: targets were not checked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[0.4, 0.1, 0.4]), 0);
        assert_eq!(argmax(&[-3.0]), 0);
    }

    #[test]
    fn class_of_a_distribution_target_is_its_argmax() {
        let targets = TargetBatch::Values(vec![0.2, 0.5, 0.3, 0.6, 0.1, 0.3]);
        assert_eq!(targets.class_of(0, 3), 1);
        assert_eq!(targets.class_of(1, 3), 0);
        assert_eq!(TargetBatch::Classes(vec![2, 0]).class_of(0, 3), 2);
    }
}
