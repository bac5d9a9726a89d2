//! The steps of Lin et al. (2022) on synthetic sets with known answers: the balanced
//! sampler, the σ₁ fit, the Step 4 resampling and bias correction (research notes
//! `photometric_redshift.md` §1.8–§1.10).

use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use zcnn::redshift::lin2022::dispersion::fit_dispersion;
use zcnn::redshift::lin2022::kernel::gaussian_weight;
use zcnn::redshift::lin2022::{
    balanced_subset, clipped_bin, fit_dispersions, resample_to_test, step3_targets,
    BulkBiasCorrection, ExtendedBinning, LabelFit, MagnitudeRows, Sample, Step3Options,
    CORRECTION_BINS,
};
use zcnn::redshift::ZBinning;
use zcnn::rng::stream;

fn sdss_base() -> ZBinning {
    ZBinning::new(0.0, 0.4, 180).expect("valid")
}

/// `n` objects with a steep redshift distribution (many at low z) and magnitudes over the
/// SDSS rows, so that some (z bin × row) cells are crowded and others sparse.
fn skewed_objects(n: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
    let mut rng = stream(seed, 100);
    let rows = MagnitudeRows::SDSS;
    let z = (0..n).map(|_| 0.4 * rng.gen::<f64>().powi(3)).collect();
    let row = (0..n)
        .map(|_| {
            rows.row_of(12.0 + 6.5 * rng.gen::<f64>().sqrt())
                .expect("finite")
        })
        .collect();
    (z, row)
}

/// Objects per (clipped z bin, row) cell.
fn cell_counts(base: &ZBinning, z: &[f64], row: &[usize], indices: &[usize]) -> Vec<usize> {
    let rows = MagnitudeRows::SDSS.rows();
    let mut counts = vec![0; base.bins() * rows];
    for &i in indices {
        counts[clipped_bin(base, z[i]).expect("finite") * rows + row[i]] += 1;
    }
    counts
}

#[test]
fn balanced_subset_caps_crowded_cells_keeps_sparse_ones_and_is_seeded() {
    let base = sdss_base();
    let (z, row) = skewed_objects(30_000, 1);
    let threshold = 20;
    let subset =
        balanced_subset(&base, &MagnitudeRows::SDSS, &z, &row, threshold, 7).expect("valid");
    let all: Vec<usize> = (0..z.len()).collect();
    let before = cell_counts(&base, &z, &row, &all);
    let after = cell_counts(&base, &z, &row, &subset);
    let (mut capped, mut kept) = (0, 0);
    for (&b, &a) in before.iter().zip(&after) {
        if b > threshold {
            assert_eq!(a, threshold, "a crowded cell keeps exactly N_th");
            capped += 1;
        } else {
            assert_eq!(a, b, "a cell under N_th keeps all its objects");
            kept += 1;
        }
    }
    assert!(
        capped > 10 && kept > 10,
        "both kinds of cells: {capped} capped, {kept} kept"
    );
    assert!(
        subset.windows(2).all(|w| w[0] < w[1]),
        "sorted and distinct"
    );
    let again = balanced_subset(&base, &MagnitudeRows::SDSS, &z, &row, threshold, 7).expect("ok");
    assert_eq!(subset, again, "the same seed gives the same subset");
    let other = balanced_subset(&base, &MagnitudeRows::SDSS, &z, &row, threshold, 8).expect("ok");
    assert_eq!(
        other.len(),
        subset.len(),
        "the size depends on the counts only"
    );
    assert_ne!(
        other, subset,
        "another seed picks other objects in crowded cells"
    );
}

/// A spiky photo-z histogram (mode collapse) over n bins.
fn spiky_histogram(bins: usize) -> Vec<f64> {
    let mut x = vec![0.0; bins];
    for (bin, weight) in [(20, 3.0), (60, 5.0), (61, 1.0), (110, 4.0), (170, 2.0)] {
        x[bin] = weight;
    }
    let total: f64 = x.iter().sum();
    x.iter().map(|v| v / total).collect()
}

