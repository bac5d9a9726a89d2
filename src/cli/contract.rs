//! The input contract: what a model was trained on, stored in its checkpoint (metadata
//! `zcnn.input`, JSON) and checked against the inputs of `predict`, `evaluate` and
//! `train --resume/--init-from`, so that spectra of another size, grid or scale are refused
//! with a message in the user's terms instead of giving wrong redshifts.
//!
//! It records the input's kind and size (spectra: pixels; images: bands × height × width), the
//! wavelength grid, the per-spectrum normalisation and the range of per-input scales seen in
//! training (spectra: the normalisation's statistic; images: the brightest |pixel|).
//!
//! The grid is stored in full (the pixel centres, about 16 kB of JSON for 1,780 pixels) rather
//! than as first/last/count plus a hash: a grid read back from another pipeline differs from
//! the training grid by float rounding, which a hash cannot tolerate, and the full array lets
//! the message name the first pixel that differs and by how much.

use super::config::RunConfig;
use super::files::DatasetFiles;
use crate::data::spectra::Normalisation;
use crate::io::npy::{read_npy, NpyExpect};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Metadata key of the contract in a checkpoint.
pub const KEY_INPUT: &str = "zcnn.input";
/// The largest input a checkpoint may claim (pixels, or bands × height × width).
const MAX_INPUT_VALUES: usize = 1 << 24;
/// A pixel centre may differ from the training grid's by this fraction of a pixel.
const GRID_TOLERANCE: f64 = 0.1;
/// An input's scale may lie this factor outside the training spectra's range of scales.
const SCALE_TOLERANCE: f32 = 10.0;

/// The shape of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputShape {
    Spectra {
        pixels: usize,
    },
    Images {
        bands: usize,
        height: usize,
        width: usize,
    },
    /// A magnitude and its error in each band (the catalogue estimator).
    Photometry {
        bands: usize,
    },
}

impl InputShape {
    /// The shape in words: "spectra of 1780 pixels", "images of 5 bands, 64×64 pixels".
    pub fn describe(&self) -> String {
        match self {
            InputShape::Spectra { pixels } => format!("spectra of {pixels} pixels"),
            InputShape::Images {
                bands,
                height,
                width,
            } => format!("images of {bands} bands, {height}×{width} pixels"),
            InputShape::Photometry { bands } => format!("photometry in {bands} bands"),
        }
    }
}

/// What a model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputContract {
    pub input: InputShape,
    /// Pixel centres \[Å\] (absent when the training data had no `wavelengths.npy`).
    pub wavelengths: Option<Vec<f32>>,
    /// The per-spectrum normalisation (`none`, `max`, `median`, `l2`), when known.
    pub normalisation: Option<String>,
    /// The smallest and largest per-spectrum scale ([`scale_of`]) of the training spectra.
    pub scale: [f32; 2],
}

/// Spectra offered to a model, with what is known about them.
#[derive(Clone)]
pub struct Inputs<'a> {
    /// The spectra file (named in messages).
    pub source: PathBuf,
    pub pixels: usize,
    /// `[n, pixels]`.
    pub flux: &'a [f32],
    /// The grid file and its pixel centres, when one sits beside the spectra.
    pub wavelengths: Option<(PathBuf, Vec<f32>)>,
    /// The normalisation the dataset folder records (`simulation.toml`), when it does.
    pub normalisation: Option<Normalisation>,
    /// The index in `source` of the first spectrum of `flux` (a chunk of a larger file).
    pub first: usize,
}

/// The inputs of a dataset folder: `spectra.npy`, and `wavelengths.npy` and `simulation.toml`
/// when present.
pub fn dataset_inputs<'a>(dir: &Path, set: &'a DatasetFiles) -> Result<Inputs<'a>, String> {
    spectra_inputs(
        &dir.join("spectra.npy"),
        None,
        set.pixels,
        &set.flux,
        folder_normalisation(dir)?,
    )
}

