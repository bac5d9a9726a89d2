//! A whole model as a PyTorch `state_dict`: [`Model::export_torch`] and
//! [`Model::import_torch`] (the naming scheme is in the [module documentation](super)).

use super::chain::{export_chain, import_chain};
use super::layout::FeatureOrder;
use super::tensor::{TensorData, TensorSink, TensorSource, TorchTensor};
use crate::dims::unravel_index;
use crate::model::Model;
use crate::{ensure, Error, Result};
use std::collections::BTreeMap;

impl Model {
    /// Every tensor (parameters and batch-norm state) in PyTorch's layout and `state_dict`
    /// names: one `nn.Sequential` (`"{i}.weight"`) for a single head, `"trunk.{i}.…"` and
    /// `"heads.{name}.{j}.…"` for several (see [`crate::torch`]).
    pub fn export_torch(&self) -> Vec<TorchTensor> {
        let mut out = Vec::new();
        let mut sink = TensorSink::new(&mut out);
        let params = self.params();
        let trunk_params = &params[self.trunk_range()];
        let plain = FeatureOrder::Plain;
        if let [head] = self.heads() {
            let trunk_len = self.trunk().layers().len();
            let order = export_chain(self.trunk(), trunk_params, 0, plain, &mut sink);
            let head_params = &params[self.head_range(0)];
            export_chain(&head.net, head_params, trunk_len, order, &mut sink);
        } else {
            let mut trunk_sink = sink.within("trunk");
            let order = export_chain(self.trunk(), trunk_params, 0, plain, &mut trunk_sink);
            for (h, head) in self.heads().iter().enumerate() {
                let mut sink = sink.within(&format!("heads.{}", head.name));
                export_chain(&head.net, &params[self.head_range(h)], 0, order, &mut sink);
            }
        }
        out
    }

    /// Loads tensors named and laid out as [`Model::export_torch`] writes them (e.g. a
    /// PyTorch `state_dict`). All or nothing: on error the model is unchanged, and the message
    /// names the missing or unexpected tensors, the expected and found shape or dtype, or the
    /// first non-finite value.
    pub fn import_torch(&mut self, tensors: Vec<TorchTensor>) -> Result<()> {
        let mut given = BTreeMap::new();
        for t in tensors {
            if let Some(dup) = given.insert(t.name.clone(), t) {
                return Err(Error(format!("tensor '{}' is given twice", dup.name)));
            }
        }
        let current = self.export_torch();
        check_tensors(&current, &given)?;
        if let Err(e) = self.apply_tensors(&given) {
            // A layer refused a value the checks above let through: put the model back.
            let before = current.into_iter().map(|t| (t.name.clone(), t)).collect();
            self.apply_tensors(&before)
                .expect("the model's own tensors load back");
            return Err(e);
        }
        Ok(())
    }

    /// Loads every chain's tensors (checked by [`check_tensors`] first).
    fn apply_tensors(&mut self, tensors: &BTreeMap<String, TorchTensor>) -> Result<()> {
        let source = TensorSource::new(tensors);
        let trunk_range = self.trunk_range();
        let head_ranges: Vec<_> = (0..self.heads().len())
            .map(|h| self.head_range(h))
            .collect();
        let (trunk, heads, params) = self.parts_mut();
        let trunk_len = trunk.layers().len();
        let single = heads.len() == 1;
        let trunk_source = if single {
            TensorSource::new(tensors)
        } else {
            source.within("trunk")
        };
        let order = import_chain(
            trunk,
            &mut params[trunk_range],
            0,
            FeatureOrder::Plain,
            &trunk_source,
        )?;
        for (head, range) in heads.iter_mut().zip(head_ranges) {
            let (first, head_source) = if single {
                (trunk_len, TensorSource::new(tensors))
            } else {
                (0, source.within(&format!("heads.{}", head.name)))
            };
            import_chain(
                &mut head.net,
                &mut params[range],
                first,
                order,
                &head_source,
            )?;
        }
        Ok(())
    }
}

/// Checks `given` against the model's own tensors `expected`: the same names, dtypes and
/// shapes, finite floats and non-negative counters.
fn check_tensors(expected: &[TorchTensor], given: &BTreeMap<String, TorchTensor>) -> Result<()> {
    let missing: Vec<&str> = expected
        .iter()
        .filter(|t| !given.contains_key(&t.name))
        .map(|t| t.name.as_str())
        .collect();
    let known: std::collections::BTreeSet<&str> =
        expected.iter().map(|t| t.name.as_str()).collect();
    let extra: Vec<&str> = given
        .keys()
        .map(String::as_str)
        .filter(|n| !known.contains(n))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing tensors {}", name_list(&missing)));
        }
        if !extra.is_empty() {
            parts.push(format!("unexpected tensors {}", name_list(&extra)));
        }
        return Err(Error(format!(
            "the tensors do not match the model: {}",
            parts.join("; ")
        )));
    }
    for want in expected {
        let got = &given[&want.name];
        ensure!(
            got.data.dtype() == want.data.dtype(),
            "tensor '{}': expected dtype {}, found {}",
            want.name,
            want.data.dtype(),
            got.data.dtype()
        );
        ensure!(
            got.shape == want.shape && got.data.len() == want.data.len(),
            "tensor '{}': expected shape {:?}, found {:?}",
            want.name,
            want.shape,
            got.shape
        );
        match &got.data {
            TensorData::F32(v) => {
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(Error(format!(
                        "tensor '{}': value {} at index {:?} is not finite",
                        want.name,
                        v[i],
                        unravel_index(i, &got.shape)
                    )));
                }
            }
            TensorData::I64(v) => {
                if let Some(i) = v.iter().position(|&x| x < 0) {
                    return Err(Error(format!(
                        "tensor '{}': counter {} at index {:?} is negative",
                        want.name,
                        v[i],
                        unravel_index(i, &got.shape)
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `'a', 'b', 'c'` — at most ten names, then how many more.
fn name_list(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s += &format!(" and {} more", names.len() - SHOWN);
    }
    s
}
