//! End-to-end tests of the simulator (library → observed spectra).

use std::path::{Path, PathBuf};

use super::*;

/// A temporary folder holding the given `.sed` files, removed on drop.
struct SedDir(PathBuf);

impl SedDir {
    fn new(tag: &str, files: &[(&str, String)]) -> Self {
        let dir = std::env::temp_dir().join(format!("zcnn-sim-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write .sed");
        }
        SedDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A flat SED, f_λ = 1 from `lo` to `hi` Å.
fn flat_sed(lo: f64, hi: f64) -> String {
    format!("# flat\n{lo} 1\n{hi} 1\n")
}

fn seed_config() -> SimConfig {
    SimConfig::preset("seed").expect("known preset")
}

/// Only Hα, Hβ and \[OIII\] (and Hγ, Hδ out of the seed grid at z = 1.4) keep some flux.
fn halpha_mostly() -> LineConfig {
    LineConfig {
        nii_over_halpha: (0.0, 0.0),
        sii_over_halpha: (0.0, 0.0),
        siii_over_halpha: (0.0, 0.0),
        oii_over_halpha: (0.0, 0.0),
        hei_over_hbeta: (0.0, 0.0),
        ..LineConfig::default()
    }
}

#[test]
fn halpha_at_z_1_4_lands_in_its_pixel_with_its_flux() {
    let dir = SedDir::new("halpha", &[("flat.sed", flat_sed(1000.0, 30_000.0))]);
    let with_lines = LibraryConfig {
        lines: Some(halpha_mostly()),
        ..LibraryConfig::user_seds(true)
    };
    let lined = SedLibrary::from_sed_dir(dir.path(), &with_lines, 1).expect("valid");
    let bare =
        SedLibrary::from_sed_dir(dir.path(), &LibraryConfig::user_seds(false), 1).expect("valid");
    let mut config = seed_config();
    config.z_range = (1.4, 1.400_000_1);
    let a = simulate(&config, &lined, 1, 9).expect("simulates");
    let b = simulate(&config, &bare, 1, 9).expect("simulates");
    let z = f64::from(a.z[0]);
    assert!((z - 1.4).abs() < 1e-6);

    let edges = config.grid.edges();
    let lines_only: Vec<f64> = a
        .spectrum(0)
        .iter()
        .zip(b.spectrum(0))
        .map(|(x, y)| f64::from(x - y))
        .collect();
    let centre = 6564.6 * (1.0 + z);
    let expected_pixel = edges
        .windows(2)
        .position(|e| e[0] <= centre && centre < e[1])
        .expect("in grid");
    let window = expected_pixel - 40..expected_pixel + 40;
    let peak = window
        .clone()
        .max_by(|&i, &j| lines_only[i].total_cmp(&lines_only[j]))
        .expect("non-empty");
    assert_eq!(peak, expected_pixel);

    let width = config.grid.step();
    let measured: f64 = window.map(|p| lines_only[p] * width).sum();
    let recorded = f64::from(a.properties[0].halpha_flux);
    assert!(
        (measured / recorded - 1.0).abs() < 1e-4,
        "Hα {measured} vs {recorded}"
    );
    // Flat continuum of 1: the Hα flux is EW × 1 (no dust, no flux scale).
    assert!((recorded - f64::from(a.properties[0].halpha_ew)).abs() < 1e-3 * recorded);
}

#[test]
fn every_line_flux_is_conserved_through_lsf_and_rebinning() {
    let dir = SedDir::new("allflux", &[("flat.sed", flat_sed(1000.0, 30_000.0))]);
    let lined =
        SedLibrary::from_sed_dir(dir.path(), &LibraryConfig::user_seds(true), 2).expect("valid");
    let bare =
        SedLibrary::from_sed_dir(dir.path(), &LibraryConfig::user_seds(false), 2).expect("valid");
    let mut config = SimConfig::preset("euclid").expect("known");
    config.flux_scale = FluxScale::None;
    config.noise = NoiseModel::None;
    let (a, b) = (
        simulate(&config, &lined, 20, 3).expect("ok"),
        simulate(&config, &bare, 20, 3).expect("ok"),
    );
    let (lo, hi) = (
        config.grid.edges()[0],
        config.grid.edges()[config.grid.pixels],
    );
    for i in 0..20 {
        let stretch = 1.0 + f64::from(a.z[i]);
        let sigma = f64::from(a.properties[i].lsf_sigma);
        // Lines at least 8σ inside the grid keep all their flux; lines near the edges are skipped.
        let mut expected = 0.0;
        let mut straddles = false;
        for (&flux, &rest) in a.properties[i].line_fluxes.iter().zip(line_wavelengths()) {
            let centre = rest * stretch;
            if centre > lo + 10.0 * sigma && centre < hi - 10.0 * sigma {
                expected += f64::from(flux);
            } else if centre > lo - 10.0 * sigma && centre < hi + 10.0 * sigma {
                straddles = true;
            }
        }
        if straddles {
            continue;
        }
        let measured: f64 = a
            .spectrum(i)
            .iter()
            .zip(b.spectrum(i))
            .map(|(x, y)| f64::from(x - y) * config.grid.step())
            .sum();
        assert!(
            (measured / expected - 1.0).abs() < 1e-4,
            "spectrum {i}: {measured} vs {expected}"
        );
    }
}

#[test]
fn the_continuum_of_a_flat_sed_is_one_over_one_plus_z() {
    let dir = SedDir::new("flat", &[("flat.sed", flat_sed(1000.0, 30_000.0))]);
    let bare =
        SedLibrary::from_sed_dir(dir.path(), &LibraryConfig::user_seds(false), 0).expect("valid");
    let set = simulate(&seed_config(), &bare, 5, 4).expect("ok");
    for i in 0..5 {
        let expected = 1.0 / (1.0 + set.z[i]);
        assert!(set
            .spectrum(i)
            .iter()
            .all(|v| (v - expected).abs() < 1e-5 * expected));
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes_any_thread_count() {
    let run = |threads: usize, library_seed: u64, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let library = SedLibrary::builtin(50, library_seed, true).expect("library");
            simulate(
                &SimConfig::preset("euclid").expect("known"),
                &library,
                101,
                seed,
            )
            .expect("ok")
        })
    };
    let reference = run(1, 1, 2);
    let two_threads = run(2, 1, 2);
    let bytes = |s: &SpectraSet| s.flux.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    assert_eq!(bytes(&reference), bytes(&two_threads));
    assert_eq!(reference, two_threads);
    assert_ne!(bytes(&reference), bytes(&run(2, 1, 3)));
    assert_ne!(bytes(&reference), bytes(&run(2, 5, 2)));
}

#[test]
fn redshifts_fill_the_half_open_range() {
    let library = SedLibrary::builtin(10, 0, false).expect("library");
    let mut config = seed_config();
    config.z_range = (1.0, 1.1);
    config.grid.pixels = 64;
    let set = simulate(&config, &library, 5000, 11).expect("ok");
    assert!(set.z.iter().all(|&z| (1.0..1.1).contains(&f64::from(z))));
    let (min, max) = set
        .z
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &z| (a.min(z), b.max(z)));
    assert!(min < 1.001 && max > 1.099, "z from {min} to {max}");
}

