//! Fast path: GEMMs ([`crate::gemm::sgemm`], packing into each part's scratch) over strided
//! views of zero-padded images, rayon over parts of the batch and of each sample.
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
//! **3×3, stride 1, enough channels (`Cin·Cout ≥ 20·(Cin + Cout)`).** [`conv2d_forward_fused`] hands these to
//! Winograd F(2×2, 3×3) ([`super::winograd`]), measured faster there; the paths above remain
//! as [`conv2d_forward_direct`]. The backward pass always uses the paths above.
//!
//! **Parallel parts.** The sums over the batch (`dw`, `db`) are split by the shape only: one
//! partial per batch chunk of `parallel::chunk_range`, added in chunk order. Every other split
//! cannot change a result, since each output element is computed by the same arithmetic however
//! the work is cut (a GEMM element is one FMA chain over `k`, cut into blocks by `k` alone), so
//! those splits use at most [`part_limit`] parts: [`MAX_PARTS`] in a pool of more than
//! `MAX_CHUNKS / 2` threads, `MAX_CHUNKS` otherwise (fewer, larger parts reuse their scratch in
//! cache; measured on 2 threads, kim-brunner training was 5–8 % slower with 64 parts than 16).
//!
//! - Forward and `dx`: the work items are bands of rows of each sample (output rows, input rows
//!   for `dx`); a sample is cut into enough bands for [`MAX_PARTS`] items over the batch, none
//!   thinner than [`MIN_BAND_ROWS`] rows, and the items are grouped into contiguous parts, so a
//!   part writes one contiguous slice of `y` or `dx`. A band computes the rows of `Y_wide`
//!   (`dX_wide`) of its rows: outputs depend neither on the banding nor on the batch.
//! - `dw`, `db`: the parts are (batch chunk, block of output channels, whole multiples of
//!   [`CO_BLOCK`]); each writes its chunk's partial sums for its channels.

use std::ops::Range;

use super::winograd::{conv2d_forward_winograd, winograd_pays};
use super::Conv2dShape;
use crate::epilogue::Epilogue;
use crate::gemm::pack_len;
use crate::parallel::{
    chunk_count, chunk_range, for_each_part, part_count, part_range, reduce_partials_into,
    MAX_CHUNKS,
};

/// Most parts a pass is split into (enough for 64 cores).
const MAX_PARTS: usize = 64;
/// The part limits [`part_limit`] chooses from; scratch is sized for the larger need.
pub(super) const PART_LIMITS: [usize; 2] = [MAX_CHUNKS, MAX_PARTS];

/// The most parts a call splits its work into in the current rayon pool (see the module
/// documentation: this cannot change any result).
pub(super) fn part_limit() -> usize {
    if 2 * rayon::current_num_threads() > MAX_CHUNKS {
        MAX_PARTS
    } else {
        MAX_CHUNKS
    }
}
/// Fewest rows in a band of a sample, so that a band's GEMM keeps whole register tiles busy.
const MIN_BAND_ROWS: usize = 2;
/// Output channels of a part of the weight gradient (a multiple of every GEMM tile width).
const CO_BLOCK: usize = 32;

/// The algorithm chosen for a shape.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    Pointwise,
    Wide,
    RowWise,
}

/// Rows of every sample of a batch cut into `bands` bands of sizes differing by at most one;
/// item `i` is band `i mod bands` of sample `i / bands`, and parts group consecutive items.
#[derive(Clone, Copy)]
struct Bands {
    batch: usize,
    rows: usize,
    bands: usize,
    /// Most parts.
    limit: usize,
}

impl Bands {
    /// As many bands as make [`MAX_PARTS`] items over the batch, none thinner than
    /// [`MIN_BAND_ROWS`] rows (one band if the sample has fewer), in at most `limit` parts.
    fn new(batch: usize, rows: usize, limit: usize) -> Self {
        let wanted = MAX_PARTS.div_ceil(batch.max(1));
        let most = (rows / MIN_BAND_ROWS).max(1);
        Bands {
            batch,
            rows,
            bands: wanted.clamp(1, most),
            limit,
        }
    }

