//! How a convolution or pooling window pads its input.

use zcnn_kernels::shape::same_padding;

/// Padding of one spatial axis of a window operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding ("valid").
    Valid,
    /// TensorFlow/Keras "same": output `⌈len / stride⌉`, the odd pixel of padding after.
    Same,
    /// Explicit padding before and after.
    Explicit(usize, usize),
}

impl Padding {
    /// Padding (before, after) of an axis of length `len` for this window.
    pub fn resolve(
        self,
        len: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
    ) -> (usize, usize) {
        match self {
            Padding::Valid => (0, 0),
            Padding::Same => same_padding(len, kernel, stride, dilation),
            Padding::Explicit(before, after) => (before, after),
        }
    }
}
