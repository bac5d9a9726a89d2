#!/usr/bin/env bash
# Runs the studies of the README (noise, labels and losses, number of classes, training-set
# size) and writes each study's table and plot with `zcnn compare` under docs/studies/.
# Usage: scripts/studies.sh [noise|labels|size|all]   (≈ 10 / 8 / 15 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
cargo build --release --quiet
zcnn=target/release/zcnn

run() { # config, output folder, extra flags…
  local config=$1 out=$2
  shift 2
  if [ -f "$out/report/report.json" ]; then echo "== $out: done already"; return; fi
  echo "== $out"
  # --overwrite: an unfinished run of this folder (no report yet) starts again.
  "$zcnn" run --config "configs/$config.toml" --out "$out" --overwrite "$@"
}

if [ "$which" = noise ] || [ "$which" = all ]; then
  run main runs/main
  for c in snr20 snr5 snr2 euclid; do run "$c" "runs/$c"; done
  "$zcnn" compare runs/main runs/snr20 runs/snr5 runs/snr2 runs/euclid \
    --labels "clean,SNR 20,SNR 5,SNR 2,euclid" --title "Noise study (800 classes, 10 epochs)" \
    --out docs/studies/noise --overwrite
fi

if [ "$which" = labels ] || [ "$which" = all ]; then
  run main runs/main
  for c in soft_labels js_entropy js_entropy_warm bins_1600 seed_80; do run "$c" "runs/$c"; done
  "$zcnn" compare runs/main runs/soft_labels runs/js_entropy runs/js_entropy_warm runs/bins_1600 runs/seed_80 \
    --labels "hard CE 800,soft CE 800,JS+H 800,CE→JS+H 800,hard CE 1600,hard CE 80" \
    --title "Labels, losses and classes" --out docs/studies/labels --overwrite
fi

if [ "$which" = size ] || [ "$which" = all ]; then
  sizes=(1000 2000 5000 10000 20000 40000)
  for n in "${sizes[@]}"; do run train_size_50k "runs/size_$n" --max-train "$n"; done
  "$zcnn" compare "${sizes[@]/#/runs/size_}" --labels "1k,2k,5k,10k,20k,40k" \
    --title "Training-set size (50k simulated, 5k test)" --out docs/studies/size --overwrite
fi
