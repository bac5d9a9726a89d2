//! Per-sample activation shapes. The batch dimension is never part of [`Dims`]: every buffer
//! holds `batch × dims.size()` floats, channels last.

use std::fmt;

/// The shape of one sample's activations, channels last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dims {
    /// A feature vector `[features]` (dense layers).
    Flat(usize),
    /// A sequence `[len, ch]` (1D convolutions, spectra).
    Seq { len: usize, ch: usize },
    /// An image `[h, w, ch]` (2D convolutions, multi-band images).
    Image { h: usize, w: usize, ch: usize },
}

impl Dims {
    /// Number of floats per sample.
    pub fn size(&self) -> usize {
        match *self {
            Dims::Flat(n) => n,
            Dims::Seq { len, ch } => len * ch,
            Dims::Image { h, w, ch } => h * w * ch,
        }
    }

    /// Number of channels (the last axis); a flat vector has `features` channels.
    pub fn channels(&self) -> usize {
        match *self {
            Dims::Flat(n) => n,
            Dims::Seq { ch, .. } | Dims::Image { ch, .. } => ch,
        }
    }

    /// Number of positions per sample (`len`, `h·w`, or 1 for a flat vector).
    pub fn positions(&self) -> usize {
        self.size() / self.channels().max(1)
    }
}

/// The multi-index of element `flat` of a C-order array of `shape` (`[]` for a scalar).
pub fn unravel_index(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &d) in index.iter_mut().zip(shape).rev() {
        *i = flat % d.max(1);
        flat /= d.max(1);
    }
    index
}

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Dims::Flat(n) => write!(f, "[{n}]"),
            Dims::Seq { len, ch } => write!(f, "[len {len}, ch {ch}]"),
            Dims::Image { h, w, ch } => write!(f, "[h {h}, w {w}, ch {ch}]"),
        }
    }
}
