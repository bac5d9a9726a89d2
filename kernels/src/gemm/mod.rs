//! Single-threaded packed SGEMM, `C ← α·A·B + β·C`, that allocates nothing.
//!
//! `matrixmultiply::sgemm` allocates its packing buffer on every call; the engine must not
//! allocate during a training step, so this module packs into a caller-provided slice instead
//! (see [`pack_len`]). Every matrix is a strided view `(slice, row stride, column stride)`, so
//! transposed operands and the overlapping-row views of a padded image used by the
//! convolutions are read in place.
//!
//! # Algorithm (after Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication",
//! ACM TOMS 34(3), 2008, and the BLIS loop nest)
//!
//! ```text
//! for j0 in 0..n step NC
//!   for p0 in 0..k step KC
//!     pack B[p0.., j0..] (kc×nc) into W-wide column slivers, row by row   (pack::pack_b)
//!     for each B sliver (kc×W)                          (stays in L1: 32 KiB at kc = 256)
//!       for each group of ROWS rows of A                (kc columns, read in place from L2)
//!         ROWS×W tile = Σ_p A[rows, p] ⊗ B sliver[p, :]                    (microkernel)
//!         C tile ← α·tile + β·C tile     (β = 1 after the first p0 block)
//! ```
//!
//! Per step `p` the microkernel then reads `ROWS` scalars of A from L2 and two vectors of B
//! from L1, where the opposite order (row group in L1, slivers streamed from the L2 panel)
//! read `W` floats from L2. Measured on an Intel Xeon (one core, same run): dense
//! 3200→2048 batch 128 forward 104 → 125 GFLOP/s, kim-brunner 3×3 convolutions +1–6 %;
//! kc = 128 (a sliver of 16 KiB) was slower there.
//!
//! The microkernel holds the ROWS×W tile in `ROWS·W/LANES` vector registers and, for each `p`,
//! loads `W/LANES` vectors of B and broadcasts `ROWS` scalars of A: `ROWS·W/LANES` FMAs for
//! `ROWS + W/LANES` loads. Two shapes are used: MR×NR (NR = 2·LANES) in general and
//! NARROW_MR×LANES when `n ≤ LANES` (e.g. a conv with 16 output channels).
//!
//! Unlike Goto's algorithm, A is not packed: a broadcast reads one scalar, so packing buys
//! nothing in the microkernel, and when `n` is small (the convolutions) each element of A feeds
//! only `n/LANES` FMAs, so packing it costs a large fraction of the product. Measured on Zen 4,
//! reading A in place was as fast or faster on every shape of the speed test (conv shapes from
//! ~72 % to ~95 % of the FMA peak). B slivers are zero-padded when packed and the last rows of A
//! are copied zero-padded, so the microkernel always runs a full tile and only the valid part of
//! the tile is written back.
//!
//! Because `C = A·B` is `Cᵀ = Bᵀ·Aᵀ`, a product is computed transposed when that pads fewer
//! elements to whole tiles, or when `m ≤ LANES < n` (the narrow kernel then applies).

mod microkernel;
mod pack;
mod reference;
#[cfg(test)]
mod tests;

pub use reference::sgemm_ref;

use crate::simd::LANES;

/// Rows of the register tile: `MR·NR_VECS` accumulators plus `NR_VECS` B vectors must fit in the
/// register file (32 zmm with AVX-512, 16 ymm with AVX2).
#[cfg(target_feature = "avx512f")]
const MR: usize = 8;
#[cfg(not(target_feature = "avx512f"))]
const MR: usize = 6;
/// Rows of the one-vector-wide tile used when `n ≤ LANES`.
#[cfg(target_feature = "avx512f")]
const NARROW_MR: usize = 16;
#[cfg(not(target_feature = "avx512f"))]
const NARROW_MR: usize = 12;
/// Vectors per row of the register tile.
const NR_VECS: usize = 2;
/// Columns of the register tile.
const NR: usize = NR_VECS * LANES;
/// Largest block of the shared dimension `k`: a row group of A (`MR·KC` floats) stays in L1.
const KC: usize = 256;
/// Largest block of columns of B packed at once (`KC·NC` floats, in L2); a multiple of `NR`.
const NC: usize = 128 * NR;
/// Floats skipped at the start of `pack` so that the packed B panel is 64-byte aligned.
const ALIGN_SLACK: usize = 64 / std::mem::size_of::<f32>();

