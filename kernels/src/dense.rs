//! Fully connected (dense, `Linear`) layer.
//!
//! With `x [batch, in]`, the weight `w [out, in]` in PyTorch's `Linear.weight` layout and
//! `b [out]`:
//!
//! - forward: `y = x·wᵀ + b`, i.e. `y[n,o] = b[o] + Σ_i x[n,i]·w[o,i]`;
//! - backward (accumulating): `dx += dy·w`, `dw += dyᵀ·x`, `db += Σ_n dy[n,·]`.
//!
//! The fast path is three GEMMs through [`crate::gemm::sgemm`], which packs into
//! caller-provided scratch and allocates nothing. Transposes are never copied: `wᵀ` and `dyᵀ`
//! are the same memory read with swapped row/column strides.
//!
//! Parallelism: each GEMM's *output* matrix is cut into tiles that depend on the shape alone,
//! and every tile is one single-threaded `sgemm` over the full inner dimension, with its own
//! pack buffer. No sum crosses a tile, so every output element is computed by one thread in the
//! same order whatever the number of threads, and results are bit-identical for 1 or N threads.
//! The forward pass and `dx` are cut into column tiles along the dimension whose operand is
//! the large weight (`out` for the forward pass, `in` for `dx`), so that each thread packs only
//! its own part of `w`; a column tile is not a contiguous slice of the row-major output, so it
//! is computed into a staging block of scratch and then added to the output. `dw` is cut into
//! row tiles (contiguous blocks of `dw`) and written in place.

use crate::shape::{ensure, ShapeError};
use rayon::prelude::*;

/// Shape of a dense layer applied to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseShape {
    /// Number of samples.
    pub batch: usize,
    /// Features per input sample.
    pub in_features: usize,
    /// Features per output sample.
    pub out_features: usize,
}

impl DenseShape {
    /// Checks that every dimension is at least 1.
    pub fn validate(&self) -> Result<(), ShapeError> {
        ensure!(self.batch > 0, "dense: batch must be at least 1, found 0");
        ensure!(
            self.in_features > 0,
            "dense: in_features must be at least 1, found 0"
        );
        ensure!(
            self.out_features > 0,
            "dense: out_features must be at least 1, found 0"
        );
        Ok(())
    }

    /// Length of `x` (and `dx`): `batch × in_features`.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_features
    }

    /// Length of `y` (and `dy`): `batch × out_features`.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_features
    }

    /// Length of `w` (and `dw`): `out_features × in_features`.
    pub fn weight_len(&self) -> usize {
        self.out_features * self.in_features
    }
}

/// Panics unless every slice has the length `s` implies.
fn assert_lengths(s: &DenseShape, x: &[f32], w: &[f32], y_or_dy: &[f32], bias: Option<&[f32]>) {
    assert_eq!(x.len(), s.input_len(), "dense: x has the wrong length");
    assert_eq!(w.len(), s.weight_len(), "dense: w has the wrong length");
    assert_eq!(
        y_or_dy.len(),
        s.output_len(),
        "dense: y/dy has the wrong length"
    );
    if let Some(b) = bias {
        assert_eq!(
            b.len(),
            s.out_features,
            "dense: bias/db has the wrong length"
        );
    }
}

/// Reference forward pass: `y[n,o] = b[o] + Σ_i x[n,i]·w[o,i]` (overwrites `y`).
pub fn dense_forward_ref(
    s: &DenseShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    assert_lengths(s, x, w, y, bias);
    let (nin, nout) = (s.in_features, s.out_features);
    for n in 0..s.batch {
        for o in 0..nout {
            let mut acc = bias.map_or(0.0, |b| b[o]);
            for i in 0..nin {
                acc += x[n * nin + i] * w[o * nin + i];
            }
            y[n * nout + o] = acc;
        }
    }
}