    /// One band per sample, in at most `limit` parts.
    fn whole(batch: usize, rows: usize, limit: usize) -> Self {
        Bands {
            batch,
            rows,
            bands: 1,
            limit,
        }
    }

    fn items(&self) -> usize {
        self.batch * self.bands
    }

    fn parts(&self) -> usize {
        part_count(self.items(), self.limit)
    }

    /// The items of part `p` (`p = parts()` gives the empty range at the end).
    fn part_items(&self, p: usize) -> Range<usize> {
        part_range(self.items(), self.parts(), p)
    }

    /// The sample of item `i` and its rows.
    fn item(&self, i: usize) -> (usize, Range<usize>) {
        (
            i / self.bands,
            part_range(self.rows, self.bands, i % self.bands),
        )
    }

    /// The row of the whole batch (`sample·rows + row`) where item `i` starts; `batch·rows` for
    /// `i = items()`.
    fn first_row(&self, i: usize) -> usize {
        let (n, rows) = self.item(i);
        n * self.rows + rows.start
    }

    /// Rows of the batch that part `p` covers.
    fn part_rows(&self, p: usize) -> Range<usize> {
        let items = self.part_items(p);
        self.first_row(items.start)..self.first_row(items.end)
    }

    /// Most rows in one band.
    fn max_band_rows(&self) -> usize {
        self.rows.div_ceil(self.bands)
    }

    /// The row counts of the bands (they differ by at most one).
    fn band_rows(&self) -> impl Iterator<Item = usize> {
        let (thin, thick) = (self.rows / self.bands, self.rows.div_ceil(self.bands));
        [thin, thick].into_iter().filter(|&rows| rows > 0)
    }

    /// The row counts of the parts.
    fn part_rows_counts(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.parts()).map(|p| self.part_rows(p).len())
    }
}

/// The largest `gemm::pack_len(m, k, n)` over the row counts `ms` and column counts `ns` that
/// a pass uses.
fn max_pack_len(
    ms: impl Iterator<Item = usize>,
    k: usize,
    ns: impl Iterator<Item = usize> + Clone,
) -> usize {
    ms.flat_map(|m| ns.clone().map(move |n| pack_len(m, k, n)))
        .max()
        .unwrap_or(0)
}

/// The output-channel blocks of the weight gradient: `blocks` runs of whole [`CO_BLOCK`]s
/// (the last one cut at `out_ch`).
#[derive(Clone, Copy)]
struct CoBlocks {
    out_ch: usize,
    blocks: usize,
}

impl CoBlocks {
    /// As many blocks as make `limit` parts with the batch chunks, at most one per `CO_BLOCK`.
    fn new(s: &Conv2dShape, limit: usize) -> Self {
        let units = s.out_ch.div_ceil(CO_BLOCK);
        let blocks = limit.div_ceil(chunk_count(s.batch)).clamp(1, units);
        CoBlocks {
            out_ch: s.out_ch,
            blocks,
        }
    }

    /// The output channels of block `b`.
    fn range(&self, b: usize) -> Range<usize> {
        let units = part_range(self.out_ch.div_ceil(CO_BLOCK), self.blocks, b);
        units.start * CO_BLOCK..(units.end * CO_BLOCK).min(self.out_ch)
    }

