//! Fast path: GEMMs ([`crate::gemm::sgemm`], packing into each chunk's scratch) over strided
//! views of zero-padded images, rayon over batch chunks.
//!
//! **Stride 1 ("wide" path).** Copy one sample into a zero-padded image `P` of `Hp` rows of
//! `Wp` pixels. Number the outputs over the *full* padded width, `p = oh·Wp + ow`; then the
//! input pixel read by output `p` and tap `(kh, kw)` is `p + kh·dh·Wp + kw·dw`, so for a kernel
//! row `kh` the matrix `A_kh[p, (kw, ci)] = P[(p + kh·dh·Wp + kw)·Cin + ci]` (dilation_w = 1) is
//! a strided view of `P` (row stride `Cin`, `KW·Cin` contiguous columns) and
//!
//! ```text
//! Y_wide = Σ_kh A_kh · W_kh          W_kh = w[kh] seen as a (KW·Cin) × Cout matrix
//! ```
//!
//! is `KH` GEMMs with no im2col copy. Columns `ow ≥ out_w` of `Y_wide` wrap into the next row
//! and are garbage; the valid ones are copied to `y` with the bias. With dilation_w > 1 the
//! taps of a kernel row are not contiguous and each `(kh, kw)` is its own GEMM with `K = Cin`.
//!
//! The backward pass uses the same views. With `dy` copied into a zero-padded image `D` (border
//! `(KH−1)·dh` rows and `(KW−1)·dw` columns, row width `R = Wp + (KW−1)·dw`):
//!
//! ```text
//! dX_wide = Σ_kh' D_kh' · Wflip_kh'     (full correlation with Wflip[kh',kw'] = w[KH−1−kh', KW−1−kw']ᵀ)
//! dW_kh  += A_khᵀ · dY_wide             (A over the padded input stored with the same row width R)
//! ```
//!
//! where `dY_wide` is `D` itself seen from its first interior pixel: its garbage columns are the
//! zero border, so they add nothing to `dW`. No col2im scatter is needed.
//!
//! **Stride > 1 ("row-wise" path).** One GEMM per output row and tap group (`A` rows step by
//! `stride_w·Cin`); `dx` accumulates into a padded image with one GEMM per tap, whose output rows
//! never overlap. Simpler and slower; no preset uses a strided convolution.
//!
//! **1×1, stride 1, no padding ("pointwise" path).** `Y = X·W` over all pixels of a chunk.
//!
//! Per-sample outputs are written by one chunk each; `dw`/`db` are summed per chunk into scratch
//! partials and reduced in chunk order, so results do not depend on the thread count.

use std::ops::Range;

use super::Conv2dShape;
use crate::epilogue::Epilogue;
use crate::gemm::pack_len;
use crate::parallel::{chunk_count, chunk_range, reduce_partials_into};

/// The algorithm chosen for a shape.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    Pointwise,
    Wide,
    RowWise,
}

/// Sizes derived from a shape that every path uses.
struct Geometry {
    path: Path,
    out_h: usize,
    out_w: usize,
    /// Padded input height `in_h + pad_top + pad_bottom`.
    hp: usize,
    /// Padded input width `in_w + pad_left + pad_right`.
    wp: usize,
    /// Row width of the backward images: `Wp + (KW−1)·dw = out_w + 2·(KW−1)·dw` at stride 1.
    back_row: usize,
    /// Height of the padded `dy` image: `out_h + 2·(KH−1)·dh`.
    back_dy_h: usize,
    /// Kernel columns handled by one GEMM: all of them when their pixels are adjacent
    /// (dilation_w = 1), else one.
    taps: usize,
}

impl Geometry {
    fn new(s: &Conv2dShape) -> Self {
        let (out_h, out_w) = (s.out_h(), s.out_w());
        let unit_stride = s.stride_h == 1 && s.stride_w == 1;
        let unpadded = s.pad_top + s.pad_bottom + s.pad_left + s.pad_right == 0;
        let path = if unit_stride && unpadded && s.kernel_h == 1 && s.kernel_w == 1 {
            Path::Pointwise
        } else if unit_stride {
            Path::Wide
        } else {
            Path::RowWise
        };
        let wp = s.in_w + s.pad_left + s.pad_right;
        Geometry {
            path,
            out_h,
            out_w,
            hp: s.in_h + s.pad_top + s.pad_bottom,
            wp,
            back_row: wp + (s.kernel_w - 1) * s.dilation_w,
            back_dy_h: out_h + 2 * (s.kernel_h - 1) * s.dilation_h,
            taps: if s.dilation_w == 1 { s.kernel_w } else { 1 },
        }
    }