/// The normalisation a dataset folder's `simulation.toml` records, when it has one.
pub fn folder_normalisation(dir: &Path) -> Result<Option<Normalisation>, String> {
    let config = dir.join("simulation.toml");
    if !config.is_file() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&config).map_err(|e| format!("{}: {e}", config.display()))?;
    let c = RunConfig::from_toml(&text, &config.display().to_string())?;
    parse_normalisation(&c.simulate.normalisation)
        .map(Some)
        .map_err(|e| format!("{}: simulate.normalisation: {e}", config.display()))
}

/// The inputs of a spectra file, with their pixel centres from `grid`, or else from the
/// `wavelengths.npy` beside the spectra when there is one.
pub fn spectra_inputs<'a>(
    spectra: &Path,
    grid: Option<&Path>,
    pixels: usize,
    flux: &'a [f32],
    normalisation: Option<Normalisation>,
) -> Result<Inputs<'a>, String> {
    let beside = spectra.with_file_name("wavelengths.npy");
    let grid = grid.or(beside.is_file().then_some(beside.as_path()));
    let wavelengths = if let Some(grid) = grid {
        let expect = NpyExpect {
            shape: Some(vec![Some(pixels)]),
            ..NpyExpect::default()
        };
        let array = read_npy(grid, &expect).map_err(|e| {
            format!(
                "{e} (the wavelengths of the {pixels}-pixel spectra {})",
                spectra.display()
            )
        })?;
        Some((grid.to_path_buf(), array.data))
    } else {
        None
    };
    Ok(Inputs {
        source: spectra.to_path_buf(),
        pixels,
        flux,
        wavelengths,
        normalisation,
        first: 0,
    })
}

fn parse_normalisation(name: &str) -> Result<Normalisation, String> {
    <Normalisation as clap::ValueEnum>::from_str(name, false)
        .map_err(|_| format!("unknown '{name}' (none, max, median, l2)"))
}

fn normalisation_name(n: Normalisation) -> String {
    clap::ValueEnum::to_possible_value(&n)
        .expect("every normalisation has a name")
        .get_name()
        .to_string()
}

/// The scale the contract compares: the one `normalisation` divides by (so ≈ 1 for spectra
/// it normalised); max |f| when there is none, or it is unknown.
fn scale_of(spectrum: &[f32], normalisation: Option<Normalisation>) -> f32 {
    let statistic = match normalisation {
        None | Some(Normalisation::None) => Normalisation::Max,
        Some(n) => n,
    };
    let mut values: Vec<f64> = spectrum.iter().map(|&v| v as f64).collect();
    let scale = statistic.apply(&mut values, &mut Vec::new());
    // `apply` leaves an all-zero spectrum alone with scale 1; its scale is 0 here.
    if values.iter().all(|&v| v == 0.0) {
        0.0
    } else {
        scale as f32
    }
}

impl InputContract {
    /// The contract of a model trained on `inputs`.
    pub fn of_training(inputs: &Inputs) -> Self {
        let mut scale = [f32::INFINITY, 0.0f32];
        for spectrum in inputs.flux.chunks(inputs.pixels) {
            let s = scale_of(spectrum, inputs.normalisation);
            scale = [scale[0].min(s), scale[1].max(s)];
        }
        InputContract {
            input: InputShape::Spectra {
                pixels: inputs.pixels,
            },
            wavelengths: inputs.wavelengths.as_ref().map(|(_, w)| w.clone()),
            normalisation: inputs.normalisation.map(normalisation_name),
            scale,
        }
    }