/// `x` blurred by the discrete Gaussian of σ bins, each source's kernel normalised over the
/// bins (the model of §1.9a, computed here directly from its definition).
fn blur(x: &[f64], sigma: f64) -> Vec<f64> {
    let n = x.len();
    let mut y = vec![0.0; n];
    for (s, &xs) in x.iter().enumerate() {
        let norm: f64 = (0..n)
            .map(|i| gaussian_weight(i as f64 - s as f64, sigma))
            .sum();
        for (i, yi) in y.iter_mut().enumerate() {
            *yi += xs * gaussian_weight(i as f64 - s as f64, sigma) / norm;
        }
    }
    y
}

#[test]
fn sigma1_fit_recovers_the_blur_of_a_histogram() {
    let photo = spiky_histogram(180);
    for sigma in [3.0, 0.7, 12.0] {
        let spec = blur(&photo, sigma);
        let fitted = fit_dispersion(&spec, &photo);
        assert!(
            (fitted - sigma).abs() < 0.02 * sigma,
            "σ₁ = {fitted}, expected {sigma}"
        );
    }
}

/// Draws a bin offset `d` with probability ∝ exp(−½ (d/σ)²) among the offsets that keep
/// `source + d` inside `0..bins` (the per-source normalised kernel of §1.9a).
fn draw_offset(source: usize, bins: usize, sigma: f64, rng: &mut Xoshiro256PlusPlus) -> usize {
    let weights: Vec<f64> = (0..bins)
        .map(|i| gaussian_weight(i as f64 - source as f64, sigma))
        .collect();
    let mut u = rng.gen::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    bins - 1
}

#[test]
fn sigma1_fit_on_objects_recovers_a_sigma_per_magnitude_output() {
    // Three rows, two outputs: row 0 → output 0 (σ = 3 bins), row 2 → output 1 (σ = 1.5);
    // row 1 feeds both and is left empty so that each output sees one σ.
    let base = sdss_base();
    let rows = MagnitudeRows::new(14.0, 1.0, 3).expect("valid");
    let photo = spiky_histogram(180);
    let mut rng = stream(3, 200);
    let (mut z_spec, mut z_photo, mut row) = (Vec::new(), Vec::new(), Vec::new());
    for (r, sigma) in [(0, 3.0), (2, 1.5)] {
        for _ in 0..100_000 {
            // A photo-z bin drawn from the spiky histogram, the spec-z bin blurred from it.
            let mut u = rng.gen::<f64>();
            let source = photo.iter().position(|&p| {
                u -= p;
                u < 0.0
            });
            let source = source.unwrap_or(170);
            let target = draw_offset(source, 180, sigma, &mut rng);
            z_photo.push(base.center(source));
            z_spec.push(base.center(target));
            row.push(r);
        }
    }
    let subset = Sample {
        z_spec: &z_spec,
        z_photo: &z_photo,
        row: &row,
    };
    let sigma1 = fit_dispersions(&base, &rows, &subset).expect("valid");
    assert!((sigma1[0] - 3.0).abs() < 0.1, "{sigma1:?}");
    assert!((sigma1[1] - 1.5).abs() < 0.1, "{sigma1:?}");
}

/// The known bias of a (wide z_photo bin, row) cell: between −0.006 and +0.006.
fn cell_bias(wide: &ZBinning, z_photo: f64, row: usize) -> f64 {
    let bin = wide.bin_of(z_photo).expect("in range");
    0.003 * ((bin + 2 * row) % 5) as f64 - 0.006
}

/// Objects with z_photo in [0.02, 0.38) drawn with density ∝ z_photo^power, rows drawn with
/// weights ∝ (row + 1)^row_power, and z_spec = z_photo − bias(cell) − noise, noise uniform
/// in ±0.001: the mean residual z_photo − z_spec of a cell is its bias.
fn biased_objects(
    n: usize,
    power: f64,
    row_power: f64,
    seed: u64,
) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
    let wide = ZBinning::new(0.0, 0.4, CORRECTION_BINS).expect("valid");
    let rows = MagnitudeRows::SDSS.rows();
    let row_weights: Vec<f64> = (0..rows)
        .map(|r| ((r + 1) as f64).powf(row_power))
        .collect();
    let total: f64 = row_weights.iter().sum();
    let mut rng = stream(seed, 300);
    let (mut z_spec, mut z_photo, mut row) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let zp = 0.02 + 0.36 * rng.gen::<f64>().powf(1.0 / (power + 1.0));
        let mut u = rng.gen::<f64>() * total;
        let r = row_weights
            .iter()
            .position(|&w| {
                u -= w;
                u < 0.0
            })
            .unwrap_or(rows - 1);
        let noise = 0.002 * (rng.gen::<f64>() - 0.5);
        z_photo.push(zp);
        z_spec.push(zp - cell_bias(&wide, zp, r) - noise);
        row.push(r);
    }
    (z_spec, z_photo, row)
}

