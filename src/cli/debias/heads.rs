//! The factorised model's heads on a frozen trunk (research notes §1.7: Steps 2–3 train only
//! the redshift heads): the trunk's features are computed once, in evaluation mode, and the
//! heads train on them in a model whose trunk is a `Flatten` of those features. Head weights
//! move in and out through [`Model::head_range`], so the trunk's parameters are never touched.

use crate::dims::Dims;
use crate::layers::{Flatten, Mode};
use crate::model::Model;
use crate::presets::factorised_heads;
use crate::redshift::estimates::argmax_bin;
use crate::redshift::lin2022::{mixture_pdfs, FactorisedTargets};
use crate::redshift::ZBinning;
use crate::sequential::Sequential;
use crate::train::{predict, Dataset, Inputs, TargetData};

/// Samples run through the trunk at a time.
const CHUNK: usize = 256;

/// The trunk's outputs, `[n, width]`.
#[derive(Clone, Debug)]
pub struct Features {
    pub width: usize,
    pub values: Vec<f32>,
}

impl Features {
    /// The features of the samples `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Features {
        let w = self.width;
        let values = indices
            .iter()
            .flat_map(|&i| self.values[i * w..(i + 1) * w].iter().copied())
            .collect();
        Features { width: w, values }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.values.len() / self.width.max(1)
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A dataset of these features with `targets` (one set per head).
    pub fn dataset(&self, targets: Vec<TargetData>) -> Result<Dataset, String> {
        let data = Dataset {
            sample: Dims::Flat(self.width),
            inputs: Inputs::Memory(self.values.clone()),
            n_extra: 0,
            extra: Vec::new(),
            targets,
        };
        data.validate().map_err(|e| e.to_string())?;
        Ok(data)
    }
}

/// The trunk's output for every sample of `data`, in evaluation mode (dropout off, batch
/// normalisation on its running statistics), read `CHUNK` samples at a time.
pub fn trunk_features(model: &mut Model, data: &Dataset) -> Result<Features, String> {
    let width = match model.trunk().out_dims() {
        Dims::Flat(w) => w,
        other => return Err(format!("the trunk outputs {other}, not a feature vector")),
    };
    let (s, e, n) = (data.sample.size(), data.n_extra, data.len());
    let mut values = Vec::with_capacity(n * width);
    let mut x = Vec::new();
    for first in (0..n).step_by(CHUNK) {
        let b = CHUNK.min(n - first);
        x.resize(b * s, 0.0);
        match &data.inputs {
            Inputs::Memory(all) => x.copy_from_slice(&all[first * s..(first + b) * s]),
            Inputs::Source { source, rows } => {
                for (slot, &row) in x.chunks_exact_mut(s).zip(&rows[first..first + b]) {
                    source.read(row, slot).map_err(|e| e.to_string())?;
                }
            }
        }
        let extra = &data.extra[first * e..(first + b) * e];
        model
            .forward(&x, extra, b, Mode::Eval)
            .map_err(|e| e.to_string())?;
        values.extend_from_slice(model.trunk().output(b));
    }
    Ok(Features { width, values })
}

/// The heads of the factorised model `full` on its trunk's features: a model whose trunk is a
/// `Flatten` (no parameters), with every head's weights copied from `full` and the magnitude
/// head (head 0) frozen, since Steps 2–3 train the redshift heads only (§1.7).
pub fn head_model(full: &Model) -> Result<Model, String> {
    let heads = full.heads();
    if heads.len() < 2 {
        return Err("the factorised model needs a magnitude head and redshift heads".into());
    }
    let (outputs, bins) = (heads[0].outputs(), heads[1].outputs());
    let input = full.trunk().out_dims();
    let mut trunk = Sequential::new(input);
    trunk.push_with(Flatten::new).map_err(|e| e.to_string())?;
    let new_heads = factorised_heads(input, outputs, bins).map_err(|e| e.to_string())?;
    let mut model = Model::new(trunk, new_heads, 0, full.seed()).map_err(|e| e.to_string())?;
    for h in 0..model.heads().len() {
        let (to, from) = (model.head_range(h), full.head_range(h));
        if to.len() != from.len() {
            return Err(format!(
                "head {h}: {} parameters in the factorised model, {} on the features",
                from.len(),
                to.len()
            ));
        }
        model.params_mut()[to].copy_from_slice(&full.params()[from]);
    }
    model.set_head_frozen(0, true);
    Ok(model)
}

/// Copies the heads of `heads` (made by [`head_model`]) back into `full`.
pub fn copy_heads_back(heads: &Model, full: &mut Model) {
    for h in 0..heads.heads().len() {
        let (from, to) = (heads.head_range(h), full.head_range(h));
        full.params_mut()[to].copy_from_slice(&heads.params()[from]);
    }
}

