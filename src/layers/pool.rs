//! Pooling layers: max and average pooling in 1D and 2D, and global average pooling.

use super::{Ctx, Layer, Padding, Pass};
use crate::dims::Dims;
use crate::Result;
use zcnn_kernels::pool::{
    avgpool1d_backward, avgpool1d_forward, avgpool2d_backward, avgpool2d_forward,
    global_avgpool_backward, global_avgpool_forward, maxpool1d_backward, maxpool1d_forward,
    maxpool2d_backward, maxpool2d_forward, AvgPadding, Pool1dShape, Pool2dShape,
};

fn pool1d_shape(
    kind: &str,
    input: Dims,
    kernel: usize,
    stride: usize,
    padding: Padding,
) -> Result<Pool1dShape> {
    let Dims::Seq { len, ch } = input else {
        return Err(crate::Error(format!(
            "{kind}: needs a sequence input [len, ch], got {input}"
        )));
    };
    let (pad_left, pad_right) = padding.resolve(len, kernel.max(1), stride.max(1), 1);
    let shape = Pool1dShape {
        batch: 1,
        in_len: len,
        channels: ch,
        kernel,
        stride,
        pad_left,
        pad_right,
    };
    shape.validate()?;
    Ok(shape)
}

fn pool2d_shape(
    kind: &str,
    input: Dims,
    kernel: usize,
    stride: usize,
    padding: Padding,
) -> Result<Pool2dShape> {
    let Dims::Image { h, w, ch } = input else {
        return Err(crate::Error(format!(
            "{kind}: needs an image input [h, w, ch], got {input}"
        )));
    };
    let (pad_top, pad_bottom) = padding.resolve(h, kernel.max(1), stride.max(1), 1);
    let (pad_left, pad_right) = padding.resolve(w, kernel.max(1), stride.max(1), 1);
    let shape = Pool2dShape {
        batch: 1,
        in_h: h,
        in_w: w,
        channels: ch,
        kernel_h: kernel,
        kernel_w: kernel,
        stride_h: stride,
        stride_w: stride,
        pad_top,
        pad_bottom,
        pad_left,
        pad_right,
    };
    shape.validate()?;
    Ok(shape)
}

/// Max pooling over sequences; the backward routes each gradient to the argmax.
pub struct MaxPool1d {
    shape: Pool1dShape,
    argmax: Vec<u32>,
}

impl MaxPool1d {
    pub fn new(input: Dims, kernel: usize, stride: usize, padding: Padding) -> Result<Self> {
        Ok(MaxPool1d {
            shape: pool1d_shape("maxpool1d", input, kernel, stride, padding)?,
            argmax: Vec::new(),
        })
    }
}

impl Layer for MaxPool1d {
    fn kind(&self) -> &'static str {
        "maxpool1d"
    }
    fn out_dims(&self) -> Dims {
        Dims::Seq {
            len: self.shape.out_len(),
            ch: self.shape.channels,
        }
    }
    fn prepare(&mut self, batch: usize) {
        self.argmax.resize(batch * self.out_dims().size(), 0);
    }
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        let shape = Pool1dShape {
            batch: ctx.pass.batch,
            ..self.shape
        };
        maxpool1d_forward(&shape, x, y, &mut self.argmax[..y.len()]);
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
            let shape = Pool1dShape {
                batch: pass.batch,
                ..self.shape
            };
            maxpool1d_backward(&shape, dy, &self.argmax[..dy.len()], dx);
        }
    }
}

/// Max pooling over images; the backward routes each gradient to the argmax.
pub struct MaxPool2d {
    shape: Pool2dShape,
    argmax: Vec<u32>,
}

impl MaxPool2d {
    pub fn new(input: Dims, kernel: usize, stride: usize, padding: Padding) -> Result<Self> {
        Ok(MaxPool2d {
            shape: pool2d_shape("maxpool2d", input, kernel, stride, padding)?,
            argmax: Vec::new(),
        })
    }
}

impl Layer for MaxPool2d {
    fn kind(&self) -> &'static str {
        "maxpool2d"
    }
    fn out_dims(&self) -> Dims {
        Dims::Image {
            h: self.shape.out_h(),
            w: self.shape.out_w(),
            ch: self.shape.channels,
        }
    }
    fn prepare(&mut self, batch: usize) {
        self.argmax.resize(batch * self.out_dims().size(), 0);
    }
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        let shape = Pool2dShape {
            batch: ctx.pass.batch,
            ..self.shape
        };
        maxpool2d_forward(&shape, x, y, &mut self.argmax[..y.len()]);
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
            let shape = Pool2dShape {
                batch: pass.batch,
                ..self.shape
            };
            maxpool2d_backward(&shape, dy, &self.argmax[..dy.len()], dx);
        }
    }
}

/// Average pooling over sequences. With [`Padding::Same`] it averages the valid elements only
/// (TensorFlow "SAME"); with explicit padding the padded zeros count (PyTorch's default).
pub struct AvgPool1d {
    shape: Pool1dShape,
    mode: AvgPadding,
}

impl AvgPool1d {
    pub fn new(input: Dims, kernel: usize, stride: usize, padding: Padding) -> Result<Self> {
        let mode = if padding == Padding::Same {
            AvgPadding::ExcludePad
        } else {
            AvgPadding::IncludePad
        };
        Ok(AvgPool1d {
            shape: pool1d_shape("avgpool1d", input, kernel, stride, padding)?,
            mode,
        })
    }
}

impl Layer for AvgPool1d {
    fn kind(&self) -> &'static str {
        "avgpool1d"
    }
    fn out_dims(&self) -> Dims {
        Dims::Seq {
            len: self.shape.out_len(),
            ch: self.shape.channels,
        }
    }
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        avgpool1d_forward(
            &Pool1dShape {
                batch: ctx.pass.batch,
                ..self.shape
            },
            self.mode,
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
            avgpool1d_backward(
                &Pool1dShape {
                    batch: pass.batch,
                    ..self.shape
                },
                self.mode,
                dy,
                dx,
            );
        }
    }
}

/// Average pooling over images; [`Padding::Same`] gives TensorFlow "SAME" semantics (the
/// average runs over valid, non-padded pixels only), as the pasquet network needs.
pub struct AvgPool2d {
    shape: Pool2dShape,
    mode: AvgPadding,
}

impl AvgPool2d {
    pub fn new(input: Dims, kernel: usize, stride: usize, padding: Padding) -> Result<Self> {
        let mode = if padding == Padding::Same {
            AvgPadding::ExcludePad
        } else {
            AvgPadding::IncludePad
        };
        Ok(AvgPool2d {
            shape: pool2d_shape("avgpool2d", input, kernel, stride, padding)?,
            mode,
        })
    }
}

impl Layer for AvgPool2d {
    fn kind(&self) -> &'static str {
        "avgpool2d"
    }
    fn out_dims(&self) -> Dims {
        Dims::Image {
            h: self.shape.out_h(),
            w: self.shape.out_w(),
            ch: self.shape.channels,
        }
    }
    fn forward(&mut self, ctx: &mut Ctx, _p: &[f32], x: &[f32], y: &mut [f32], _s: &mut [f32]) {
        avgpool2d_forward(
            &Pool2dShape {
                batch: ctx.pass.batch,
                ..self.shape
            },
            self.mode,
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
            avgpool2d_backward(
                &Pool2dShape {
                    batch: pass.batch,
                    ..self.shape
                },
                self.mode,
                dy,
                dx,
            );
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