    /// Rows of `Y_wide`: outputs `p = oh·Wp + ow` up to the last valid one.
    fn wide_rows(&self) -> usize {
        (self.out_h - 1) * self.wp + self.out_w
    }

    /// Rows of `dY_wide` and `dX_wide` in the backward images of row width `R`.
    fn back_dy_rows(&self) -> usize {
        (self.out_h - 1) * self.back_row + self.out_w
    }

    fn back_dx_rows(&self, s: &Conv2dShape) -> usize {
        (s.in_h - 1) * self.back_row + s.in_w
    }

    /// Per-chunk image floats of the forward pass (the GEMM pack comes after them).
    fn forward_images_len(&self, s: &Conv2dShape) -> usize {
        let padded = self.hp * self.wp * s.in_ch;
        match self.path {
            Path::Pointwise => 0,
            Path::Wide => padded + self.wide_rows() * s.out_ch,
            Path::RowWise => padded,
        }
    }

    /// Per-chunk pack floats of the forward pass: `pack_len` of its largest GEMM.
    fn forward_pack_len(&self, s: &Conv2dShape) -> usize {
        let k = self.taps * s.in_ch;
        match self.path {
            Path::Pointwise => chunk_pixel_counts(s)
                .map(|pixels| pack_len(pixels, s.in_ch, s.out_ch))
                .max()
                .unwrap_or(0),
            Path::Wide => pack_len(self.wide_rows(), k, s.out_ch),
            Path::RowWise => pack_len(self.out_w, k, s.out_ch),
        }
    }

    /// Per-chunk work floats of the forward pass: images, then the GEMM pack.
    fn forward_work_len(&self, s: &Conv2dShape) -> usize {
        self.forward_images_len(s) + self.forward_pack_len(s)
    }

    /// Per-chunk image floats of the backward pass (besides the `dw`/`db` partials and the
    /// GEMM pack).
    fn backward_images_len(&self, s: &Conv2dShape) -> usize {
        match self.path {
            Path::Pointwise => 0,
            Path::Wide => {
                self.hp * self.back_row * s.in_ch
                    + self.back_dy_h * self.back_row * s.out_ch
                    + self.back_dx_rows(s) * s.in_ch
            }
            Path::RowWise => 2 * self.hp * self.wp * s.in_ch,
        }
    }

    /// Per-chunk pack floats of the backward pass: `pack_len` of its largest GEMM (the weight
    /// gradient's or the input gradient's).
    fn backward_pack_len(&self, s: &Conv2dShape) -> usize {
        let (cin, cout) = (s.in_ch, s.out_ch);
        let m = self.taps * cin;
        match self.path {
            Path::Pointwise => chunk_pixel_counts(s)
                .map(|pixels| pack_len(pixels, cout, cin).max(pack_len(cin, pixels, cout)))
                .max()
                .unwrap_or(0),
            Path::Wide => pack_len(m, self.back_dy_rows(), cout).max(pack_len(
                self.back_dx_rows(s),
                self.taps * cout,
                cin,
            )),
            Path::RowWise => pack_len(m, self.out_w, cout).max(pack_len(self.out_w, cout, cin)),
        }
    }

    /// Per-chunk work floats of the backward pass: images, then the GEMM pack.
    fn backward_work_len(&self, s: &Conv2dShape) -> usize {
        self.backward_images_len(s) + self.backward_pack_len(s)
    }
}

/// Pixels of a batch chunk, for each chunk size `parallel::chunk_range` makes (they differ by
/// at most one sample).
fn chunk_pixel_counts(s: &Conv2dShape) -> impl Iterator<Item = usize> {
    let chunks = chunk_count(s.batch);
    let pixels = s.in_h * s.in_w;
    [s.batch / chunks, s.batch.div_ceil(chunks)]
        .into_iter()
        .filter(|&samples| samples > 0)
        .map(move |samples| samples * pixels)
}

pub(super) fn forward_scratch_len(s: &Conv2dShape) -> usize {
    chunk_count(s.batch) * Geometry::new(s).forward_work_len(s)
}

