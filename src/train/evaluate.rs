//! A model in evaluation mode over many samples: the loss and accuracy on a dataset, and the
//! outputs for new inputs.

use super::batch::Batch;
use super::dataset::Dataset;
use crate::layers::Mode;
use crate::loss::argmax;
use crate::model::Model;
use crate::{ensure, Result};

/// Mean loss over `data` in evaluation mode, and each classification head's accuracy
/// (predicted class == label; for distribution targets, == the target's argmax).
pub fn evaluate(
    model: &mut Model,
    data: &Dataset,
    batch: usize,
) -> Result<(f32, Vec<Option<f32>>)> {
    let heads = model.heads().len();
    let mut buffers = Batch::new(model, data, batch)?;
    let order: Vec<usize> = (0..data.len()).collect();
    let (mut loss_sum, mut correct) = (0.0f64, vec![0usize; heads]);
    for idx in order.chunks(batch) {
        let b = idx.len();
        buffers.gather(data, idx)?;
        loss_sum += buffers.forward_and_loss(model, b, Mode::Eval)? as f64 * b as f64;
        for (h, c) in correct.iter_mut().enumerate() {
            if model.heads()[h].loss.is_classification() {
                let k = model.heads()[h].outputs();
                let probs = model.probabilities(h, b);
                *c += (0..b)
                    .filter(|&i| {
                        argmax(&probs[i * k..(i + 1) * k]) == buffers.targets[h].class_of(i, k)
                    })
                    .count();
            }
        }
    }
    let n = data.len() as f32;
    let acc = (0..heads)
        .map(|h| {
            model.heads()[h]
                .loss
                .is_classification()
                .then(|| correct[h] as f32 / n)
        })
        .collect();
    Ok(((loss_sum / data.len() as f64) as f32, acc))
}

/// Outputs of every head for every sample of `inputs` (`[n, in_dims]`), in evaluation mode:
/// probabilities for classification heads, raw values for regression heads.
pub fn predict(
    model: &mut Model,
    inputs: &[f32],
    extra: &[f32],
    batch: usize,
) -> Result<Vec<Vec<f32>>> {
    ensure!(batch > 0, "batch size must be at least 1");
    let (s, e) = (model.in_dims().size(), model.n_extra());
    ensure!(
        inputs.len().is_multiple_of(s),
        "inputs hold {} floats, not a multiple of the sample size {s}",
        inputs.len()
    );
    let n = inputs.len() / s;
    ensure!(
        extra.len() == n * e,
        "{} extra values for {n} samples × {e}",
        extra.len()
    );
    let mut out: Vec<Vec<f32>> = model
        .heads()
        .iter()
        .map(|h| Vec::with_capacity(n * h.outputs()))
        .collect();
    for start in (0..n).step_by(batch) {
        let b = batch.min(n - start);
        model.forward(
            &inputs[start * s..(start + b) * s],
            &extra[start * e..(start + b) * e],
            b,
            Mode::Eval,
        )?;
        for (h, o) in out.iter_mut().enumerate() {
            let raw = model.output(h, b);
            if model.heads()[h].loss.is_classification() {
                let k = model.heads()[h].outputs();
                let first = o.len();
                o.resize(first + raw.len(), 0.0);
                zcnn_kernels::loss::softmax_rows(k, raw, &mut o[first..]);
            } else {
                o.extend_from_slice(raw);
            }
        }
    }
    Ok(out)
}
