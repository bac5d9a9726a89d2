#!/usr/bin/env bash
# The generalisation study of issue 13: train on some template families and populations (the
# strong-line library, the mixed population clean, at a fixed SNR 5, and clean with a new noise
# realisation at every update, `train.noise_snr`), test on a family never seen in training
# (CWW/Kinney), for a mixed, a passive-only and an Hα-selected population, clean and at SNR 20
# and 5. Writes docs/studies/generalisation/matrix.md (success
# and η per training set × test set) and one `zcnn compare` table and plot per test set.
# Usage: scripts/generalisation.sh [small|full]
#   small: 600 training spectra, 1 epoch, 100 test spectra (checks that everything runs, ≈ 2 min)
#   full:  10,000 training spectra, 10 epochs, 2,000 test spectra (≈ 25 min on 2 shared cores)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-full}
case "$size" in
  small) n_train=600 epochs=1 n_test=100 ;;
  full) n_train=10000 epochs=10 n_test=2000 ;;
  *) echo "usage: $0 [small|full]" >&2; exit 2 ;;
esac
cargo build --release --quiet
zcnn=target/release/zcnn
root=runs/generalisation_$size
out=docs/studies/generalisation
[ "$size" = full ] || out=$root/study
trains=(strong_lines mixed mixed_snr5 mixed_noise)
tests=(mixed passive halpha)
snrs=(clean 20 5)

for t in "${trains[@]}"; do
  if [ -f "$root/train_$t/model/checkpoint.safetensors" ]; then echo "== train_$t: done already"; continue; fi
  echo "== train_$t"
  "$zcnn" run --config "configs/gen_train_$t.toml" --out "$root/train_$t" -n "$n_train" --epochs "$epochs"
done

for test in "${tests[@]}"; do
  for snr in "${snrs[@]}"; do
    data=$root/data/${test}_$snr
    noise=()
    [ "$snr" = clean ] || noise=(--snr "$snr")
    [ -f "$data/labels.csv" ] || "$zcnn" simulate --config "configs/gen_test_cww_$test.toml" \
      --out "$data" -n "$n_test" "${noise[@]}"
    for t in "${trains[@]}"; do
      report=$root/train_$t/on_${test}_$snr
      [ -f "$report/report.json" ] || "$zcnn" evaluate --checkpoint \
        "$root/train_$t/model/checkpoint.safetensors" --data "$data" --out "$report" --all > /dev/null
    done
  done
done

mkdir -p "$out"
{
  echo "Held-out family: CWW/Kinney. Cells: success |Δz| ≤ 0.003 / η (|Δz| > 0.15) / completeness at"
  echo "99 % purity on z_conf. $n_train training spectra, $epochs epochs, $n_test test spectra each."
  echo
  header="| trained on |"; rule="|---|"
  for test in "${tests[@]}"; do for snr in "${snrs[@]}"; do
    header="$header $test, $snr |"; rule="$rule---|"
  done; done
  echo "$header"; echo "$rule"
  for t in "${trains[@]}"; do
    row="| $t |"
    for test in "${tests[@]}"; do for snr in "${snrs[@]}"; do
      cell=$(jq -r '"\((.success_0_003*100|round)) % / \((.eta_0_15*100|round)) % / \(
        (.selection.z_conf.at_target.completeness // 0)*100|round) %"' \
        "$root/train_$t/on_${test}_$snr/report.json")
      row="$row $cell |"
    done; done
    echo "$row"
  done
  echo
  echo "Attractor redshifts (clean test sets): the fullest z_pred cells of width 0.01 among the"
  echo "failures with |Δz| > 0.05, as z_pred: count."
  echo
  echo "| trained on | $(IFS='|'; echo "${tests[*]}" | sed 's/|/ | /g') |"
  echo "|---|$(printf -- '---|%.0s' "${tests[@]}")"
  for t in "${trains[@]}"; do
    row="| $t |"
    for test in "${tests[@]}"; do
      cell=$(jq -r '[.attractors[] | "\(.z_pred * 1000 | round / 1000): \(.count)"] | join(", ")' \
        "$root/train_$t/on_${test}_clean/report.json")
      row="$row ${cell:-none} |"
    done
    echo "$row"
  done
} > "$out/matrix.md"
cat "$out/matrix.md"

for test in "${tests[@]}"; do
  for snr in "${snrs[@]}"; do
    runs=(); for t in "${trains[@]}"; do runs+=("$root/train_$t/on_${test}_$snr"); done
    "$zcnn" compare --overwrite "${runs[@]}" --labels "$(IFS=,; echo "${trains[*]}")" \
      --title "Trained on kcorrect+COSMOS, tested on CWW/Kinney ($test, $snr)" \
      --out "$out/${test}_$snr" > /dev/null
  done
done
echo "study written to $out"
