#!/usr/bin/env python3
"""Writes the small FITS files of tests/data/fits/ (committed; rerun only to change them).

    python3 -m venv /tmp/fitsvenv && /tmp/fitsvenv/bin/pip install astropy numpy
    /tmp/fitsvenv/bin/python scripts/make_fits_fixtures.py

Every spectrum overlaps the `seed` grid (11,000-20,000 A): a smooth continuum and one emission
line, so that `zcnn import --grid seed` has something to rebin.

`python scripts/make_fits_fixtures.py cutouts` writes only tests/data/cutouts/ (galaxy cutouts
for `zcnn import-images`, see `cutouts()`).
"""
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "fits"
CUTOUTS = OUT.parent / "cutouts"
BANDS = ["g", "r", "i"]


def spectrum(lam, line):
    """Continuum falling with wavelength plus a Gaussian line (sigma 8 A) at `line` A."""
    return 1.0 + 2000.0 / lam + 5.0 * np.exp(-0.5 * ((lam - line) / 8.0) ** 2)


def sdss_like(name, line, nan_at=None):
    """SDSS spec-*.fits layout: empty primary, COADD table (flux, loglam, ivar, and_mask) and
    an unrelated SPZLINE table after it."""
    loglam = (4.03 + 3e-4 * np.arange(1000)).astype(np.float32)
    lam = 10.0 ** loglam.astype(np.float64)
    flux = spectrum(lam, line).astype(np.float32)
    ivar = np.full(lam.size, 25.0, dtype=np.float32)
    and_mask = np.zeros(lam.size, dtype=np.int32)
    ivar[100:104] = 0.0  # bad pixels flagged by ivar
    and_mask[500:503] = 1 << 24  # BRIGHTSKY-like mask bit
    flux[501] = 1e4  # a spike under the mask: must not leak
    if nan_at is not None:
        flux[nan_at] = np.nan
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"] = "SDSS 2.5-M"
    primary.header["PLATE"] = 0
    coadd = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="flux", format="E", array=flux),
            fits.Column(name="loglam", format="E", array=loglam),
            fits.Column(name="ivar", format="E", array=ivar),
            fits.Column(name="and_mask", format="J", array=and_mask),
        ],
        name="COADD",
    )
    zline = fits.BinTableHDU.from_columns(
        [fits.Column(name="LINENAME", format="13A", array=np.array(["H_alpha"]))],
        name="SPZLINE",
    )
    fits.HDUList([primary, coadd, zline]).writeto(OUT / name, overwrite=True)


def linear_image():
    """A 1D float32 primary image with a linear WCS."""
    n = 950
    lam = 10_900.0 + 10.0 * np.arange(n)
    hdu = fits.PrimaryHDU(spectrum(lam, 16_000.0).astype(np.float32))
    hdu.header.update(CRVAL1=10_900.0, CDELT1=10.0, CRPIX1=1.0, CTYPE1="WAVE", CUNIT1="Angstrom")
    hdu.writeto(OUT / "image_linear.fits", overwrite=True)


def loglam_image():
    """An SDSS-I spSpec-like 2D image: row 0 = flux, row 1 = error; log10 lambda from
    COEFF0/COEFF1."""
    n = 900
    coeff0, coeff1 = 4.035, 3.3e-4
    lam = 10.0 ** (coeff0 + coeff1 * np.arange(n))
    rows = np.vstack([spectrum(lam, 13_000.0), np.full(n, 0.2)]).astype(np.float32)
    hdu = fits.PrimaryHDU(rows)
    hdu.header.update(COEFF0=coeff0, COEFF1=coeff1)
    hdu.writeto(OUT / "image_loglam.fits", overwrite=True)


def template_table():
    """A rest-frame template: WAVELENGTH (D, A) and FLUX (E) columns, one NaN flux (dropped
    when read as a template)."""
    lam = np.geomspace(900.0, 25_000.0, 600)
    flux = (1.0 + 3000.0 / lam + 4.0 * np.exp(-0.5 * ((lam - 6563.0) / 5.0) ** 2)).astype(
        np.float32
    )
    flux[300] = np.nan
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="WAVELENGTH", format="D", unit="Angstrom", array=lam),
            fits.Column(name="FLUX", format="E", array=flux),
        ],
        name="TEMPLATE",
    )
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(OUT / "template.fits", overwrite=True)


def cutout_pixels(k):
    """Object k's cutout [3 bands, 6 rows, 5 columns]: multiples of 0.5 from 10 up, so that
    every integer encoding below (BSCALE 0.5, BZERO 10) stores them exactly; no two pixels of
    the set are equal, so a swapped band, axis or object shows."""
    values = 10.0 + 0.5 * (np.arange(90) + 90 * k)
    return values.reshape(3, 6, 5)


def cutouts():
    """Three objects written twice by astropy, once per layout zcnn import-images reads, and
    the expected images.npy (catalogue order: b, a, c):
    - cube/<id>.fits: one float32 primary cube (NAXIS3 = 3 bands);
    - bands/<id>.fits: an empty primary and one 2-D image HDU per band named by FILTER, in
      the order i, g, r (the reader must reorder them to g, r, i), each object another BITPIX:
      a: uint8 with BSCALE = 0.5, BZERO = 10; b: float64; c: int16 with BSCALE = 0.5, BZERO = 10.
    """
    for sub in ("cube", "bands"):
        (CUTOUTS / sub).mkdir(parents=True, exist_ok=True)
    encodings = {"a": "uint8", "b": None, "c": "int16"}
    for k, name in enumerate(["a", "b", "c"]):
        pixels = cutout_pixels(k)
        fits.PrimaryHDU(pixels.astype(np.float32)).writeto(
            CUTOUTS / "cube" / f"{name}.fits", overwrite=True
        )
        hdus = [fits.PrimaryHDU()]
        for band in ["i", "g", "r"]:
            plane = pixels[BANDS.index(band)]
            hdu = fits.ImageHDU(plane.astype(np.float64), name=f"IMG_{band.upper()}")
            hdu.header["FILTER"] = band
            if encodings[name] is not None:
                hdu.scale(encodings[name], bscale=0.5, bzero=10.0)
            hdus.append(hdu)
        fits.HDUList(hdus).writeto(CUTOUTS / "bands" / f"{name}.fits", overwrite=True)
    order = ["b", "a", "c"]
    expected = np.stack([cutout_pixels(["a", "b", "c"].index(n)) for n in order])
    np.save(CUTOUTS / "expected.npy", expected.astype(np.float32))
    rows = ["id,z,ebv,mag_g,magerr_g,type"]
    rows += [f"{n},{0.1 * (i + 1):.1f},0.0{i + 1},{18 + i}.5,0.05,{i}" for i, n in enumerate(order)]
    (CUTOUTS / "catalog.csv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["cutouts"]:
        cutouts()
        sys.exit(0)
    OUT.mkdir(parents=True, exist_ok=True)
    sdss_like("spec-0001-51000-0001.fits", 14_439.0, nan_at=700)
    sdss_like("spec-0001-51000-0002.fits", 17_000.0)
    linear_image()
    loglam_image()
    template_table()
    cutouts()