/// Reference backward pass, accumulating:
/// `dx[n,i] += Σ_o dy[n,o]·w[o,i]`, `dw[o,i] += Σ_n dy[n,o]·x[n,i]`, `db[o] += Σ_n dy[n,o]`.
pub fn dense_backward_ref(
    s: &DenseShape,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: Option<&mut [f32]>,
) {
    assert_lengths(s, x, w, dy, db.as_deref());
    assert_eq!(dw.len(), s.weight_len(), "dense: dw has the wrong length");
    let (nin, nout) = (s.in_features, s.out_features);
    if let Some(dx) = dx {
        assert_eq!(dx.len(), s.input_len(), "dense: dx has the wrong length");
        for n in 0..s.batch {
            for i in 0..nin {
                let mut acc = 0.0;
                for o in 0..nout {
                    acc += dy[n * nout + o] * w[o * nin + i];
                }
                dx[n * nin + i] += acc;
            }
        }
    }
    for o in 0..nout {
        for i in 0..nin {
            let mut acc = 0.0;
            for n in 0..s.batch {
                acc += dy[n * nout + o] * x[n * nin + i];
            }
            dw[o * nin + i] += acc;
        }
    }
    if let Some(db) = db {
        for o in 0..nout {
            let mut acc = 0.0;
            for n in 0..s.batch {
                acc += dy[n * nout + o];
            }
            db[o] += acc;
        }
    }
}

/// Fast forward pass (overwrites `y`): `y` is filled with the bias rows, then
/// `y += x·wᵀ` with `wᵀ` read through swapped strides, in column tiles over `out_features`.
/// `scratch` holds at least [`DenseShape::forward_scratch_len`] floats.
pub fn dense_forward(
    s: &DenseShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    assert_lengths(s, x, w, y, bias);
    assert!(
        scratch.len() >= s.forward_scratch_len(),
        "dense_forward: scratch too short"
    );
    match bias {
        Some(b) => y
            .chunks_exact_mut(s.out_features)
            .for_each(|row| row.copy_from_slice(b)),
        None => y.fill(0.0),
    }
    let (nin, nout) = (s.in_features, s.out_features);
    // y[batch × out] += x[batch × in] · wᵀ[in × out], with wᵀ[i,o] = w[o·in + i].
    column_tiled_sgemm_add(
        Product::new(s.batch, nin, nout),
        Operand::new(x, nin, 1),
        Operand::new(w, 1, nin),
        y,
        scratch,
    );
}

/// Fast backward pass, accumulating into `dx` (column tiles over `in_features`), `dw` (row
/// tiles over `out_features`) and `db` (one fixed-order pass over the batch). `scratch` holds
/// at least [`DenseShape::backward_scratch_len`] floats.
#[allow(clippy::too_many_arguments)]
pub fn dense_backward(
    s: &DenseShape,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    assert_lengths(s, x, w, dy, db.as_deref());
    assert_eq!(dw.len(), s.weight_len(), "dense: dw has the wrong length");
    assert!(
        scratch.len() >= s.backward_scratch_len(),
        "dense_backward: scratch too short"
    );
    let (nin, nout) = (s.in_features, s.out_features);
    if let Some(dx) = dx {
        assert_eq!(dx.len(), s.input_len(), "dense: dx has the wrong length");
        // dx[batch × in] += dy[batch × out] · w[out × in]
        column_tiled_sgemm_add(
            s.input_grad_product(),
            Operand::new(dy, nout, 1),
            Operand::new(w, nin, 1),
            dx,
            scratch,
        );
    }
    // dw[out × in] += dyᵀ[out × batch] · x[batch × in], with dyᵀ[o,n] = dy[n·out + o].
    row_tiled_sgemm_add(
        s.weight_grad_product(),
        Operand::new(dy, 1, nout),
        Operand::new(x, nin, 1),
        dw,
        scratch,
    );
    if let Some(db) = db {
        for dy_row in dy.chunks_exact(nout) {
            crate::simd::axpy(1.0, dy_row, db);
        }
    }
}

impl DenseShape {
    /// Scratch floats of [`dense_forward`]: the column tiles of `y` and a GEMM pack per tile.
    pub fn forward_scratch_len(&self) -> usize {
        column_tiled_scratch_len(Product::new(
            self.batch,
            self.in_features,
            self.out_features,
        ))
    }

    /// Scratch floats of [`dense_backward`]: the larger of the `dx` product's (column tiles of
    /// `dx` and a pack per tile) and the `dw` product's (a pack per row tile); the two run one
    /// after the other and share it.
    pub fn backward_scratch_len(&self) -> usize {
        column_tiled_scratch_len(self.input_grad_product())
            .max(row_tiled_scratch_len(self.weight_grad_product()))
    }

    /// `dx[batch × in] += dy[batch × out]·w[out × in]`.
    fn input_grad_product(&self) -> Product {
        Product::new(self.batch, self.out_features, self.in_features)
    }

    /// `dw[out × in] += dyᵀ[out × batch]·x[batch × in]`.
    fn weight_grad_product(&self) -> Product {
        Product::new(self.out_features, self.batch, self.in_features)
    }
}