pub(super) fn backward_scratch_len(s: &Conv2dShape) -> usize {
    let g = Geometry::new(s);
    let flipped = if g.path == Path::Wide {
        s.weight_len()
    } else {
        0
    };
    let chunks = chunk_count(s.batch);
    chunks * (s.weight_len() + s.out_ch + g.backward_work_len(s)) + flipped
}

/// Forward pass (see the module documentation); overwrites `y`. `scratch` holds at least
/// `s.forward_scratch_len()` floats.
pub fn conv2d_forward(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    conv2d_forward_fused(s, x, w, &Epilogue::bias(bias), y, scratch);
}

/// [`conv2d_forward`] followed by an activation, written in one pass: `y = act(conv + bias)`
/// with the epilogue's bias and activation (see [`crate::epilogue`]); bit for bit the output of
/// [`conv2d_forward`] followed by the activation's kernel.
pub fn conv2d_forward_fused(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    s.assert_lengths(x, w, epilogue.bias, y);
    epilogue.assert_channels(s.out_ch);
    let g = Geometry::new(s);
    let work_len = g.forward_work_len(s);
    assert!(
        scratch.len() >= chunk_count(s.batch) * work_len,
        "conv2d_forward: scratch too short"
    );
    let splits = [
        Split::PerSample(s.output_sample_len()),
        Split::PerChunk(work_len),
    ];
    for_each_chunk(s.batch, [y, scratch], splits, &|chunk, [y, work]| {
        let samples = chunk_range(s.batch, chunk);
        let x = &x[samples.start * s.input_sample_len()..samples.end * s.input_sample_len()];
        let (images, pack) = work[..work_len].split_at_mut(g.forward_images_len(s));
        match g.path {
            Path::Pointwise => forward_pointwise(s, x, w, epilogue, y, pack),
            Path::Wide => forward_wide(s, &g, x, w, epilogue, y, images, pack),
            Path::RowWise => forward_rowwise(s, &g, x, w, epilogue, y, images, pack),
        }
    });
}

/// `Y = X·W`, then the epilogue in place, over all pixels of a chunk, `X` as `[pixels, Cin]`,
/// `W` as `[Cin, Cout]`.
fn forward_pointwise(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    pack: &mut [f32],
) {
    let pixels = x.len() / s.in_ch;
    gemm(
        pixels,
        s.in_ch,
        s.out_ch,
        x,
        (s.in_ch, 1),
        w,
        (s.out_ch, 1),
        0.0,
        y,
        s.out_ch,
        pack,
    );
    epilogue.apply_in_place(s.out_ch, y);
}

/// Stride-1 forward of the samples of one chunk: `Y_wide = Σ_kh A_kh·W_kh`, then the valid
/// columns go to `y` through the epilogue (bias, activation).
#[allow(clippy::too_many_arguments)]
fn forward_wide(
    s: &Conv2dShape,
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    work: &mut [f32],
    pack: &mut [f32],
) {
    let (padded, y_wide) = work.split_at_mut(g.hp * g.wp * s.in_ch);
    let out_row = g.out_w * s.out_ch;
    for (x, y) in x
        .chunks_exact(s.input_sample_len())
        .zip(y.chunks_exact_mut(s.output_sample_len()))
    {
        pad_image(
            x,
            s.in_h,
            s.in_w,
            s.in_ch,
            padded,
            (s.pad_top, s.pad_left),
            g.wp,
        );
        let rows = g.wide_rows();
        accumulate_taps(s, g, padded, g.wp, (0, 1), rows, w, y_wide, pack);
        for (oh, y_row) in y.chunks_exact_mut(out_row).enumerate() {
            let start = oh * g.wp * s.out_ch;
            epilogue.apply(s.out_ch, &y_wide[start..start + out_row], y_row);
        }
    }
}

/// Strided forward of one chunk: for each output row, `y_row = Σ_taps A·W_tap` with `A` rows
/// `stride_w` pixels apart in the padded image, then the epilogue in place.
#[allow(clippy::too_many_arguments)]
fn forward_rowwise(
    s: &Conv2dShape,
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    padded: &mut [f32],
    pack: &mut [f32],
) {
    let out_row = g.out_w * s.out_ch;
    for (x, y) in x
        .chunks_exact(s.input_sample_len())
        .zip(y.chunks_exact_mut(s.output_sample_len()))
    {
        pad_image(
            x,
            s.in_h,
            s.in_w,
            s.in_ch,
            padded,
            (s.pad_top, s.pad_left),
            g.wp,
        );
        for (oh, y_row) in y.chunks_exact_mut(out_row).enumerate() {
            let first = oh * s.stride_h * g.wp;
            let window = (first, s.stride_w);
            accumulate_taps(s, g, padded, g.wp, window, g.out_w, w, y_row, pack);
            epilogue.apply_in_place(s.out_ch, y_row);
        }
    }
}