#[test]
fn white_noise_reaches_the_requested_snr_over_many_pixels() {
    let library = SedLibrary::builtin(20, 0, true).expect("library");
    let mut config = seed_config();
    let clean = simulate(&config, &library, 20, 5).expect("ok");
    config.noise = NoiseModel::WhiteSnr { snr: 4.0 };
    let noisy = simulate(&config, &library, 20, 5).expect("ok");
    let (mut signal, mut squared, mut count) = (0.0, 0.0, 0.0);
    for i in 0..20 {
        for (n, c) in noisy.spectrum(i).iter().zip(clean.spectrum(i)) {
            signal += f64::from(c.abs());
            squared += f64::from(n - c).powi(2);
            count += 1.0;
        }
    }
    let snr = (signal / count) / (squared / count).sqrt();
    assert!((snr / 4.0 - 1.0).abs() < 0.03, "measured SNR {snr}");
}

#[test]
fn normalisations_hit_their_targets_and_keep_the_scale() {
    let library = SedLibrary::builtin(20, 0, true).expect("library");
    let mut config = SimConfig::preset("euclid").expect("known");
    let raw = simulate(&config, &library, 10, 6).expect("ok");
    for (norm, target) in [
        (Normalisation::Max, 1.0f32),
        (Normalisation::L2, 1.0),
        (Normalisation::Median, 1.0),
    ] {
        config.normalisation = norm;
        let set = simulate(&config, &library, 10, 6).expect("ok");
        for i in 0..10 {
            let row = set.spectrum(i);
            let value = match norm {
                Normalisation::Max => row.iter().fold(0.0f32, |m, v| m.max(v.abs())),
                Normalisation::L2 => row.iter().map(|v| v * v).sum::<f32>().sqrt(),
                _ => {
                    let mut abs: Vec<f32> = row.iter().map(|v| v.abs()).collect();
                    abs.sort_by(f32::total_cmp);
                    abs[abs.len() / 2]
                }
            };
            assert!((value - target).abs() < 1e-5, "{norm:?}: {value}");
            let scale = set.properties[i].norm_scale;
            for (stored, original) in row.iter().zip(raw.spectrum(i)) {
                assert!((stored * scale - original).abs() <= 1e-5 * scale);
            }
        }
    }
}

