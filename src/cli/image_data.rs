//! An image dataset folder, as `zcnn simulate --preset sdss` or `zcnn import-images` write it:
//! `images.npy` (float32 or float64 `[n, bands, height, width]`) and `labels.csv` (`index`, `z`,
//! and `ebv` for the models that take the Galactic reddening).
//!
//! The cutouts are never all in memory: training, evaluation and prediction read each one from
//! disk when a batch needs it ([`ImageRows`], a [`SampleSource`]), so that the memory a run
//! takes does not grow with the number of cutouts (516,000 cutouts of 5×64×64 are 42 GB).

use super::contract::InputShape;
use super::labels::{read_labels, Labels};
use crate::data::images::sqrt_stretch;
use crate::dims::Dims;
use crate::io::npy_rows::NpyRows;
use crate::train::SampleSource;
use std::path::Path;
use std::sync::Arc;

/// The cutouts of an image dataset folder.
pub const IMAGES: &str = "images.npy";

/// Cutouts `[n, bands, height, width]` of an NPY file, served to the network channels last
/// (`[height, width, bands]`) after the sign-preserving square-root stretch of Pasquet et al.
/// 2019 (§2.2; Lin et al. 2022): x ↦ √(x + 1) − 1 for x ≥ 0, 1 − √(1 − x) below.
#[derive(Debug)]
pub struct ImageRows {
    npy: NpyRows,
    bands: usize,
    height: usize,
    width: usize,
}

impl ImageRows {
    /// Opens `path` and checks that it holds `[n, bands, height, width]` floats.
    pub fn open(path: &Path) -> Result<Self, String> {
        let npy = NpyRows::open_any(path)?;
        let [_, bands, height, width] = npy.shape()[..] else {
            return Err(format!(
                "{}: expected cutouts of shape [n, bands, height, width], found {:?}",
                path.display(),
                npy.shape()
            ));
        };
        if npy.rows() == 0 || bands * height * width == 0 {
            return Err(format!(
                "{}: no cutouts (shape {:?})",
                path.display(),
                npy.shape()
            ));
        }
        Ok(ImageRows {
            npy,
            bands,
            height,
            width,
        })
    }

    /// Number of cutouts.
    pub fn count(&self) -> usize {
        self.npy.rows()
    }

    /// The cutouts' shape, as the checkpoint's input contract records it.
    pub fn shape(&self) -> InputShape {
        InputShape::Images {
            bands: self.bands,
            height: self.height,
            width: self.width,
        }
    }

    /// One cutout as the network sees it.
    pub fn dims(&self) -> Dims {
        Dims::Image {
            h: self.height,
            w: self.width,
            ch: self.bands,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        self.npy.path()
    }

    /// Cutouts `first..first + count`, as the network sees them, appended to `out`; also the
    /// largest |pixel| of each (before the stretch), for the input contract's scale check.
    pub fn read_range(
        &self,
        first: usize,
        count: usize,
        out: &mut Vec<f32>,
        peaks: &mut Vec<f32>,
    ) -> Result<(), String> {
        let size = self.dims().size();
        let mut raw = vec![0.0; size];
        let mut bytes = Vec::new();
        for row in first..first + count {
            self.npy.read_rows_at(row, &mut bytes, &mut raw)?;
            peaks.push(raw.iter().fold(0.0f32, |m, v| m.max(v.abs())));
            let start = out.len();
            out.resize(start + size, 0.0);
            self.to_network(&raw, &mut out[start..]);
        }
        Ok(())
    }

    /// Channels first → channels last, stretched: out[y, x, b] = stretch(raw[b, y, x]).
    fn to_network(&self, raw: &[f32], out: &mut [f32]) {
        let plane = self.height * self.width;
        for (pixel, values) in out.chunks_exact_mut(self.bands).enumerate() {
            for (band, value) in values.iter_mut().enumerate() {
                *value = sqrt_stretch(raw[band * plane + pixel]);
            }
        }
    }
}

impl SampleSource for ImageRows {
    fn len(&self) -> usize {
        self.count()
    }

