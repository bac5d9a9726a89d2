//! Attractor redshifts: where a model's catastrophic failures pile up. A network that mistakes
//! one feature for another sends galaxies of many true redshifts to the few z_pred where that
//! confusion fits best (issue 13 saw z ≈ 1.05, 1.15, 1.18 and 1.58), so the failures' z_pred
//! histogram has sharp peaks.

use super::delta_z;

/// One peak of the failures' z_pred histogram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attractor {
    /// Centre of the z_pred cell.
    pub z: f64,
    /// Failures predicted in the cell.
    pub count: usize,
}

/// The `top` fullest cells of width `width` (cells [k w, (k+1) w)) among the objects with
/// |Δz| > `threshold`, fullest first (ties: lower z first). Errors as [`delta_z`] does, and
/// when the width is not positive.
pub fn attractor_redshifts(
    z_pred: &[f64],
    z_true: &[f64],
    threshold: f64,
    width: f64,
    top: usize,
) -> Result<Vec<Attractor>, String> {
    if !(width.is_finite() && width > 0.0) {
        return Err(format!("attractors: cell width must be > 0, found {width}"));
    }
    let dz = delta_z(z_pred, z_true)?;
    let mut cells: Vec<(i64, usize)> = Vec::new();
    for (&p, d) in z_pred.iter().zip(&dz) {
        if d.abs() > threshold {
            let cell = (p / width).floor() as i64;
            match cells.iter_mut().find(|(c, _)| *c == cell) {
                Some((_, count)) => *count += 1,
                None => cells.push((cell, 1)),
            }
        }
    }
    cells.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(cells
        .into_iter()
        .take(top)
        .map(|(cell, count)| Attractor {
            z: (cell as f64 + 0.5) * width,
            count,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_that_share_a_prediction_make_the_top_attractor() {
        // Three failures land near 1.155, one near 1.585, one object is right.
        let z_true = [1.5, 1.6, 1.7, 1.2, 1.3];
        let z_pred = [1.151, 1.152, 1.158, 1.585, 1.3001];
        let found = attractor_redshifts(&z_pred, &z_true, 0.05, 0.01, 5).expect("valid");
        assert_eq!(found.len(), 2);
        assert!(
            (found[0].z - 1.155).abs() < 1e-9 && found[0].count == 3,
            "{found:?}"
        );
        assert!(
            (found[1].z - 1.585).abs() < 1e-9 && found[1].count == 1,
            "{found:?}"
        );
        assert_eq!(
            attractor_redshifts(&z_pred, &z_true, 0.05, 0.01, 1)
                .expect("valid")
                .len(),
            1
        );
        assert!(attractor_redshifts(&z_pred, &z_true, 0.05, 0.0, 1).is_err());
    }
}