/// `C = Σ_{kh, tap group} A·W_group` (overwrites `C`, `rows × Cout`), where row `r` of `A` starts
/// at pixel `first + r·step + kh·dh·row_w + kw0·dw` of `img` (`row_w` pixels per image row) and
/// spans the `taps` kernel columns from `kw0`.
#[allow(clippy::too_many_arguments)]
fn accumulate_taps(
    s: &Conv2dShape,
    g: &Geometry,
    img: &[f32],
    row_w: usize,
    (first, step): (usize, usize),
    rows: usize,
    w: &[f32],
    c: &mut [f32],
    pack: &mut [f32],
) {
    let mut beta = 0.0;
    for kh in 0..s.kernel_h {
        for kw0 in (0..s.kernel_w).step_by(g.taps) {
            let a = (first + kh * s.dilation_h * row_w + kw0 * s.dilation_w) * s.in_ch;
            let b = (kh * s.kernel_w + kw0) * s.in_ch * s.out_ch;
            let k = g.taps * s.in_ch;
            gemm(
                rows,
                k,
                s.out_ch,
                &img[a..],
                (step * s.in_ch, 1),
                &w[b..],
                (s.out_ch, 1),
                beta,
                c,
                s.out_ch,
                pack,
            );
            beta = 1.0;
        }
    }
}

/// Backward pass (see the module documentation); accumulates into `dx` (if given), `dw` and
/// `db` (if given). `scratch` holds at least `s.backward_scratch_len()` floats.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_backward(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    s.assert_lengths(x, w, db.as_deref(), dy);
    assert_eq!(dw.len(), s.weight_len(), "conv2d: dw length");
    assert!(
        scratch.len() >= backward_scratch_len(s),
        "conv2d_backward: scratch too short"
    );
    let g = Geometry::new(s);
    let chunks = chunk_count(s.batch);
    let (dw_parts, rest) = scratch.split_at_mut(chunks * s.weight_len());
    let (db_parts, rest) = rest.split_at_mut(chunks * s.out_ch);
    let (flipped, work) = rest.split_at_mut(if g.path == Path::Wide {
        s.weight_len()
    } else {
        0
    });
    let want_dx = dx.is_some();
    if want_dx && g.path == Path::Wide {
        flip_transpose_weights(s, w, flipped);
    }
    let flipped = &*flipped;
    let dx_len = if want_dx { s.input_sample_len() } else { 0 };
    let dx_all = dx.unwrap_or_default();
    assert_eq!(dx_all.len(), s.batch * dx_len, "conv2d: dx length");
    let work_len = g.backward_work_len(s);
    let splits = [
        Split::PerSample(dx_len),
        Split::PerChunk(s.weight_len()),
        Split::PerChunk(s.out_ch),
        Split::PerChunk(work_len),
    ];
    let parts = [dx_all, &mut *dw_parts, &mut *db_parts, work];
    for_each_chunk(
        s.batch,
        parts,
        splits,
        &|chunk, [dx, dw_part, db_part, work]| {
            let samples = chunk_range(s.batch, chunk);
            let x = &x[sample_span(&samples, s.input_sample_len())];
            let dy = &dy[sample_span(&samples, s.output_sample_len())];
            let dx = want_dx.then_some(dx);
            dw_part.fill(0.0);
            bias_grad(dy, db_part);
            let (images, pack) = work[..work_len].split_at_mut(g.backward_images_len(s));
            match g.path {
                Path::Pointwise => backward_pointwise(s, x, w, dy, dx, dw_part, pack),
                Path::Wide => backward_wide(s, &g, x, flipped, dy, dx, dw_part, images, pack),
                Path::RowWise => backward_rowwise(s, &g, x, w, dy, dx, dw_part, images, pack),
            }
        },
    );
    reduce_partials_into(dw_parts, dw);
    if let Some(db) = db {
        reduce_partials_into(db_parts, db);
    }
}

/// Float range of the samples `samples` in a buffer of `sample_len` floats per sample.
fn sample_span(samples: &Range<usize>, sample_len: usize) -> Range<usize> {
    samples.start * sample_len..samples.end * sample_len
}

