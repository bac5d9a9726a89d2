"""Effective resolving power of rest-frame templates, from the widths of narrow absorption lines.

Usage: python scripts/line_widths.py FILE.sed...   (needs numpy)

For each file and each line of LINES, fits within ±w of the line (w = WINDOW Å, or 5 sampling
steps where the file is coarser), on the file's own points, the model
    f(λ) = a + b (λ − λ_0) − d exp(−(λ − μ)² / 2σ²)
(a straight continuum minus a Gaussian line), by linear least squares in (a, b, d) for every
(μ, σ) on a grid, keeping the (μ, σ) of least squared residual. It prints FWHM = 2√(2 ln 2) σ
of each line and the median FWHM over the lines, and R = 5000 Å / (median FWHM). Stellar lines
have widths of their own and blend, so this bounds the template's resolving power from below.
The sampling Δλ bounds it from above: R ≤ λ / (2 Δλ) (Nyquist).
"""
import sys

import numpy as np

# Rest vacuum wavelengths [Å] of narrow absorption lines of old stellar populations (air + 1.2
# to 1.6 Å; the fitted centre may move ±2.5 Å, so templates in air fit as well).
LINES = {"Ca I 4228": 4227.9, "Fe I 4385": 4384.7, "Mg b1 5185": 5185.0, "Fe 5271": 5271.0,
         "Na D2 5892": 5891.6, "Na D1 5898": 5897.6}
WINDOW = 8.0
CENTRES = np.arange(-2.5, 2.5001, 0.05)
SIGMAS = np.arange(0.3, 20.0, 0.02)
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def read_sed(path):
    data = np.loadtxt(path, comments="#")
    return data[:, 0], data[:, 1]


def fit_line(lam, flux, centre, window):
    """(FWHM [Å], depth / continuum, points in the window) of the best Gaussian, or None."""
    inside = np.abs(lam - centre) <= window
    x, y = lam[inside], flux[inside]
    if x.size < 6:
        return None
    mu, sigma = np.meshgrid(centre + CENTRES, SIGMAS, indexing="ij")
    mu, sigma = mu.ravel(), sigma.ravel()
    # One design matrix (points × 3) per (μ, σ); the normal equations AᵀA c = Aᵀy solve them all.
    gauss = -np.exp(-0.5 * ((x[None, :] - mu[:, None]) / sigma[:, None]) ** 2)
    design = np.stack(np.broadcast_arrays(np.ones_like(x), x - centre, gauss), axis=-1)
    normal = np.einsum("kpi,kpj->kij", design, design)
    rhs = np.einsum("kpi,p->ki", design, y)
    usable = np.abs(np.linalg.det(normal)) > 1e-12 * np.abs(normal).max() ** 3
    coef = np.zeros_like(rhs)
    coef[usable] = np.linalg.solve(normal[usable], rhs[usable][..., None])[..., 0]
    chi2 = np.where(usable, np.sum((np.einsum("kpi,ki->kp", design, coef) - y) ** 2, axis=1),
                    np.inf)
    k = int(np.argmin(chi2))
    a, _, depth = coef[k]
    return FWHM_PER_SIGMA * sigma[k], depth / a, x.size


def main(paths):
    print("| template | sampling Δλ at 5000 Å | " + " | ".join(LINES)
          + " | median FWHM | R = 5000 Å / median | Nyquist R ≤ 5000 Å / 2Δλ |")
    print("|---|---|" + "---|" * len(LINES) + "---|---|---|")
    for path in paths:
        lam, flux = read_sed(path)
        near = (lam > 4900) & (lam < 5100)
        step = np.median(np.diff(lam[near]))
        cells, widths = [], []
        for centre in LINES.values():
            fit = fit_line(lam, flux, centre, max(WINDOW, 5.0 * step))
            if fit is None or fit[1] <= 0.0:
                cells.append("–")
                continue
            widths.append(fit[0])
            cells.append(f"{fit[0]:.1f} Å")
        name = path.rsplit("/", 1)[-1]
        median = np.median(widths) if widths else np.nan
        print(f"| {name} | {step:.1f} Å | " + " | ".join(cells)
              + f" | {median:.1f} Å | {5000.0 / median:.0f} | {2500.0 / step:.0f} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