/// `C ← α·A·B + β·C` with general strides (row stride, column stride) for every matrix:
/// `A` is `m×k`, `B` is `k×n`, `C` is `m×n`, and element `(i, j)` of `X` is
/// `x[i·rsx + j·csx]`. `β = 0` ignores the old contents of `C` (even NaN). Single-threaded.
///
/// Rows of `A` and `B` may overlap (e.g. `rsa < k·csa`, a strided view of a padded image); the
/// elements of `C` must be distinct (`csc·(n−1) < rsc` or `rsc·(m−1) < csc`). `pack` must hold
/// at least [`pack_len`]`(m, k, n)` floats; its contents are overwritten and nothing is
/// allocated.
///
/// # Panics
/// If an operand's largest index is outside its slice, if `C` overlaps itself, or if `pack` is
/// too short.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    csc: usize,
    pack: &mut [f32],
) {
    assert_operands(
        StridedDims { m, k, n },
        (a, rsa, csa),
        (b, rsb, csb),
        (c, rsc, csc),
    );
    let needed = pack_len(m, k, n);
    assert!(
        pack.len() >= needed,
        "sgemm: pack holds {} floats, pack_len({m}, {k}, {n}) = {needed}",
        pack.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    let mut c = ViewMut {
        data: c,
        rs: rsc,
        cs: csc,
    };
    if k == 0 {
        scale(&mut c, m, n, beta);
        return;
    }
    let a = View {
        data: a,
        rs: rsa,
        cs: csa,
    };
    let b = View {
        data: b,
        rs: rsb,
        cs: csb,
    };
    let plan = Plan::new(m, n);
    let (m, n, a, b, mut c) = if plan.transposed {
        // Cᵀ = Bᵀ·Aᵀ: swap the roles of m and n and transpose every view.
        let ct = ViewMut {
            data: c.data,
            rs: csc,
            cs: rsc,
        };
        (n, m, b.transposed(), a.transposed(), ct)
    } else {
        (m, n, a, b, c)
    };
    if plan.narrow {
        gemm_in_place::<NARROW_MR, 1>(m, k, n, alpha, a, b, beta, &mut c, pack);
    } else {
        gemm_in_place::<MR, NR_VECS>(m, k, n, alpha, a, b, beta, &mut c, pack);
    }
}

/// Floats of scratch that [`sgemm`] needs for an `m×k` by `k×n` product: one packed B panel
/// (`KC×NC` at most) and one zero-padded copy of the last rows of A (`NARROW_MR×KC` at most),
/// plus 64 bytes of alignment slack. It is bounded by the block sizes, not by `m·k·n`.
pub fn pack_len(m: usize, k: usize, n: usize) -> usize {
    if m == 0 || k == 0 || n == 0 {
        return 0;
    }
    let plan = Plan::new(m, n);
    let n = if plan.transposed { m } else { n };
    let blocks = if plan.narrow {
        Blocking::new(k, n, NARROW_MR, LANES)
    } else {
        Blocking::new(k, n, MR, NR)
    };
    ALIGN_SLACK + blocks.b_panel_len() + blocks.last_rows_len()
}

/// How a product is computed: with which tile, and whether as `Cᵀ = Bᵀ·Aᵀ`.
struct Plan {
    transposed: bool,
    /// NARROW_MR×LANES tiles rather than MR×NR.
    narrow: bool,
}

impl Plan {
    fn new(m: usize, n: usize) -> Self {
        if n <= LANES {
            Plan {
                transposed: false,
                narrow: true,
            }
        } else if m <= LANES {
            Plan {
                transposed: true,
                narrow: true,
            }
        } else {
            Plan {
                transposed: computes_transposed(m, n),
                narrow: false,
            }
        }
    }
}

/// Sizes of `m`, `k`, `n` shared by the asserts of [`sgemm`] and [`sgemm_ref`].
struct StridedDims {
    m: usize,
    k: usize,
    n: usize,
}

/// Asserts that every index the product touches lies inside its slice and that the elements of
/// `C` are distinct.
fn assert_operands(
    dims: StridedDims,
    (a, rsa, csa): (&[f32], usize, usize),
    (b, rsb, csb): (&[f32], usize, usize),
    (c, rsc, csc): (&[f32], usize, usize),
) {
    let StridedDims { m, k, n } = dims;
    assert_fits("A", a.len(), m, k, rsa, csa);
    assert_fits("B", b.len(), k, n, rsb, csb);
    assert_fits("C", c.len(), m, n, rsc, csc);
    assert!(
        elements_are_distinct(m, n, rsc, csc),
        "sgemm: C ({m}×{n}, strides {rsc}, {csc}) overlaps itself"
    );
}

/// Asserts that the last element `(rows−1)·rs + (cols−1)·cs` of a strided matrix is inside a
/// slice of `len` floats (an empty matrix touches nothing).
fn assert_fits(name: &str, len: usize, rows: usize, cols: usize, rs: usize, cs: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = (rows - 1)
        .checked_mul(rs)
        .and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)));
    assert!(
        last.is_some_and(|last| last < len),
        "sgemm: {name} ({rows}×{cols}, strides {rs}, {cs}) does not fit in {len} floats"
    );
}

