#!/usr/bin/env bash
# An outside check of a spec-z checkpoint on real galaxies (issue 13): the SDSS DR18 spectra of
# NGC 3073 (star-forming dwarf) and NGC 3522 (elliptical) that the pPXF 9.5.2 wheel ships as
# examples, moved to the rest frame and extended flat to 10,300 Å (scripts/sdss_galaxies.py),
# redshifted into the seed grid's 1 ≤ z < 1.8 with their own lines only (`lines = false`,
# 1,000 clean spectra), and evaluated. pPXF's licence forbids redistribution, so the wheel is
# fetched into a cache and the spectra stay on this machine.
# Usage: scripts/real_galaxies.sh CHECKPOINT [OUT=runs/real]
# Environment: ZCNN_SPS_VENV (default ~/.cache/zcnn/sps-venv, numpy + astropy, made if absent),
# ZCNN_SPS_CACHE (default ~/.cache/zcnn), PYTHON (makes the venv, default python3).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
checkpoint=$1
out=${2:-runs/real}
cd "$(dirname "$0")/.."
cache=${ZCNN_SPS_CACHE:-$HOME/.cache/zcnn}
venv=${ZCNN_SPS_VENV:-$HOME/.cache/zcnn/sps-venv}
wheel_name=ppxf-9.5.2-py3-none-any.whl
wheel_sha256=7876fbc4e96359e1be321f475abe593ac3af983fc345d971162132e4ced14cd5
if [ ! -x "$venv/bin/python" ]; then
  echo "making the Python environment $venv (numpy, astropy)" >&2
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy astropy
fi
mkdir -p "$cache" "$out"
if [ ! -f "$cache/$wheel_name" ]; then
  echo "downloading $wheel_name (2.5 MB) into $cache" >&2
  "$venv/bin/pip" download --quiet ppxf==9.5.2 --no-deps --only-binary=:all: -d "$cache"
fi
echo "$wheel_sha256  $cache/$wheel_name" | sha256sum --check --quiet
"$venv/bin/python" scripts/sdss_galaxies.py "$cache/$wheel_name" "$out/seds"
cat >"$out/simulate.toml" <<'TOML'
[simulate]
preset = "seed"
n_spectra = 1000
seed = 7
lines = false
normalisation = "max"
TOML
cargo build --release --quiet
zcnn=target/release/zcnn
"$zcnn" simulate --config "$out/simulate.toml" --sed-dir "$out/seds" --out "$out/data" --overwrite
"$zcnn" evaluate --checkpoint "$checkpoint" --data "$out/data" --all --out "$out/report" --overwrite