#[test]
fn step4_removes_a_known_bias_per_cell() {
    let base = sdss_base();
    let wide = ZBinning::new(0.0, 0.4, CORRECTION_BINS).expect("valid");
    let rows = MagnitudeRows::SDSS;
    // Training and test sets with different redshift and magnitude distributions.
    let (train_spec, train_photo, train_row) = biased_objects(60_000, 0.0, 0.0, 1);
    let (test_spec, test_photo, test_row) = biased_objects(30_000, 1.5, 1.0, 2);
    let resampled = resample_to_test(
        &base,
        &rows,
        &test_photo,
        &test_row,
        &train_spec,
        &train_row,
        60_000,
        5,
    )
    .expect("valid");
    assert_eq!(resampled.unmatched_test, 0);
    let pick =
        |values: &[f64]| -> Vec<f64> { resampled.indices.iter().map(|&i| values[i]).collect() };
    let picked_rows: Vec<usize> = resampled.indices.iter().map(|&i| train_row[i]).collect();
    let (picked_spec, picked_photo) = (pick(&train_spec), pick(&train_photo));
    let train = Sample {
        z_spec: &picked_spec,
        z_photo: &picked_photo,
        row: &picked_rows,
    };
    let correction = BulkBiasCorrection::fit(wide, &rows, &train).expect("valid");
    let corrected = correction.apply_all(&test_photo, &test_row).expect("valid");
    // Mean residual per (wide bin, row) cell of the test set, before and after.
    let cells = CORRECTION_BINS * rows.rows();
    let (mut before, mut after, mut counts) = (vec![0.0; cells], vec![0.0; cells], vec![0; cells]);
    for i in 0..test_photo.len() {
        let cell = wide.bin_of(test_photo[i]).expect("in range") * rows.rows() + test_row[i];
        before[cell] += test_photo[i] - test_spec[i];
        after[cell] += corrected[i] - test_spec[i];
        counts[cell] += 1;
    }
    let (mut checked, mut biased) = (0, 0);
    for cell in 0..cells {
        if counts[cell] < 30 {
            continue;
        }
        let n = counts[cell] as f64;
        assert!(
            (after[cell] / n).abs() < 0.001,
            "cell {cell}: corrected mean residual {} (before {})",
            after[cell] / n,
            before[cell] / n
        );
        checked += 1;
        biased += usize::from((before[cell] / n).abs() > 0.002);
    }
    assert!(
        checked > 100 && biased > 50,
        "{checked} cells checked, {biased} biased before"
    );
}