#[test]
fn euclid_spectra_carry_physical_halpha_fluxes() {
    let library = SedLibrary::builtin(30, 3, true).expect("library");
    let set = simulate(
        &SimConfig::preset("euclid").expect("known"),
        &library,
        60,
        8,
    )
    .expect("ok");
    for p in &set.properties {
        assert!(
            (2e-16..1e-15).contains(&p.halpha_flux),
            "Hα {}",
            p.halpha_flux
        );
        assert!((2.5e-18..3e-18).contains(&p.noise_sigma));
        assert!((10.0..20.0).contains(&p.lsf_sigma));
        assert!((20.0..300.0).contains(&p.halpha_ew));
        assert!((0.0..0.3).contains(&p.ebv));
        let total: f32 = p.template_weights.iter().map(|w| w.1).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert_eq!(p.line_fluxes[0], p.halpha_flux);
    }
}

#[test]
fn the_rest_frame_sed_carries_the_recorded_equivalent_width() {
    let library = SedLibrary::builtin(5, 4, true).expect("library");
    for galaxy in library.galaxies() {
        let lines = galaxy.lines.as_ref().expect("lines on");
        let lambdas: Vec<f64> = (0..4001).map(|i| 6300.0 + 0.1 * i as f64).collect();
        let sed = library.rest_frame_sed(galaxy, &lambdas);
        let mut continuum = vec![0.0; lambdas.len()];
        library.continuum(galaxy, &lambdas, &mut continuum);
        // Hα alone: integrate SED − continuum over Hα ± 15 Å ([NII] lies 15 and 21 Å away).
        let halpha_only = galaxy.lines.as_ref().map(|l| l.flux[0]).expect("lines");
        let near: f64 = lambdas
            .iter()
            .zip(sed.iter().zip(&continuum))
            .filter(|(l, _)| (**l - 6564.6).abs() < 3.0 * 6564.6 * lines.sigma_kms / 299_792.458)
            .map(|(_, (s, c))| (s - c) * 0.1)
            .sum();
        assert!(
            near > 0.9 * halpha_only && near < 1.2 * halpha_only,
            "{near} vs {halpha_only}"
        );
        let mut window: Vec<f64> = continuum
            .iter()
            .zip(&lambdas)
            .filter(|(_, l)| (6450.0..=6700.0).contains(*l))
            .map(|(c, _)| *c)
            .collect();
        window.sort_by(f64::total_cmp);
        let ew = halpha_only / window[window.len() / 2];
        assert!(
            (ew / lines.halpha_ew - 1.0).abs() < 0.01,
            "EW {ew} vs {}",
            lines.halpha_ew
        );
    }
}

#[test]
fn user_seds_that_are_too_short_are_named_in_the_error() {
    let dir = SedDir::new(
        "short",
        &[
            ("a_full.sed", flat_sed(1000.0, 30_000.0)),
            ("b_short.sed", flat_sed(5000.0, 9000.0)),
        ],
    );
    let library =
        SedLibrary::from_sed_dir(dir.path(), &LibraryConfig::user_seds(false), 0).expect("loads");
    let err = simulate(&seed_config(), &library, 4, 0).expect_err("b_short.sed is too short");
    assert!(err.contains("b_short.sed: coverage too short"), "{err}");
    assert!(err.contains("needs 3888.2–10056.5 Å"), "{err}");
}

