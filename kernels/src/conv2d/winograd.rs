//! Winograd F(2×2, 3×3) forward for 3×3, stride-1, undilated convolutions (Lavin & Gray,
//! "Fast Algorithms for Convolutional Neural Networks", CVPR 2016, arXiv:1509.09308, §4).
//!
//! The output of each sample is cut into 2×2 tiles. Tile `(ty, tx)` reads the 4×4 input patch
//! `d_c` (channel `c`) whose top-left pixel is `(2·ty − pad_top, 2·tx − pad_left)`; pixels outside
//! the image read as zero (patches are read from a zero-padded copy of the sample), and the
//! outputs of an edge tile beyond `out_h`/`out_w` (odd sizes) are dropped. With `g_c[kh][kw] = w[kh, kw, c, co]`, the tile's outputs are (the nested 2D
//! algorithm of §4, summed over channels as in §4.1)
//!
//! ```text
//! Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
//!
//!      ⎡1  0 −1  0⎤        ⎡1   0   0⎤
//! Bᵀ = ⎢0  1  1  0⎥    G = ⎢½   ½   ½⎥    Aᵀ = ⎡1  1  1  0⎤
//!      ⎢0 −1  1  0⎥        ⎢½  −½   ½⎥         ⎣0  1 −1 −1⎦
//!      ⎣0  1  0 −1⎦        ⎣0   0   1⎦
//! ```
//!
//! For each of the 16 positions `(ξ, ν)` of a 4×4 tile, with `U^ξν[c, co] = (G g Gᵀ)[ξ][ν]` (the
//! weights, transformed once per call) and `V^ξν[t, c] = (Bᵀ d B)[ξ][ν]` for the tiles `t` of a
//! block, the channel sum is one matrix product (§4.1):
//!
//! ```text
//! M^ξν = V^ξν · U^ξν        [tiles × Cout] = [tiles × Cin] · [Cin × Cout]     (crate::gemm)
//! ```
//!
//! then `Y = Aᵀ M A` per tile and channel, and the epilogue (bias, activation) on the output.
//! A tile costs 16·Cin·Cout multiplies where the direct convolution spends 4·9·Cin·Cout: 2.25×
//! fewer, plus the transforms (additions, ~O(16·(Cin + Cout)) per tile).
//!
//! **Error bound.** Every transform is a sum of inputs with coefficients ±1 and ±½ (products by
//! ½ are exact), rounded after each addition: at most 4 roundings on a term of `U` (2 for `G·g`,
//! 2 for `·Gᵀ`), 2 on a term of `V`, at most `Cin` in the GEMM's sum over channels (one FMA per
//! channel on a register accumulator, blocks of `k` added to `C`: a summation tree of `Cin`
//! fused products) and 4 in `Aᵀ M A`. Expanding the products, the computed `ŷ` is the exact
//! sum of the elementary terms `a·g·d` (`a` the product of the transform coefficients), each
//! times its own `1 + θ` with `|θ| ≤ γ_{Cin+10}`, `γ_n = n·u / (1 − n·u)`, `u = 2⁻²⁴` (Higham,
//! *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Lemma 3.1). So, per output,
//!
//! ```text
//! |ŷ − y| ≤ γ_{Cin+10} · Ȳ,     Ȳ = |Aᵀ| [ Σ_c (|G| |g_c| |Gᵀ|) ⊙ (|Bᵀ| |d_c| |B|) ] |A|
//! ```
//!
//! and the bias adds one rounding: `γ_{Cin+11}·(Ȳ + |b|)` (the activations are 1-Lipschitz or,
//! for (P)ReLU slopes, one more product). The direct path's bound is `γ_{9·Cin}·Σ|w||x|`; `Ȳ`
//! also counts the terms that the transforms add and then cancel, so it is several times
//! `Σ|w||x|`: up to 24× on the shapes of `winograd_tests`, which print both. There the measured
//! worst error was 0.2–5 % of the bound and 1–2× the direct path's (as a fraction of `Σ|w||x|`:
//! 0.6–2.7·10⁻⁷ against 0.6–1.9·10⁻⁷).
//!
//! **Parallel parts.** Tiles are grouped by tile rows of the whole batch (sample after sample)
//! into blocks of whole tile rows (at least one) whose `V` and `M` fit in [`BLOCK_FLOATS`]: the
//! blocks depend on the shape only. Blocks are grouped into at most [`MAX_CHUNKS`] contiguous
//! parts, so a part writes one contiguous run of output rows. Each output is computed by the
//! same operations whichever part holds its block (a GEMM element is one FMA chain over `Cin`,
//! whatever the number of rows `m`), so results do not depend on the thread count. Unlike the
//! direct path (up to 64 parts in large pools), Winograd stops at 16 parts, so at most 16 threads
//! share one call: each part needs a block's `V` and `M` (1 MiB) in scratch, and with 16 parts
//! kim-brunner's peak RSS stayed at 404 MB (64 parts: 443 MB, past a third of PyTorch's).

