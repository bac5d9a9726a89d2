//! Fully connected (dense, `Linear`) layer.
//!
//! With `x [batch, in]`, the weight `w [out, in]` in PyTorch's `Linear.weight` layout and
//! `b [out]`:
//!
//! - forward: `y = x·wᵀ + b`, i.e. `y[n,o] = b[o] + Σ_i x[n,i]·w[o,i]`;
//! - backward (accumulating): `dx += dy·w`, `dw += dyᵀ·x`, `db += Σ_n dy[n,·]`.
//!
//! The fast path is three GEMMs through `matrixmultiply::sgemm`. Transposes are never copied:
//! `wᵀ` and `dyᵀ` are the same memory read with swapped row/column strides.
//!
//! Parallelism: each GEMM's *output* matrix is cut into a grid of tiles that depends on the shape
//! alone, and every tile is one single-threaded `sgemm` over the full inner dimension. No sum
//! crosses a tile, so every output element is computed by one thread in the same order whatever
//! the number of threads, and results are bit-identical for 1 or N threads. Tiles are cut
//! preferably along the output dimension whose operand is the large weight (`out` for the
//! forward pass, `in` for `dx`), so that each thread streams only its own part of `w`.

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
/// `y += x·wᵀ` with `wᵀ` read through swapped strides, tiled over `out_features`.
pub fn dense_forward(s: &DenseShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    assert_lengths(s, x, w, y, bias);
    let beta = match bias {
        Some(b) => {
            y.chunks_exact_mut(s.out_features)
                .for_each(|row| row.copy_from_slice(b));
            1.0
        }
        None => 0.0,
    };
    let (nin, nout) = (s.in_features, s.out_features);
    // y[batch × out] = x[batch × in] · wᵀ[in × out], with wᵀ[i,o] = w[o·in + i].
    tiled_sgemm(
        s.batch,
        nin,
        nout,
        MatRef::new(x, nin, 1),
        MatRef::new(w, 1, nin),
        beta,
        MatMut::new(y, nout, 1),
    );
}

/// Fast backward pass, accumulating into `dx` (tiles over `in_features`), `dw` (tiles over its
/// rows and columns) and `db` (one fixed-order pass over the batch).
pub fn dense_backward(
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
        // dx[batch × in] += dy[batch × out] · w[out × in]
        tiled_sgemm(
            s.batch,
            nout,
            nin,
            MatRef::new(dy, nout, 1),
            MatRef::new(w, nin, 1),
            1.0,
            MatMut::new(dx, nin, 1),
        );
    }
    // dw[out × in] += dyᵀ[out × batch] · x[batch × in], with dyᵀ[o,n] = dy[n·out + o].
    tiled_sgemm(
        nout,
        s.batch,
        nin,
        MatRef::new(dy, 1, nout),
        MatRef::new(x, nin, 1),
        1.0,
        MatMut::new(dw, nin, 1),
    );
    if let Some(db) = db {
        for dy_row in dy.chunks_exact(nout) {
            crate::simd::axpy(1.0, dy_row, db);
        }
    }
}

/// A read-only strided matrix view for `sgemm`: element `(r, c)` is at `r·row_stride +
/// c·col_stride`. Holding the slice keeps the borrow alive while raw pointers are in use.
#[derive(Clone, Copy)]
struct MatRef<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    fn new(data: &'a [f32], row_stride: usize, col_stride: usize) -> Self {
        MatRef {
            data,
            row_stride,
            col_stride,
        }
    }
}

