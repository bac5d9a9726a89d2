//! A radix-2 complex FFT (Cooley & Tukey 1965) in one and two dimensions, for the periodic
//! convolution of galaxy images with their PSF.
//!
//! Forward: X_k = Σ_j x_j e^(−2πi jk/N); inverse: x_j = (1/N) Σ_k X_k e^(+2πi jk/N).
//! Iterative in place: bit-reversal permutation, then log₂N butterfly passes, with the twiddle
//! factors e^(−2πi k/N) tabulated once per size.

use std::f64::consts::PI;

/// The transform of one power-of-two size, with its twiddle table.
#[derive(Clone, Debug)]
pub struct Fft {
    n: usize,
    /// cos and sin of −2πk/N, k < N/2.
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl Fft {
    pub fn new(n: usize) -> Self {
        assert!(n.is_power_of_two(), "FFT length {n} is not a power of two");
        let (sin, cos) = (0..n / 2)
            .map(|k| (-2.0 * PI * k as f64 / n as f64).sin_cos())
            .unzip();
        Fft { n, cos, sin }
    }

    /// Transforms `re`, `im` (length N) in place; `inverse` includes the 1/N.
    pub fn transform(&self, re: &mut [f64], im: &mut [f64], inverse: bool) {
        let n = self.n;
        assert!(
            re.len() == n && im.len() == n,
            "FFT length {} ≠ {n}",
            re.len()
        );
        let bits = n.trailing_zeros();
        for i in 0..n {
            let j = if bits == 0 {
                0
            } else {
                i.reverse_bits() >> (usize::BITS - bits)
            };
            if j > i {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        // The inverse uses the conjugate twiddles e^(+2πi k/len).
        let sign = if inverse { -1.0 } else { 1.0 };
        let mut len = 2;
        while len <= n {
            let stride = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..len / 2 {
                    // Butterfly: (a, b) → (a + w b, a − w b), w = e^(∓2πi k/len).
                    let (w_re, w_im) = (self.cos[k * stride], sign * self.sin[k * stride]);
                    let (a, b) = (start + k, start + k + len / 2);
                    let t_re = re[b] * w_re - im[b] * w_im;
                    let t_im = re[b] * w_im + im[b] * w_re;
                    re[b] = re[a] - t_re;
                    im[b] = im[a] - t_im;
                    re[a] += t_re;
                    im[a] += t_im;
                }
            }
            len *= 2;
        }
        if inverse {
            let scale = 1.0 / n as f64;
            re.iter_mut().chain(im.iter_mut()).for_each(|v| *v *= scale);
        }
    }

    /// 2D transform of a row-major N × N grid: rows, then columns.
    pub fn transform_2d(&self, re: &mut [f64], im: &mut [f64], inverse: bool) {
        let n = self.n;
        assert_eq!(re.len(), n * n, "2D FFT grid");
        for row in 0..n {
            let span = row * n..(row + 1) * n;
            self.transform(&mut re[span.clone()], &mut im[span], inverse);
        }
        let (mut col_re, mut col_im) = (vec![0.0; n], vec![0.0; n]);
        for col in 0..n {
            for row in 0..n {
                col_re[row] = re[row * n + col];
                col_im[row] = im[row * n + col];
            }
            self.transform(&mut col_re, &mut col_im, inverse);
            for row in 0..n {
                re[row * n + col] = col_re[row];
                im[row * n + col] = col_im[row];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DFT by its definition.
    fn naive_dft(re: &[f64], im: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let n = re.len();
        let mut out = (vec![0.0; n], vec![0.0; n]);
        for k in 0..n {
            for j in 0..n {
                let (s, c) = (-2.0 * PI * (j * k) as f64 / n as f64).sin_cos();
                out.0[k] += re[j] * c - im[j] * s;
                out.1[k] += re[j] * s + im[j] * c;
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_and_inverts() {
        for n in [1, 2, 8, 64] {
            let fft = Fft::new(n);
            let re: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - 5.0).collect();
            let im: Vec<f64> = (0..n).map(|i| ((i * 5 + 1) % 13) as f64 * 0.5).collect();
            let (expected_re, expected_im) = naive_dft(&re, &im);
            let (mut r, mut i) = (re.clone(), im.clone());
            fft.transform(&mut r, &mut i, false);
            for k in 0..n {
                assert!((r[k] - expected_re[k]).abs() < 1e-9, "n {n}, k {k}");
                assert!((i[k] - expected_im[k]).abs() < 1e-9, "n {n}, k {k}");
            }
            fft.transform(&mut r, &mut i, true);
            for k in 0..n {
                assert!((r[k] - re[k]).abs() < 1e-12 && (i[k] - im[k]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn two_dimensional_transform_of_a_delta_is_flat_and_inverts() {
        let size = 16;
        let fft = Fft::new(size);
        let mut re = vec![0.0; size * size];
        let mut im = vec![0.0; size * size];
        re[3 * size + 5] = 2.0;
        fft.transform_2d(&mut re, &mut im, false);
        for (r, i) in re.iter().zip(&im) {
            assert!(((r * r + i * i).sqrt() - 2.0).abs() < 1e-12);
        }
        fft.transform_2d(&mut re, &mut im, true);
        for (k, r) in re.iter().enumerate() {
            let expected = if k == 3 * size + 5 { 2.0 } else { 0.0 };
            assert!((r - expected).abs() < 1e-12);
        }
    }
}