use std::ops::{Add, Mul, Range, Sub};

use super::Conv2dShape;
use crate::epilogue::Epilogue;
use crate::gemm::{pack_len, sgemm};
use crate::parallel::{for_each_part, part_count, part_range, MAX_CHUNKS};
use crate::simd::{self, body_len, F32s, LANES};

/// Positions of a 4×4 transformed tile, one GEMM each.
const POSITIONS: usize = 16;
/// Floats of a block's `V` and `M` (16·tiles·(Cin + Cout)): 1 MiB, so that they stay in L2
/// (2 MiB here) between the transforms and the GEMMs, and few enough that 64 parts' scratch stays
/// small. Measured on one core, direct ÷ Winograd time at 1.5 / 1 / 0.5 MiB: 128→128 1.9 / 1.85 /
/// 1.57, 32→32 0.89 / 1.04 / 1.05 (medians of 3, 3 and 2 runs).
const BLOCK_FLOATS: usize = 1 << 18;

/// Whether [`conv2d_forward_winograd`] computes this shape: a 3×3 kernel, stride 1, dilation 1
/// (any padding).
pub fn winograd_applies(s: &Conv2dShape) -> bool {
    (
        s.kernel_h,
        s.kernel_w,
        s.stride_h,
        s.stride_w,
        s.dilation_h,
        s.dilation_w,
    ) == (3, 3, 1, 1, 1, 1)
}

/// Least `Cin·Cout / (Cin + Cout)` for which [`winograd_pays`]: per tile the products cost
/// 16·Cin·Cout multiply-adds and the transforms O(16·(Cin + Cout)) additions and copies, so the
/// gain grows with that ratio. Measured on one core (AMD EPYC, `conv2d_winograd_1t` bench, time
/// of the direct path ÷ Winograd's in the same run, three runs), ratio in brackets:
/// 32→32 on 40×40 [16] 1.01–1.18, 32→64 on 20×20 [21.3] 1.19–1.35, 48→64 on 32×32 [27.4]
/// 1.11–1.26, 64→64 on 20×20 [32] 1.38–1.76, 64→128 on 10×10 [42.7] 1.65–1.75, 128→128 on
/// 10×10 [64] 1.83–2.00. 32→32 gains too little to count on.
const MIN_PRODUCTS_PER_VALUE: usize = 20;

/// Whether [`super::conv2d_forward_fused`] takes the Winograd path: [`winograd_applies`] and
/// `Cin·Cout ≥ 20·(Cin + Cout)` ([`MIN_PRODUCTS_PER_VALUE`]), e.g. 32→64, 48→48 and wider.
pub fn winograd_pays(s: &Conv2dShape) -> bool {
    winograd_applies(s) && s.in_ch * s.out_ch >= MIN_PRODUCTS_PER_VALUE * (s.in_ch + s.out_ch)
}

/// The tiles of a batch and their blocks and parts.
#[derive(Clone, Copy)]
struct Tiling {
    out_h: usize,
    out_w: usize,
    tiles_h: usize,
    tiles_w: usize,
    /// Tile rows of the whole batch: `batch·tiles_h`.
    rows: usize,
    /// Tile rows per block (the last block may have fewer).
    block_rows: usize,
    blocks: usize,
    parts: usize,
}

