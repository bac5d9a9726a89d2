//! Selecting on a confidence figure: the purity–completeness curve.
//!
//! Keeping the objects whose confidence is at least t, completeness(t) = kept / all and
//! purity(t) = successes among the kept / kept (a success being |Δz| ≤ 0.003, say). Template
//! fitters publish the same trade-off for their Δχ² cut (e.g. DESI keeps DELTACHI2 > 40 for
//! bright galaxies).

use super::check_finite;

/// One point of the curve: the objects with confidence ≥ `threshold`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SelectionPoint {
    pub threshold: f64,
    /// Number of objects kept.
    pub kept: usize,
    /// kept / all.
    pub completeness: f64,
    /// Successes among the kept / kept.
    pub purity: f64,
}

/// The curve at every distinct confidence value, from the highest threshold (fewest objects
/// kept) to the lowest (all kept). Errors on empty or mismatched inputs and on a non-finite
/// confidence.
pub fn purity_completeness(
    confidence: &[f64],
    success: &[bool],
) -> Result<Vec<SelectionPoint>, String> {
    check_finite("confidence", confidence)?;
    if confidence.len() != success.len() {
        return Err(format!(
            "confidence has {} values but success has {}",
            confidence.len(),
            success.len()
        ));
    }
    let mut order: Vec<usize> = (0..confidence.len()).collect();
    order.sort_by(|&a, &b| confidence[b].total_cmp(&confidence[a]));
    let total = confidence.len() as f64;
    let mut curve = Vec::new();
    let mut good = 0usize;
    for (rank, &i) in order.iter().enumerate() {
        good += usize::from(success[i]);
        let last_of_tie = order
            .get(rank + 1)
            .is_none_or(|&next| confidence[next] != confidence[i]);
        if last_of_tie {
            let kept = rank + 1;
            curve.push(SelectionPoint {
                threshold: confidence[i],
                kept,
                completeness: kept as f64 / total,
                purity: good as f64 / kept as f64,
            });
        }
    }
    Ok(curve)
}

/// The most complete point whose purity reaches `target`, if any.
pub fn most_complete_with_purity(curve: &[SelectionPoint], target: f64) -> Option<SelectionPoint> {
    curve
        .iter()
        .filter(|p| p.purity >= target)
        .max_by(|a, b| a.completeness.total_cmp(&b.completeness))
        .copied()
}

/// At most `points` points of the curve, evenly spaced in rank, always keeping the last (all
/// objects): enough to plot or store it.
pub fn thin_curve(curve: &[SelectionPoint], points: usize) -> Vec<SelectionPoint> {
    if curve.len() <= points || points < 2 {
        return curve.to_vec();
    }
    let step = (curve.len() - 1) as f64 / (points - 1) as f64;
    (0..points)
        .map(|j| curve[((j as f64 * step).round() as usize).min(curve.len() - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_counts_the_kept_objects_at_each_distinct_threshold() {
        let confidence = [0.9, 0.1, 0.5, 0.9, 0.3];
        let success = [true, false, true, false, true];
        let curve = purity_completeness(&confidence, &success).expect("valid");
        let summary: Vec<(f64, usize, f64)> = curve
            .iter()
            .map(|p| (p.threshold, p.kept, p.purity))
            .collect();
        assert_eq!(
            summary,
            vec![
                (0.9, 2, 0.5),
                (0.5, 3, 2.0 / 3.0),
                (0.3, 4, 0.75),
                (0.1, 5, 0.6)
            ]
        );
        assert_eq!(curve[3].completeness, 1.0);
        let best = most_complete_with_purity(&curve, 0.7).expect("reached");
        assert_eq!((best.threshold, best.kept), (0.3, 4));
        assert_eq!(most_complete_with_purity(&curve, 0.99), None);
    }

    #[test]
    fn a_perfect_ranking_keeps_full_purity_until_the_failures() {
        let confidence: Vec<f64> = (0..100).map(f64::from).collect();
        let success: Vec<bool> = (0..100).map(|i| i >= 20).collect();
        let curve = purity_completeness(&confidence, &success).expect("valid");
        let best = most_complete_with_purity(&curve, 1.0).expect("reached");
        assert_eq!((best.kept, best.threshold), (80, 20.0));
        let thin = thin_curve(&curve, 11);
        assert_eq!(thin.len(), 11);
        assert_eq!(thin[10].kept, 100);
        assert_eq!(thin[0].kept, 1);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(purity_completeness(&[], &[]).is_err());
        assert!(purity_completeness(&[1.0], &[true, false]).is_err());
        assert!(purity_completeness(&[f64::NAN], &[true]).is_err());
    }
}
