"""The effective sampling of a template, window by window: templates interpolated linearly from
sparse points are straight between those points, and carry no feature narrower than their gaps.

Usage: python scripts/template_structure.py FILE.sed...   (needs numpy)

A point i is a knot when the slope changes there: |f_{i+1} − 2 f_i + f_{i−1}| > 10⁻⁵ × mean f
(a straight segment gives 0 up to rounding). Per 800 Å rest window from 3600 to 10 000 Å it
prints the median and the largest distance [Å] between neighbouring knots.
"""
import sys

import numpy as np

WINDOWS = range(3600, 10000, 800)
KINK = 1e-5


def knot_spacing(lam, flux, lo, hi):
    inside = (lam >= lo) & (lam < hi)
    x, f = lam[inside], flux[inside]
    if f.size < 3:
        return "–"
    kinks = x[1:-1][np.abs(np.diff(f, 2)) > KINK * f.mean()]
    if kinks.size < 2:
        return f"none in {hi - lo} Å"
    gaps = np.diff(kinks)
    return f"{np.median(gaps):.0f} / {gaps.max():.0f}"


def main(paths):
    print("Median / largest distance [Å] between knots, per rest window [Å]:\n")
    print("| template | " + " | ".join(f"{lo}–{lo + 800}" for lo in WINDOWS) + " |")
    print("|---|" + "---|" * len(WINDOWS))
    for path in paths:
        data = np.loadtxt(path, comments="#")
        cells = [knot_spacing(data[:, 0], data[:, 1], lo, lo + 800) for lo in WINDOWS]
        print(f"| {path.rsplit('/', 1)[-1]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
