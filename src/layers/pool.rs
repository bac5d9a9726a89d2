//! Pooling layers: max and average pooling over sequences or images, and global average
//! pooling. A sequence `[len, ch]` is pooled as an image of height 1, as the kernels do.

use super::{Ctx, Layer, Padding, Pass};
use crate::dims::Dims;
use crate::Result;
use zcnn_kernels::pool::{
    avgpool2d_backward, avgpool2d_forward, global_avgpool_backward, global_avgpool_forward,
    maxpool2d_backward, maxpool2d_forward, maxpool2d_forward_values, AvgPadding, Pool2dShape,
};

/// A pooling window over a sequence or an image: its 2D shape (height 1 for a sequence) and the
/// per-sample output dims.
#[derive(Debug, Clone, Copy)]
struct Window {
    shape: Pool2dShape,
    out: Dims,
}

impl Window {
    /// A `kernel`-wide window (square on images) with `stride` and `padding` on each axis.
    fn new(
        kind: &str,
        input: Dims,
        kernel: usize,
        stride: usize,
        padding: Padding,
    ) -> Result<Self> {
        let (k, s) = (kernel.max(1), stride.max(1));
        // A sequence is an image of height 1 with a window of height 1 and no vertical padding.
        let (h, w, ch, kernel_h, stride_h, (pad_top, pad_bottom)) = match input {
            Dims::Seq { len, ch } => (1, len, ch, 1, 1, (0, 0)),
            Dims::Image { h, w, ch } => (h, w, ch, kernel, stride, padding.resolve(h, k, s, 1)),
            Dims::Flat(_) => {
                return Err(crate::Error(format!(
                    "{kind}: needs a sequence [len, ch] or image [h, w, ch] input, got {input}"
                )))
            }
        };
        let (pad_left, pad_right) = padding.resolve(w, k, s, 1);
        let shape = Pool2dShape {
            batch: 1,
            in_h: h,
            in_w: w,
            channels: ch,
            kernel_h,
            kernel_w: kernel,
            stride_h,
            stride_w: stride,
            pad_top,
            pad_bottom,
            pad_left,
            pad_right,
        };
        shape
            .validate()
            .map_err(|e| crate::Error(format!("{kind}: {e}")))?;
        let out = match input {
            Dims::Seq { .. } => Dims::Seq {
                len: shape.out_w(),
                ch,
            },
            _ => Dims::Image {
                h: shape.out_h(),
                w: shape.out_w(),
                ch,
            },
        };
        Ok(Window { shape, out })
    }

    fn at_batch(&self, batch: usize) -> Pool2dShape {
        Pool2dShape {
            batch,
            ..self.shape
        }
    }

    fn is_1d(&self) -> bool {
        matches!(self.out, Dims::Seq { .. })
    }
}

/// Max pooling; the backward routes each gradient to the position of the maximum.
pub struct MaxPool {
    window: Window,
    argmax: Vec<u32>,
}

impl MaxPool {
    /// Max pooling of a sequence or an image (padding never wins the maximum).
    pub fn new(input: Dims, kernel: usize, stride: usize, padding: Padding) -> Result<Self> {
        Ok(MaxPool {
            window: Window::new("maxpool", input, kernel, stride, padding)?,
            argmax: Vec::new(),
        })
    }
}

impl Layer for MaxPool {
    fn kind(&self) -> &'static str {
        if self.window.is_1d() {
            "maxpool1d"
        } else {
            "maxpool2d"
        }
    }
    fn out_dims(&self) -> Dims {
        self.window.out
    }
    fn prepare(&mut self, batch: usize) {
        self.argmax.resize(batch * self.window.out.size(), 0);
    }
    /// A fused inference pass, which no backward follows, skips the argmax.
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        let shape = self.window.at_batch(ctx.pass.batch);
        if ctx.fuse {
            maxpool2d_forward_values(&shape, x, y);
        } else {
            maxpool2d_forward(&shape, x, y, &mut self.argmax[..y.len()]);
        }
    }
    fn backward(
        &mut self,
        pass: Pass,
        _p: &[f32],
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _g: &mut [f32],
        _s: &mut [f32],
    ) {
        if let Some(dx) = dx {
            maxpool2d_backward(
                &self.window.at_batch(pass.batch),
                dy,
                &self.argmax[..dy.len()],
                dx,
            );
        }
    }
}

/// Average pooling. With [`Padding::Same`] it averages the valid elements only (TensorFlow
/// "SAME", as the pasquet network needs); with explicit padding the padded zeros count
/// (PyTorch's default).
pub struct AvgPool {
    window: Window,
    mode: AvgPadding,
}

impl AvgPool {
    /// Average pooling of a sequence or an image.
    pub fn new(input: Dims, kernel: usize, stride: usize, padding: Padding) -> Result<Self> {
        let mode = if padding == Padding::Same {
            AvgPadding::ExcludePad
        } else {
            AvgPadding::IncludePad
        };
        Ok(AvgPool {
            window: Window::new("avgpool", input, kernel, stride, padding)?,
            mode,
        })
    }
}

impl Layer for AvgPool {
    fn kind(&self) -> &'static str {
        if self.window.is_1d() {
            "avgpool1d"
        } else {
            "avgpool2d"
        }
    }
    fn out_dims(&self) -> Dims {
        self.window.out
    }
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        avgpool2d_forward(&self.window.at_batch(ctx.pass.batch), self.mode, x, y);
    }
    fn backward(
        &mut self,
        pass: Pass,
        _p: &[f32],
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _g: &mut [f32],
        _s: &mut [f32],
    ) {
        if let Some(dx) = dx {
            avgpool2d_backward(&self.window.at_batch(pass.batch), self.mode, dy, dx);
        }
    }
}

/// Mean over all positions of a sequence or image: `[positions, ch] → [ch]`.
pub struct GlobalAvgPool {
    input: Dims,
}

impl GlobalAvgPool {
    pub fn new(input: Dims) -> Result<Self> {
        crate::ensure!(
            !matches!(input, Dims::Flat(_)),
            "global_avgpool: needs a sequence or image input, got {input}"
        );
        Ok(GlobalAvgPool { input })
    }
}

impl Layer for GlobalAvgPool {
    fn kind(&self) -> &'static str {
        "global_avgpool"
    }
    fn out_dims(&self) -> Dims {
        Dims::Flat(self.input.channels())
    }
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        global_avgpool_forward(
            ctx.pass.batch,
            self.input.positions(),
            self.input.channels(),
            x,
            y,
        );
    }
    fn backward(
        &mut self,
        pass: Pass,
        _p: &[f32],
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _g: &mut [f32],
        _s: &mut [f32],
    ) {
        if let Some(dx) = dx {
            global_avgpool_backward(
                pass.batch,
                self.input.positions(),
                self.input.channels(),
                dy,
                dx,
            );
        }
    }
}
