#!/usr/bin/env python3
"""Runs `zcnn debias` once per variant of a config and prints every step's metrics, one line each.

A variant changes keys of the config (`key=value`, several joined by `;`) and may set the run's
seed (`seed=N`, passed as `--seed`). Each variant's config and study go to runs/sweep/TAG/NAME.
Used for the one-at-a-time sweep of README "Why the corrections help little on catalogue
photometry":

    scripts/debias_sweep.py configs/debias_catalog.toml runs/sdss10k sdss "n_th=2" "n_th=2;seed=2"

Needs a release build (target/release/zcnn).
"""
import json
import os
import re
import subprocess
import sys
import time

METRICS = [
    ("TV", "total_variation", "{:.3f}"),
    ("slope_spec", "slope_above_0_15_vs_z_spec", "{:+.4f}"),
    ("slope_photo", "slope_above_0_15_vs_z_photo", "{:+.4f}"),
    ("nmad", "sigma_nmad", "{:.4f}"),
    ("eta", "eta_0_05", "{:.3f}"),
    ("maxres", "max_abs_mean_residual_vs_z_photo", "{:.4f}"),
]


def variant_config(text, variant):
    """The config text with the variant's keys replaced, and the variant's seed (or None)."""
    seed = None
    for assignment in variant.split(";"):
        key, value = assignment.split("=", 1)
        if key == "seed":
            seed = value
            continue
        text, found = re.subn(rf"^{key}\s*=.*$", f"{key} = {value}", text, flags=re.M)
        if found != 1:
            sys.exit(f"{variant}: the config has no single line '{key} = ...'")
    return text, seed


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    config, data, tag, variants = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    text = open(config).read()
    root = os.path.join("runs", "sweep", tag)
    os.makedirs(root, exist_ok=True)
    for variant in variants:
        name = re.sub(r"[=;.]", "_", variant)
        changed, seed = variant_config(text, variant)
        path = os.path.join(root, name + ".toml")
        with open(path, "w") as f:
            f.write(changed)
        out = os.path.join(root, name)
        command = ["target/release/zcnn", "debias", "--data", data, "--config", path,
                   "--out", out, "--overwrite"] + (["--seed", seed] if seed else [])
        started = time.time()
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode:
            print(f"{name}: FAILED {run.stderr.strip()[-300:]}", flush=True)
            continue
        study = json.load(open(os.path.join(out, "study.json")))
        for step in study["steps"]:
            values = " ".join(f"{label} {fmt.format(step[key])}" for label, key, fmt in METRICS)
            print(f"{name:30s} {step['name']:18s} {values}")
        subset = re.findall(r"balanced subset: (\d+) of", run.stdout + run.stderr)
        print(f"{name:30s} subset {subset[:1]} wall {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
