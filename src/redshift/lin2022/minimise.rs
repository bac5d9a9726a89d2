//! A bounded 1-D minimiser: a grid scan to find the basin, then golden-section search inside
//! it (Kiefer 1953; Numerical Recipes 3rd ed. §10.2). It replaces the authors' call of
//! `scipy.optimize.least_squares` for σ₁ (research notes §1.9a), which has one unknown per
//! magnitude output.

/// Points of the initial grid over `[low, high]`.
const GRID_POINTS: usize = 65;
/// Golden-section steps: the bracket of two grid cells shrinks by 0.618 per step, so 80
/// steps reach far below `f64` resolution for any grid cell.
const GOLDEN_STEPS: usize = 80;

/// The `x` in `[low, high]` that minimises `f`: the best of a uniform grid of
/// [`GRID_POINTS`], refined by golden-section search between its two neighbours. Finds the
/// global minimum of any function whose basins are wider than a grid cell. Non-finite values
/// of `f` count as +∞. Panics if `low > high` or a bound is not finite (a caller bug).
pub fn minimise_bounded(mut f: impl FnMut(f64) -> f64, low: f64, high: f64) -> f64 {
    assert!(
        low.is_finite() && high.is_finite() && low <= high,
        "bounds [{low}, {high}]"
    );
    let mut value = |x: f64| {
        let y = f(x);
        if y.is_nan() {
            f64::INFINITY
        } else {
            y
        }
    };
    let step = (high - low) / (GRID_POINTS - 1) as f64;
    let grid_x = |i: usize| (low + step * i as f64).min(high);
    let (mut best_i, mut best_y) = (0, value(low));
    for i in 1..GRID_POINTS {
        let y = value(grid_x(i));
        if y < best_y {
            (best_i, best_y) = (i, y);
        }
    }
    // Golden section on [a, b] with interior points c < d: keep the side of the smaller value.
    let inverse_phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (grid_x(best_i.saturating_sub(1)), grid_x(best_i + 1));
    let mut c = b - inverse_phi * (b - a);
    let mut d = a + inverse_phi * (b - a);
    let (mut fc, mut fd) = (value(c), value(d));
    for _ in 0..GOLDEN_STEPS {
        if fc <= fd {
            (b, d, fd) = (d, c, fc);
            c = b - inverse_phi * (b - a);
            fc = value(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + inverse_phi * (b - a);
            fd = value(d);
        }
    }
    let (x, y) = if fc <= fd { (c, fc) } else { (d, fd) };
    if y <= best_y {
        x
    } else {
        grid_x(best_i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_interior_and_boundary_minima() {
        let x = minimise_bounded(|x| (x - 1.234).powi(2) + 3.0, -5.0, 5.0);
        assert!((x - 1.234).abs() < 1e-7, "{x}");
        // Minimum at the lower bound of a monotone function.
        let x = minimise_bounded(|x| x, 2.0, 3.0);
        assert!((x - 2.0).abs() < 1e-9, "{x}");
        let x = minimise_bounded(|x| -x, 2.0, 3.0);
        assert!((x - 3.0).abs() < 1e-9, "{x}");
    }

    #[test]
    fn the_grid_finds_the_deeper_of_two_basins() {
        // Local minimum near −2 (depth −1), global near 3 (depth −2).
        let f = |x: f64| -(-(x + 2.0).powi(2)).exp() - 2.0 * (-(x - 3.0).powi(2)).exp();
        let x = minimise_bounded(f, -6.0, 6.0);
        assert!((x - 3.0).abs() < 1e-4, "{x}");
        // NaN counts as +∞.
        let x = minimise_bounded(
            |x| if x < 0.0 { f64::NAN } else { (x - 0.5).abs() },
            -1.0,
            1.0,
        );
        assert!((x - 0.5).abs() < 1e-7, "{x}");
    }
}
