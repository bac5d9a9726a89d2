//! Named tensors as in a PyTorch `state_dict`, and the sink and source layers write to and read
//! from.

use crate::{Error, Result};

/// One tensor in PyTorch's layout, named as in a `state_dict`.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// The values of a tensor: `float32` parameters and statistics, or `int64` counters.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl TensorData {
    /// The dtype as safetensors spells it (`"F32"`, `"I64"`).
    pub fn dtype(&self) -> &'static str {
        match self {
            TensorData::F32(_) => "F32",
            TensorData::I64(_) => "I64",
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where layers write their tensors: names are relative to the layer (`"weight"`), and the
/// sink adds the layer's prefix (`"3."`, `"trunk.3."`, `"5.branches.1.0."`).
pub struct TensorSink<'a> {
    out: &'a mut Vec<TorchTensor>,
    prefix: String,
}

impl<'a> TensorSink<'a> {
    /// A sink appending to `out`, with no prefix.
    pub fn new(out: &'a mut Vec<TorchTensor>) -> Self {
        TensorSink {
            out,
            prefix: String::new(),
        }
    }

    /// The same sink for a sub-module named `name` (`"{prefix}{name}."`).
    pub fn within(&mut self, name: &str) -> TensorSink<'_> {
        TensorSink {
            out: &mut *self.out,
            prefix: format!("{}{name}.", self.prefix),
        }
    }

    /// Adds a `float32` tensor.
    pub fn f32(&mut self, name: &str, shape: Vec<usize>, data: Vec<f32>) {
        self.push(name, shape, TensorData::F32(data));
    }

    /// Adds an `int64` tensor.
    pub fn i64(&mut self, name: &str, shape: Vec<usize>, data: Vec<i64>) {
        self.push(name, shape, TensorData::I64(data));
    }

    fn push(&mut self, name: &str, shape: Vec<usize>, data: TensorData) {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len(), "{name}");
        self.out.push(TorchTensor {
            name: format!("{}{name}", self.prefix),
            shape,
            data,
        });
    }
}

/// Where layers read their tensors from: a name-sorted set seen from inside one layer.
pub struct TensorSource<'a> {
    tensors: &'a std::collections::BTreeMap<String, TorchTensor>,
    prefix: String,
}

impl<'a> TensorSource<'a> {
    /// A source over `tensors` (keyed by full name), with no prefix.
    pub fn new(tensors: &'a std::collections::BTreeMap<String, TorchTensor>) -> Self {
        TensorSource {
            tensors,
            prefix: String::new(),
        }
    }

    /// The same source seen from a sub-module named `name`.
    pub fn within(&self, name: &str) -> TensorSource<'a> {
        TensorSource {
            tensors: self.tensors,
            prefix: format!("{}{name}.", self.prefix),
        }
    }

    /// The `float32` tensor `name` (relative), checked against `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<&'a [f32]> {
        match &self.get(name, shape)?.data {
            TensorData::F32(v) => Ok(v),
            other => Err(self.dtype_error(name, "F32", other)),
        }
    }

    /// The `int64` tensor `name` (relative), checked against `shape`.
    pub fn i64(&self, name: &str, shape: &[usize]) -> Result<&'a [i64]> {
        match &self.get(name, shape)?.data {
            TensorData::I64(v) => Ok(v),
            other => Err(self.dtype_error(name, "I64", other)),
        }
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<&'a TorchTensor> {
        let full = format!("{}{name}", self.prefix);
        let t = self
            .tensors
            .get(&full)
            .ok_or_else(|| Error(format!("missing tensor '{full}'")))?;
        if t.shape != shape {
            return Err(Error(format!(
                "tensor '{full}': expected shape {shape:?}, found {:?}",
                t.shape
            )));
        }
        Ok(t)
    }

    fn dtype_error(&self, name: &str, expected: &str, found: &TensorData) -> Error {
        Error(format!(
            "tensor '{}{name}': expected dtype {expected}, found {}",
            self.prefix,
            found.dtype()
        ))
    }
}