    /// The widths of the blocks.
    fn widths(&self) -> impl Iterator<Item = usize> + Clone + '_ {
        (0..self.blocks).map(|b| self.range(b).len())
    }
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

    /// Bands of output rows of the forward pass, in at most `limit` parts.
    fn forward_bands(&self, s: &Conv2dShape, limit: usize) -> Bands {
        Bands::new(s.batch, self.out_h, limit)
    }

    /// Bands of input rows of the input gradient (whole samples on the row-wise path, whose
    /// taps scatter into every row of a padded image), in at most `limit` parts.
    fn input_bands(&self, s: &Conv2dShape, limit: usize) -> Bands {
        match self.path {
            Path::RowWise => Bands::whole(s.batch, s.in_h, limit),
            Path::Pointwise | Path::Wide => Bands::new(s.batch, s.in_h, limit),
        }
    }

    /// Rows of `Y_wide` for a band of `rows` output rows: outputs `p = oh·Wp + ow` from the
    /// band's first row to its last valid one.
    fn wide_rows(&self, rows: usize) -> usize {
        (rows - 1) * self.wp + self.out_w
    }

    /// Rows of `dY_wide` in the backward images of row width `R`.
    fn back_dy_rows(&self) -> usize {
        (self.out_h - 1) * self.back_row + self.out_w
    }

    /// Rows of `dX_wide` for a band of `rows` input rows.
    fn back_dx_rows(&self, s: &Conv2dShape, rows: usize) -> usize {
        (rows - 1) * self.back_row + s.in_w
    }

    /// Per-part image floats of the forward pass (the GEMM pack comes after them).
    fn forward_images_len(&self, s: &Conv2dShape, bands: &Bands) -> usize {
        let padded = self.hp * self.wp * s.in_ch;
        match self.path {
            Path::Pointwise => 0,
            Path::Wide => padded + self.wide_rows(bands.max_band_rows()) * s.out_ch,
            Path::RowWise => padded,
        }
    }

    /// Per-part work floats of the forward pass: images, then a pack for its largest GEMM.
    fn forward_work_len(&self, s: &Conv2dShape, bands: &Bands) -> usize {
        let (k, n) = (self.taps * s.in_ch, std::iter::once(s.out_ch));
        let pack = match self.path {
            Path::Pointwise => {
                let pixels = bands.part_rows_counts().map(|rows| rows * s.in_w);
                max_pack_len(pixels, s.in_ch, n)
            }
            Path::Wide => max_pack_len(bands.band_rows().map(|r| self.wide_rows(r)), k, n),
            Path::RowWise => pack_len(self.out_w, k, s.out_ch),
        };
        self.forward_images_len(s, bands) + pack
    }

    /// Per-part image floats of the weight gradient.
    fn weight_grad_images_len(&self, s: &Conv2dShape) -> usize {
        match self.path {
            Path::Pointwise => 0,
            Path::Wide => (self.hp * s.in_ch + self.back_dy_h * s.out_ch) * self.back_row,
            Path::RowWise => self.hp * self.wp * s.in_ch,
        }
    }

    /// Per-part work floats of the weight gradient: images, then a pack for its largest GEMM
    /// (`m = taps·Cin` rows, `k` pixels, a block of output channels).
    fn weight_grad_work_len(&self, s: &Conv2dShape, blocks: &CoBlocks) -> usize {
        let (m, widths) = (self.taps * s.in_ch, blocks.widths());
        let pack = match self.path {
            Path::Pointwise => {
                let chunks = chunk_count(s.batch);
                let samples = [s.batch / chunks, s.batch.div_ceil(chunks)];
                let pixels = samples.map(|n| n * s.in_h * s.in_w);
                let ms = std::iter::once(s.in_ch);
                pixels
                    .into_iter()
                    .map(|k| max_pack_len(ms.clone(), k, widths.clone()))
                    .max()
                    .unwrap_or(0)
            }
            Path::Wide => max_pack_len(std::iter::once(m), self.back_dy_rows(), widths),
            Path::RowWise => max_pack_len(std::iter::once(m), self.out_w, widths),
        };
        self.weight_grad_images_len(s) + pack
    }

    /// Per-part image floats of the input gradient.
    fn input_grad_images_len(&self, s: &Conv2dShape, bands: &Bands) -> usize {
        match self.path {
            Path::Pointwise => 0,
            Path::Wide => {
                self.back_dy_h * self.back_row * s.out_ch
                    + self.back_dx_rows(s, bands.max_band_rows()) * s.in_ch
            }
            Path::RowWise => self.hp * self.wp * s.in_ch,
        }
    }

    /// Per-part work floats of the input gradient: images, then a pack for its largest GEMM.
    fn input_grad_work_len(&self, s: &Conv2dShape, bands: &Bands) -> usize {
        let (cin, cout) = (s.in_ch, s.out_ch);
        let n = std::iter::once(cin);
        let pack = match self.path {
            Path::Pointwise => {
                let pixels = bands.part_rows_counts().map(|rows| rows * s.in_w);
                max_pack_len(pixels, cout, n)
            }
            Path::Wide => {
                let rows = bands.band_rows().map(|r| self.back_dx_rows(s, r));
                max_pack_len(rows, self.taps * cout, n)
            }
            Path::RowWise => pack_len(self.out_w, cout, cin),
        };
        self.input_grad_images_len(s, bands) + pack
    }
}