/// Sizes of a product `C[m × n] (+)= A[m × k]·B[k × n]`.
#[derive(Clone, Copy)]
struct Product {
    m: usize,
    k: usize,
    n: usize,
}

impl Product {
    fn new(m: usize, k: usize, n: usize) -> Self {
        Product { m, k, n }
    }
}

/// A read-only strided matrix: element `(r, c)` is `data[r·row_stride + c·col_stride]`.
#[derive(Clone, Copy)]
struct Operand<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Operand<'a> {
    fn new(data: &'a [f32], row_stride: usize, col_stride: usize) -> Self {
        Operand {
            data,
            row_stride,
            col_stride,
        }
    }

    /// The matrix starting at element `(row, col)`.
    fn from(self, row: usize, col: usize) -> Operand<'a> {
        Operand {
            data: &self.data[row * self.row_stride + col * self.col_stride..],
            ..self
        }
    }
}

/// Output tiles are at least this many columns (or rows) wide, and widened to a multiple of
/// [`TILE_ALIGN`].
///
/// Column tiles (forward, `dx`) each pack only their own columns of the weight (`crate::gemm`
/// packs B and reads A in place), so narrow tiles cost no repacking, unlike with
/// matrixmultiply, which packed A (the activations) again for every tile. Measured on one core
/// of an AMD EPYC (Zen 4, busy shared host, best of 7, forward / backward GFLOP/s): batch 128,
/// 3200→2048: 76 / 80 with tiles of 64, 66 / 64 with 256, 56 / 87 untiled; batch 256,
/// 3536→512: 91 / 86 with 64, 80 / 62 with 256; batch 32, 3536→512: 38–43 / 42–47 for every
/// width (the weight streams from memory).
const MIN_TILE: usize = 64;

/// Tiles are widened to a multiple of this (two vectors of the widest SIMD target, the width
/// of `crate::gemm`'s register tile), so a tile edge does not leave a ragged micro-panel inside
/// the matrix.
const TILE_ALIGN: usize = 32;

/// Tiles along an axis of `len` elements: their count (at most
/// [`crate::parallel::MAX_CHUNKS`]) and width, `⌈len / count⌉` rounded up to [`TILE_ALIGN`].
/// Depends on `len` only, never on the number of threads. The last tile may be narrower.
fn split_axis(len: usize) -> (usize, usize) {
    let wanted = (len / MIN_TILE).clamp(1, crate::parallel::MAX_CHUNKS);
    let width = len
        .div_ceil(wanted)
        .next_multiple_of(TILE_ALIGN)
        .min(len.max(1));
    (len.div_ceil(width), width)
}

/// Pack floats for one tile of an axis of `len` split by [`split_axis`]: the larger of what
/// the full tile and the last (narrower) tile need, as `gemm::pack_len` depends on the shape.
fn tile_pack_len(len: usize, pack_len_for: impl Fn(usize) -> usize) -> usize {
    let (count, width) = split_axis(len);
    let last = len - (count - 1) * width;
    pack_len_for(width).max(pack_len_for(last))
}

/// Scratch of [`column_tiled_sgemm_add`]: `m·n` floats of staged tiles, then one pack per tile.
fn column_tiled_scratch_len(p: Product) -> usize {
    let (count, _) = split_axis(p.n);
    let pack = tile_pack_len(p.n, |width| crate::gemm::pack_len(p.m, p.k, width));
    p.m * p.n + count * pack
}

/// Scratch of [`row_tiled_sgemm_add`]: one pack per row tile.
fn row_tiled_scratch_len(p: Product) -> usize {
    split_axis(p.m).0 * row_tile_pack_len(p)
}

/// Pack floats of one row tile of [`row_tiled_sgemm_add`]: enough for each of its products.
fn row_tile_pack_len(p: Product) -> usize {
    let pack_len_for = |height| {
        aligned_column_parts(p.n)
            .map(|(_, width)| crate::gemm::pack_len(height, p.k, width))
            .max()
            .unwrap_or(0)
    };
    tile_pack_len(p.m, pack_len_for)
}

