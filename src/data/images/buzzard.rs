//! The Buzzard mock catalogue (DeRose et al. 2019, via pzflow 4.0.0, MIT; `data/catalogs/`):
//! 100 000 galaxies with redshift and noiseless LSST u g r i z y AB magnitudes, embedded in the
//! binary and parsed once.

use std::sync::OnceLock;

/// The CSV: header `redshift,u,g,r,i,z,y`, then one galaxy per row.
const BUZZARD_CSV: &str = include_str!("../../../data/catalogs/buzzard_lsst_100k.csv");

/// One galaxy: redshift and LSST ugrizy magnitudes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuzzardGalaxy {
    pub z: f64,
    pub magnitudes: [f64; 6],
}

/// Index of LSST i in [`BuzzardGalaxy::magnitudes`].
pub const LSST_I: usize = 3;

/// Every row of the shipped catalogue.
pub fn catalogue() -> &'static [BuzzardGalaxy] {
    static ROWS: OnceLock<Vec<BuzzardGalaxy>> = OnceLock::new();
    ROWS.get_or_init(|| {
        BUZZARD_CSV
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let values: Vec<f64> = line
                    .split(',')
                    .map(|v| {
                        v.trim()
                            .parse()
                            .expect("the shipped Buzzard rows are numbers")
                    })
                    .collect();
                assert_eq!(values.len(), 7, "the shipped Buzzard rows have 7 columns");
                BuzzardGalaxy {
                    z: values[0],
                    magnitudes: [
                        values[1], values[2], values[3], values[4], values[5], values[6],
                    ],
                }
            })
            .collect()
    })
}

/// The galaxies with LSST i < `i_max`.
pub fn brighter_than(i_max: f64) -> Vec<BuzzardGalaxy> {
    catalogue()
        .iter()
        .filter(|g| g.magnitudes[LSST_I] < i_max)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_its_documented_size_and_ranges() {
        let rows = catalogue();
        assert_eq!(rows.len(), 100_000);
        let z_max = rows.iter().map(|g| g.z).fold(0.0, f64::max);
        assert!((2.2..2.5).contains(&z_max), "z max {z_max}");
        let mut i: Vec<f64> = rows.iter().map(|g| g.magnitudes[LSST_I]).collect();
        i.sort_by(f64::total_cmp);
        // data/README.md: median i ≈ 25.3.
        assert!((i[50_000] - 25.3).abs() < 0.2, "median i {}", i[50_000]);
        let bright = brighter_than(25.0);
        assert!(!bright.is_empty() && bright.iter().all(|g| g.magnitudes[LSST_I] < 25.0));
    }
}