pub(super) fn direct_forward_scratch_len(s: &Conv2dShape) -> usize {
    let g = Geometry::new(s);
    let need = |limit: usize| {
        let bands = g.forward_bands(s, limit);
        bands.parts() * g.forward_work_len(s, &bands)
    };
    PART_LIMITS.map(need).into_iter().max().unwrap_or(0)
}

pub(super) fn backward_scratch_len(s: &Conv2dShape) -> usize {
    let g = Geometry::new(s);
    let flipped = if g.path == Path::Wide {
        s.weight_len()
    } else {
        0
    };
    let chunks = chunk_count(s.batch);
    let need = |limit: usize| {
        let blocks = CoBlocks::new(s, limit);
        let bands = g.input_bands(s, limit);
        (chunks * blocks.blocks * g.weight_grad_work_len(s, &blocks))
            .max(bands.parts() * g.input_grad_work_len(s, &bands))
    };
    let work = PART_LIMITS.map(need).into_iter().max().unwrap_or(0);
    chunks * (s.weight_len() + s.out_ch) + flipped + work
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
/// [`conv2d_forward`] followed by the activation's kernel. Shapes where Winograd F(2×2, 3×3)
/// was measured faster ([`winograd_pays`]) go to [`conv2d_forward_winograd`], the others to
/// [`conv2d_forward_direct`].
pub fn conv2d_forward_fused(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    if winograd_pays(s) {
        conv2d_forward_winograd(s, x, w, epilogue, y, scratch);
    } else {
        conv2d_forward_direct(s, x, w, epilogue, y, scratch);
    }
}

/// The GEMM paths of the module documentation for any shape (what [`conv2d_forward_fused`] runs
/// where Winograd does not pay): `y = act(conv + bias)`. `scratch` holds at least
/// `s.direct_forward_scratch_len()` floats.
pub fn conv2d_forward_direct(
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
    let bands = g.forward_bands(s, part_limit());
    let work_len = g.forward_work_len(s, &bands);
    let parts = bands.parts();
    assert!(
        scratch.len() >= parts * work_len,
        "conv2d_forward_direct: scratch too short"
    );
    let out_row = g.out_w * s.out_ch;
    let y_start = |p: usize| bands.part_rows(p).start * out_row;
    let work_start = |p: usize| p * work_len;
    for_each_part(
        parts,
        [y, scratch],
        [&y_start, &work_start],
        &|p, [y, work]| {
            let items = bands.part_items(p);
            let (images, pack) = work.split_at_mut(g.forward_images_len(s, &bands));
            match g.path {
                Path::Pointwise => {
                    let pixels = bands.part_rows(p);
                    let row = s.in_w * s.in_ch;
                    let x = &x[pixels.start * row..pixels.end * row];
                    forward_pointwise(s, x, w, epilogue, y, pack);
                }
                Path::Wide => forward_wide(s, &g, &bands, items, x, w, epilogue, y, images, pack),
                Path::RowWise => {
                    forward_rowwise(s, &g, &bands, items, x, w, epilogue, y, images, pack)
                }
            }
        },
    );
}

/// `Y = X·W`, then the epilogue in place, over the pixels of a part, `X` as `[pixels, Cin]`,
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

/// Stride-1 forward of the bands `items`: per band, `Y_wide = Σ_kh A_kh·W_kh` over its rows,
/// then its valid columns go to `y` (the part's slice) through the epilogue.
#[allow(clippy::too_many_arguments)]
fn forward_wide(
    s: &Conv2dShape,
    g: &Geometry,
    bands: &Bands,
    items: Range<usize>,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    work: &mut [f32],
    pack: &mut [f32],
) {
    let (padded, y_wide) = work.split_at_mut(g.hp * g.wp * s.in_ch);
    let out_row = g.out_w * s.out_ch;
    let first_row = bands.first_row(items.start);
    let mut padded_sample = None;
    for item in items {
        let (n, rows) = bands.item(item);
        pad_input_sample(s, g, x, n, padded, &mut padded_sample);
        let wide_rows = g.wide_rows(rows.len());
        let first = rows.start * g.wp;
        accumulate_taps(s, g, padded, g.wp, (first, 1), wide_rows, w, y_wide, pack);
        for (i, oh) in rows.enumerate() {
            let y_row = &mut y[(n * g.out_h + oh - first_row) * out_row..][..out_row];
            epilogue.apply(s.out_ch, &y_wide[i * g.wp * s.out_ch..][..out_row], y_row);
        }
    }
}

/// Strided forward of the bands `items`: for each output row, `y_row = Σ_taps A·W_tap` with `A`
/// rows `stride_w` pixels apart in the padded image, then the epilogue in place.
#[allow(clippy::too_many_arguments)]
fn forward_rowwise(
    s: &Conv2dShape,
    g: &Geometry,
    bands: &Bands,
    items: Range<usize>,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    padded: &mut [f32],
    pack: &mut [f32],
) {
    let out_row = g.out_w * s.out_ch;
    let first_row = bands.first_row(items.start);
    let mut padded_sample = None;
    for item in items {
        let (n, rows) = bands.item(item);
        pad_input_sample(s, g, x, n, padded, &mut padded_sample);
        for oh in rows {
            let y_row = &mut y[(n * g.out_h + oh - first_row) * out_row..][..out_row];
            let window = (oh * s.stride_h * g.wp, s.stride_w);
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
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), s.input_len(), "conv2d: dx length");
    }
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
    let blocks = CoBlocks::new(s, part_limit());
    weight_grads(s, &g, &blocks, x, dy, dw_parts, db_parts, work);
    add_blocked_partials(s, &blocks, dw_parts, dw);
    if let Some(db) = db {
        reduce_partials_into(db_parts, db);
    }
    if let Some(dx) = dx {
        let w = if g.path == Path::Wide {
            flip_transpose_weights(s, w, flipped);
            &*flipped
        } else {
            w
        };
        input_grads(s, &g, dy, w, dx, work);
    }
}

