use super::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Strides of one operand: `(row stride, column stride)`.
type Strides = (usize, usize);

/// One product to check: sizes, strides of A, B and C, and the scalars.
#[derive(Debug, Clone, Copy)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    a: Strides,
    b: Strides,
    c: Strides,
    alpha: f32,
    beta: f32,
}

impl Case {
    /// Contiguous row-major operands.
    fn row_major(m: usize, k: usize, n: usize) -> Self {
        Case {
            m,
            k,
            n,
            a: (k, 1),
            b: (n, 1),
            c: (n, 1),
            alpha: 1.0,
            beta: 0.0,
        }
    }
}

/// Length of a slice holding a `rows×cols` strided matrix.
fn span(rows: usize, cols: usize, (rs, cs): Strides) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

fn random_vec(rng: &mut Xoshiro256PlusPlus, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Runs `sgemm` (with exactly `pack_len` NaN-filled floats of scratch) and `sgemm_ref` on the
/// same random operands and checks every element of C within
/// `1e-5·(1 + |α|·Σ_p |a_ip||b_pj| + |β·c_ij|)`. With `β = 0`, C starts as NaN, which must not
/// leak into the result. Elements of C's slice outside the matrix must be left untouched.
fn check(case: Case, rng: &mut Xoshiro256PlusPlus) {
    let Case {
        m,
        k,
        n,
        a: sa,
        b: sb,
        c: sc,
        alpha,
        beta,
    } = case;
    let a = random_vec(rng, span(m, k, sa));
    let b = random_vec(rng, span(k, n, sb));
    let c0 = if beta == 0.0 {
        vec![f32::NAN; span(m, n, sc)]
    } else {
        random_vec(rng, span(m, n, sc))
    };
    let mut pack = vec![f32::NAN; pack_len(m, k, n)];
    let mut c_fast = c0.clone();
    let mut c_ref = c0.clone();
    sgemm(
        m,
        k,
        n,
        alpha,
        &a,
        sa.0,
        sa.1,
        &b,
        sb.0,
        sb.1,
        beta,
        &mut c_fast,
        sc.0,
        sc.1,
        &mut pack,
    );
    sgemm_ref(
        m, k, n, alpha, &a, sa.0, sa.1, &b, sb.0, sb.1, beta, &mut c_ref, sc.0, sc.1,
    );
    let mut in_matrix = vec![false; c0.len()];
    for i in 0..m {
        for j in 0..n {
            let idx = i * sc.0 + j * sc.1;
            in_matrix[idx] = true;
            let magnitude: f32 = (0..k)
                .map(|p| (a[i * sa.0 + p * sa.1] * b[p * sb.0 + j * sb.1]).abs())
                .sum();
            let old = if beta == 0.0 {
                0.0
            } else {
                (beta * c0[idx]).abs()
            };
            let tol = 1e-5 * (1.0 + alpha.abs() * magnitude + old);
            let (fast, reference) = (c_fast[idx], c_ref[idx]);
            assert!(
                fast.is_finite() && (fast - reference).abs() <= tol,
                "{case:?}: C[{i},{j}] = {fast}, reference {reference}, tolerance {tol}"
            );
        }
    }
    for (idx, _) in in_matrix.iter().enumerate().filter(|(_, inside)| !**inside) {
        assert!(
            c_fast[idx].to_bits() == c0[idx].to_bits(),
            "{case:?}: C[{idx}] outside the matrix was written"
        );
    }
}

fn rng() -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(0x5eed_9e11)
}

#[test]
fn tiny_sizes_match_reference() {
    let mut rng = rng();
    let sizes = [1, 2, 3, 7, 15, 16, 17, 31, 33, 65];
    for m in sizes {
        for k in sizes {
            for n in sizes {
                check(Case::row_major(m, k, n), &mut rng);
            }
        }
    }
}

#[test]
fn sizes_straddling_block_boundaries_match_reference() {
    let mut rng = rng();
    for k in [KC - 1, KC, KC + 1, 2 * KC + 1] {
        check(Case::row_major(MR + 3, k, NR + 5), &mut rng);
    }
    for m in [MR - 1, MR + 1, 5 * MR + 1, NARROW_MR + 1] {
        check(Case::row_major(m, 5, 2 * NR + 3), &mut rng);
        check(Case::row_major(m, KC + 1, NR - 1), &mut rng);
    }
    for n in [NC - 1, NC, NC + 1] {
        check(Case::row_major(MR + 1, 3, n), &mut rng);
        check(Case::row_major(2, KC + 1, n), &mut rng);
    }
    for (m, n) in [
        (MR - 1, NR + 1),
        (MR + 1, NR - 1),
        (NR + 1, MR - 1),
        (NR - 1, MR + 1),
    ] {
        check(Case::row_major(m, 9, n), &mut rng);
    }
}

#[test]
fn transposed_operands_match_reference() {
    let mut rng = rng();
    for (m, k, n) in [(37, 41, 19), (5, 300, 70), (70, 13, 5), (16, 64, 1780)] {
        let at = Case {
            a: (1, m),
            ..Case::row_major(m, k, n)
        };
        let bt = Case {
            b: (1, k),
            ..Case::row_major(m, k, n)
        };
        let ct = Case {
            c: (1, m),
            ..Case::row_major(m, k, n)
        };
        let all = Case {
            a: (1, m),
            b: (1, k),
            c: (1, m),
            ..Case::row_major(m, k, n)
        };
        for case in [at, bt, ct, all] {
            check(case, &mut rng);
        }
    }
}

