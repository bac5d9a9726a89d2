#!/usr/bin/env bash
# Stellar-population continua vs the shipped templates (issue 13). Builds two BC03 + MILES
# libraries (scripts/build_sps_library.sh; seeds 1 and 2, 200 continua each), trains the main
# job on the `mixed` population with the built-in continua (configs/main.toml), with the
# seed-1 library (configs/main_sps.toml) and with that library plus the COSMOS templates, same
# settings, seeds 1 and 2, and evaluates every model on
#   cww:      the CWW/Kinney templates, one galaxy per template, no added lines (lines = false),
#   sps_held: the seed-2 library (continua never seen in training), the same way,
#   builtin:  the built-in mixed population, other galaxies and redshifts than in training,
#   sps_mixed: the mixed population drawn from the seed-2 library,
#   builtin_passive_5, sps_passive_20, sps_passive_5: passive galaxies (absorption only) of
#             the built-in templates at SNR 5 and of the seed-2 library at SNR 20 and 5,
# 1,000 spectra each. Writes docs/studies/population/sps_table.md.
# Usage: scripts/sps_study.sh   (≈ 15 min on 2 shared cores; needs jq, and what
# build_sps_library.sh needs)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
zcnn=target/release/zcnn
root=runs/sps
n_test=1000
for seed in 1 2; do
  [ -f "$root/continua_seed$seed/PROVENANCE" ] ||
    scripts/build_sps_library.sh "$root/continua_seed$seed" 200 "$seed"
done

# The continua of the third arm: the seed-1 library and the COSMOS templates (a folder of links).
mix=$root/continua_seed1_cosmos
if [ ! -d "$mix" ]; then
  mkdir -p "$mix"
  ln -s "$PWD/$root/continua_seed1/"*.sed "$PWD/data/templates/cosmos/"*.sed "$mix/"
fi
declare -A continua=([builtin]="" [sps]="continua = \"$root/continua_seed1\"" [sps_cosmos]="continua = \"$mix\"")
arms=(builtin sps sps_cosmos)
seeds=(1 2)
for arm in "${arms[@]}"; do
  for seed in "${seeds[@]}"; do
    run=$root/train_${arm}_s$seed
    [ -f "$run/report/report.json" ] && continue
    # configs/main.toml with the arm's continua and the seed (data, initial weights, order).
    sed -e "s/^seed = 1$/seed = $seed/" -e "s|^normalisation = \"max\"$|&\n${continua[$arm]}|" \
      configs/main.toml > "$root/train_${arm}_s$seed.toml"
    "$zcnn" run --config "$root/train_${arm}_s$seed.toml" --out "$run"
  done
done

# The test sets: [simulate] lines of each, on the seed grid.
declare -A test_simulate=(
  [cww]='sed_dir = "data/templates/cww_kinney"
lines = false'
  [sps_held]="sed_dir = \"$root/continua_seed2\"
lines = false"
  [builtin]='population = "mixed"'
  [sps_mixed]="population = \"mixed\"
continua = \"$root/continua_seed2\""
  [builtin_passive_5]='population = "passive"
snr = 5'
  [sps_passive_20]="population = \"passive\"
continua = \"$root/continua_seed2\"
snr = 20"
  [sps_passive_5]="population = \"passive\"
continua = \"$root/continua_seed2\"
snr = 5"
)
tests=(cww sps_held builtin sps_mixed builtin_passive_5 sps_passive_20 sps_passive_5)
for test in "${tests[@]}"; do
  data=$root/data/$test
  if [ ! -f "$data/labels.csv" ]; then
    mkdir -p "$root/data"
    printf '[simulate]\npreset = "seed"\nn_spectra = %d\nseed = 77\n%s\n' \
      "$n_test" "${test_simulate[$test]}" > "$root/data/$test.toml"
    "$zcnn" simulate --config "$root/data/$test.toml" --out "$data"
  fi
  for arm in "${arms[@]}"; do
    for seed in "${seeds[@]}"; do
      run=$root/train_${arm}_s$seed
      [ -f "$run/on_$test/report.json" ] || "$zcnn" evaluate --all --out "$run/on_$test" \
        --data "$data" --checkpoint "$run/model/checkpoint.safetensors" > /dev/null
      [ -f "$run/pred_$test.csv" ] || "$zcnn" predict --labels "$data/labels.csv" \
        --spectra "$data/spectra.npy" --out "$run/pred_$test.csv" \
        --checkpoint "$run/model/checkpoint.safetensors" > /dev/null
    done
  done