/// A mutable strided matrix view, shared between the threads that write its disjoint tiles.
struct MatMut<'a> {
    ptr: *mut f32,
    len: usize,
    row_stride: usize,
    col_stride: usize,
    _borrow: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: `tiled_sgemm` gives every thread a disjoint set of elements (one tile of the output
// grid each), so sharing the pointer between threads creates no data race.
unsafe impl Send for MatMut<'_> {}
unsafe impl Sync for MatMut<'_> {}

impl<'a> MatMut<'a> {
    fn new(data: &'a mut [f32], row_stride: usize, col_stride: usize) -> Self {
        MatMut {
            ptr: data.as_mut_ptr(),
            len: data.len(),
            row_stride,
            col_stride,
            _borrow: std::marker::PhantomData,
        }
    }

    /// Pointer to element `(row, col)`. A method (not a field access) so that closures capture
    /// the whole `Sync` view rather than its raw pointer field.
    ///
    /// # Safety
    /// `(row, col)` must lie inside the view.
    unsafe fn element_ptr(&self, row: usize, col: usize) -> *mut f32 {
        self.ptr.add(row * self.row_stride + col * self.col_stride)
    }
}

/// Output tiles are at least this many rows or columns wide. Every tile re-packs the whole
/// shared operand (`x` in the forward pass), so narrow tiles cost memory traffic: measured on
/// one core at batch 256, 3536→512, tiles of 32 columns ran at 49 GFLOP/s, tiles of 256 at 71,
/// one untiled `sgemm` at 73.
const MIN_TILE: usize = 256;

/// Tiles are widened to a multiple of this (the column count of matrixmultiply's AVX-512
/// micro-kernel), so a tile edge does not leave a ragged micro-panel inside the matrix.
const TILE_ALIGN: usize = 16;

/// Number of tiles along an axis of `len` elements when at most `max_tiles` are wanted, and the
/// tile width: `⌈len / count⌉` rounded up to [`TILE_ALIGN`]. Depends on its arguments only.
fn split_axis(len: usize, max_tiles: usize) -> (usize, usize) {
    let wanted = (len / MIN_TILE).clamp(1, max_tiles.max(1));
    let width = len
        .div_ceil(wanted)
        .next_multiple_of(TILE_ALIGN)
        .min(len.max(1));
    (len.div_ceil(width), width)
}

/// `c[m × n] = a[m × k]·b[k × n] + beta·c`, computed as a grid of independent single-threaded
/// `sgemm` calls run in parallel. The grid is cut first along `n` (so each thread reads its own
/// columns of `b`, the weight in every call here), then along `m` with the tiles left over
/// from [`crate::parallel::MAX_CHUNKS`]; it depends only on `m` and `n`.
fn tiled_sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_>,
    b: MatRef<'_>,
    beta: f32,
    c: MatMut<'_>,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        (m - 1) * a.row_stride + k.saturating_sub(1) * a.col_stride < a.data.len().max(1),
        "tiled_sgemm: a is out of bounds"
    );
    assert!(
        k.saturating_sub(1) * b.row_stride + (n - 1) * b.col_stride < b.data.len().max(1),
        "tiled_sgemm: b is out of bounds"
    );
    assert!(
        (m - 1) * c.row_stride + (n - 1) * c.col_stride < c.len,
        "tiled_sgemm: c is out of bounds"
    );
    let (n_tiles, n_width) = split_axis(n, crate::parallel::MAX_CHUNKS);
    let (m_tiles, m_width) = split_axis(m, crate::parallel::MAX_CHUNKS / n_tiles);
    (0..m_tiles * n_tiles).into_par_iter().for_each(|t| {
        let (rows, cols) = (t / n_tiles, t % n_tiles);
        let r0 = rows * m_width;
        let c0 = cols * n_width;
        let tm = m_width.min(m - r0);
        let tn = n_width.min(n - c0);
        // SAFETY: the asserts above keep every accessed element inside its slice; tiles of the
        // grid cover disjoint elements of `c`, so no two threads write the same element, and
        // `a`, `b` are only read.
        unsafe {
            matrixmultiply::sgemm(
                tm,
                k,
                tn,
                1.0,
                a.data.as_ptr().add(r0 * a.row_stride),
                a.row_stride as isize,
                a.col_stride as isize,
                b.data.as_ptr().add(c0 * b.col_stride),
                b.row_stride as isize,
                b.col_stride as isize,
                beta,
                c.element_ptr(r0, c0),
                c.row_stride as isize,
                c.col_stride as isize,
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
            dense_forward(s, &x, &w, bias, &mut y);
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
        dense_backward(s, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
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
        dense_backward(&s, &x, &w, &r, Some(&mut dx), &mut dw, Some(&mut db));
        let mut y = vec![0.0; s.output_len()];
        let cfg = GradCheck::default();
        let (w0, b0, x0) = (w.clone(), b.clone(), x.clone());
        check_gradient(
            "dense dx",
            &mut x,
            &dx,
            |x| {
                dense_forward(&s, x, &w0, Some(&b0), &mut y);
                projection_loss(&y, &r)
            },
            cfg,
        );
        check_gradient(
            "dense dw",
            &mut w,
            &dw,
            |w| {
                dense_forward(&s, &x0, w, Some(&b0), &mut y);
                projection_loss(&y, &r)
            },
            cfg,
        );
        check_gradient(
            "dense db",
            &mut b,
            &db,
            |b| {
                dense_forward(&s, &x0, &w0, Some(b), &mut y);
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
        dense_backward(
            &s,
            &x,
            &w,
            &dy,
            Some(&mut fresh.0),
            &mut fresh.1,
            Some(&mut fresh.2),
        );
        let mut twice = fresh.clone();
        dense_backward(
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
        dense_backward(&s, &x, &w, &dy, None, &mut dw, None);
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
            dense_forward(s, &x, &w, Some(&b), &mut y);
            dense_backward(s, &x, &w, &dy, Some(&mut dx), &mut dw, Some(&mut db));
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
        for len in [1, 2, 17, 31, 32, 33, 512, 800, 2048, 3536] {
            for max in [1, 2, 16] {
                let (count, width) = split_axis(len, max);
                assert!(count <= max.max(1) && width * count >= len && width * (count - 1) < len);
            }
        }
    }
}
