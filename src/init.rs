//! Seeded weight initialisers. Every draw comes from the model's initialisation stream, layer by
//! layer in order, so a seed fixes every initial weight.

use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn_kernels::simd::{axpy, dot};

/// How a layer's weights are drawn. `fan_in` and `fan_out` are PyTorch's: `in · kernel size`
/// and `out · kernel size` for a convolution, `in` and `out` for a dense layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightInit {
    /// Glorot & Bengio 2010: U(±√(6 / (fan_in + fan_out))). Keras' default.
    GlorotUniform,
    /// Glorot & Bengio 2010: N(0, 2 / (fan_in + fan_out)).
    GlorotNormal,
    /// He et al. 2015 for ReLU: U(±√(6 / fan_in)).
    HeUniform,
    /// He et al. 2015 for ReLU: N(0, 2 / fan_in).
    HeNormal,
    /// Saxe et al. 2014: a random orthogonal matrix `[fan_out, fan_in]` times `gain`.
    Orthogonal { gain: f32 },
    /// Every weight equal to this value (tests, identity-like starts).
    Constant(f32),
}

/// A standard normal draw (Box–Muller; the engine depends on `rand` only, not `rand_distr`).
pub fn standard_normal(rng: &mut Xoshiro256PlusPlus) -> f32 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // in (0, 1], so ln is finite
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// Fills `w`, viewed as the matrix `[rows, cols]` (row-major), with `init`. For the fan sizes,
/// `rows` indexes the output and `cols` the input of the layer when `rows_are_outputs`,
/// and the other way round otherwise (conv weights are stored input-major, `[k·in, out]`).
pub fn fill_weights(
    init: WeightInit,
    w: &mut [f32],
    rows: usize,
    cols: usize,
    rows_are_outputs: bool,
    rng: &mut Xoshiro256PlusPlus,
) {
    assert_eq!(w.len(), rows * cols, "weight length");
    let (fan_out, fan_in) = if rows_are_outputs {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let (fan_in, fan_out) = (fan_in as f32, fan_out as f32);
    match init {
        WeightInit::GlorotUniform => uniform(w, (6.0 / (fan_in + fan_out)).sqrt(), rng),
        WeightInit::GlorotNormal => normal(w, (2.0 / (fan_in + fan_out)).sqrt(), rng),
        WeightInit::HeUniform => uniform(w, (6.0 / fan_in).sqrt(), rng),
        WeightInit::HeNormal => normal(w, (2.0 / fan_in).sqrt(), rng),
        WeightInit::Orthogonal { gain } => orthogonal(w, rows, cols, gain, rng),
        WeightInit::Constant(c) => w.fill(c),
    }
}

fn uniform(w: &mut [f32], limit: f32, rng: &mut Xoshiro256PlusPlus) {
    for v in w {
        *v = rng.gen_range(-limit..limit);
    }
}

fn normal(w: &mut [f32], std: f32, rng: &mut Xoshiro256PlusPlus) {
    for v in w {
        *v = std * standard_normal(rng);
    }
}

/// A `[rows, cols]` matrix whose shorter side is orthonormal (Saxe et al. 2014), times `gain`:
/// Gaussian vectors orthonormalised by modified Gram–Schmidt, run twice for stability
/// ("twice is enough", Giraud et al. 2005). Orthogonality of a conv weight's rows does not
/// depend on the order of its columns, so the storage layout does not matter.
fn orthogonal(w: &mut [f32], rows: usize, cols: usize, gain: f32, rng: &mut Xoshiro256PlusPlus) {
    let (count, len) = (rows.min(cols), rows.max(cols));
    let mut vecs: Vec<f32> = (0..count * len).map(|_| standard_normal(rng)).collect();
    for _pass in 0..2 {
        for i in 0..count {
            let (done, rest) = vecs.split_at_mut(i * len);
            let v = &mut rest[..len];
            for q in done.chunks_exact(len) {
                axpy(-dot(q, v), q, v);
            }
            let norm = dot(v, v).sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
        }
    }
    for r in 0..rows {
        for c in 0..cols {
            // vector i, element j: the rows when rows ≤ cols, else the columns.
            let (i, j) = if rows <= cols { (r, c) } else { (c, r) };
            w[r * cols + c] = gain * vecs[i * len + j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gram(w: &[f32], rows: usize, cols: usize, by_rows: bool) -> Vec<f64> {
        let n = if by_rows { rows } else { cols };
        let at = |i: usize, k: usize| if by_rows { w[i * cols + k] } else { w[k * cols + i] } as f64;
        let len = if by_rows { cols } else { rows };
        let mut g = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                g[i * n + j] = (0..len).map(|k| at(i, k) * at(j, k)).sum();
            }
        }
        g
    }

    #[test]
    fn orthogonal_has_orthonormal_shorter_side() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for (rows, cols) in [(4, 9), (9, 4), (16, 16), (2, 300)] {
            let mut w = vec![0.0; rows * cols];
            fill_weights(
                WeightInit::Orthogonal { gain: 2.0 },
                &mut w,
                rows,
                cols,
                true,
                &mut rng,
            );
            let n = rows.min(cols);
            let g = gram(&w, rows, cols, rows <= cols);
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { 4.0 } else { 0.0 };
                    assert!(
                        (g[i * n + j] - want).abs() < 1e-4,
                        "{rows}x{cols} gram[{i},{j}] = {}",
                        g[i * n + j]
                    );
                }
            }
        }
    }

    #[test]
    fn variance_scaling_inits_have_the_stated_spread() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let (rows, cols) = (200, 300);
        let cases = [
            (WeightInit::GlorotUniform, 2.0 / 500.0),
            (WeightInit::GlorotNormal, 2.0 / 500.0),
            (WeightInit::HeUniform, 2.0 / 300.0),
            (WeightInit::HeNormal, 2.0 / 300.0),
        ];
        for (init, var) in cases {
            let mut w = vec![0.0; rows * cols];
            fill_weights(init, &mut w, rows, cols, true, &mut rng);
            let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
            let got = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64;
            assert!(
                (got / var - 1.0).abs() < 0.03,
                "{init:?}: variance {got}, want {var}"
            );
            assert!(
                mean.abs() < 0.01 * var.sqrt() * 10.0,
                "{init:?}: mean {mean}"
            );
        }
    }

    #[test]
    fn same_seed_same_weights() {
        let draw = |seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut w = vec![0.0; 60];
            fill_weights(
                WeightInit::Orthogonal { gain: 1.0 },
                &mut w,
                6,
                10,
                true,
                &mut rng,
            );
            w
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
