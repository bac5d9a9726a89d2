//! One galaxy's cutout from a FITS file: either one 3-D image HDU (NAXIS3 = bands, NAXIS2 =
//! height, NAXIS1 = width) or one 2-D image HDU per band. Image HDUs without data (an empty
//! primary) and tables are skipped. A per-band HDU names its band by a `FILTER` (else `BAND`)
//! string keyword when it has one; then either every band HDU of the file has one, or none
//! (bands are then in HDU order). BITPIX 8, 16, 32, 64, −32, −64 with BSCALE/BZERO; integer
//! BLANK pixels become NaN. Structure, sizes and sizes' products are checked by the project's
//! FITS walker before fitsrs reads a byte (`io::fits::read_guarded`). Every error names the HDU.

use crate::io::fits::{physical_values, read_guarded, text};
use fitsrs::hdu::header::extension::image::Image;
use fitsrs::{Fits, HDU};
use std::io::Cursor;
use std::path::Path;

/// The keywords that name the band of a per-band HDU, in order of preference.
pub const BAND_KEYWORDS: [&str; 2] = ["FILTER", "BAND"];

/// A cutout read from one FITS file.
#[derive(Clone, Debug, PartialEq)]
pub struct FitsCutout {
    pub height: usize,
    pub width: usize,
    /// `[bands, height, width]`, C order (x fastest, as FITS stores NAXIS1).
    pub pixels: Vec<f32>,
    /// The HDU (0 = primary) each band came from.
    pub hdus: Vec<usize>,
    /// The band names given by FILTER/BAND keywords (per-band HDUs that all have one).
    pub names: Option<Vec<String>>,
}

impl FitsCutout {
    pub fn bands(&self) -> usize {
        self.hdus.len()
    }

    /// Puts the bands in the order of `wanted` (names compared case-insensitively), when the
    /// file names its bands; a file without names keeps its HDU order.
    pub fn order_bands(&mut self, wanted: &[String]) -> Result<(), String> {
        let Some(names) = &self.names else {
            return Ok(());
        };
        let plane = self.height * self.width;
        let mut order = Vec::with_capacity(wanted.len());
        for want in wanted {
            let at = names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(want))
                .ok_or_else(|| {
                    format!(
                        "no HDU of band '{want}' (the {} keywords name: {})",
                        BAND_KEYWORDS.join("/"),
                        names.join(", ")
                    )
                })?;
            order.push(at);
        }
        if let Some(extra) = (0..names.len()).find(|i| !order.contains(i)) {
            return Err(format!(
                "HDU {} is band '{}', which is not one of the {} bands expected ({})",
                self.hdus[extra],
                names[extra],
                wanted.len(),
                wanted.join(", ")
            ));
        }
        let pixels = order
            .iter()
            .flat_map(|&b| self.pixels[b * plane..(b + 1) * plane].iter().copied())
            .collect();
        self.pixels = pixels;
        self.hdus = order.iter().map(|&b| self.hdus[b]).collect();
        self.names = Some(order.iter().map(|&b| names[b].clone()).collect());
        Ok(())
    }
}

/// The largest FITS file read as one object's cutout (a 5 × 64 × 64 float64 cube is 160 KiB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Reads the cutout of a FITS file.
pub fn read_fits_cutout(path: &Path) -> Result<FitsCutout, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{}: {size} bytes; a cutout file is at most {MAX_FILE_BYTES} bytes",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_fits_cutout(&bytes, &path.display().to_string())
}

/// Reads the cutout of the bytes of a FITS file; `source` names it in errors.
pub fn parse_fits_cutout(bytes: &[u8], source: &str) -> Result<FitsCutout, String> {
    read_guarded(bytes, source, read_planes)
}

/// One image HDU with data.
struct Plane {
    hdu: usize,
    width: usize,
    height: usize,
    /// NAXIS3 of a cube; `None` for a 2-D image.
    depth: Option<usize>,
    values: Vec<f32>,
    name: Option<String>,
}

fn read_planes(bytes: &[u8]) -> Result<FitsCutout, String> {
    let mut fits = Fits::from_reader(Cursor::new(bytes));
    let mut planes = Vec::new();
    let mut seen = Vec::new();
    let mut index = 0;
    while let Some(hdu) = fits.next() {
        let hdu = hdu.map_err(|e| format!("HDU {index}: {e}"))?;
        match hdu {
            HDU::Primary(h) | HDU::XImage(h)
                if h.get_header().get_xtension().get_num_pixels() > 0 =>
            {
                let plane =
                    read_plane(&mut fits, &h, index).map_err(|e| format!("HDU {index}: {e}"))?;
                planes.push(plane);
            }
            HDU::Primary(_) | HDU::XImage(_) => seen.push(format!("HDU {index} (no data)")),
            HDU::XBinaryTable(_) | HDU::XASCIITable(_) => {
                seen.push(format!("HDU {index} (a table)"))
            }
        }
        index += 1;
    }
    assemble(planes, &seen)
}

