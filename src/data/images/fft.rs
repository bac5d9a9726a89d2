//! A radix-2 complex FFT (Cooley & Tukey 1965) in one and two dimensions, for the periodic
//! convolution of galaxy images with their PSF.
//!
//! Forward: X_k = Σ_j x_j e^(−2πi jk/N); inverse: x_j = (1/N) Σ_k X_k e^(+2πi jk/N).
//! Iterative in place: bit-reversal permutation, then log₂N butterfly passes.

use std::f64::consts::PI;

/// Transforms `re`, `im` (length a power of two) in place; `inverse` includes the 1/N.
pub fn fft_1d(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    assert!(n.is_power_of_two() && im.len() == n, "FFT length {n}");
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
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        // Butterfly: (a, b) → (a + w b, a − w b), w = e^(∓2πi k/len).
        let angle = sign * 2.0 * PI / len as f64;
        for k in 0..len / 2 {
            let (w_im, w_re) = (angle * k as f64).sin_cos();
            for start in (0..n).step_by(len) {
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

/// 2D transform of a row-major `size` × `size` grid: rows, then columns.
pub fn fft_2d(re: &mut [f64], im: &mut [f64], size: usize, inverse: bool) {
    assert_eq!(re.len(), size * size, "2D FFT grid");
    for row in 0..size {
        let span = row * size..(row + 1) * size;
        fft_1d(&mut re[span.clone()], &mut im[span], inverse);
    }
    let (mut col_re, mut col_im) = (vec![0.0; size], vec![0.0; size]);
    for col in 0..size {
        for row in 0..size {
            col_re[row] = re[row * size + col];
            col_im[row] = im[row * size + col];
        }
        fft_1d(&mut col_re, &mut col_im, inverse);
        for row in 0..size {
            re[row * size + col] = col_re[row];
            im[row * size + col] = col_im[row];
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
            let re: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - 5.0).collect();
            let im: Vec<f64> = (0..n).map(|i| ((i * 5 + 1) % 13) as f64 * 0.5).collect();
            let (expected_re, expected_im) = naive_dft(&re, &im);
            let (mut r, mut i) = (re.clone(), im.clone());
            fft_1d(&mut r, &mut i, false);
            for k in 0..n {
                assert!(
                    (r[k] - expected_re[k]).abs() < 1e-9 && (i[k] - expected_im[k]).abs() < 1e-9
                );
            }
            fft_1d(&mut r, &mut i, true);
            for k in 0..n {
                assert!((r[k] - re[k]).abs() < 1e-12 && (i[k] - im[k]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn two_dimensional_transform_of_a_delta_is_flat_and_inverts() {
        let size = 16;
        let mut re = vec![0.0; size * size];
        let mut im = vec![0.0; size * size];
        re[3 * size + 5] = 2.0;
        fft_2d(&mut re, &mut im, size, false);
        for (r, i) in re.iter().zip(&im) {
            assert!(((r * r + i * i).sqrt() - 2.0).abs() < 1e-12);
        }
        fft_2d(&mut re, &mut im, size, true);
        for (k, r) in re.iter().enumerate() {
            let expected = if k == 3 * size + 5 { 2.0 } else { 0.0 };
            assert!((r - expected).abs() < 1e-12);
        }
    }
}