/// Rows of the weight seen as a `[KH·KW·Cin, Cout]` matrix.
fn weight_rows(s: &Conv2dShape) -> usize {
    s.kernel_h * s.kernel_w * s.in_ch
}

/// Float range of the samples `samples` in a buffer of `sample_len` floats per sample.
fn sample_span(samples: &Range<usize>, sample_len: usize) -> Range<usize> {
    samples.start * sample_len..samples.end * sample_len
}

/// The weight and bias gradients' partials, in parallel over (batch chunk, channel block):
/// chunk `c`'s partial of `dw` is `dw_parts[c·weight_len..]`, stored block after block (block
/// `b` as a `[KH·KW·Cin, width_b]` matrix), and of `db` is `db_parts[c·Cout..]` (overwritten).
#[allow(clippy::too_many_arguments)]
fn weight_grads(
    s: &Conv2dShape,
    g: &Geometry,
    blocks: &CoBlocks,
    x: &[f32],
    dy: &[f32],
    dw_parts: &mut [f32],
    db_parts: &mut [f32],
    work: &mut [f32],
) {
    let parts = chunk_count(s.batch) * blocks.blocks;
    let work_len = g.weight_grad_work_len(s, blocks);
    // Part p: the channels `cols` of batch chunk `chunk`.
    let part = |p: usize| (p / blocks.blocks, blocks.range(p % blocks.blocks));
    let rows = weight_rows(s);
    let dw_start = |p: usize| part(p).0 * s.weight_len() + rows * part(p).1.start;
    let db_start = |p: usize| part(p).0 * s.out_ch + part(p).1.start;
    let work_start = |p: usize| p * work_len;
    let buffers = [dw_parts, db_parts, &mut work[..parts * work_len]];
    let starts: [crate::parallel::PartStart; 3] = [&dw_start, &db_start, &work_start];
    for_each_part(parts, buffers, starts, &|p, [dw_part, db_part, work]| {
        let (chunk, cols) = part(p);
        let samples = chunk_range(s.batch, chunk);
        let x = &x[sample_span(&samples, s.input_sample_len())];
        let dy = &dy[sample_span(&samples, s.output_sample_len())];
        bias_grad(dy, s.out_ch, &cols, db_part);
        dw_part.fill(0.0);
        let (images, pack) = work.split_at_mut(g.weight_grad_images_len(s));
        match g.path {
            Path::Pointwise => gemm(
                s.in_ch,
                x.len() / s.in_ch,
                cols.len(),
                x,
                (1, s.in_ch),
                &dy[cols.start..],
                (s.out_ch, 1),
                0.0,
                dw_part,
                cols.len(),
                pack,
            ),
            Path::Wide => weight_grad_wide(s, g, x, dy, &cols, dw_part, images, pack),
            Path::RowWise => weight_grad_rowwise(s, g, x, dy, &cols, dw_part, images, pack),
        }
    });
}