done

# The tables: success (|Δz| ≤ 0.003 (1 + z)) / η (|Δz| > 0.15 (1 + z)) / completeness of the most
# complete z_conf cut that keeps 99 % purity; then success per CWW/Kinney template and per kind
# of held-out SPS continuum.
out=docs/studies/population/sps_table.md
cell() {
  jq -r '"\(.success_0_003*1000|round/10) / \(.eta_0_15*1000|round/10) / \(
    (.selection.z_conf.at_target.completeness // 0)*1000|round/10)"' "$1"
}
# One column per run of per_galaxy_success.py's table (SED_DIR TEST RUN FILE): the groups' names
# and spectra for the first run, their success for every run.
table_columns() {
  python3 scripts/per_galaxy_success.py "$1" "$root/data/$2/labels.csv" "$3/pred_$2.csv" |
    tail -n +3 > "$4"
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "Trained on the \`mixed\` population (configs/main.toml: 10,000 clean spectra, 10 epochs,"
  echo "noise augmentation), continua from: built-in = the shipped templates; sps = the seed-1"
  echo "BC03+MILES library; sps_cosmos = that library and the 31 COSMOS templates. Test sets of"
  echo "$n_test clean spectra (percent): success / η / completeness at 99 % purity."
  echo
  echo "| continua | seed | own test split | built-in mixed | SPS mixed (seed-2 library) | CWW/Kinney, lines = false | SPS seed-2 library, lines = false |"
  echo "|---|---|---|---|---|---|---|"
  for arm in "${arms[@]}"; do
    for seed in "${seeds[@]}"; do
      run=$root/train_${arm}_s$seed
      echo "| $arm | $seed | $(cell "$run/report/report.json") | $(cell "$run/on_builtin/report.json") |" \
        "$(cell "$run/on_sps_mixed/report.json") | $(cell "$run/on_cww/report.json") |" \
        "$(cell "$run/on_sps_held/report.json") |"
    done
  done
  echo
  echo "Passive galaxies (absorption lines only), with noise: success / η / completeness at 99 % purity."
  echo
  echo "| continua | seed | built-in, SNR 5 | SPS seed-2 library, SNR 20 | SPS seed-2 library, SNR 5 |"
  echo "|---|---|---|---|---|"
  for arm in "${arms[@]}"; do
    for seed in "${seeds[@]}"; do
      run=$root/train_${arm}_s$seed
      echo "| $arm | $seed | $(cell "$run/on_builtin_passive_5/report.json") |" \
        "$(cell "$run/on_sps_passive_20/report.json") | $(cell "$run/on_sps_passive_5/report.json") |"
    done
  done
  for test in builtin sps_mixed; do
    echo
    echo "Success per class, $test test set:"
    echo
    header="| class (spectra) |"; rule="|---|"
    files=()
    for arm in "${arms[@]}"; do for seed in "${seeds[@]}"; do
      header="$header $arm s$seed |"; rule="$rule---|"
      jq -r '.populations.class[] | "\(.success_0_003*1000|round/10) %"' \
        "$root/train_${arm}_s$seed/on_$test/report.json" > "$work/class_$arm$seed"
      files+=("$work/class_$arm$seed")
    done; done
    echo "$header"; echo "$rule"
    jq -r '.populations.class[] | "\(.bin) (\(.n))"' \
      "$root/train_${arms[0]}_s${seeds[0]}/on_$test/report.json" |
      paste -d'|' - "${files[@]}" | sed 's/|/ | /g; s/^/| /; s/$/ |/'
  done
  for spec in "cww:data/templates/cww_kinney:CWW/Kinney template" "sps_held:$root/continua_seed2:held-out SPS continua"; do
    IFS=: read -r test dir what <<< "$spec"
    echo
    echo "Success per $what (lines = false):"
    echo
    header="| $what | spectra |"; rule="|---|---|"
    files=()
    for arm in "${arms[@]}"; do for seed in "${seeds[@]}"; do
      header="$header $arm s$seed |"; rule="$rule---|"
      table_columns "$dir" "$test" "$root/train_${arm}_s$seed" "$work/$arm$seed"
      cut -d'|' -f4 "$work/$arm$seed" > "$work/$arm$seed.success"
      files+=("$work/$arm$seed.success")
    done; done
    echo "$header"; echo "$rule"
    cut -d'|' -f1-3 "$work/${arms[0]}${seeds[0]}" | paste -d'|' - "${files[@]}" | sed 's/$/|/'
  done
} > "$out"
cat "$out"
