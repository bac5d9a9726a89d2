//! Scalar reference: the equations of the module documentation as plain loops.

use super::Conv1dShape;

/// The input position tap `k` of output position `l` reads, `l·stride + k·dilation − pad_left`,
/// or `None` when it falls in the padding.
fn input_position(s: &Conv1dShape, l: usize, k: usize) -> Option<usize> {
    (l * s.stride + k * s.dilation)
        .checked_sub(s.pad_left)
        .filter(|&i| i < s.in_len)
}

fn assert_lengths(s: &Conv1dShape, x: &[f32], w: &[f32]) {
    assert_eq!(x.len(), s.input_len(), "conv1d: x length");
    assert_eq!(w.len(), s.weight_len(), "conv1d: w length");
}

/// `y[n, l, co] = b[co] + Σ_{k, ci} x[n, l·stride + k·dilation − pad_left, ci] · w[k, ci, co]`.
/// Overwrites `y`.
pub fn conv1d_forward_ref(
    s: &Conv1dShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    assert_lengths(s, x, w);
    assert_eq!(y.len(), s.output_len(), "conv1d: y length");
    if let Some(b) = bias {
        assert_eq!(b.len(), s.out_ch, "conv1d: bias length");
    }
    let out_len = s.out_len();
    for n in 0..s.batch {
        for l in 0..out_len {
            for co in 0..s.out_ch {
                let mut acc = bias.map_or(0.0, |b| b[co]);
                for k in 0..s.kernel {
                    let Some(i) = input_position(s, l, k) else {
                        continue;
                    };
                    for ci in 0..s.in_ch {
                        acc += x[(n * s.in_len + i) * s.in_ch + ci]
                            * w[(k * s.in_ch + ci) * s.out_ch + co];
                    }
                }
                y[(n * out_len + l) * s.out_ch + co] = acc;
            }
        }
    }
}

/// Adds `∂L/∂x` (if `dx` is given), `∂L/∂w` and `∂L/∂b` (if `db` is given) for `dy = ∂L/∂y`:
/// every product `x·w` of the forward pass sends `dy` back to both of its factors.
pub fn conv1d_backward_ref(
    s: &Conv1dShape,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw: &mut [f32],
    mut db: Option<&mut [f32]>,
) {
    assert_lengths(s, x, w);
    assert_eq!(dy.len(), s.output_len(), "conv1d: dy length");
    assert_eq!(dw.len(), s.weight_len(), "conv1d: dw length");
    if let Some(dx) = dx.as_deref() {
        assert_eq!(dx.len(), s.input_len(), "conv1d: dx length");
    }
    if let Some(db) = db.as_deref() {
        assert_eq!(db.len(), s.out_ch, "conv1d: db length");
    }
    let out_len = s.out_len();
    for n in 0..s.batch {
        for l in 0..out_len {
            for co in 0..s.out_ch {
                let g = dy[(n * out_len + l) * s.out_ch + co];
                if let Some(db) = db.as_deref_mut() {
                    db[co] += g;
                }
                for k in 0..s.kernel {
                    let Some(i) = input_position(s, l, k) else {
                        continue;
                    };
                    for ci in 0..s.in_ch {
                        let xi = (n * s.in_len + i) * s.in_ch + ci;
                        let wi = (k * s.in_ch + ci) * s.out_ch + co;
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
