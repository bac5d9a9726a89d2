//! The image simulator end to end: flux conservation through rendering, noise level, seed
//! reproducibility for any thread count, the population's physics, and `zcnn simulate`.

mod support;

use zcnn::data::images::population::{Population, TYPES};
use zcnn::data::images::{simulate_images, ImageSet, ImageSimConfig, Survey};

fn simulate_with_threads(config: &ImageSimConfig, threads: usize) -> ImageSet {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| simulate_images(config))
        .unwrap()
}

#[test]
fn a_noiseless_galaxy_in_a_large_stamp_holds_its_magnitude_in_every_band() {
    // Compact galaxies (truncated profiles well inside the stamp): the pixel sum of each band
    // gives back the label magnitude, m = ZP − 2.5 log₁₀ Σ pixels, within 0.01 mag.
    for preset in ["sdss", "hsc"] {
        let mut config = ImageSimConfig::preset(preset, 24, 11).unwrap();
        config.survey.stamp = 192;
        config.noise = false;
        let set = simulate_with_threads(&config, 2);
        let survey = &config.survey;
        let half_arcsec = (192.0 / 2.0 - 40.0) * survey.pixel_scale;
        let mut checked = 0;
        for (i, label) in set.labels.iter().enumerate() {
            if 8.0 * label.bulge_r_e > half_arcsec || 4.0 * label.disk_r_e > half_arcsec {
                continue;
            }
            checked += 1;
            for (b, spec) in survey.bands.iter().enumerate() {
                let plane = &set.cutout(i)[b * 192 * 192..(b + 1) * 192 * 192];
                let sum: f64 = plane.iter().map(|&v| f64::from(v)).sum();
                let m = spec.zero_point - 2.5 * sum.log10();
                assert!(
                    (m - label.magnitudes[b]).abs() < 0.01,
                    "{preset} galaxy {i} band {}: image {m} vs label {}",
                    spec.band.name,
                    label.magnitudes[b]
                );
            }
        }
        assert!(checked >= 12, "{preset}: only {checked} compact galaxies");
    }
}

#[test]
fn the_same_seed_gives_bit_identical_sets_on_1_2_and_3_threads() {
    let config = ImageSimConfig::preset("sdss44", 12, 5).unwrap();
    let one = simulate_with_threads(&config, 1);
    for threads in [2, 3] {
        let other = simulate_with_threads(&config, threads);
        assert!(
            one.images
                .iter()
                .zip(&other.images)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{threads} threads changed the pixels"
        );
        assert_eq!(one.labels, other.labels);
    }
    let reseeded = ImageSimConfig::preset("sdss44", 12, 6).unwrap();
    assert_ne!(simulate_with_threads(&reseeded, 2).images, one.images);
}