fn read_plane(
    fits: &mut Fits<Cursor<&[u8]>>,
    hdu: &fitsrs::fits::HDU<Image>,
    index: usize,
) -> Result<Plane, String> {
    let header = hdu.get_header();
    // The walker checked that the data unit lies inside the file: these fit in usize.
    let axes: Vec<usize> = header
        .get_xtension()
        .get_naxis()
        .iter()
        .map(|&n| usize::try_from(n).map_err(|_| format!("NAXISn = {n} is too large")))
        .collect::<Result<_, _>>()?;
    let (width, height, depth) = match axes[..] {
        [width, height] => (width, height, None),
        [width, height, depth] => (width, height, Some(depth)),
        _ => {
            return Err(format!(
                "an image with NAXIS = {}; a cutout is one 3-D image (NAXIS = 3) or one 2-D \
                 image per band (NAXIS = 2)",
                axes.len()
            ))
        }
    };
    let count = axes
        .iter()
        .try_fold(1usize, |n, &a| n.checked_mul(a))
        .ok_or("the pixel count overflows")?;
    let values = physical_values(fits, hdu, count)?
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let name = BAND_KEYWORDS
        .iter()
        .find_map(|key| text(header, key))
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    Ok(Plane {
        hdu: index,
        width,
        height,
        depth,
        values,
        name,
    })
}

/// One cube, or per-band planes of equal size named all or none.
fn assemble(mut planes: Vec<Plane>, seen: &[String]) -> Result<FitsCutout, String> {
    let Some(first) = planes.first() else {
        return Err(format!(
            "no image HDU with data (found: {})",
            seen.join(", ")
        ));
    };
    if let Some(at) = planes.iter().position(|p| p.depth.is_some()) {
        let cube = &planes[at];
        if planes.len() > 1 {
            let others: Vec<String> = planes
                .iter()
                .filter(|p| p.hdu != cube.hdu)
                .map(|p| format!("HDU {}", p.hdu))
                .collect();
            return Err(format!(
                "HDU {} is a 3-D cube, but there are other images ({}); expected one cube or \
                 one 2-D image per band",
                cube.hdu,
                others.join(", ")
            ));
        }
        let cube = planes.swap_remove(at);
        return Ok(FitsCutout {
            height: cube.height,
            width: cube.width,
            hdus: vec![cube.hdu; cube.depth.unwrap_or(1)],
            pixels: cube.values,
            names: None,
        });
    }
    let (width, height) = (first.width, first.height);
    for p in &planes[1..] {
        if (p.width, p.height) != (width, height) {
            return Err(format!(
                "HDU {}: {}×{} pixels (height × width), but HDU {} has {height}×{width}; every \
                 band of a cutout has the same size",
                p.hdu, p.height, p.width, first.hdu
            ));
        }
    }
    let named = planes.iter().filter(|p| p.name.is_some()).count();
    if named != 0 && named != planes.len() {
        let (with, without) = (
            planes.iter().find(|p| p.name.is_some()).expect("named"),
            planes.iter().find(|p| p.name.is_none()).expect("unnamed"),
        );
        return Err(format!(
            "HDU {} names its band ({}) but HDU {} has no {} keyword; name every band or none",
            with.hdu,
            with.name.as_deref().unwrap_or_default(),
            without.hdu,
            BAND_KEYWORDS.join(" or ")
        ));
    }
    let names: Option<Vec<String>> = planes.iter().map(|p| p.name.clone()).collect();
    if let Some(names) = &names {
        for (i, name) in names.iter().enumerate() {
            if let Some(j) = names[..i].iter().position(|n| n.eq_ignore_ascii_case(name)) {
                return Err(format!(
                    "HDU {} and HDU {} are both band '{name}'",
                    planes[j].hdu, planes[i].hdu
                ));
            }
        }
    }
    Ok(FitsCutout {
        height,
        width,
        hdus: planes.iter().map(|p| p.hdu).collect(),
        pixels: planes.into_iter().flat_map(|p| p.values).collect(),
        names,
    })
}