#[test]
fn user_seds_without_the_halpha_window_cannot_take_lines() {
    let dir = SedDir::new("nohalpha", &[("blue.sed", flat_sed(1000.0, 6000.0))]);
    let err = SedLibrary::from_sed_dir(dir.path(), &LibraryConfig::user_seds(true), 0)
        .expect_err("no Hα window");
    assert!(
        err.contains("blue.sed: covers 1000.5–5999.5 Å (rest) but adding lines needs"),
        "{err}"
    );
}

#[test]
fn halpha_scaling_needs_lines() {
    let library = SedLibrary::builtin(3, 0, false).expect("library");
    let err = simulate(&SimConfig::preset("euclid").expect("known"), &library, 3, 0)
        .expect_err("no lines");
    assert!(
        err.starts_with("flux_scale.halpha_flux: galaxy 0 has no Hα line"),
        "{err}"
    );
}

#[test]
fn a_population_library_gives_old_continua_to_passive_galaxies_young_ones_to_post_starbursts_and_lines_to_the_rest(
) {
    let population = Population::preset("mixed", 1.4).expect("known");
    let library = SedLibrary::from_templates(
        builtin_templates(),
        &LibraryConfig::population(2000, population),
        9,
    )
    .expect("valid");
    let templates = library.templates();
    let mut passive = 0;
    for galaxy in library.galaxies() {
        let class = galaxy.class.expect("drawn from a population");
        if class.has_old_continuum() {
            for &(t, _) in &galaxy.weights {
                assert!(dn4000(&templates[t]).expect("covered") >= PASSIVE_DN4000);
            }
            assert!(galaxy.ebv <= 0.1);
            // Mg b and Na D of the rest-frame continuum reach the strengths of old ellipticals.
            let continuum = |l: f64| {
                let mut v = [0.0];
                library.continuum(galaxy, &[l], &mut v);
                v[0]
            };
            let mg_b = pseudo_ew(&continuum, &MG_B);
            let na_d = pseudo_ew(&continuum, &NA_D);
            assert!(
                mg_b > 3.5 * 0.99 && na_d > 3.0 * 0.99,
                "Mg b {mg_b}, Na D {na_d}"
            );
        } else {
            assert!(galaxy.absorption.is_empty());
        }
        match class {
            GalaxyClass::Passive => {
                passive += 1;
                assert!(galaxy.lines.is_none());
            }
            GalaxyClass::PostStarburst => {
                assert!(galaxy.lines.is_none());
                let young = galaxy
                    .weights
                    .iter()
                    .all(|&(t, _)| dn4000(&templates[t]).is_some_and(|d| d < PASSIVE_DN4000));
                assert!(
                    young,
                    "post-starburst continua are young: {:?}",
                    galaxy.weights
                );
            }
            _ => assert!(galaxy.lines.as_ref().expect("lines").halpha_ew >= 0.5),
        }
    }
    // 25 % of 2000 = 500 ± 4 binomial σ (≈ 77).
    assert!((423..=577).contains(&passive), "{passive}");
    // Lines with a population are drawn by it: asking for both is an error.
    let both = LibraryConfig {
        lines: Some(LineConfig::default()),
        ..LibraryConfig::population(10, Population::preset("mixed", 1.4).expect("known"))
    };
    let err = SedLibrary::from_templates(builtin_templates(), &both, 1).expect_err("exclusive");
    assert!(err.starts_with("population:"), "{err}");
}

#[test]
fn contaminated_spectra_name_their_neighbour_and_mask_its_brightest_pixels() {
    let library = SedLibrary::from_templates(
        builtin_templates(),
        &LibraryConfig::population(40, Population::preset("halpha", 1.4).expect("known")),
        3,
    )
    .expect("valid");
    let mut config = SimConfig::preset("euclid").expect("known");
    config.contamination = Some(Contamination::with_fraction(1.0));
    let set = simulate(&config, &library, 40, 5).expect("valid");
    let mut masked = 0.0;
    for (i, p) in set.properties.iter().enumerate() {
        let neighbour = p.contaminant.expect("every spectrum is contaminated");
        assert_ne!(neighbour, i % 40);
        assert!((0.0..=1.0).contains(&p.masked_fraction));
        masked += f64::from(p.masked_fraction);
    }
    assert!(masked > 0.0, "no pixel was masked");
    // A threshold no neighbour reaches masks nothing, and the neighbour's light stays.
    config.contamination = Some(Contamination {
        mask_sigma: 1e12,
        ..Contamination::with_fraction(1.0)
    });
    let unmasked = simulate(&config, &library, 40, 5).expect("valid");
    assert!(unmasked.properties.iter().all(|p| p.masked_fraction == 0.0));
    assert_ne!(unmasked.flux, set.flux);
    // Masking is relative to the noise: without noise it is refused.
    config.noise = NoiseModel::None;
    let err = simulate(&config, &library, 1, 5).expect_err("no noise");
    assert!(err.starts_with("contamination:"), "{err}");
}