#[test]
fn empty_sky_has_the_labelled_noise_and_sdss_labels_follow_the_selection() {
    let config = ImageSimConfig::preset("sdss", 60, 21).unwrap();
    let set = simulate_with_threads(&config, 2);
    let survey = &config.survey;
    let size = set.size;
    for (b, spec) in survey.bands.iter().enumerate() {
        // 6 × 6 corner patches, far from the galaxy; σ of a pure sky pixel.
        let mut values = Vec::new();
        for i in 0..set.len() {
            let plane = &set.cutout(i)[b * size * size..(b + 1) * size * size];
            for row in 0..6 {
                values.extend(
                    plane[row * size..row * size + 6]
                        .iter()
                        .map(|&v| f64::from(v)),
                );
            }
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sigma = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let labelled = set.labels[0].noise[b];
        assert!(labelled > 0.0 && set.labels.iter().all(|l| l.noise[b] == labelled));
        assert!(
            (sigma / labelled - 1.0).abs() < 0.1,
            "{}: σ {sigma} vs {labelled}",
            spec.band.name
        );
        assert!(
            mean.abs() < 5.0 * labelled / n.sqrt() + 0.02 * labelled,
            "{}: sky residual {mean}",
            spec.band.name
        );
    }
    for label in &set.labels {
        // SDSS MGS: extinction-corrected r in [13, 17.77], 0 < z < 0.4.
        let dereddened_r = label.magnitudes[2] - survey.bands[2].extinction_coefficient * label.ebv;
        assert!(
            (13.0 - 1e-6..=17.77 + 1e-6).contains(&dereddened_r),
            "r {dereddened_r}"
        );
        assert!(label.z > 0.0 && label.z < 0.4, "z {}", label.z);
        assert!((0.0..=0.3).contains(&label.ebv));
        assert!(TYPES.iter().any(|t| t.name == label.galaxy_type));
        assert!(label.magnitudes.iter().all(|m| m.is_finite()));
        assert!(label.fwhm.iter().all(|f| (0.5..4.0).contains(f)));
    }
    // A realistic n(z): the MGS median is 0.104 (Strauss et al. 2002).
    let mut z: Vec<f64> = set.labels.iter().map(|l| l.z).collect();
    z.sort_by(f64::total_cmp);
    assert!(
        (0.06..0.16).contains(&z[z.len() / 2]),
        "median z {}",
        z[z.len() / 2]
    );
}

#[test]
fn hsc_galaxies_reach_high_redshift_and_i_below_25() {
    let config = ImageSimConfig::preset("hsc", 40, 2).unwrap();
    let set = simulate_with_threads(&config, 2);
    let z_max = set.labels.iter().map(|l| l.z).fold(0.0, f64::max);
    assert!(z_max > 0.8 && z_max <= 2.5, "z max {z_max}");
    for l in &set.labels {
        // HSC i (index 2) tracks Buzzard's LSST i < 25 within the filter difference + reddening.
        assert!(
            l.magnitudes[2] < 25.5 + 2.0 * l.ebv,
            "i {}",
            l.magnitudes[2]
        );
    }
}

#[test]
fn bulges_are_redder_than_disks_in_every_type() {
    let population = Population::new(9).unwrap();
    let sdss = Survey::preset("sdss").unwrap();
    let (g, r) = (&sdss.bands[1].band, &sdss.bands[2].band);
    let colour = |library: &zcnn::data::spectra::SedLibrary| -> f64 {
        let colours: Vec<f64> = library
            .galaxies()
            .iter()
            .map(|galaxy| {
                -2.5 * (g.flux_nu(library, galaxy, 0.1) / r.flux_nu(library, galaxy, 0.1)).log10()
            })
            .collect();
        colours.iter().sum::<f64>() / colours.len() as f64
    };
    let bulge = colour(&population.bulges);
    for (ty, disks) in TYPES.iter().zip(&population.disks) {
        let disk = colour(disks);
        assert!(
            bulge > disk,
            "{}: bulge g−r {bulge} vs disk {disk}",
            ty.name
        );
    }
}

#[test]
fn zcnn_simulate_writes_an_image_dataset_folder() {
    let dir = support::scratch("images-cli");
    let out = dir.join("sdss44");
    support::ok(&[
        "simulate",
        "--preset",
        "sdss44",
        "-n",
        "5",
        "--seed",
        "4",
        "--out",
        support::s(&out),
    ]);
    let bytes = std::fs::read(out.join("images.npy")).unwrap();
    let header = String::from_utf8_lossy(&bytes[..128]);
    assert!(
        header.contains("(5, 5, 44, 44") && header.contains("<f4"),
        "{header}"
    );
    let labels = std::fs::read_to_string(out.join("labels.csv")).unwrap();
    let mut lines = labels.lines();
    let header = lines.next().unwrap();
    for column in [
        "index",
        "id",
        "z",
        "type",
        "ebv",
        "mag_u",
        "mag_z",
        "fwhm_r",
        "noise_i",
        "bulge_r_e",
    ] {
        assert!(
            header.split(',').any(|c| c == column),
            "no {column} in {header}"
        );
    }
    assert_eq!(lines.count(), 5);
    let toml = std::fs::read_to_string(out.join("simulation.toml")).unwrap();
    assert!(toml.contains("preset = \"sdss44\"") && toml.contains("zero_points = [22.5"));
    let err = support::fails(&[
        "simulate",
        "--preset",
        "sdss",
        "--snr",
        "5",
        "--out",
        support::s(&out),
    ]);
    assert!(err.contains("--snr"), "{err}");
    let err = support::fails(&[
        "simulate",
        "--preset",
        "sdss",
        "-n",
        "0",
        "--out",
        support::s(&out),
    ]);
    assert!(err.contains("at least 1"), "{err}");
    let err = support::fails(&[
        "simulate",
        "--preset",
        "sdss",
        "-n",
        "200000",
        "--out",
        support::s(&out),
    ]);
    assert!(err.contains("GiB"), "{err}");
    let err = support::fails(&[
        "simulate",
        "--preset",
        "seed",
        "--no-ebv",
        "--out",
        support::s(&out),
    ]);
    assert!(err.contains("--no-ebv"), "{err}");
}
