#!/usr/bin/env python3
"""Absorption features the shipped templates carry at their own sampling: the median step near
4000 Å, Dn4000 (Balogh et al. 1999) and pseudo-equivalent widths [Å] in the Lick windows of
pyphot's licks.dat (Ca H+K of LB13, G4300, Mg b, Na D). Standard library only.
Usage: scripts/template_indices.py [data/templates]"""
import glob
import os
import sys

# (band, blue continuum, red continuum), Å.
WINDOWS = {
    "CaHK": ((3899.5, 4003.5), (3806.5, 3833.8), (4020.7, 4052.4)),
    "G4300": ((4281.4, 4316.4), (4266.4, 4282.6), (4318.9, 4335.1)),
    "Mgb": ((5160.1, 5192.6), (5142.6, 5161.4), (5191.4, 5206.4)),
    "NaD": ((5876.9, 5909.4), (5860.6, 5875.6), (5922.1, 5948.1)),
}


def load(path):
    points = []
    for line in open(path):
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            points.append((float(fields[0]), float(fields[1])))
    return points


def mean(points, lo, hi, weight=lambda lam, f: f):
    values = [weight(lam, f) for lam, f in points if lo <= lam <= hi]
    return sum(values) / len(values)


def pseudo_ew(points, band, blue, red):
    """∫ (1 − f / continuum) dλ over the band, continuum the line through the side means."""
    cb, cr = mean(points, *blue), mean(points, *red)
    xb, xr = sum(blue) / 2, sum(red) / 2
    inside = [(lam, f) for lam, f in points if band[0] <= lam <= band[1]]
    depth = [(lam, 1 - f / (cb + (cr - cb) * (lam - xb) / (xr - xb))) for lam, f in inside]
    return sum((l1 - l0) * (d0 + d1) / 2 for (l0, d0), (l1, d1) in zip(depth, depth[1:]))


root = sys.argv[1] if len(sys.argv) > 1 else "data/templates"
print("| template | step near 4000 Å | Dn4000 | " + " | ".join(WINDOWS) + " |")
print("|---" * (3 + len(WINDOWS)) + "|")
for path in sorted(glob.glob(os.path.join(root, "*", "*.sed"))):
    points = load(path)
    steps = sorted(b[0] - a[0] for a, b in zip(points, points[1:]) if 3800 < a[0] < 4200)
    fnu = lambda lam, f: f * lam * lam
    dn4000 = mean(points, 4000, 4100, fnu) / mean(points, 3850, 3950, fnu)
    ews = " | ".join(f"{pseudo_ew(points, *w):.1f}" for w in WINDOWS.values())
    name = os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))
    print(f"| {name} | {steps[len(steps) // 2]:.1f} Å | {dn4000:.2f} | {ews} |")