    fn read(&self, i: usize, out: &mut [f32]) -> crate::Result<()> {
        let mut raw = vec![0.0; out.len()];
        self.npy
            .read_rows_at(i, &mut Vec::new(), &mut raw)
            .map_err(crate::Error)?;
        self.to_network(&raw, out);
        Ok(())
    }
}

/// An image dataset folder: the cutouts on disk, the redshifts and reddenings in memory.
pub struct ImageFolder {
    pub rows: Arc<ImageRows>,
    /// True redshifts, in the cutouts' order.
    pub z: Vec<f32>,
    /// Galactic E(B−V) per cutout, when `labels.csv` has an `ebv` column.
    pub ebv: Option<Vec<f32>>,
}

impl ImageFolder {
    /// Opens `dir/images.npy` and reads `dir/labels.csv` (matched by `index`).
    pub fn open(dir: &Path) -> Result<Self, String> {
        Ok(Self::open_with_labels(dir)?.0)
    }

    /// [`ImageFolder::open`], also returning the label table it read.
    pub fn open_with_labels(dir: &Path) -> Result<(Self, Labels), String> {
        let rows = ImageRows::open(&dir.join(IMAGES))?;
        let n = rows.count();
        let labels = read_labels(&dir.join(super::files::LABELS), n)?;
        let z = labels.finite_numbers("z", 0..n)?.ok_or_else(|| {
            format!(
                "{}: no column 'z'",
                dir.join(super::files::LABELS).display()
            )
        })?;
        let ebv = labels.finite_numbers("ebv", 0..n)?;
        let to_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
        let folder = ImageFolder {
            rows: Arc::new(rows),
            z: to_f32(z),
            ebv: ebv.map(to_f32),
        };
        Ok((folder, labels))
    }

    /// The extra inputs of the cutouts `range` for a model that takes `n_extra` of them (0, or
    /// 1: the E(B−V) of Pasquet et al. 2019, appended after the convolutions).
    pub fn extra(&self, n_extra: usize, range: std::ops::Range<usize>) -> Result<Vec<f32>, String> {
        match (n_extra, &self.ebv) {
            (0, _) => Ok(Vec::new()),
            (1, Some(ebv)) => Ok(ebv[range].to_vec()),
            (1, None) => Err(format!(
                "the model takes each cutout's Galactic E(B−V), and the labels.csv beside {} has \
                 no 'ebv' column (add one; 0 where the reddening is negligible)",
                self.rows.path().display()
            )),
            (n, _) => Err(format!(
                "a model with {n} extra inputs: images provide at most 1 (E(B−V))"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::write_npy;

    #[test]
    fn cutouts_are_served_channels_last_and_stretched() {
        let path = std::env::temp_dir().join(format!("zcnn-imagerows-{}.npy", std::process::id()));
        // 2 cutouts of 3 bands × 2 × 2: value = 100 row + 10 band + pixel.
        let data: Vec<f32> = (0..2 * 3 * 4)
            .map(|i| (100 * (i / 12) + 10 * ((i % 12) / 4) + i % 4) as f32)
            .collect();
        write_npy(&path, &[2, 3, 2, 2], &data).unwrap();
        let rows = ImageRows::open(&path).unwrap();
        assert_eq!(rows.dims(), Dims::Image { h: 2, w: 2, ch: 3 });
        let mut out = vec![0.0; 12];
        rows.read(1, &mut out).unwrap();
        for pixel in 0..4 {
            for band in 0..3 {
                let raw = (100 + 10 * band + pixel) as f32;
                assert_eq!(out[pixel * 3 + band], sqrt_stretch(raw));
            }
        }
        let (mut all, mut peaks) = (Vec::new(), Vec::new());
        rows.read_range(0, 2, &mut all, &mut peaks).unwrap();
        assert_eq!(&all[12..], &out[..]);
        assert_eq!(peaks, [23.0, 123.0]);
        write_npy(&path, &[2, 12], &data).unwrap();
        let err = ImageRows::open(&path).unwrap_err();
        assert!(
            err.contains("[n, bands, height, width]") && err.contains("[2, 12]"),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