impl Tiling {
    /// The tiling of a shape, its blocks grouped into at most [`MAX_CHUNKS`] parts.
    fn new(s: &Conv2dShape) -> Self {
        let (out_h, out_w) = (s.out_h(), s.out_w());
        let (tiles_h, tiles_w) = (out_h.div_ceil(2), out_w.div_ceil(2));
        let rows = s.batch * tiles_h;
        let block_tiles = BLOCK_FLOATS / (POSITIONS * (s.in_ch + s.out_ch));
        let block_rows = (block_tiles / tiles_w).clamp(1, rows);
        let blocks = rows.div_ceil(block_rows);
        Tiling {
            out_h,
            out_w,
            tiles_h,
            tiles_w,
            rows,
            block_rows,
            blocks,
            parts: part_count(blocks, MAX_CHUNKS),
        }
    }

    /// Tile rows (of the whole batch) of block `b`.
    fn block_tile_rows(&self, b: usize) -> Range<usize> {
        b * self.block_rows..((b + 1) * self.block_rows).min(self.rows)
    }

    /// Tiles of a full block: the row count of `V` and `M` in scratch.
    fn max_tiles(&self) -> usize {
        self.block_rows * self.tiles_w
    }

    /// Blocks of part `p`.
    fn part_blocks(&self, p: usize) -> Range<usize> {
        part_range(self.blocks, self.parts, p)
    }

    /// The output row of the whole batch (`sample·out_h + oh`) where tile row `r` starts;
    /// `batch·out_h` for `r = rows`.
    fn out_row(&self, r: usize) -> usize {
        let (n, ty) = (r / self.tiles_h, r % self.tiles_h);
        n * self.out_h + (2 * ty).min(self.out_h)
    }

    /// Output rows (of the whole batch) that part `p` writes.
    fn part_out_rows(&self, p: usize) -> Range<usize> {
        let blocks = self.part_blocks(p);
        let first_tile_row = |b: usize| (b * self.block_rows).min(self.rows);
        self.out_row(first_tile_row(blocks.start))..self.out_row(first_tile_row(blocks.end))
    }

    /// Pixels in a row of the zero-padded sample: the `2·tiles_w + 2` columns the tiles read
    /// (at least `pad_left + in_w`, since `out_w = in_w + pad_left + pad_right − 2`).
    fn padded_w(&self) -> usize {
        2 * self.tiles_w + 2
    }

    /// Floats of the zero-padded sample: `2·tiles_h + 2` rows of [`Self::padded_w`] pixels.
    fn padded_len(&self, s: &Conv2dShape) -> usize {
        (2 * self.tiles_h + 2) * self.padded_w() * s.in_ch
    }

    /// Per-part work floats: `V` (16 × max_tiles × Cin), `M` (16 × max_tiles × Cout), a
    /// zero-padded sample and a pack for the GEMMs of a full and of the last block.
    fn work_len(&self, s: &Conv2dShape) -> usize {
        let last = self.block_tile_rows(self.blocks - 1).len() * self.tiles_w;
        let pack = [self.max_tiles(), last]
            .map(|tiles| pack_len(tiles, s.in_ch, s.out_ch))
            .into_iter()
            .max()
            .unwrap_or(0);
        POSITIONS * self.max_tiles() * (s.in_ch + s.out_ch) + self.padded_len(s) + pack
    }
}

/// Floats of the transformed weights `U`: 16 × Cin × Cout.
fn weights_len(s: &Conv2dShape) -> usize {
    POSITIONS * s.in_ch * s.out_ch
}

pub(super) fn scratch_len(s: &Conv2dShape) -> usize {
    let t = Tiling::new(s);
    weights_len(s) + t.parts * t.work_len(s)
}