/// `db_part = Σ_pixels dy[pixel, :]` (overwrites).
fn bias_grad(dy: &[f32], db_part: &mut [f32]) {
    db_part.fill(0.0);
    for pixel in dy.chunks_exact(db_part.len()) {
        crate::simd::axpy(1.0, pixel, db_part);
    }
}

/// 1×1 backward over a chunk: `dX += dY·Wᵀ`, `dW_part = Xᵀ·dY`.
fn backward_pointwise(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw_part: &mut [f32],
    pack: &mut [f32],
) {
    let pixels = x.len() / s.in_ch;
    if let Some(dx) = dx {
        gemm(
            pixels,
            s.out_ch,
            s.in_ch,
            dy,
            (s.out_ch, 1),
            w,
            (1, s.out_ch),
            1.0,
            dx,
            s.in_ch,
            pack,
        );
    }
    gemm(
        s.in_ch,
        pixels,
        s.out_ch,
        x,
        (1, s.in_ch),
        dy,
        (s.out_ch, 1),
        0.0,
        dw_part,
        s.out_ch,
        pack,
    );
}

/// `wflip[kh', kw', co, ci] = w[KH−1−kh', KW−1−kw', ci, co]`: the kernel of the full
/// correlation that gives `dx` at stride 1.
fn flip_transpose_weights(s: &Conv2dShape, w: &[f32], wflip: &mut [f32]) {
    let (kh_n, kw_n, cin, cout) = (s.kernel_h, s.kernel_w, s.in_ch, s.out_ch);
    for kh in 0..kh_n {
        for kw in 0..kw_n {
            let src = &w[((kh_n - 1 - kh) * kw_n + (kw_n - 1 - kw)) * cin * cout..][..cin * cout];
            let dst = &mut wflip[(kh * kw_n + kw) * cout * cin..][..cout * cin];
            for ci in 0..cin {
                for co in 0..cout {
                    dst[co * cin + ci] = src[ci * cout + co];
                }
            }
        }
    }
}

/// Stride-1 backward of one chunk, sample by sample:
/// `dX_wide = Σ_kh' D_kh'·Wflip_kh'` and `dW_kh += A_khᵀ·dY_wide` (module documentation).
#[allow(clippy::too_many_arguments)]
fn backward_wide(
    s: &Conv2dShape,
    g: &Geometry,
    x: &[f32],
    wflip: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw_part: &mut [f32],
    work: &mut [f32],
    pack: &mut [f32],
) {
    let r = g.back_row;
    let (padded_x, rest) = work.split_at_mut(g.hp * r * s.in_ch);
    let (padded_dy, dx_wide) = rest.split_at_mut(g.back_dy_h * r * s.out_ch);
    let border = (
        (s.kernel_h - 1) * s.dilation_h,
        (s.kernel_w - 1) * s.dilation_w,
    );
    for (n, (x, dy)) in x
        .chunks_exact(s.input_sample_len())
        .zip(dy.chunks_exact(s.output_sample_len()))
        .enumerate()
    {
        pad_image(
            x,
            s.in_h,
            s.in_w,
            s.in_ch,
            padded_x,
            (s.pad_top, s.pad_left),
            r,
        );
        pad_image(dy, g.out_h, g.out_w, s.out_ch, padded_dy, border, r);
        let dy_wide = &padded_dy[(border.0 * r + border.1) * s.out_ch..];
        weight_grad_taps(
            s,
            g,
            padded_x,
            r,
            (0, 1),
            g.back_dy_rows(),
            dy_wide,
            dw_part,
            pack,
        );
        if let Some(dx) = dx.as_deref_mut() {
            let dx = &mut dx[n * s.input_sample_len()..][..s.input_sample_len()];
            input_grad_wide(s, g, padded_dy, wflip, dx_wide, dx, pack);
        }
    }
}