/// A continuum from 1000 to 30 000 Å, every 10 Å: a flat F_ν (f_λ ∝ λ⁻²) times `scale`, times
/// `dn4000` redward of 3975 Å, so that its Dn4000 is `dn4000`.
fn break_sed(dn4000: f64, scale: f64) -> String {
    let mut text = String::from("# synthetic continuum\n");
    for k in 0..=2900 {
        let lambda = 1000.0 + 10.0 * k as f64;
        let step = if lambda > 3975.0 { dn4000 } else { 1.0 };
        text.push_str(&format!(
            "{lambda} {}\n",
            scale * step * 1e8 / (lambda * lambda)
        ));
    }
    text
}

#[test]
fn a_population_draws_only_from_its_continua_folder_pooled_by_dn4000() {
    let dir = SedDir::new(
        "continua",
        &[
            ("old_a.sed", break_sed(2.0, 3.0)),
            ("old_b.sed", break_sed(1.7, 0.02)),
            ("young_a.sed", break_sed(1.0, 50.0)),
            ("young_b.sed", break_sed(1.2, 1.0)),
        ],
    );
    let templates = continua_from_dir(dir.path()).expect("valid continua");
    assert_eq!(templates.len(), 4);
    for t in &templates {
        assert!(
            t.name.starts_with(&dir.path().display().to_string()),
            "{}",
            t.name
        );
        // Scaled like the shipped templates, whatever the file's units.
        let mean = t.mean_over(templates::NORMALISATION_RANGE);
        assert!((mean - 1.0).abs() < 1e-5, "{}: {mean}", t.name);
    }
    let old = |t: usize| templates[t].name.contains("old_");
    let mixed = || LibraryConfig::population(400, Population::preset("mixed", 1.4).expect("known"));
    let library = SedLibrary::from_templates(templates.clone(), &mixed(), 5).expect("valid");
    assert_eq!(library.templates(), &templates[..]);
    let (mut old_galaxies, mut young_galaxies) = (0, 0);
    for galaxy in library.galaxies() {
        let class = galaxy.class.expect("drawn from a population");
        let uses_old = galaxy.weights.iter().all(|&(t, _)| old(t));
        let uses_young = galaxy.weights.iter().all(|&(t, _)| !old(t));
        if class.has_old_continuum() {
            assert!(uses_old, "{class:?}: {:?}", galaxy.weights);
            old_galaxies += 1;
        }
        if class == GalaxyClass::PostStarburst {
            assert!(uses_young, "{:?}", galaxy.weights);
            young_galaxies += 1;
        }
    }
    assert!(old_galaxies > 0 && young_galaxies > 0);
    // The same seed draws the same library; another seed another one.
    let again = SedLibrary::from_templates(templates.clone(), &mixed(), 5).expect("valid");
    assert_eq!(again.galaxies(), library.galaxies());
    let other = SedLibrary::from_templates(templates, &mixed(), 6).expect("valid");
    assert_ne!(other.galaxies(), library.galaxies());
}

#[test]
fn continua_without_old_populations_or_the_normalisation_range_are_refused() {
    let young = SedDir::new("continua-young", &[("young.sed", break_sed(1.1, 1.0))]);
    let templates = continua_from_dir(young.path()).expect("valid continuum");
    let mixed = LibraryConfig::population(10, Population::preset("mixed", 1.4).expect("known"));
    let err = SedLibrary::from_templates(templates, &mixed, 1).expect_err("no old continuum");
    assert!(
        err.contains("passive and retired galaxies need templates with Dn4000 ≥ 1.5")
            && err.contains("none of the 1 templates"),
        "{err}"
    );
    let short = SedDir::new("continua-short", &[("blue.sed", flat_sed(1000.0, 5000.0))]);
    let err = continua_from_dir(short.path()).expect_err("does not reach 9000 Å");
    assert!(
        err.contains("blue.sed: covers") && err.contains("must cover 4000–9000 Å"),
        "{err}"
    );
}