/// Forward pass by Winograd F(2×2, 3×3) (see the module documentation): `y = act(conv + bias)`
/// with the epilogue's bias and activation; overwrites `y`. `scratch` holds at least
/// `s.winograd_scratch_len()` floats.
///
/// # Panics
/// Unless [`winograd_applies`] to `s`, on slices of the wrong lengths, or if `scratch` is too
/// short.
pub fn conv2d_forward_winograd(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    epilogue: &Epilogue,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    assert!(
        winograd_applies(s),
        "conv2d_forward_winograd: needs a 3×3 kernel, stride 1 and dilation 1, found {s:?}"
    );
    s.assert_lengths(x, w, epilogue.bias, y);
    epilogue.assert_channels(s.out_ch);
    let t = Tiling::new(s);
    let work_len = t.work_len(s);
    assert!(
        scratch.len() >= weights_len(s) + t.parts * work_len,
        "conv2d_forward_winograd: scratch too short"
    );
    let (u, work) = scratch.split_at_mut(weights_len(s));
    transform_weights(s, w, u);
    let u = &*u;
    let out_row = t.out_w * s.out_ch;
    let y_start = |p: usize| t.part_out_rows(p).start * out_row;
    let work_start = |p: usize| p * work_len;
    for_each_part(
        t.parts,
        [y, work],
        [&y_start, &work_start],
        &|p, [y, work]| {
            let first_row = t.part_out_rows(p).start;
            let mut padded_sample = None;
            for b in t.part_blocks(p) {
                let out = (&mut *y, first_row);
                forward_block(s, &t, b, x, u, epilogue, out, work, &mut padded_sample);
            }
        },
    );
}

/// One block: `V` of its tiles, the 16 products `M^ξν = V^ξν·U^ξν`, `Y = Aᵀ M A` into `y` (the
/// part's rows, the first being output row `first_row` of the batch), then the epilogue on the
/// block's rows. `padded_sample` names the sample the padded image in `work` holds.
#[allow(clippy::too_many_arguments)]
fn forward_block(
    s: &Conv2dShape,
    t: &Tiling,
    block: usize,
    x: &[f32],
    u: &[f32],
    epilogue: &Epilogue,
    (y, first_row): (&mut [f32], usize),
    work: &mut [f32],
    padded_sample: &mut Option<usize>,
) {
    let (cin, cout) = (s.in_ch, s.out_ch);
    let tile_rows = t.block_tile_rows(block);
    let tiles = tile_rows.len() * t.tiles_w;
    let (v_stride, m_stride) = (t.max_tiles() * cin, t.max_tiles() * cout);
    let (v, rest) = work.split_at_mut(POSITIONS * v_stride);
    let (m, rest) = rest.split_at_mut(POSITIONS * m_stride);
    let (padded, pack) = rest.split_at_mut(t.padded_len(s));
    for (row, r) in tile_rows.clone().enumerate() {
        let (n, ty) = (r / t.tiles_h, r % t.tiles_h);
        if *padded_sample != Some(n) {
            pad_sample(s, t, x, n, padded);
            *padded_sample = Some(n);
        }
        for tx in 0..t.tiles_w {
            let tile = row * t.tiles_w + tx;
            transform_input_tile(s, t, padded, (ty, tx), &mut v[tile * cin..], v_stride);
        }
    }
    for pos in 0..POSITIONS {
        sgemm(
            tiles,
            cin,
            cout,
            1.0,
            &v[pos * v_stride..],
            cin,
            1,
            &u[pos * cin * cout..],
            cout,
            1,
            0.0,
            &mut m[pos * m_stride..],
            cout,
            1,
            pack,
        );
    }
    for i in 0..tiles {
        let tile = (tile_rows.start + i / t.tiles_w, i % t.tiles_w);
        transform_output_tile(s, t, &m[i * cout..], m_stride, tile, y, first_row);
    }
    let out_row = t.out_w * cout;
    let rows = t.out_row(tile_rows.start) - first_row..t.out_row(tile_rows.end) - first_row;
    epilogue.apply_in_place(cout, &mut y[rows.start * out_row..rows.end * out_row]);
}

/// What the transforms compute on: a vector of `LANES` channels, or one channel (the tail).
/// Both perform the same IEEE operations per channel, so a channel's result does not depend on
/// which one computes it.
trait Lanes: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {
    fn load(src: &[f32]) -> Self;
    fn store(self, dst: &mut [f32]);
    fn splat(x: f32) -> Self;
}

impl Lanes for F32s {
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        simd::load(src)
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        simd::store(self, dst)
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        simd::splat(x)
    }
}