/// `dX_wide = Σ_{kh', tap group} D·Wflip` over the rows of the padded `dy` image that land on
/// input pixels, then `dx += ` its valid columns.
fn input_grad_wide(
    s: &Conv2dShape,
    g: &Geometry,
    padded_dy: &[f32],
    wflip: &[f32],
    dx_wide: &mut [f32],
    dx: &mut [f32],
    pack: &mut [f32],
) {
    let r = g.back_row;
    let rows = g.back_dx_rows(s);
    let mut beta = 0.0;
    for kh in 0..s.kernel_h {
        for kw0 in (0..s.kernel_w).step_by(g.taps) {
            let pixel = (s.pad_top + kh * s.dilation_h) * r + s.pad_left + kw0 * s.dilation_w;
            let a = pixel * s.out_ch;
            let b = (kh * s.kernel_w + kw0) * s.out_ch * s.in_ch;
            let k = g.taps * s.out_ch;
            gemm(
                rows,
                k,
                s.in_ch,
                &padded_dy[a..],
                (s.out_ch, 1),
                &wflip[b..],
                (s.in_ch, 1),
                beta,
                dx_wide,
                s.in_ch,
                pack,
            );
            beta = 1.0;
        }
    }
    let in_row = s.in_w * s.in_ch;
    for (ih, dx_row) in dx.chunks_exact_mut(in_row).enumerate() {
        crate::simd::axpy(1.0, &dx_wide[ih * r * s.in_ch..][..in_row], dx_row);
    }
}

/// `dW_part[kh, group] += Aᵀ·dY` where row `p` of `A` starts at pixel
/// `first + p·step + kh·dh·row_w + kw0·dw` of `img` and `dY` is `pixels × Cout`.
#[allow(clippy::too_many_arguments)]
fn weight_grad_taps(
    s: &Conv2dShape,
    g: &Geometry,
    img: &[f32],
    row_w: usize,
    (first, step): (usize, usize),
    pixels: usize,
    dy: &[f32],
    dw_part: &mut [f32],
    pack: &mut [f32],
) {
    for kh in 0..s.kernel_h {
        for kw0 in (0..s.kernel_w).step_by(g.taps) {
            let a = (first + kh * s.dilation_h * row_w + kw0 * s.dilation_w) * s.in_ch;
            let c = (kh * s.kernel_w + kw0) * s.in_ch * s.out_ch;
            let m = g.taps * s.in_ch;
            gemm(
                m,
                pixels,
                s.out_ch,
                &img[a..],
                (1, step * s.in_ch),
                dy,
                (s.out_ch, 1),
                1.0,
                &mut dw_part[c..],
                s.out_ch,
                pack,
            );
        }
    }
}

/// Strided backward of one chunk: per output row, `dW += Aᵀ·dy_row` per tap group, and
/// `dX_pad[rows of tap] += dy_row·W_tapᵀ` per tap, then `dx +=` the interior of `dX_pad`.
#[allow(clippy::too_many_arguments)]
fn backward_rowwise(
    s: &Conv2dShape,
    g: &Geometry,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw_part: &mut [f32],
    work: &mut [f32],
    pack: &mut [f32],
) {
    let (padded_x, padded_dx) = work.split_at_mut(g.hp * g.wp * s.in_ch);
    let out_row = g.out_w * s.out_ch;
    for (n, (x, dy)) in x
        .chunks_exact(s.input_sample_len())
        .zip(dy.chunks_exact(s.output_sample_len()))
        .enumerate()
    {
        pad_image(
            x,
            s.in_h,
            s.in_w,
            s.in_ch,
            padded_x,
            (s.pad_top, s.pad_left),
            g.wp,
        );
        padded_dx.fill(0.0);
        for (oh, dy_row) in dy.chunks_exact(out_row).enumerate() {
            let first = oh * s.stride_h * g.wp;
            weight_grad_taps(
                s,
                g,
                padded_x,
                g.wp,
                (first, s.stride_w),
                g.out_w,
                dy_row,
                dw_part,
                pack,
            );
            if dx.is_some() {
                scatter_row_input_grad(s, g, first, dy_row, w, padded_dx, pack);
            }
        }
        if let Some(dx) = dx.as_deref_mut() {
            let dx = &mut dx[n * s.input_sample_len()..][..s.input_sample_len()];
            add_interior(s, g, padded_dx, dx);
        }
    }
}

/// `dX_pad[pixel first + ow·sw + kh·dh·Wp + kw·dw, :] += dy_row[ow, :]·W[kh,kw]ᵀ` for every tap,
/// one GEMM per tap (its output rows are `sw` pixels apart, so they never overlap).
fn scatter_row_input_grad(
    s: &Conv2dShape,
    g: &Geometry,
    first: usize,
    dy_row: &[f32],
    w: &[f32],
    padded_dx: &mut [f32],
    pack: &mut [f32],
) {
    for kh in 0..s.kernel_h {
        for kw in 0..s.kernel_w {
            let c = (first + kh * s.dilation_h * g.wp + kw * s.dilation_w) * s.in_ch;
            let b = (kh * s.kernel_w + kw) * s.in_ch * s.out_ch;
            let rsc = s.stride_w * s.in_ch;
            gemm(
                g.out_w,
                s.out_ch,
                s.in_ch,
                dy_row,
                (s.out_ch, 1),
                &w[b..],
                (1, s.out_ch),
                1.0,
                &mut padded_dx[c..],
                rsc,
                pack,
            );
        }
    }
}

