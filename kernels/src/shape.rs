//! Shape arithmetic shared by convolution and pooling, and the error every shape check returns.

use std::fmt;

/// An impossible or inconsistent shape, with a message naming the field and the values found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShapeError {}

/// Returns `Err(ShapeError)` with a formatted message when `cond` is false.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($crate::shape::ShapeError(format!($($msg)+)));
        }
    };
}
pub(crate) use ensure;

/// Output length of a sliding window along one axis:
/// `⌊(len + pad_before + pad_after − dilation·(kernel − 1) − 1) / stride⌋ + 1`.
/// `None` when the (dilated) window is larger than the padded input or a parameter is zero.
pub fn window_out_len(
    len: usize,
    kernel: usize,
    stride: usize,
    pad_before: usize,
    pad_after: usize,
    dilation: usize,
) -> Option<usize> {
    if kernel == 0 || stride == 0 || dilation == 0 || len == 0 {
        return None;
    }
    let padded = len + pad_before + pad_after;
    let span = dilation * (kernel - 1) + 1;
    (padded >= span).then(|| (padded - span) / stride + 1)
}

/// Padding (before, after) that TensorFlow/Keras "same" uses: output `⌈len / stride⌉`, with the
/// odd pixel of padding placed after (kernel 8, stride 1 pads 3 before and 4 after).
pub fn same_padding(len: usize, kernel: usize, stride: usize, dilation: usize) -> (usize, usize) {
    let out = len.div_ceil(stride);
    let span = dilation * (kernel - 1) + 1;
    let total = ((out - 1) * stride + span).saturating_sub(len);
    (total / 2, total - total / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_lengths() {
        assert_eq!(window_out_len(1780, 8, 1, 3, 4, 1), Some(1780));
        assert_eq!(window_out_len(1780, 3, 2, 0, 0, 1), Some(889));
        assert_eq!(window_out_len(44, 5, 1, 0, 0, 1), Some(40));
        assert_eq!(window_out_len(4, 5, 1, 0, 0, 1), None);
        assert_eq!(window_out_len(10, 3, 1, 0, 0, 5), None);
        assert_eq!(window_out_len(10, 3, 0, 0, 0, 1), None);
    }

    #[test]
    fn keras_same_padding_for_even_kernel() {
        assert_eq!(same_padding(1780, 8, 1, 1), (3, 4));
        assert_eq!(same_padding(64, 5, 1, 1), (2, 2));
        assert_eq!(same_padding(5, 2, 1, 1), (0, 1));
        assert_eq!(same_padding(7, 3, 2, 1), (1, 1));
    }
}