    /// The contract as stored in a checkpoint.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a contract always serialises")
    }

    /// Reads and checks a stored contract: sizes in bounds, a grid of as many finite,
    /// increasing centres as pixels, a known normalisation, a finite scale range.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let c: InputContract = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let values = match c.input {
            InputShape::Spectra { pixels } => Some(pixels),
            InputShape::Images {
                bands,
                height,
                width,
            } => bands.checked_mul(height).and_then(|v| v.checked_mul(width)),
            InputShape::Photometry { bands } => Some(bands),
        };
        if values.is_none_or(|v| v == 0 || v > MAX_INPUT_VALUES) {
            return Err(format!(
                "input {:?}: expected 1 to {MAX_INPUT_VALUES} values per input",
                c.input
            ));
        }
        if let (Some(w), InputShape::Spectra { pixels }) = (&c.wavelengths, &c.input) {
            let increasing = w.windows(2).all(|p| p[0] < p[1]);
            if w.len() != *pixels || !w.iter().all(|v| v.is_finite()) || !increasing {
                return Err(format!(
                    "wavelengths: expected {pixels} finite, increasing pixel centres, found {} values",
                    w.len()
                ));
            }
        }
        if let Some(name) = &c.normalisation {
            parse_normalisation(name).map_err(|e| format!("normalisation: {e}"))?;
        }
        let [lo, hi] = c.scale;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return Err(format!(
                "scale: expected 0 ≤ min ≤ max, both finite, found [{lo}, {hi}]"
            ));
        }
        Ok(c)
    }

    /// What the model was trained on, in words: "1780 pixels, 11000–20000 Å".
    pub fn describe(&self) -> String {
        match (&self.input, &self.wavelengths) {
            (InputShape::Spectra { pixels }, Some(w)) => {
                format!("spectra of {pixels} pixels, {}–{} Å", w[0], w[w.len() - 1])
            }
            (shape, _) => shape.describe(),
        }
    }

    /// Checks that `inputs` are what the model behind `checkpoint` was trained on: the input
    /// kind and size, the wavelength grid (when both sides know theirs) and the scale of every
    /// spectrum. Messages name both files and say what differs.
    pub fn check(&self, checkpoint: &Path, inputs: &Inputs) -> Result<(), String> {
        let trained = self.trained(checkpoint);
        let source = inputs.source.display();
        let InputShape::Spectra { pixels } = self.input else {
            return Err(format!("{trained}; {source} holds spectra"));
        };
        if inputs.pixels != pixels {
            return Err(format!(
                "{trained}; the spectra {source} have {} pixels",
                inputs.pixels
            ));
        }
        match (&self.wavelengths, &inputs.wavelengths) {
            (Some(want), Some((file, found))) => check_grid(want, found)
                .map_err(|e| format!("{trained}; {}: {e}", file.display()))?,
            (Some(_), None) => eprintln!(
                "warning: no wavelengths.npy beside {source}: the wavelength grid is not \
                 checked against the checkpoint's ({})",
                self.describe()
            ),
            (None, _) => {}
        }
        self.check_scales(checkpoint, inputs)
    }

    /// The contract of a model trained on cutouts of `shape` whose brightest |pixel| (before
    /// the stretch) is `peaks` (all of them, or an even sample).
    pub fn of_images(shape: InputShape, peaks: &[f32]) -> Self {
        let scale = peaks.iter().fold([f32::INFINITY, 0.0f32], |[lo, hi], &p| {
            [lo.min(p), hi.max(p)]
        });
        InputContract {
            input: shape,
            wavelengths: None,
            normalisation: None,
            scale,
        }
    }

    /// Checks that cutouts of `shape` from `source`, whose brightest |pixels| are `peaks`
    /// (the cutouts from index `first` on), are what the model was trained on: the same bands
    /// and size, and pixel values on the training cutouts' scale (within [`SCALE_TOLERANCE`]).
    pub fn check_images(
        &self,
        checkpoint: &Path,
        source: &Path,
        shape: &InputShape,
        peaks: &[f32],
        first: usize,
    ) -> Result<(), String> {
        let trained = self.trained(checkpoint);
        if *shape != self.input {
            return Err(format!(
                "{trained}; {} holds {}",
                source.display(),
                shape.describe()
            ));
        }
        let [lo, hi] = self.scale;
        let accepted = lo / SCALE_TOLERANCE..=hi * SCALE_TOLERANCE;
        let outside: Vec<usize> = (0..peaks.len())
            .filter(|&i| !accepted.contains(&peaks[i]))
            .collect();
        let Some(&i) = outside.first() else {
            return Ok(());
        };
        Err(format!(
            "{trained}, whose brightest pixel ran from {} to {}; {} of the {} cutouts read from \
             {} lie beyond {SCALE_TOLERANCE}× that range (cutout {}: {}): are they in the \
             training cutouts' flux units (e.g. SDSS nanomaggies, zero point 22.5)?",
            readable(lo),
            readable(hi),
            outside.len(),
            peaks.len(),
            source.display(),
            first + i,
            readable(peaks[i]),
        ))
    }

    /// "the checkpoint … was trained on …", the start of every message.
    fn trained(&self, checkpoint: &Path) -> String {
        format!(
            "the checkpoint {} was trained on {}",
            checkpoint.display(),
            self.describe()
        )
    }

    /// Every spectrum's scale within [`SCALE_TOLERANCE`] of the training range (on its own for
    /// spectra read a chunk at a time, whose size and grid were checked once by [`Self::check`]).
    pub fn check_scales(&self, checkpoint: &Path, inputs: &Inputs) -> Result<(), String> {
        let trained = self.trained(checkpoint);
        let normalisation = match &self.normalisation {
            Some(name) => Some(parse_normalisation(name)?),
            None => None,
        };
        let [lo, hi] = self.scale;
        let accepted = lo / SCALE_TOLERANCE..=hi * SCALE_TOLERANCE;
        let scales: Vec<f32> = inputs
            .flux
            .chunks(inputs.pixels)
            .map(|s| scale_of(s, normalisation))
            .collect();
        let outside: Vec<usize> = (0..scales.len())
            .filter(|&i| !accepted.contains(&scales[i]))
            .collect();
        let Some(&first) = outside.first() else {
            return Ok(());
        };
        let statistic = match normalisation {
            Some(Normalisation::Median) => "median |flux|",
            Some(Normalisation::L2) => "L2 norm",
            _ => "max |flux|",
        };
        let how = self
            .normalisation
            .as_ref()
            .map_or(String::new(), |n| format!(" with normalisation '{n}'"));
        Err(format!(
            "{trained}{how}, whose {statistic} per spectrum ran from {} to {}; {} of the {} \
             spectra in {} lie beyond {SCALE_TOLERANCE}× that range (spectrum {}: {}), so \
             they are not normalised as the training spectra were (raw fluxes?); normalise each \
             spectrum the same way, e.g. zcnn import --normalise {}",
            readable(lo),
            readable(hi),
            outside.len(),
            scales.len(),
            inputs.source.display(),
            inputs.first + first,
            readable(scales[first]),
            self.normalisation.as_deref().unwrap_or("max")
        ))
    }
}

