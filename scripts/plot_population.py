"""Plots simulated spectra of the built-in population beside spectra of the CWW/Kinney family
(templates from observed nearby galaxies: Coleman, Wu & Weedman 1980; Kinney et al. 1996),
both observed through the same `seed` instrument at the same redshift, with the rest-frame
absorption and emission features of issue 13 marked.

Usage: python scripts/plot_population.py OUT.svg PANEL...
  PANEL = TITLE:BUILTIN_DIR:REAL_DIR  (folders written by `zcnn simulate`; row 0 of each)
       python scripts/plot_population.py rest OUT.svg LABEL=FILE.sed...
  rest-frame templates before any line-spread function, around Ca H&K and the G band, Mg b and
  Fe 5270, and Na D; each curve divided by its median in the window and offset by 0.6.
Needs numpy and matplotlib. Called by scripts/plot_population.sh and scripts/plot_sps.sh.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Rest-frame vacuum wavelengths [Å] of the features the issue names.
FEATURES = {
    "Ca K": 3934.8, "Ca H": 3969.6, "Hδ": 4102.9, "G band": 4305.0, "Hγ": 4341.7,
    "Hβ": 4862.7, "[OIII]": 5008.2, "Mg b": 5176.7, "Fe 5270": 5270.0, "Na D": 5895.6,
    "Hα": 6564.6, "[NII]": 6585.3, "[SII]": 6718.3,
}


def first_spectrum(folder):
    """Wavelengths, row 0 of spectra.npy divided by its median, and its redshift and class."""
    wavelengths = np.load(f"{folder}/wavelengths.npy")
    flux = np.load(f"{folder}/spectra.npy", mmap_mode="r")[0].astype(float)
    with open(f"{folder}/labels.csv") as f:
        row = next(csv.DictReader(f))
    return wavelengths, flux / np.median(flux), float(row["z"]), row["class"]


def main(out, panels):
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.6 * len(panels)), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        title, builtin, real = panel.split(":")
        z = None
        for folder, label, colour, offset in ((builtin, "built-in population", "C0", 0.0),
                                              (real, "CWW/Kinney (observed galaxies)", "C3", 1.0)):
            wavelengths, flux, z, cls = first_spectrum(folder)
            ax.plot(wavelengths, flux + offset, lw=0.7, color=colour, label=f"{label}, {cls}")
        top = ax.get_ylim()[1]
        for name, rest in FEATURES.items():
            observed = rest * (1.0 + z)
            if wavelengths[0] <= observed <= wavelengths[-1]:
                ax.axvline(observed, color="0.6", lw=0.5, ls=":")
                ax.text(observed, top, name, rotation=90, fontsize=7, va="top", ha="right")
        ax.set_title(f"{title}, z = {z:.3f}")
        ax.set_xlabel("observed wavelength [Å]")
        ax.set_ylabel("flux / median (+1 for the second)")
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)


# Rest-frame windows [Å] of the `rest` figure and the features marked in each.
REST_WINDOWS = (("Ca H&K, Hδ, G band", (3900.0, 4360.0)), ("Mg b, Fe 5270", (5120.0, 5300.0)),
                ("Na D", (5840.0, 5950.0)))


def rest_frame(out, curves):
    """Templates as read from their .sed files (λ [Å], f_λ), one column per window."""
    fig, axes = plt.subplots(1, len(REST_WINDOWS), figsize=(13, 4.8),
                             gridspec_kw={"width_ratios": [3, 1.6, 1.2]})
    for ax, (title, (lo, hi)) in zip(axes, REST_WINDOWS):
        for k, curve in enumerate(curves):
            label, path = curve.split("=", 1)
            data = np.loadtxt(path, comments="#")
            inside = (data[:, 0] >= lo) & (data[:, 0] <= hi)
            lam, flux = data[inside, 0], data[inside, 1]
            ax.plot(lam, flux / np.median(flux) + 0.6 * k, lw=0.8, color=f"C{k}", label=label)
        top = ax.get_ylim()[1]
        for name, rest in FEATURES.items():
            if lo <= rest <= hi:
                ax.axvline(rest, color="0.6", lw=0.5, ls=":")
                ax.text(rest, top, name, rotation=90, fontsize=7, va="top", ha="right")
        ax.set_title(title)
        ax.set_xlabel("rest wavelength (vacuum) [Å]")
    axes[0].set_ylabel("f_λ / median (+0.6 per curve)")
    axes[0].legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "rest":
        rest_frame(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 3:
        main(sys.argv[1], sys.argv[2:])
    else:
        sys.exit(__doc__)
