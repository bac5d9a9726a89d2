#!/usr/bin/env bash
# A stellar-population continuum beside the shipped templates of old galaxies, rest frame,
# before any line-spread function, around Ca H&K and the G band, Mg b and Na D (issue 13).
# Writes runs/sps/sps_vs_templates.${FORMAT:-svg}: not committed, since it draws GPL-3-derived data.
# Usage: scripts/plot_sps.sh [CONTINUA_DIR=runs/sps/continua_seed1]
#   (a folder of scripts/build_sps_library.sh; its oldest continuum, by Dn4000, is drawn)
#   PYTHON: an interpreter with numpy and matplotlib (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-runs/sps/continua_seed1}
[ -f "$dir/PROVENANCE" ] || { echo "$dir/PROVENANCE: missing; build it with scripts/build_sps_library.sh $dir" >&2; exit 1; }
# The PROVENANCE lines of the files: "sps_NNNN.sed key=value … dn4000=D …".
oldest=$(grep '^sps_' "$dir/PROVENANCE" | sed 's/^\([^ ]*\).* dn4000=\([^ ]*\).*/\2 \1/' | sort -g | tail -1)
name=${oldest#* }
dn=${oldest% *}
out=runs/sps/sps_vs_templates.${FORMAT:-svg}
mkdir -p runs/sps
"${PYTHON:-python3}" scripts/plot_population.py rest "$out" \
  "BC03+MILES composite ($name, Dn4000 $dn)=$dir/$name" \
  "COSMOS Ell1_A_0=data/templates/cosmos/Ell1_A_0.sed" \
  "kcorrect nmf_0=data/templates/kcorrect/kcorrect_nmf_0.sed" \
  "CWW El_B2004a=data/templates/cww_kinney/El_B2004a.sed"
echo "wrote $out"
