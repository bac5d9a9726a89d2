#!/usr/bin/env bash
# The figure of issue 13: a built-in spectrum beside a spectrum of an observed-galaxy family,
# through the same `seed` instrument at z ≈ 1.7 (rest 4070–7400 Å: Hδ to Hα), no noise.
# Built-in: the kcorrect and COSMOS families, as the generalisation study trains on them;
# observed: the CWW/Kinney family. One passive and one star-forming galaxy each.
# Writes docs/studies/population/builtin_vs_cww.${FORMAT:-svg}.
# Usage: scripts/plot_population.sh   (PYTHON: an interpreter with numpy and matplotlib)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
simulate() { # NAME POPULATION FAMILIES
  cat > "$work/$1.toml" <<TOML
[simulate]
preset = "seed"
seed = 7
population = "$2"
families = $3
lines = true
normalisation = "max"
z_min = 1.7
z_max = 1.701
TOML
  target/release/zcnn simulate --config "$work/$1.toml" --out "$work/$1" -n 1 > /dev/null 2>&1
}
simulate builtin_passive passive '["kcorrect", "cosmos"]'
simulate cww_passive passive '["cww_kinney"]'
simulate builtin_sf halpha '["kcorrect", "cosmos"]'
simulate cww_sf halpha '["cww_kinney"]'
mkdir -p docs/studies/population
"$python" scripts/plot_population.py docs/studies/population/builtin_vs_cww.${FORMAT:-svg} \
  "passive:$work/builtin_passive:$work/cww_passive" "star-forming (Hα-selected):$work/builtin_sf:$work/cww_sf"
echo "wrote docs/studies/population/builtin_vs_cww.${FORMAT:-svg}"