impl Lanes for f32 {
    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        src[0]
    }
    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        dst[0] = self;
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        x
    }
}

/// `G·g = [g0, (g0 + g2 + g1)·½, (g0 + g2 − g1)·½, g2]` (two roundings at most; `·½` is exact).
#[inline(always)]
fn weight_1d<L: Lanes>([g0, g1, g2]: [L; 3]) -> [L; 4] {
    let (half, outer) = (L::splat(0.5), g0 + g2);
    [g0, (outer + g1) * half, (outer - g1) * half, g2]
}

/// `Bᵀ·d = [d0 − d2, d1 + d2, d2 − d1, d1 − d3]`.
#[inline(always)]
fn input_1d<L: Lanes>([d0, d1, d2, d3]: [L; 4]) -> [L; 4] {
    [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
}

/// `Aᵀ·m = [m0 + m1 + m2, m1 − m2 − m3]`.
#[inline(always)]
fn output_1d<L: Lanes>([m0, m1, m2, m3]: [L; 4]) -> [L; 2] {
    [m0 + m1 + m2, m1 - m2 - m3]
}

/// `T·z·Tᵀ` for the 1D transform `z ↦ T·z` given as `t`: `t` on every column of `z` (giving
/// `T·z`), then on every row of that.
#[inline(always)]
fn nest<L: Lanes, const R: usize, const C: usize>(
    z: [[L; R]; R],
    t: impl Fn([L; R]) -> [L; C],
) -> [[L; C]; C] {
    // tz_cols[j][i] = (T·z)[i][j]
    let tz_cols: [[L; C]; R] = std::array::from_fn(|j| t(std::array::from_fn(|i| z[i][j])));
    std::array::from_fn(|i| t(std::array::from_fn(|j| tz_cols[j][i])))
}

/// `U^ξν[c, co] = (G g Gᵀ)[ξ][ν]` with `g[kh][kw] = w[kh, kw, c, co]`, stored as 16 `[Cin, Cout]`
/// matrices.
fn transform_weights(s: &Conv2dShape, w: &[f32], u: &mut [f32]) {
    // Tap (kh, kw) of w and position (ξ, ν) of u are both `Cin·Cout` floats apart.
    let plane = s.in_ch * s.out_ch;
    let body = body_len(s.out_ch);
    for ci in 0..s.in_ch {
        let row = ci * s.out_ch;
        for co in (0..body).step_by(LANES) {
            transform_weight_lanes::<F32s>(&w[row + co..], &mut u[row + co..], plane);
        }
        for co in body..s.out_ch {
            transform_weight_lanes::<f32>(&w[row + co..], &mut u[row + co..], plane);
        }
    }
}

/// One lane group of [`transform_weights`]: tap `(kh, kw)` at `w[(3·kh + kw)·plane]`, position
/// `(ξ, ν)` to `u[(4·ξ + ν)·plane]`.
#[inline(always)]
fn transform_weight_lanes<L: Lanes>(w: &[f32], u: &mut [f32], plane: usize) {
    let g: [[L; 3]; 3] =
        std::array::from_fn(|kh| std::array::from_fn(|kw| L::load(&w[(3 * kh + kw) * plane..])));
    let transformed = nest(g, weight_1d);
    for (xi, row) in transformed.iter().enumerate() {
        for (nu, &value) in row.iter().enumerate() {
            value.store(&mut u[(4 * xi + nu) * plane..]);
        }
    }
}

/// Copies sample `n` into `padded` with `pad_top` zero rows above and `pad_left` zero pixels on
/// the left, zeros elsewhere (the padding, and the extra pixels the tiles of odd sizes read).
fn pad_sample(s: &Conv2dShape, t: &Tiling, x: &[f32], n: usize, padded: &mut [f32]) {
    let (row_len, in_row) = (t.padded_w() * s.in_ch, s.in_w * s.in_ch);
    let sample = &x[n * s.in_h * in_row..][..s.in_h * in_row];
    padded.fill(0.0);
    for (ih, src) in sample.chunks_exact(in_row).enumerate() {
        padded[(s.pad_top + ih) * row_len + s.pad_left * s.in_ch..][..in_row].copy_from_slice(src);
    }
}

/// Writes `V^ξν[t, c] = (Bᵀ d B)[ξ][ν]` of tile `(ty, tx)` of the padded sample (its patch
/// starts at padded pixel `(2·ty, 2·tx)`) to `v[(4·ξ + ν)·v_stride + c]` (`v` starts at the
/// tile's row of `V`).
fn transform_input_tile(
    s: &Conv2dShape,
    t: &Tiling,
    padded: &[f32],
    (ty, tx): (usize, usize),
    v: &mut [f32],
    v_stride: usize,
) {
    let row_len = t.padded_w() * s.in_ch;
    let patch = &padded[2 * ty * row_len + 2 * tx * s.in_ch..];
    let body = body_len(s.in_ch);
    for c in (0..body).step_by(LANES) {
        transform_input_lanes::<F32s>(patch, row_len, s.in_ch, c, v, v_stride);
    }
    for c in body..s.in_ch {
        transform_input_lanes::<f32>(patch, row_len, s.in_ch, c, v, v_stride);
    }
}

/// Channels from `c` of [`transform_input_tile`]: `d[i][j]` at `patch[i·row_len + j·cin + c]`;
/// `d·B` row by row, then `Bᵀ·` on its columns.
#[inline(always)]
fn transform_input_lanes<L: Lanes>(
    patch: &[f32],
    row_len: usize,
    cin: usize,
    c: usize,
    v: &mut [f32],
    v_stride: usize,
) {
    let db: [[L; 4]; 4] = std::array::from_fn(|i| {
        input_1d(std::array::from_fn(|j| {
            L::load(&patch[i * row_len + j * cin + c..])
        }))
    });
    for nu in 0..4 {
        let column = input_1d([db[0][nu], db[1][nu], db[2][nu], db[3][nu]]);
        for (xi, value) in column.into_iter().enumerate() {
            value.store(&mut v[(4 * xi + nu) * v_stride + c..]);
        }
    }
}

/// Writes `Y = Aᵀ M A` of tile `(r, tx)` into `y` (rows from output row `first_row` of the
/// batch), `M^ξν[t, co]` at `m[(4·ξ + ν)·m_stride + co]`; outputs beyond `out_h`/`out_w` are
/// dropped.
fn transform_output_tile(
    s: &Conv2dShape,
    t: &Tiling,
    m: &[f32],
    m_stride: usize,
    (r, tx): (usize, usize),
    y: &mut [f32],
    first_row: usize,
) {
    let (n, ty) = (r / t.tiles_h, r % t.tiles_h);
    let cout = s.out_ch;
    // Offset in y of output (2·ty + i, 2·tx + j), None when outside the output.
    let pixel: [[Option<usize>; 2]; 2] = std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            let (oh, ow) = (2 * ty + i, 2 * tx + j);
            (oh < t.out_h && ow < t.out_w)
                .then(|| ((n * t.out_h + oh - first_row) * t.out_w + ow) * cout)
        })
    });
    let body = body_len(cout);
    for c in (0..body).step_by(LANES) {
        transform_output_lanes::<F32s>(m, m_stride, c, &pixel, y);
    }
    for c in body..cout {
        transform_output_lanes::<f32>(m, m_stride, c, &pixel, y);
    }
}

/// Channels from `c` of [`transform_output_tile`].
#[inline(always)]
fn transform_output_lanes<L: Lanes>(
    m: &[f32],
    m_stride: usize,
    c: usize,
    pixel: &[[Option<usize>; 2]; 2],
    y: &mut [f32],
) {
    // M·A row by row, then Aᵀ· on its two columns.
    let ma: [[L; 2]; 4] = std::array::from_fn(|xi| {
        output_1d(std::array::from_fn(|nu| {
            L::load(&m[(4 * xi + nu) * m_stride + c..])
        }))
    });
    for j in 0..2 {
        let column = output_1d([ma[0][j], ma[1][j], ma[2][j], ma[3][j]]);
        for (i, value) in column.into_iter().enumerate() {
            if let Some(o) = pixel[i][j] {
                value.store(&mut y[o + c..]);
            }
        }
    }
}