/// The targets of the factorised output as one target set per head: the magnitude head's,
/// then redshift head k's (the `bins` values of `redshift` at `[i][k · bins ..]`).
pub fn head_targets(t: &FactorisedTargets, outputs: usize, bins: usize) -> Vec<TargetData> {
    let mut sets = vec![TargetData::Values {
        width: outputs,
        values: t.magnitude.clone(),
    }];
    for k in 0..outputs {
        let values = t
            .redshift
            .chunks_exact(outputs * bins)
            .flat_map(|object| object[k * bins..(k + 1) * bins].iter().copied())
            .collect();
        sets.push(TargetData::Values {
            width: bins,
            values,
        });
    }
    sets
}

/// The mode of the mixture PDF (§1.5, §1.6) for every sample of `features` under the heads of
/// `heads`, over `binning` (the base bins, or the extended ones of Step 3).
pub fn estimates(
    heads: &mut Model,
    features: &Features,
    binning: &ZBinning,
) -> Result<Vec<f64>, String> {
    let outputs = heads.heads()[0].outputs();
    let bins = binning.bins();
    let probs = predict(heads, &features.values, &[], CHUNK).map_err(|e| e.to_string())?;
    let n = features.len();
    // Interleave the heads' [n, bins] outputs into [n, m · bins] for the mixture.
    let mut stacked = vec![0.0; n * outputs * bins];
    for (k, head) in probs[1..].iter().enumerate() {
        for (i, row) in head.chunks_exact(bins).enumerate() {
            let at = (i * outputs + k) * bins;
            stacked[at..at + bins].copy_from_slice(row);
        }
    }
    let pdfs = mixture_pdfs(&stacked, &probs[0], outputs, bins)?;
    pdfs.chunks_exact(bins)
        .map(|pdf| argmax_bin(binning, pdf).map(|j| binning.center(j)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A factorised model on 3 features whose heads ignore their input: zero weights, and the
    /// biases `magnitude` (head 0) and `redshift[k]` (head k + 1).
    fn constant_heads(magnitude: [f32; 2], redshift: [[f32; 4]; 2]) -> Model {
        let mut trunk = Sequential::new(Dims::Flat(3));
        trunk.push_with(Flatten::new).unwrap();
        let heads = factorised_heads(Dims::Flat(3), 2, 4).unwrap();
        let mut model = Model::new(trunk, heads, 0, 1).unwrap();
        let biases: [&[f32]; 3] = [&magnitude, &redshift[0], &redshift[1]];
        for (h, bias) in biases.iter().enumerate() {
            let range = model.head_range(h);
            let params = &mut model.params_mut()[range];
            params.fill(0.0);
            let at = params.len() - bias.len();
            params[at..].copy_from_slice(bias);
        }
        model
    }

    #[test]
    fn estimates_are_the_mode_of_the_mixture_of_the_right_heads() {
        let binning = ZBinning::new(0.0, 0.4, 4).unwrap();
        let features = Features {
            width: 3,
            values: vec![0.1, -0.2, 0.3, 1.0, 2.0, -1.0],
        };
        // Head z0 peaks in bin 0, head z1 in bin 2; the magnitude head weighs them 1 : 3.
        let peaks = [[8.0, 0.0, 0.0, 0.0], [0.0, 0.0, 8.0, 0.0]];
        let full = constant_heads([0.0, 3f32.ln()], peaks);
        let mut heads = head_model(&full).unwrap();
        let z = estimates(&mut heads, &features, &binning).unwrap();
        assert_eq!(z, vec![binning.center(2); 2]);
        // Weighing them 3 : 1 moves the mode to head z0's peak.
        let full = constant_heads([3f32.ln(), 0.0], peaks);
        let mut heads = head_model(&full).unwrap();
        let z = estimates(&mut heads, &features, &binning).unwrap();
        assert_eq!(z, vec![binning.center(0); 2]);
    }

    #[test]
    fn head_targets_split_the_redshift_targets_per_head() {
        // Two objects, two heads of two bins: object i, head k at redshift[i][2k..2k + 2].
        let t = FactorisedTargets {
            magnitude: vec![1.0, 0.0, 0.5, 0.5],
            redshift: vec![1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 0.25, 0.75],
        };
        let sets = head_targets(&t, 2, 2);
        let values = |s: &TargetData| match s {
            TargetData::Values { values, .. } => values.clone(),
            TargetData::Classes(_) => panic!("values expected"),
        };
        assert_eq!(values(&sets[0]), t.magnitude);
        assert_eq!(values(&sets[1]), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(values(&sets[2]), vec![0.5, 0.5, 0.25, 0.75]);
    }
}
