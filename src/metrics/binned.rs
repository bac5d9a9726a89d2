//! Point metrics in bins of a property of the objects (Hα equivalent width, line flux, SNR,
//! class): which galaxies a model serves and which it fails.

use std::cmp::Ordering::Less;

use super::point::PointMetrics;

/// The metrics of the objects whose property lies in `[lo, hi)` (`hi` included when infinite).
#[derive(Clone, Debug, PartialEq)]
pub struct BinMetrics {
    pub lo: f64,
    pub hi: f64,
    /// Objects in the bin.
    pub n: usize,
    /// `None` when the bin is empty.
    pub metrics: Option<PointMetrics>,
}

/// Metrics per bin of `values` for the bins between consecutive `edges` (ascending; the last
/// may be +∞). Objects with a NaN value, or outside the edges, fall in no bin. Errors when the
/// lengths differ or the edges are fewer than 2 or not increasing.
pub fn metrics_in_bins(
    z_pred: &[f64],
    z_true: &[f64],
    values: &[f64],
    edges: &[f64],
) -> Result<Vec<BinMetrics>, String> {
    if values.len() != z_pred.len() || z_true.len() != z_pred.len() {
        return Err(format!(
            "binned metrics: {} predictions, {} true redshifts and {} property values",
            z_pred.len(),
            z_true.len(),
            values.len()
        ));
    }
    if edges.len() < 2
        || edges
            .windows(2)
            .any(|w| w[0].partial_cmp(&w[1]) != Some(Less))
    {
        return Err(format!(
            "binned metrics: edges must be at least 2 and increasing, found {edges:?}"
        ));
    }
    edges
        .windows(2)
        .map(|w| {
            let (lo, hi) = (w[0], w[1]);
            let inside = |v: f64| lo <= v && (v < hi || (hi == f64::INFINITY && v == hi));
            let members: Vec<usize> = (0..values.len()).filter(|&i| inside(values[i])).collect();
            let pick = |a: &[f64]| members.iter().map(|&i| a[i]).collect::<Vec<f64>>();
            let metrics = if members.is_empty() {
                None
            } else {
                Some(PointMetrics::compute(&pick(z_pred), &pick(z_true))?)
            };
            Ok(BinMetrics {
                lo,
                hi,
                n: members.len(),
                metrics,
            })
        })
        .collect()
}

/// Edges at the quantiles 0, 1/k, …, 1 of the finite `values` (the top edge nudged up so the
/// largest value falls inside), merged where equal; `None` when fewer than 2 distinct finite
/// values exist. For properties without natural bins, such as a line flux in the survey's units.
pub fn quantile_edges(values: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    finite.sort_by(f64::total_cmp);
    let (&first, &last) = (finite.first()?, finite.last()?);
    if first == last || k == 0 {
        return None;
    }
    let mut edges: Vec<f64> = (0..k).map(|j| finite[j * (finite.len() - 1) / k]).collect();
    edges.push(last + (last - first) * 1e-9);
    edges.dedup();
    Some(edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bin_holds_its_objects_and_their_metrics() {
        // Two objects right in bin [0, 3), one outlier and one success in [3, ∞), one NaN.
        let z_true = [1.0, 1.2, 1.4, 1.6, 1.5];
        let z_pred = [1.0, 1.2, 1.0, 1.6001, 1.5];
        let ew = [0.0, 2.9, 10.0, f64::INFINITY, f64::NAN];
        let bins =
            metrics_in_bins(&z_pred, &z_true, &ew, &[0.0, 3.0, f64::INFINITY]).expect("valid");
        assert_eq!(bins.len(), 2);
        assert_eq!(bins[0].n, 2);
        let first = bins[0].metrics.as_ref().expect("filled");
        assert_eq!(first.success_0_003, 1.0);
        assert_eq!(bins[1].n, 2);
        let second = bins[1].metrics.as_ref().expect("filled");
        assert_eq!(second.success_0_003, 0.5);
        assert_eq!(second.eta_0_15, 0.5);
        let empty = metrics_in_bins(&z_pred, &z_true, &ew, &[100.0, 200.0]).expect("valid");
        assert_eq!((empty[0].n, empty[0].metrics.is_none()), (0, true));
    }

    #[test]
    fn bad_edges_and_lengths_are_errors() {
        assert!(metrics_in_bins(&[1.0], &[1.0], &[1.0], &[1.0]).is_err());
        assert!(metrics_in_bins(&[1.0], &[1.0], &[1.0], &[2.0, 1.0]).is_err());
        assert!(metrics_in_bins(&[1.0], &[1.0], &[], &[0.0, 1.0]).is_err());
    }

    #[test]
    fn quantile_edges_split_the_values_evenly() {
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let edges = quantile_edges(&values, 4).expect("distinct");
        assert_eq!(&edges[..4], &[0.0, 24.0, 49.0, 74.0]);
        assert!(edges[4] > 99.0);
        assert_eq!(quantile_edges(&[1.0, 1.0, f64::NAN], 4), None);
    }
}