/// `dw[r, co] += Σ_chunks partial[chunk][r, co]`, chunk after chunk, from the blocked layout of
/// [`weight_grads`].
fn add_blocked_partials(s: &Conv2dShape, blocks: &CoBlocks, dw_parts: &[f32], dw: &mut [f32]) {
    let rows = weight_rows(s);
    for part in dw_parts.chunks_exact(s.weight_len()) {
        for b in 0..blocks.blocks {
            let cols = blocks.range(b);
            let block = &part[rows * cols.start..][..rows * cols.len()];
            for (r, src) in block.chunks_exact(cols.len()).enumerate() {
                let dst = &mut dw[r * s.out_ch + cols.start..][..cols.len()];
                crate::simd::axpy(1.0, src, dst);
            }
        }
    }
}

/// `db_part = Σ_pixels dy[pixel, cols]` (overwrites).
fn bias_grad(dy: &[f32], out_ch: usize, cols: &Range<usize>, db_part: &mut [f32]) {
    db_part.fill(0.0);
    for pixel in dy.chunks_exact(out_ch) {
        crate::simd::axpy(1.0, &pixel[cols.clone()], db_part);
    }
}

/// Stride-1 weight gradient of a chunk, sample by sample, for the channels `cols`:
/// `dW_kh[:, cols] += A_khᵀ·dY_wide[:, cols]` (module documentation).
#[allow(clippy::too_many_arguments)]
fn weight_grad_wide(
    s: &Conv2dShape,
    g: &Geometry,
    x: &[f32],
    dy: &[f32],
    cols: &Range<usize>,
    dw_part: &mut [f32],
    work: &mut [f32],
    pack: &mut [f32],
) {
    let r = g.back_row;
    let (padded_x, padded_dy) = work.split_at_mut(g.hp * r * s.in_ch);
    let border = dy_border(s);
    for (x, dy) in x
        .chunks_exact(s.input_sample_len())
        .zip(dy.chunks_exact(s.output_sample_len()))
    {
        pad_input(s, x, padded_x, r);
        pad_image(dy, g.out_h, g.out_w, s.out_ch, padded_dy, border, r);
        let dy_wide = &padded_dy[(border.0 * r + border.1) * s.out_ch + cols.start..];
        let window = (0, 1);
        let dy = (dy_wide, cols.len());
        weight_grad_taps(
            s,
            g,
            padded_x,
            r,
            window,
            g.back_dy_rows(),
            dy,
            dw_part,
            pack,
        );
    }
}