/// The columns `0..n` as a part whose width is a multiple of [`TILE_ALIGN`] and the narrower
/// rest, each as `(first column, width)`; empty parts are left out.
///
/// `crate::gemm` computes a product as `Cᵀ = Bᵀ·Aᵀ` when that pads less to whole register
/// tiles, and for `dw` (a short inner dimension, `k = batch`) that transposed product reads and
/// writes `C` across its rows: measured on one core (Zen 4), `dw` of 3536→512 at batch 32 ran at
/// 36 GFLOP/s as one product and 93 with matrixmultiply. With the aligned part as its own
/// product, only the narrow rest may be computed transposed.
fn aligned_column_parts(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let aligned = n - n % TILE_ALIGN;
    [(0, aligned), (aligned, n - aligned)]
        .into_iter()
        .filter(|&(_, width)| width > 0)
}

/// `C[m × n] += A·B` (`C` row-major, contiguous), cut into column tiles computed in parallel.
/// A column tile of a row-major matrix is not a contiguous slice, so each tile writes its
/// product `A·B[:, tile]` to its own staging block of `scratch` (`m × width`, row-major), and
/// the staged tiles are then added into `C` in order. Each tile packs only its own columns of
/// `B`, the weight in every call here.
fn column_tiled_sgemm_add(
    p: Product,
    a: Operand<'_>,
    b: Operand<'_>,
    c: &mut [f32],
    scratch: &mut [f32],
) {
    let Product { m, k, n } = p;
    assert_eq!(
        c.len(),
        m * n,
        "column_tiled_sgemm_add: C has the wrong length"
    );
    if m == 0 || k == 0 || n == 0 {
        return;
    }
    let (count, width) = split_axis(n);
    let pack_len = tile_pack_len(n, |width| crate::gemm::pack_len(m, k, width));
    let (staged, rest) = scratch.split_at_mut(m * n);
    let packs = &mut rest[..count * pack_len];
    staged
        .par_chunks_mut(m * width)
        .zip(packs.par_chunks_mut(pack_len))
        .enumerate()
        .for_each(|(tile, (stage, pack))| {
            let tile_n = stage.len() / m;
            let b = b.from(0, tile * width);
            crate::gemm::sgemm(
                m,
                k,
                tile_n,
                1.0,
                a.data,
                a.row_stride,
                a.col_stride,
                b.data,
                b.row_stride,
                b.col_stride,
                0.0,
                stage,
                tile_n,
                1,
                pack,
            );
        });
    for (tile, stage) in staged.chunks(m * width).enumerate() {
        let tile_n = stage.len() / m;
        for (c_row, stage_row) in c.chunks_exact_mut(n).zip(stage.chunks_exact(tile_n)) {
            crate::simd::axpy(1.0, stage_row, &mut c_row[tile * width..][..tile_n]);
        }
    }
}