/// `dx += dX_pad` over the pixels that are not padding.
fn add_interior(s: &Conv2dShape, g: &Geometry, padded_dx: &[f32], dx: &mut [f32]) {
    let in_row = s.in_w * s.in_ch;
    for (ih, dx_row) in dx.chunks_exact_mut(in_row).enumerate() {
        let start = ((s.pad_top + ih) * g.wp + s.pad_left) * s.in_ch;
        crate::simd::axpy(1.0, &padded_dx[start..start + in_row], dx_row);
    }
}

/// Writes the image `src` (`h × w` pixels of `ch` floats) into `dst` at pixel `(top, left)` of a
/// grid `row_w` pixels wide, zeroing every other float of `dst`.
fn pad_image(
    src: &[f32],
    h: usize,
    w: usize,
    ch: usize,
    dst: &mut [f32],
    (top, left): (usize, usize),
    row_w: usize,
) {
    dst.fill(0.0);
    let row = w * ch;
    for (i, src_row) in src.chunks_exact(row).take(h).enumerate() {
        let start = ((top + i) * row_w + left) * ch;
        dst[start..start + row].copy_from_slice(src_row);
    }
}

/// `C ← A·B + β·C` with `A` `m×k`, `B` `k×n`, `C` `m×n`, on strided views of slices: element
/// `(i, j)` of `A` is `a[i·rsa + j·csa]`, of `B` `b[i·rsb + j·csb]`, of `C` `c[i·rsc + j]`.
/// Single-threaded; `pack` holds at least `gemm::pack_len(m, k, n)` floats.
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    (rsb, csb): (usize, usize),
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    pack: &mut [f32],
) {
    crate::gemm::sgemm(
        m, k, n, 1.0, a, rsa, csa, b, rsb, csb, beta, c, rsc, 1, pack,
    );
}

/// How a buffer is divided between the chunks of a batch.
#[derive(Clone, Copy)]
enum Split {
    /// `len` floats per sample: a chunk owns the floats of its samples.
    PerSample(usize),
    /// `len` floats per chunk, chunk after chunk.
    PerChunk(usize),
}

/// Runs `work(chunk, parts)` for every chunk of `chunk_count(batch)` in parallel, each with its
/// own disjoint part of every buffer. Splits recursively with `rayon::join`, so it allocates
/// nothing; which thread runs a chunk does not change what the chunk computes.
fn for_each_chunk<const N: usize, F>(
    batch: usize,
    buffers: [&mut [f32]; N],
    splits: [Split; N],
    work: &F,
) where
    F: Fn(usize, [&mut [f32]; N]) + Sync,
{
    fn recurse<const N: usize, F>(
        batch: usize,
        chunks: Range<usize>,
        parts: [&mut [f32]; N],
        splits: [Split; N],
        work: &F,
    ) where
        F: Fn(usize, [&mut [f32]; N]) + Sync,
    {
        if chunks.len() == 1 {
            work(chunks.start, parts);
            return;
        }
        let mid = chunks.start + chunks.len() / 2;
        let first_sample = chunk_range(batch, chunks.start).start;
        let mid_sample = chunk_range(batch, mid).start;
        let at = splits.map(|split| match split {
            Split::PerSample(len) => (mid_sample - first_sample) * len,
            Split::PerChunk(len) => (mid - chunks.start) * len,
        });
        let mut right: [&mut [f32]; N] = [(); N].map(|()| <&mut [f32]>::default());
        let mut i = 0;
        let left = parts.map(|part| {
            let (l, r) = part.split_at_mut(at[i]);
            right[i] = r;
            i += 1;
            l
        });
        rayon::join(
            || recurse(batch, chunks.start..mid, left, splits, work),
            || recurse(batch, mid..chunks.end, right, splits, work),
        );
    }
    recurse(batch, 0..chunk_count(batch), buffers, splits, work);
}
