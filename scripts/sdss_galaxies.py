"""Rest-frame spectra of real galaxies for an outside check of a spec-z model (issue 13).

Reads the SDSS DR18 spectra of NGC 3073 (a star-forming dwarf) and NGC 3522 (an elliptical)
that the pPXF wheel ships as examples (ppxf 9.5.2, spectra/<name>_SDSS_DR18.fits: HDU COADD
with loglam, flux, ivar, and_mask; HDU SPECOBJ with Z). pPXF's licence forbids redistribution,
so the spectra are read from the wheel on the user's machine and never enter this repository.

Each spectrum is moved to the rest frame (SDSS wavelengths are in vacuum, as the simulator's),
its masked pixels (ivar = 0 or and_mask ≠ 0) are filled by linear interpolation, and its red
end (≈ 9,170 Å rest) is extended flat, at the median of its last 100 good pixels, to 10,300 Å:
the treatment the issue's real galaxies were given, so that the `seed` grid accepts them over
1 ≤ z < 1.8. Flux units do not matter (the simulator normalises).

Usage: python sdss_galaxies.py WHEEL OUT_DIR        (needs numpy and astropy)
"""

import sys
import zipfile
from pathlib import Path

import numpy as np
from astropy.io import fits

GALAXIES = ["NGC3073", "NGC3522"]
RED_END = 10_300.0  # Å, rest
TAIL = 100  # good pixels whose median continues the red end


def rest_frame(hdus):
    coadd, specobj = hdus["COADD"].data, hdus["SPECOBJ"].data
    z = float(specobj["Z"][0])
    lam = 10.0 ** coadd["loglam"].astype(np.float64) / (1.0 + z)
    flux = coadd["flux"].astype(np.float64)
    good = (coadd["ivar"] > 0) & (coadd["and_mask"] == 0) & np.isfinite(flux)
    if good.sum() < 1000:
        raise SystemExit(f"only {good.sum()} good pixels")
    flux = np.interp(lam, lam[good], flux[good])
    tail = np.median(flux[good][-TAIL:])
    extra = np.arange(np.floor(lam[-1]) + 1.0, RED_END + 1.0, 1.0)
    return z, np.concatenate([lam, extra]), np.concatenate([flux, np.full(extra.size, tail)]), good


def main(wheel, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as whl:
        for name in GALAXIES:
            with whl.open(f"ppxf/spectra/{name}_SDSS_DR18.fits") as f:
                hdus = fits.open(f)
                z, lam, flux, good = rest_frame(hdus)
            np.savetxt(out / f"{name}.sed", np.column_stack([lam, flux]), fmt="%.4f %.6e")
            print(f"{name}: z = {z:.5f}, rest {lam[0]:.0f}–{lam[good.size - 1]:.0f} Å observed, "
                  f"{(~good).sum()} masked pixels filled, flat to {RED_END:.0f} Å")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