/// `C[m × n] += A·B` (`C` row-major, contiguous), cut into row tiles (contiguous blocks of
/// `C`) computed in parallel, each in place with its own pack from `scratch`, as the two
/// products of [`aligned_column_parts`].
fn row_tiled_sgemm_add(
    p: Product,
    a: Operand<'_>,
    b: Operand<'_>,
    c: &mut [f32],
    scratch: &mut [f32],
) {
    let Product { m, k, n } = p;
    assert_eq!(
        c.len(),
        m * n,
        "row_tiled_sgemm_add: C has the wrong length"
    );
    if m == 0 || k == 0 || n == 0 {
        return;
    }
    let (count, height) = split_axis(m);
    let pack_len = row_tile_pack_len(p);
    let packs = &mut scratch[..count * pack_len];
    c.par_chunks_mut(height * n)
        .zip(packs.par_chunks_mut(pack_len))
        .enumerate()
        .for_each(|(tile, (c_rows, pack))| {
            let a = a.from(tile * height, 0);
            for (first, width) in aligned_column_parts(n) {
                let b = b.from(0, first);
                crate::gemm::sgemm(
                    c_rows.len() / n,
                    k,
                    width,
                    1.0,
                    a.data,
                    a.row_stride,
                    a.col_stride,
                    b.data,
                    b.row_stride,
                    b.col_stride,
                    1.0,
                    &mut c_rows[first..],
                    n,
                    1,
                    pack,
                );
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_close, check_gradient, projection_loss, random_vec, GradCheck};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// [`dense_forward`] with freshly allocated scratch, filled with NaN so that reading it
    /// before writing shows.
    fn forward(s: &DenseShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
        let mut scratch = vec![f32::NAN; s.forward_scratch_len()];
        dense_forward(s, x, w, bias, y, &mut scratch);
    }

    /// [`dense_backward`] with freshly allocated, NaN-filled scratch.
    fn backward(
        s: &DenseShape,
        x: &[f32],
        w: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: Option<&mut [f32]>,
    ) {
        let mut scratch = vec![f32::NAN; s.backward_scratch_len()];
        dense_backward(s, x, w, dy, dx, dw, db, &mut scratch);
    }

    fn shape(batch: usize, in_features: usize, out_features: usize) -> DenseShape {
        DenseShape {
            batch,
            in_features,
            out_features,
        }
    }

    /// Random inputs for a shape: (x, w, bias, dy).
    fn inputs(s: &DenseShape, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        (
            random_vec(seed, s.input_len(), 1.0),
            random_vec(seed + 1, s.weight_len(), 0.5),
            random_vec(seed + 2, s.out_features, 0.5),
            random_vec(seed + 3, s.output_len(), 1.0),
        )
    }

    /// Tolerance for sums of `terms` products of values ≤ 1 in different orders.
    fn atol(terms: usize) -> f32 {
        1e-6 * (terms as f32).sqrt().max(1.0) * 4.0
    }

    /// Fast forward and backward equal the reference, with pre-filled (accumulated) gradients.
    fn check_fast_matches_ref(s: &DenseShape, seed: u64) {
        let (x, w, b, dy) = inputs(s, seed);
        for bias in [Some(b.as_slice()), None] {
            let mut y_ref = vec![0.0; s.output_len()];
            let mut y = vec![f32::NAN; s.output_len()];
            dense_forward_ref(s, &x, &w, bias, &mut y_ref);
            forward(s, &x, &w, bias, &mut y);
            assert_close(
                &format!("forward {s:?}"),
                &y,
                &y_ref,
                1e-5,
                atol(s.in_features),
            );
        }
        let fill = |n, seed| random_vec(seed, n, 1.0);
        let (mut dx_ref, mut dw_ref, mut db_ref) = (
            fill(s.input_len(), 7),
            fill(s.weight_len(), 8),
            fill(s.out_features, 9),
        );
        let (mut dx, mut dw, mut db) = (dx_ref.clone(), dw_ref.clone(), db_ref.clone());
        dense_backward_ref(
            s,
            &x,
            &w,
            &dy,
            Some(&mut dx_ref),
            &mut dw_ref,
            Some(&mut db_ref),
        );
        backward(s, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
        let what = format!("{s:?}");
        assert_close(
            &format!("dx {what}"),
            &dx,
            &dx_ref,
            1e-5,
            atol(s.out_features),
        );
        assert_close(&format!("dw {what}"), &dw, &dw_ref, 1e-5, atol(s.batch));
        assert_close(&format!("db {what}"), &db, &db_ref, 1e-5, atol(s.batch));
    }

    #[test]
    fn validate_rejects_zero_dimensions() {
        assert!(shape(2, 3, 4).validate().is_ok());
        let err = shape(2, 0, 4).validate().unwrap_err();
        assert!(err.0.contains("in_features"), "{err}");
        assert!(shape(0, 3, 4).validate().is_err());
        assert!(shape(2, 3, 0).validate().is_err());
    }

    #[test]
    fn reference_computes_a_known_product() {
        // x = [[1, 2]], w = [[1, 0], [0, 1], [1, 1]], b = [10, 20, 30] → y = [11, 22, 33]
        let s = shape(1, 2, 3);
        let mut y = [0.0; 3];
        dense_forward_ref(
            &s,
            &[1.0, 2.0],
            &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
            Some(&[10.0, 20.0, 30.0]),
            &mut y,
        );
        assert_eq!(y, [11.0, 22.0, 33.0]);
    }

    #[test]
    fn fast_matches_reference_on_odd_and_preset_shapes() {
        let shapes = [
            shape(1, 1, 1),
            shape(1, 17, 3),
            shape(3, 5, 7),
            shape(2, 3536, 512),
            shape(2, 512, 800),
            shape(5, 2048, 2),
            shape(4, 512, 1),
            shape(33, 65, 97),
            shape(1, 1, 800),
            shape(130, 40, 17),
            shape(520, 70, 530),
            shape(16, 300, 100),
            shape(3, 3200, 2048),
            shape(6, 2048, 2),
        ];
        for (i, s) in shapes.iter().enumerate() {
            check_fast_matches_ref(s, 100 + i as u64);
        }
    }

    #[test]
    fn fast_matches_reference_on_random_shapes() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
        for i in 0..25 {
            let s = shape(
                rng.gen_range(1..70),
                rng.gen_range(1..300),
                rng.gen_range(1..300),
            );
            check_fast_matches_ref(&s, 1000 + i);
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        let s = shape(3, 6, 5);
        let (mut x, mut w, mut b, r) = inputs(&s, 5);
        let mut dx = vec![0.0; s.input_len()];
        let mut dw = vec![0.0; s.weight_len()];
        let mut db = vec![0.0; s.out_features];
        backward(&s, &x, &w, &r, Some(&mut dx), &mut dw, Some(&mut db));
        let mut y = vec![0.0; s.output_len()];
        let cfg = GradCheck::default();
        let (w0, b0, x0) = (w.clone(), b.clone(), x.clone());
        check_gradient(
            "dense dx",
            &mut x,
            &dx,
            |x| {
                forward(&s, x, &w0, Some(&b0), &mut y);
                projection_loss(&y, &r)
            },
            cfg,
        );
        check_gradient(
            "dense dw",
            &mut w,
            &dw,
            |w| {
                forward(&s, &x0, w, Some(&b0), &mut y);
                projection_loss(&y, &r)
            },
            cfg,
        );
        check_gradient(
            "dense db",
            &mut b,
            &db,
            |b| {
                forward(&s, &x0, &w0, Some(b), &mut y);
                projection_loss(&y, &r)
            },
            cfg,
        );
    }

    #[test]
    fn backward_accumulates_into_prefilled_gradients() {
        let s = shape(4, 9, 6);
        let (x, w, _, dy) = inputs(&s, 11);
        let mut fresh = (
            vec![0.0; s.input_len()],
            vec![0.0; s.weight_len()],
            vec![0.0; s.out_features],
        );
        backward(
            &s,
            &x,
            &w,
            &dy,
            Some(&mut fresh.0),
            &mut fresh.1,
            Some(&mut fresh.2),
        );
        let mut twice = fresh.clone();
        backward(
            &s,
            &x,
            &w,
            &dy,
            Some(&mut twice.0),
            &mut twice.1,
            Some(&mut twice.2),
        );
        let doubled = |v: &[f32]| v.iter().map(|a| 2.0 * a).collect::<Vec<_>>();
        assert_close("dx twice", &twice.0, &doubled(&fresh.0), 1e-6, 1e-6);
        assert_close("dw twice", &twice.1, &doubled(&fresh.1), 1e-6, 1e-6);
        assert_close("db twice", &twice.2, &doubled(&fresh.2), 1e-6, 1e-6);
        // `dx: None` leaves the weight gradients unchanged.
        let mut dw = vec![0.0; s.weight_len()];
        backward(&s, &x, &w, &dy, None, &mut dw, None);
        assert_eq!(dw, fresh.1);
    }

    /// Runs forward + backward in a pool of `threads` threads.
    fn run_in_pool(threads: usize, s: &DenseShape) -> Vec<Vec<f32>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        let (x, w, b, dy) = inputs(s, 77);
        pool.install(|| {
            let mut y = vec![0.0; s.output_len()];
            let mut dx = vec![0.0; s.input_len()];
            let mut dw = vec![0.0; s.weight_len()];
            let mut db = vec![0.0; s.out_features];
            forward(s, &x, &w, Some(&b), &mut y);
            backward(s, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
            vec![y, dx, dw, db]
        })
    }

    #[test]
    fn one_and_two_threads_are_bit_identical() {
        for s in [
            shape(32, 3536, 512),
            shape(128, 2048, 2),
            shape(7, 300, 260),
        ] {
            let one = run_in_pool(1, &s);
            let two = run_in_pool(2, &s);
            for (a, b) in one.iter().zip(&two) {
                let same = a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits());
                assert!(same, "{s:?}: 1 and 2 threads differ");
            }
        }
    }

    #[test]
    fn tiles_cover_each_axis_exactly() {
        for len in [1, 2, 17, 31, 32, 33, 64, 65, 512, 800, 2048, 3536] {
            let (count, width) = split_axis(len);
            assert!(count <= crate::parallel::MAX_CHUNKS, "{len}: {count} tiles");
            assert!(
                width * count >= len && width * (count - 1) < len,
                "{len}: {width}×{count}"
            );
        }
    }

    #[test]
    fn scratch_is_large_enough_for_every_tile() {
        // `sgemm` asserts that each tile's pack is long enough; these shapes make the last tile
        // narrower than the others, or narrow enough for another GEMM plan.
        for s in [
            shape(16, 3200, 2048),
            shape(3, 70, 1000),
            shape(40, 33, 65),
            shape(100, 7, 17),
        ] {
            check_fast_matches_ref(&s, 5);
        }
    }
}