/// Strided weight gradient of a chunk for the channels `cols`: per output row,
/// `dW[:, cols] += Aᵀ·dy_row[:, cols]` per tap group.
#[allow(clippy::too_many_arguments)]
fn weight_grad_rowwise(
    s: &Conv2dShape,
    g: &Geometry,
    x: &[f32],
    dy: &[f32],
    cols: &Range<usize>,
    dw_part: &mut [f32],
    padded_x: &mut [f32],
    pack: &mut [f32],
) {
    let out_row = g.out_w * s.out_ch;
    for (x, dy) in x
        .chunks_exact(s.input_sample_len())
        .zip(dy.chunks_exact(s.output_sample_len()))
    {
        pad_input(s, x, padded_x, g.wp);
        for (oh, dy_row) in dy.chunks_exact(out_row).enumerate() {
            let window = (oh * s.stride_h * g.wp, s.stride_w);
            let dy = (&dy_row[cols.start..], cols.len());
            weight_grad_taps(s, g, padded_x, g.wp, window, g.out_w, dy, dw_part, pack);
        }
    }
}

/// `dW_part[kh, group] += Aᵀ·dY` where row `p` of `A` starts at pixel
/// `first + p·step + kh·dh·row_w + kw0·dw` of `img`, and `dY` (`pixels × width`, rows `Cout`
/// apart) holds a block of `width` output channels; `dW_part` is `[KH·KW·Cin, width]`.
#[allow(clippy::too_many_arguments)]
fn weight_grad_taps(
    s: &Conv2dShape,
    g: &Geometry,
    img: &[f32],
    row_w: usize,
    (first, step): (usize, usize),
    pixels: usize,
    (dy, width): (&[f32], usize),
    dw_part: &mut [f32],
    pack: &mut [f32],
) {
    for kh in 0..s.kernel_h {
        for kw0 in (0..s.kernel_w).step_by(g.taps) {
            let a = (first + kh * s.dilation_h * row_w + kw0 * s.dilation_w) * s.in_ch;
            let c = (kh * s.kernel_w + kw0) * s.in_ch * width;
            let m = g.taps * s.in_ch;
            gemm(
                m,
                pixels,
                width,
                &img[a..],
                (1, step * s.in_ch),
                dy,
                (s.out_ch, 1),
                1.0,
                &mut dw_part[c..],
                width,
                pack,
            );
        }
    }
}

/// Border of the padded `dy` image of the stride-1 backward: `(KH−1)·dh` rows, `(KW−1)·dw`
/// columns.
fn dy_border(s: &Conv2dShape) -> (usize, usize) {
    (
        (s.kernel_h - 1) * s.dilation_h,
        (s.kernel_w - 1) * s.dilation_w,
    )
}

