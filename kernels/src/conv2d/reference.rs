//! Scalar reference: the equations of the module documentation as plain loops.

use super::Conv2dShape;

/// Input coordinate `o·stride + k·dilation − pad` read by output `o` and tap `k`, or `None`
/// when it falls into the zero padding.
fn input_coord(
    o: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
    len: usize,
) -> Option<usize> {
    (o * stride + k * dilation)
        .checked_sub(pad)
        .filter(|&i| i < len)
}

/// Forward pass: `y[n,oh,ow,co] = b[co] + Σ_{kh,kw,ci} x[n,ih,iw,ci]·w[kh,kw,ci,co]` with
/// `ih = oh·sh + kh·dh − pad_top`, `iw = ow·sw + kw·dw − pad_left`. Overwrites `y`.
pub fn conv2d_forward_ref(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    s.assert_lengths(x, w, bias, y);
    let (out_h, out_w) = (s.out_h(), s.out_w());
    for n in 0..s.batch {
        for oh in 0..out_h {
            for ow in 0..out_w {
                for co in 0..s.out_ch {
                    let mut sum = bias.map_or(0.0, |b| b[co]);
                    for kh in 0..s.kernel_h {
                        let Some(ih) =
                            input_coord(oh, kh, s.stride_h, s.dilation_h, s.pad_top, s.in_h)
                        else {
                            continue;
                        };
                        for kw in 0..s.kernel_w {
                            let Some(iw) =
                                input_coord(ow, kw, s.stride_w, s.dilation_w, s.pad_left, s.in_w)
                            else {
                                continue;
                            };
                            for ci in 0..s.in_ch {
                                let xv = x[((n * s.in_h + ih) * s.in_w + iw) * s.in_ch + ci];
                                let wv = w[((kh * s.kernel_w + kw) * s.in_ch + ci) * s.out_ch + co];
                                sum += xv * wv;
                            }
                        }
                    }
                    y[((n * out_h + oh) * out_w + ow) * s.out_ch + co] = sum;
                }
            }
        }
    }
}

/// Backward pass: for every output gradient `g = dy[n,oh,ow,co]` and every tap that reads an
/// input pixel `x[n,ih,iw,ci]`, `db[co] += g`, `dw[kh,kw,ci,co] += x·g`, `dx[n,ih,iw,ci] += w·g`.
/// Accumulates into `dx` (if given), `dw` and `db` (if given).
pub fn conv2d_backward_ref(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw: &mut [f32],
    mut db: Option<&mut [f32]>,
) {
    s.assert_lengths(x, w, db.as_deref(), dy);
    assert_eq!(dw.len(), s.weight_len(), "conv2d: dw length");
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), s.input_len(), "conv2d: dx length");
    }
    let (out_h, out_w) = (s.out_h(), s.out_w());
    for n in 0..s.batch {
        for oh in 0..out_h {
            for ow in 0..out_w {
                for co in 0..s.out_ch {
                    let g = dy[((n * out_h + oh) * out_w + ow) * s.out_ch + co];
                    if let Some(db) = db.as_deref_mut() {
                        db[co] += g;
                    }
                    for kh in 0..s.kernel_h {
                        let Some(ih) =
                            input_coord(oh, kh, s.stride_h, s.dilation_h, s.pad_top, s.in_h)
                        else {
                            continue;
                        };
                        for kw in 0..s.kernel_w {
                            let Some(iw) =
                                input_coord(ow, kw, s.stride_w, s.dilation_w, s.pad_left, s.in_w)
                            else {
                                continue;
                            };
                            for ci in 0..s.in_ch {
                                let xi = ((n * s.in_h + ih) * s.in_w + iw) * s.in_ch + ci;
                                let wi = ((kh * s.kernel_w + kw) * s.in_ch + ci) * s.out_ch + co;
                                dw[wi] += x[xi] * g;
                                if let Some(dx) = dx.as_deref_mut() {
                                    dx[xi] += w[wi] * g;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