/// Whether `(i, j) ↦ i·rs + j·cs` is one-to-one on `m×n` (a sufficient test): along the larger
/// stride, each line of the other dimension must end before the next one starts.
fn elements_are_distinct(m: usize, n: usize, rs: usize, cs: usize) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    let ((outer_len, outer), (inner_len, inner)) = if rs >= cs {
        ((m, rs), (n, cs))
    } else {
        ((n, cs), (m, rs))
    };
    (inner_len <= 1 || inner > 0) && (outer_len <= 1 || (inner_len - 1) * inner < outer)
}

/// Whether computing `Cᵀ = Bᵀ·Aᵀ` pads fewer elements to whole MR×NR tiles than `C = A·B`.
/// (On a tie the given orientation is kept: transposing a dense layer's product to get a
/// narrower B panel was measured 2× slower, as A's rows are then read across cache lines.)
fn computes_transposed(m: usize, n: usize) -> bool {
    let padded = |rows: usize, cols: usize| rows.next_multiple_of(MR) * cols.next_multiple_of(NR);
    padded(n, m) < padded(m, n)
}

/// A read-only strided matrix view: element `(i, j)` is `data[i·rs + j·cs]`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl<'a> View<'a> {
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }

    /// The view starting at element `(i, j)`.
    fn offset(self, i: usize, j: usize) -> View<'a> {
        View {
            data: &self.data[i * self.rs + j * self.cs..],
            ..self
        }
    }

    fn transposed(self) -> View<'a> {
        View {
            data: self.data,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

/// A mutable strided matrix view: element `(i, j)` is `data[i·rs + j·cs]`.
struct ViewMut<'a> {
    data: &'a mut [f32],
    rs: usize,
    cs: usize,
}