#[test]
fn resampling_follows_the_test_distribution_and_falls_back_to_the_nearest_bin() {
    let fine = ZBinning::new(0.0, 1.0, 10).expect("valid");
    let rows = MagnitudeRows::new(0.0, 1.0, 3).expect("valid");
    // Training row 0 holds z_spec bins 2 (objects 0, 1) and 6 (object 2); row 1 holds bin 5
    // (object 3); row 2 holds nothing.
    let train_spec = [0.25, 0.21, 0.65, 0.55];
    let train_row = [0, 0, 0, 1];
    // Test: 4 objects in row 0 at z_photo bin 4 (tie 2 vs 6 → 2), 2 in row 1 at bin 9
    // (nearest populated: 5), 1 in row 2 (no training object), 1 outside the range.
    let test_photo = [0.45, 0.41, 0.42, 0.49, 0.95, 0.91, 0.5, 1.5];
    let test_row = [0, 0, 0, 0, 1, 1, 2, 0];
    // size 16 over 8 test objects: 2 draws per test object, exact (no rounding).
    let resampled = resample_to_test(
        &fine,
        &rows,
        &test_photo,
        &test_row,
        &train_spec,
        &train_row,
        16,
        9,
    )
    .expect("valid");
    assert_eq!(resampled.unmatched_test, 2);
    let mut from_bin_2: Vec<usize> = resampled
        .indices
        .iter()
        .copied()
        .filter(|&i| i < 2)
        .collect();
    assert_eq!(from_bin_2.len(), 8, "{:?}", resampled.indices);
    assert_eq!(resampled.indices.iter().filter(|&&i| i == 3).count(), 4);
    assert_eq!(resampled.indices.len(), 12);
    from_bin_2.sort_unstable();
    from_bin_2.dedup();
    assert_eq!(
        from_bin_2,
        vec![0, 1],
        "the cell is drawn without replacement first"
    );
    let again = resample_to_test(
        &fine,
        &rows,
        &test_photo,
        &test_row,
        &train_spec,
        &train_row,
        16,
        9,
    )
    .expect("valid");
    assert_eq!(again, resampled, "seeded");
    let err = resample_to_test(
        &fine,
        &rows,
        &[f64::NAN],
        &[0],
        &train_spec,
        &train_row,
        4,
        9,
    )
    .expect_err("NaN");
    assert!(err.contains("test set: z_photo[0]"), "{err}");
}

#[test]
fn step3_fit_measures_the_scatter_and_shifts_edge_labels_outward() {
    // One row; z_spec uniform over [0, 0.4), z_photo = z_spec + N(0, 2 bins). For a Gaussian
    // residual e of σ = 2 bins, ½ (median + mean) of e² = ½ (0.4549 + 1) · 4 = 2.91 bins², so
    // in the middle of the range σ₂² − σ₁² ≈ 2.91.
    let binning = ExtendedBinning::half_each_side(sdss_base()).expect("valid");
    let rows = MagnitudeRows::new(14.0, 0.5, 1).expect("one row");
    let width = binning.base().width();
    let mut rng = stream(4, 400);
    let n = 50_000;
    let z_spec: Vec<f64> = (0..n).map(|_| 0.4 * rng.gen::<f64>()).collect();
    let z_photo: Vec<f64> = z_spec
        .iter()
        .map(|&z| {
            // Box–Muller.
            let (u, v): (f64, f64) = (1.0 - rng.gen::<f64>(), rng.gen());
            z + 2.0 * width * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        })
        .collect();
    let row = vec![0; n];
    let subset = Sample {
        z_spec: &z_spec,
        z_photo: &z_photo,
        row: &row,
    };
    let fit = LabelFit::fit(&binning, &rows, &subset).expect("valid");
    // The spec-z histogram is flat, and so is a blur of the photo-z histogram by a huge σ:
    // the cross-entropy drives σ₁ far up (the authors' fit behaves the same way).
    let sigma1 = fit.sigma1[0];
    assert!(sigma1 > 50.0, "σ₁ = {sigma1}");
    for j in [60, 90, 120] {
        let measured = fit.sigma2[0][j].powi(2) - sigma1 * sigma1;
        assert!(
            (measured - 2.91).abs() < 0.3,
            "bin {j}: σ₂² − σ₁² = {measured}"
        );
    }
    // Hard shifted labels (Step 3a) move outward at both edges: below j at the lower edge,
    // above it at the upper one (z_cm of the truncated N(j, σ₂) lies inside the range).
    let hard = Step3Options {
        soft: false,
        shift: true,
    };
    let mut targets = vec![0.0f32; 360];
    for (z, outward) in [(0.0005, -1.0), (0.3995, 1.0)] {
        step3_targets(&binning, &rows, &fit, z, 0, hard, &mut targets).expect("valid");
        let label = targets.iter().position(|&y| y == 1.0).expect("one-hot") as f64;
        let j = binning.label_index(z).expect("valid") as f64;
        assert!(
            (label - j) * outward >= 1.0,
            "z = {z}: label {label}, j = {j}"
        );
        step3_targets(
            &binning,
            &rows,
            &fit,
            z,
            0,
            Step3Options::default(),
            &mut targets,
        )
        .expect("valid");
        let sum: f64 = targets.iter().map(|&y| f64::from(y)).sum();
        assert!((sum - 1.0).abs() < 1e-5, "soft label sums to {sum}");
    }
}