/// A number as a reader expects it: plain from 0.001 to 10⁴ (and 0), else with an exponent.
fn readable(v: f32) -> String {
    if v == 0.0 || (1e-3..1e4).contains(&v.abs()) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// The same number of pixel centres, each within [`GRID_TOLERANCE`] of a pixel of `want`'s.
fn check_grid(want: &[f32], found: &[f32]) -> Result<(), String> {
    if want.len() != found.len() {
        return Err(format!("{} pixel centres", found.len()));
    }
    for (i, (&w, &f)) in want.iter().zip(found).enumerate() {
        let step = if i + 1 < want.len() {
            want[i + 1] - want[i]
        } else {
            want[i] - want[i.saturating_sub(1)]
        };
        if ((f - w) as f64).abs() > GRID_TOLERANCE * step.abs() as f64 {
            return Err(format!(
                "these spectra's grid runs {}–{} Å, and pixel {i} is centred at {f} Å instead of \
                 {w} Å (rebin them onto the checkpoint's grid, e.g. zcnn import --grid <the \
                 training wavelengths.npy>)",
                found[0],
                found[found.len() - 1]
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(flux: &[f32], pixels: usize, grid: Option<Vec<f32>>) -> Inputs<'_> {
        Inputs {
            source: PathBuf::from("s.npy"),
            pixels,
            flux,
            wavelengths: grid.map(|g| (PathBuf::from("w.npy"), g)),
            normalisation: Some(Normalisation::Max),
            first: 0,
        }
    }

    #[test]
    fn a_contract_round_trips_and_describes_itself() {
        let flux = [0.5, -1.0, 0.25, 2.0, 1.0, -0.5];
        let c = InputContract::of_training(&inputs(&flux, 3, Some(vec![10.0, 20.0, 30.0])));
        assert_eq!(c.scale, [1.0, 2.0]);
        assert_eq!(c.normalisation.as_deref(), Some("max"));
        assert_eq!(InputContract::from_json(&c.to_json()).unwrap(), c);
        assert_eq!(c.describe(), "spectra of 3 pixels, 10–30 Å");
        let images = r#"{"input":{"kind":"images","bands":5,"height":64,"width":64},"wavelengths":null,"normalisation":null,"scale":[0.0,1.0]}"#;
        let c = InputContract::from_json(images).unwrap();
        assert_eq!(c.describe(), "images of 5 bands, 64×64 pixels");
        let e = c
            .check(Path::new("m.safetensors"), &inputs(&flux, 3, None))
            .unwrap_err();
        assert!(
            e.contains("images of 5 bands") && e.contains("s.npy holds spectra"),
            "{e}"
        );
    }

    #[test]
    fn a_grid_within_a_tenth_of_a_pixel_passes_and_beyond_it_fails() {
        let want = [100.0, 110.0, 120.0];
        assert!(check_grid(&want, &[100.9, 110.0, 119.1]).is_ok());
        let e = check_grid(&want, &[100.0, 111.5, 120.0]).unwrap_err();
        assert!(
            e.contains("pixel 1 is centred at 111.5 Å instead of 110 Å"),
            "{e}"
        );
        assert!(check_grid(&want, &[100.0, 110.0]).is_err());
    }

    #[test]
    fn scales_are_checked_per_spectrum_with_the_checkpoints_normalisation() {
        let trained = InputContract::of_training(&inputs(&[1.0, 0.5, 0.2, 1.0], 2, None));
        let ckpt = Path::new("m.safetensors");
        // One spectrum of four raw (×1e-17) is named.
        let mixed = [1.0, 0.3, 1e-17, 5e-18, 0.7, 1.0, 0.0, 0.0];
        let e = trained.check(ckpt, &inputs(&mixed, 2, None)).unwrap_err();
        assert!(
            e.contains("2 of the 4 spectra") && e.contains("spectrum 1: 1e-17"),
            "{e}"
        );
        // Within 10× of the training range passes; an all-zero spectrum has scale 0.
        assert!(trained
            .check(ckpt, &inputs(&[5.0, 1.0, 0.2, 0.1], 2, None))
            .is_ok());
        assert_eq!(scale_of(&[0.0, 0.0], Some(Normalisation::L2)), 0.0);
        assert_eq!(scale_of(&[3.0, 4.0], Some(Normalisation::L2)), 5.0);
        assert_eq!(scale_of(&[3.0, -4.0], None), 4.0);
    }

    #[test]
    fn stored_contracts_out_of_bounds_are_refused() {
        let base = r#"{"input":{"kind":"spectra","pixels":2},"wavelengths":[1.0,2.0],"normalisation":"max","scale":[1.0,1.0]}"#;
        assert!(InputContract::from_json(base).is_ok());
        for (from, to, what) in [
            ("\"pixels\":2", "\"pixels\":0", "values per input"),
            ("[1.0,2.0]", "[2.0,1.0]", "increasing"),
            ("[1.0,2.0]", "[1.0]", "wavelengths"),
            ("\"max\"", "\"maxi\"", "normalisation"),
            ("[1.0,1.0]", "[2.0,1.0]", "scale"),
            ("\"scale\"", "\"scales\"", "unknown field"),
        ] {
            let e = InputContract::from_json(&base.replace(from, to)).unwrap_err();
            assert!(e.contains(what), "{to}: {e}");
        }
        let images = r#"{"input":{"kind":"images","bands":4294967296,"height":4294967296,"width":2},"wavelengths":null,"normalisation":null,"scale":[0.0,1.0]}"#;
        assert!(InputContract::from_json(images)
            .unwrap_err()
            .contains("values per input"));
    }
}