impl ViewMut<'_> {
    /// The view starting at element `(i, j)`.
    fn offset(&mut self, i: usize, j: usize) -> ViewMut<'_> {
        ViewMut {
            data: &mut self.data[i * self.rs + j * self.cs..],
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// `C ← β·C` (the product with `k = 0`); `β = 0` writes zeros whatever `C` held.
fn scale(c: &mut ViewMut, m: usize, n: usize, beta: f32) {
    for i in 0..m {
        for j in 0..n {
            let x = &mut c.data[i * c.rs + j * c.cs];
            *x = if beta == 0.0 { 0.0 } else { beta * *x };
        }
    }
}

/// Block sizes for one product: `k` and `n` are cut into equal blocks no larger than their
/// limits (so 576 = 3×192 rather than 256 + 256 + 64), `nc` rounded up to whole slivers of
/// `width` columns; `rows` is the height of the tile (of the copy of A's last rows).
struct Blocking {
    kc: usize,
    nc: usize,
    rows: usize,
}

impl Blocking {
    fn new(k: usize, n: usize, rows: usize, width: usize) -> Self {
        Blocking {
            kc: balanced_block(k, KC, 1),
            nc: balanced_block(n, NC, width),
            rows,
        }
    }

    fn b_panel_len(&self) -> usize {
        self.kc * self.nc
    }

    fn last_rows_len(&self) -> usize {
        self.rows * self.kc
    }
}

/// The size of `⌈len/limit⌉` equal blocks covering `len`, rounded up to a multiple of `unit`
/// (`limit` is a multiple of `unit`, so the result never exceeds it).
fn balanced_block(len: usize, limit: usize, unit: usize) -> usize {
    let count = len.div_ceil(limit);
    len.div_ceil(count).next_multiple_of(unit)
}

/// Splits the caller's scratch into the packed B panel (64-byte aligned) and the copy of A's
/// last rows.
fn split_pack<'p>(pack: &'p mut [f32], blocks: &Blocking) -> (&'p mut [f32], &'p mut [f32]) {
    let misalignment = pack.as_ptr().align_offset(64);
    let skip = if misalignment < ALIGN_SLACK {
        misalignment
    } else {
        0
    };
    let (b_panel, rest) = pack[skip..].split_at_mut(blocks.b_panel_len());
    (b_panel, &mut rest[..blocks.last_rows_len()])
}

/// The loop nest of the module documentation, for `m, k, n ≥ 1`: B is packed into slivers of
/// `W = VECS·LANES` columns, and each sliver is multiplied by every group of ROWS rows of A
/// (the sliver stays in L1 while A streams from L2). The last `m mod ROWS` rows are copied,
/// zero-padded, so that the kernel never reads past A.
#[allow(clippy::too_many_arguments)]
fn gemm_in_place<const ROWS: usize, const VECS: usize>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: View,
    b: View,
    beta: f32,
    c: &mut ViewMut,
    pack: &mut [f32],
) {
    let width = VECS * LANES;
    let blocks = Blocking::new(k, n, ROWS, width);
    let (b_panel, last_rows) = split_pack(pack, &blocks);
    let whole_rows = m - m % ROWS;
    for j0 in (0..n).step_by(blocks.nc) {
        let nc = blocks.nc.min(n - j0);
        for p0 in (0..k).step_by(blocks.kc) {
            let kc = blocks.kc.min(k - p0);
            let beta = if p0 == 0 { beta } else { 1.0 };
            let b_panel = &mut b_panel[..nc.div_ceil(width) * width * kc];
            pack::pack_b(b.offset(p0, j0), kc, nc, width, b_panel);
            let last = &mut last_rows[..ROWS * kc];
            if whole_rows < m {
                pack::copy_rows_zero_padded(a.offset(whole_rows, p0), m - whole_rows, kc, last);
            }
            let last = View {
                data: last,
                rs: kc,
                cs: 1,
            };
            for (jt, b_sliver) in b_panel.chunks_exact(width * kc).enumerate() {
                let j = jt * width;
                let cols = width.min(nc - j);
                let mut c_sliver = c.offset(0, j0 + j);
                for i0 in (0..whole_rows).step_by(ROWS) {
                    let tile =
                        microkernel::multiply_in_place::<ROWS, VECS>(a.offset(i0, p0), b_sliver);
                    microkernel::write_tile(
                        &tile,
                        ROWS,
                        cols,
                        alpha,
                        beta,
                        &mut c_sliver.offset(i0, 0),
                    );
                }
                if whole_rows < m {
                    let tile = microkernel::multiply_in_place::<ROWS, VECS>(last, b_sliver);
                    let valid = m - whole_rows;
                    let mut c_rows = c_sliver.offset(whole_rows, 0);
                    microkernel::write_tile(&tile, valid, cols, alpha, beta, &mut c_rows);
                }
            }
        }
    }
}