#[test]
fn padded_strides_and_overlapping_rows_match_reference() {
    let mut rng = rng();
    // A 3×3 conv over a zero-padded 12×12×8 image as one GEMM: row i = output pixel, k runs over
    // (kh, kw, ci), and consecutive rows start one pixel (8 floats) apart, so rows overlap.
    let (width, channels) = (12, 8);
    let conv = Case {
        a: (channels, 1),
        b: (16, 1),
        c: (20, 1),
        ..Case::row_major(width - 2, 3 * width * channels, 16)
    };
    check(conv, &mut rng);
    check(
        Case {
            a: (3, 1),
            b: (2, 1),
            ..Case::row_major(40, 17, 40)
        },
        &mut rng,
    );
    // Padding between rows and between columns of every operand.
    check(
        Case {
            a: (50, 2),
            b: (101, 3),
            c: (100, 2),
            ..Case::row_major(30, 20, 33)
        },
        &mut rng,
    );
}

#[test]
fn alpha_and_beta_are_applied() {
    let mut rng = rng();
    for (alpha, beta) in [
        (1.0, 0.0),
        (1.0, 1.0),
        (1.0, 0.5),
        (-2.5, 0.0),
        (0.75, -1.5),
    ] {
        for (m, k, n) in [(3, 5, 7), (33, 300, 65), (17, 4, 1780)] {
            check(
                Case {
                    alpha,
                    beta,
                    ..Case::row_major(m, k, n)
                },
                &mut rng,
            );
        }
    }
}

#[test]
fn empty_k_scales_c_by_beta() {
    let mut rng = rng();
    for beta in [0.0, 1.0, 0.5] {
        check(
            Case {
                beta,
                ..Case::row_major(9, 0, 21)
            },
            &mut rng,
        );
    }
    let mut c = vec![f32::NAN; 6];
    sgemm(
        2,
        0,
        3,
        1.0,
        &[],
        0,
        0,
        &[],
        0,
        0,
        0.0,
        &mut c,
        3,
        1,
        &mut [],
    );
    assert_eq!(c, vec![0.0; 6]);
    // m = 0 or n = 0 touch nothing and need no scratch.
    sgemm(
        0,
        4,
        3,
        1.0,
        &[],
        4,
        1,
        &[0.0; 12],
        3,
        1,
        0.0,
        &mut [],
        3,
        1,
        &mut [],
    );
    sgemm(
        3,
        4,
        0,
        1.0,
        &[0.0; 12],
        4,
        1,
        &[],
        0,
        1,
        0.0,
        &mut [],
        0,
        1,
        &mut [],
    );
}

#[test]
fn random_shapes_and_strides_match_reference() {
    let mut rng = rng();
    for _ in 0..100 {
        let m = rng.gen_range(1..200);
        let k = rng.gen_range(1..600);
        let n = rng.gen_range(1..200);
        let pad = |rng: &mut Xoshiro256PlusPlus| rng.gen_range(0..3);
        let strides = |rows: usize, cols: usize, rng: &mut Xoshiro256PlusPlus| {
            if rng.gen_bool(0.5) {
                (cols + pad(rng), 1)
            } else {
                (1, rows + pad(rng))
            }
        };
        let a = strides(m, k, &mut rng);
        let b = strides(k, n, &mut rng);
        let c = strides(m, n, &mut rng);
        let alpha = [1.0, -0.5, 2.0][rng.gen_range(0..3)];
        let beta = [0.0, 1.0, 0.5][rng.gen_range(0..3)];
        check(
            Case {
                m,
                k,
                n,
                a,
                b,
                c,
                alpha,
                beta,
            },
            &mut rng,
        );
    }
}

#[test]
fn pack_len_is_bounded_by_the_blocks() {
    let big = pack_len(10_000, 10_000, 10_000);
    assert!(
        big <= ALIGN_SLACK + KC * (NARROW_MR + NC),
        "pack_len = {big}"
    );
    assert_eq!(pack_len(0, 5, 5), 0);
    assert_eq!(pack_len(5, 0, 5), 0);
}

#[test]
#[should_panic(expected = "pack holds")]
fn short_pack_panics() {
    let mut pack = vec![0.0; pack_len(4, 4, 4) - 1];
    sgemm(
        4,
        4,
        4,
        1.0,
        &[0.0; 16],
        4,
        1,
        &[0.0; 16],
        4,
        1,
        0.0,
        &mut [0.0; 16],
        4,
        1,
        &mut pack,
    );
}

#[test]
#[should_panic(expected = "does not fit")]
fn operand_outside_its_slice_panics() {
    let mut pack = vec![0.0; pack_len(4, 4, 4)];
    sgemm(
        4,
        4,
        4,
        1.0,
        &[0.0; 15],
        4,
        1,
        &[0.0; 16],
        4,
        1,
        0.0,
        &mut [0.0; 16],
        4,
        1,
        &mut pack,
    );
}

#[test]
#[should_panic(expected = "overlaps itself")]
fn overlapping_c_panics() {
    let mut pack = vec![0.0; pack_len(4, 4, 4)];
    sgemm(
        4,
        4,
        4,
        1.0,
        &[0.0; 16],
        4,
        1,
        &[0.0; 16],
        4,
        1,
        0.0,
        &mut [0.0; 16],
        3,
        1,
        &mut pack,
    );
}