/// The input gradient, in parallel over bands of input rows (whole samples on the row-wise
/// path); `w` is the flipped, transposed kernel on the wide path.
fn input_grads(
    s: &Conv2dShape,
    g: &Geometry,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    work: &mut [f32],
) {
    let bands = g.input_bands(s, part_limit());
    let parts = bands.parts();
    let work_len = g.input_grad_work_len(s, &bands);
    let in_row = s.in_w * s.in_ch;
    let dx_start = |p: usize| bands.part_rows(p).start * in_row;
    let work_start = |p: usize| p * work_len;
    let buffers = [dx, &mut work[..parts * work_len]];
    for_each_part(
        parts,
        buffers,
        [&dx_start, &work_start],
        &|p, [dx, work]| {
            let items = bands.part_items(p);
            let (images, pack) = work.split_at_mut(g.input_grad_images_len(s, &bands));
            match g.path {
                Path::Pointwise => {
                    let rows = bands.part_rows(p);
                    let dy_row = s.in_w * s.out_ch;
                    let dy = &dy[rows.start * dy_row..rows.end * dy_row];
                    gemm(
                        rows.len() * s.in_w,
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
                Path::Wide => input_grad_wide(s, g, &bands, items, dy, w, dx, images, pack),
                Path::RowWise => input_grad_rowwise(s, g, &bands, items, dy, w, dx, images, pack),
            }
        },
    );
}

/// Stride-1 input gradient of the bands `items`: per band,
/// `dX_wide = Σ_{kh', tap group} D·Wflip` over the rows of the padded `dy` image that land on
/// the band's input rows, then `dx +=` its valid columns.
#[allow(clippy::too_many_arguments)]
fn input_grad_wide(
    s: &Conv2dShape,
    g: &Geometry,
    bands: &Bands,
    items: Range<usize>,
    dy: &[f32],
    wflip: &[f32],
    dx: &mut [f32],
    work: &mut [f32],
    pack: &mut [f32],
) {
    let r = g.back_row;
    let (padded_dy, dx_wide) = work.split_at_mut(g.back_dy_h * r * s.out_ch);
    let in_row = s.in_w * s.in_ch;
    let first_row = bands.first_row(items.start);
    let mut padded_sample = None;
    for item in items {
        let (n, rows) = bands.item(item);
        if padded_sample != Some(n) {
            let dy = &dy[n * s.output_sample_len()..][..s.output_sample_len()];
            pad_image(dy, g.out_h, g.out_w, s.out_ch, padded_dy, dy_border(s), r);
            padded_sample = Some(n);
        }
        let mut beta = 0.0;
        for kh in 0..s.kernel_h {
            for kw0 in (0..s.kernel_w).step_by(g.taps) {
                let top = s.pad_top + kh * s.dilation_h + rows.start;
                let pixel = top * r + s.pad_left + kw0 * s.dilation_w;
                let b = (kh * s.kernel_w + kw0) * s.out_ch * s.in_ch;
                gemm(
                    g.back_dx_rows(s, rows.len()),
                    g.taps * s.out_ch,
                    s.in_ch,
                    &padded_dy[pixel * s.out_ch..],
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
        for (i, ih) in rows.enumerate() {
            let dx_row = &mut dx[(n * s.in_h + ih - first_row) * in_row..][..in_row];
            crate::simd::axpy(1.0, &dx_wide[i * r * s.in_ch..][..in_row], dx_row);
        }
    }
}

/// Strided input gradient of whole samples: per output row,
/// `dX_pad[rows of tap] += dy_row·W_tapᵀ` per tap, then `dx +=` the interior of `dX_pad`.
#[allow(clippy::too_many_arguments)]
fn input_grad_rowwise(
    s: &Conv2dShape,
    g: &Geometry,
    bands: &Bands,
    items: Range<usize>,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    padded_dx: &mut [f32],
    pack: &mut [f32],
) {
    let out_row = g.out_w * s.out_ch;
    let first_sample = bands.item(items.start).0;
    for item in items {
        let (n, _) = bands.item(item);
        let dy = &dy[n * s.output_sample_len()..][..s.output_sample_len()];
        padded_dx.fill(0.0);
        for (oh, dy_row) in dy.chunks_exact(out_row).enumerate() {
            let first = oh * s.stride_h * g.wp;
            scatter_row_input_grad(s, g, first, dy_row, w, padded_dx, pack);
        }
        let dx = &mut dx[(n - first_sample) * s.input_sample_len()..][..s.input_sample_len()];
        add_interior(s, g, padded_dx, dx);
    }
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

/// Pads input sample `n` of `x` into `padded` (row width `Wp`), unless `current` says it is
/// there already: the bands of one sample share its padded image.
fn pad_input_sample(
    s: &Conv2dShape,
    g: &Geometry,
    x: &[f32],
    n: usize,
    padded: &mut [f32],
    current: &mut Option<usize>,
) {
    if *current == Some(n) {
        return;
    }
    let x = &x[n * s.input_sample_len()..][..s.input_sample_len()];
    pad_input(s, x, padded, g.wp);
    *current = Some(n);
}

/// Copies one input sample `x` into `padded`, rows of `row_width` pixels, with the shape's
/// top and left padding.
fn pad_input(s: &Conv2dShape, x: &[f32], padded: &mut [f32], row_width: usize) {
    let origin = (s.pad_top, s.pad_left);
    pad_image(x, s.in_h, s.in_w, s.in_ch, padded, origin, row_width);
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
