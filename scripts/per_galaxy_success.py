"""Success (|Δz| ≤ 0.003, Δz = (z_pred − z)/(1 + z)) per galaxy of a `--sed-dir` test set, in
all and in four equal bins of z_true over the test set's range (rounded out to 0.1).

Usage: python scripts/per_galaxy_success.py SED_DIR LABELS.csv PREDICTIONS.csv
`zcnn simulate --sed-dir` gives spectrum i the galaxy i mod G, and galaxy g the g-th `.sed` file
of SED_DIR by name (one galaxy per template). When SED_DIR holds a PROVENANCE file of
scripts/build_sps_library.sh, the galaxies are grouped by Dn4000 (≥ 1.5: old) and by whether
they are post-starbursts; otherwise each template gets a row. Standard library only.
"""
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

BINS = 4


def column(path, name):
    with open(path) as f:
        return [row[name] for row in csv.DictReader(f)]


def main(sed_dir, labels, predictions):
    files = sorted(p.name for p in Path(sed_dir).iterdir() if p.suffix == ".sed")
    z_true = [float(v) for v in column(labels, "z")]
    z_pred = [float(v) for v in column(predictions, "z")]
    groups = {name: name for name in files}
    provenance = Path(sed_dir) / "PROVENANCE"
    if provenance.exists():
        for line in provenance.read_text().splitlines():
            fields = line.split()
            if fields and fields[0] in groups:
                values = dict(f.split("=") for f in fields[1:])
                age = "old (Dn4000 ≥ 1.5)" if float(values["dn4000"]) >= 1.5 else \
                    "young (Dn4000 < 1.5)"
                groups[fields[0]] = "post-starburst" if "burst_fraction" in values else age
    lo, hi = math.floor(min(z_true) * 10) / 10, math.ceil(max(z_true) * 10) / 10
    width = (hi - lo) / BINS
    hits, counts = defaultdict(int), defaultdict(int)
    for i, (zt, zp) in enumerate(zip(z_true, z_pred)):
        group = groups[files[i % len(files)]]
        z_bin = min(int((zt - lo) / width), BINS - 1)
        success = abs(zp - zt) / (1.0 + zt) <= 0.003
        for key in (group, (group, z_bin)):
            counts[key] += 1
            hits[key] += success
    share = lambda key: f"{100.0 * hits[key] / counts[key]:.1f} %" if counts[key] else "–"  # noqa: E731
    bins = [f"z {lo + k * width:.1f}–{lo + (k + 1) * width:.1f}" for k in range(BINS)]
    print("| galaxies | spectra | success | " + " | ".join(bins) + " |")
    print("|---|---|---|" + "---|" * BINS)
    for group in sorted(g for g in counts if isinstance(g, str)):
        cells = " | ".join(share((group, k)) for k in range(BINS))
        print(f"| {group} | {counts[group]} | {share(group)} | {cells} |")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
