#!/usr/bin/env bash
# Streams N spectra (default 2,000,000) through `zcnn predict`, writing the CSV, the FITS
# catalogue, the PDFs (qp HDF5 when libhdf5-dev is installed, else NPY) and a Parquet table,
# then through `zcnn evaluate --all` (the report, with the FITS catalogue), and prints the peak
# RSS and spectra/s of each that /usr/bin/time -v measured: the README's large-input figures
# ("Outputs for survey tools", Streaming).
#
# Usage: scripts/stream_2m.sh [N] [work folder]        (defaults: 2000000, runs/stream_2m)
# Environment: BLOCK   spectra simulated once (default 100000, at most N)
#              BINS    redshift bins of the model (default 800, as in the README's table)
#              PRESET  simulation preset (default seed: 1,780 pixels, 7,120 bytes a spectrum)
#              COMMANDS  which to measure (default "predict evaluate")
#
# `zcnn simulate` holds a whole dataset in memory, so it simulates BLOCK spectra once and the
# N-spectrum input is that block repeated: a new NPY header with N rows, then the block's data
# N / BLOCK times and the first N mod BLOCK rows (the same spectra, so the same work per
# spectrum as N distinct ones). labels.csv gets N rows the same way (index and z).
# The model is a one-epoch specz-baseline trained on 2,000 spectra of the block: its numbers
# do not matter, only its size. Everything is reused on a second run; `rm -r` the work folder
# to free the disk. Refuses to start when the disk has less room than the input and outputs need.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000000}
work=${2:-runs/stream_2m}
block=${BLOCK:-100000}
bins=${BINS:-800}
preset=${PRESET:-seed}
commands=${COMMANDS:-predict evaluate}
case "$n$block$bins" in *[!0-9]*) echo "N, BLOCK and BINS must be whole numbers" >&2; exit 2 ;; esac
if [ "$block" -gt "$n" ]; then block=$n; fi

features=parquet
pdfs=pdfs.npy
if pkg-config --exists hdf5 2>/dev/null || dpkg -s libhdf5-dev >/dev/null 2>&1; then
  features=hdf5,parquet
  pdfs=pdfs.hdf5
fi
echo "== build (--features $features)"
cargo build --release --quiet --features "$features"
zcnn=target/release/zcnn
mkdir -p "$work"

echo "== simulate $block spectra ($preset)"
if [ ! -f "$work/block/spectra.npy" ]; then
  "$zcnn" simulate --out "$work/block" --preset "$preset" -n "$block" --seed 11
fi

# The block's NPY header: version 1.0 (u16 length at bytes 8–9) and little-endian float32.
spectra=$work/block/spectra.npy
header_len=$(od -An -tu2 -j8 -N2 "$spectra" | tr -d ' ')
header=$(head -c $((10 + header_len)) "$spectra" | tail -c "$header_len")
case "$header" in *"'descr': '<f4'"*) ;; *) echo "$spectra: expected <f4 data: $header" >&2; exit 1 ;; esac
data_start=$((10 + header_len))
block_rows=$(sed -E "s/.*'shape': \(([0-9]+),.*/\1/" <<<"$header")
[ "$block_rows" -eq "$block" ] || { echo "$spectra holds $block_rows spectra, not $block: remove $work/block" >&2; exit 1; }
row_bytes=$((($(stat -c %s "$spectra") - data_start) / block))
pixels=$((row_bytes / 4))

# Disk: input + labels, and the outputs (PDFs 4 bytes a bin, plus ≈ 80 bytes a row of qp ancillary
# columns, ≈ 160 of CSV, ≈ 60 each of FITS and Parquet), with 10 % to spare.
# The input's version 1.0 header: magic, version, u16 length, then the text padded with spaces
# to end on a multiple of 64 bytes with a newline.
text="{'descr': '<f4', 'fortran_order': False, 'shape': ($n, $pixels), }"
pad=$(((64 - (10 + ${#text} + 1) % 64) % 64))
text="$text$(printf '%*s' "$pad" '')"
len=$((${#text} + 1))
input_bytes=$((10 + len + n * row_bytes))
label_bytes=$((n * 20))
output_bytes=$((n * (bins * 4 + 80 + 160 + 60 + 60)))
big=$work/input/spectra.npy
have_input=0
if [ -f "$big" ] && [ "$(stat -c %s "$big")" -eq "$input_bytes" ]; then have_input=1; fi
needed=$((output_bytes + (1 - have_input) * (input_bytes + label_bytes)))
needed=$((needed + needed / 10))
free=$(df -B1 --output=avail "$work" | tail -1 | tr -d ' ')
gb() { awk -v b="$1" 'BEGIN { printf "%.2f GB", b / 1e9 }'; }
echo "== disk: $n spectra of $pixels pixels: input $(gb "$input_bytes"), outputs ≈ $(gb "$output_bytes");" \
  "needs $(gb "$needed") more, $(gb "$free") free"
if [ "$needed" -gt "$free" ]; then
  echo "not enough room in $work: free some, choose another folder, or a smaller N" >&2
  exit 1
fi

if [ "$have_input" -eq 0 ]; then
  echo "== build the input: the block of $block repeated to $n spectra"
  mkdir -p "$work/input"
  rows() { # the block's first $1 spectra, raw
    dd if="$spectra" bs=1M iflag=skip_bytes,count_bytes skip="$data_start" \
      count=$(($1 * row_bytes)) status=none
  }
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))"
    printf '%s\n' "$text"
    for ((k = 0; k < n / block; k++)); do rows "$block"; done
    rows $((n % block))
  } >"$big.part"
  [ "$(stat -c %s "$big.part")" -eq "$input_bytes" ] || { echo "$big.part: wrong size" >&2; exit 1; }
  mv "$big.part" "$big"
  cp "$work/block/wavelengths.npy" "$work/input/"
  # labels.csv: the block's z, the index counting on through the repeats.
  awk -F, -v n="$n" -v block="$block" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "index,z"; next }
    { z[NR - 2] = $col["z"] }
    END { for (i = 0; i < n; i++) print i "," z[i % block] }' \
    "$work/block/labels.csv" >"$work/input/labels.csv.part"
  mv "$work/input/labels.csv.part" "$work/input/labels.csv"
fi

echo "== a tiny model ($bins bins, one epoch on 2,000 spectra)"
if [ ! -f "$work/model/checkpoint.safetensors" ]; then
  "$zcnn" train --data "$work/block" --out "$work/model" --epochs 1 --bins "$bins" --max-train 2000
fi

# Runs "$@" under /usr/bin/time -v and prints its table row: command, peak RSS, wall time, rate.
measure() {
  local name=$1
  shift
  echo "$zcnn $*"
  /usr/bin/time -v "$zcnn" "$@" >"$work/$name.out" 2>"$work/$name.time" || { cat "$work/$name.time" >&2; exit 1; }
  local rss_kb wall seconds
  rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$name.time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$work/$name.time")
  seconds=$(awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$wall")
  rows+=("$(awk -v c="$name" -v n="$n" -v in_b="$input_bytes" -v rss="$rss_kb" -v s="$seconds" 'BEGIN {
    printf "| %s | %d | %.0f MB | %.0f MB | %.1f s | %.0f |", c, n, in_b / 1e6, rss * 1024 / 1e6, s, n / s }')")
}
rows=()
mkdir -p "$work/out"
for command in $commands; do
  case "$command" in
    predict)
      echo "== predict $n spectra"
      measure predict predict --checkpoint "$work/model/checkpoint.safetensors" --spectra "$big" \
        --labels "$work/input/labels.csv" --out "$work/out/z.csv" --catalog "$work/out/z.fits" \
        --pdfs "$work/out/$pdfs" --parquet "$work/out/z.parquet" --overwrite
      grep -E "^predicted" "$work/predict.time"
      ;;
    evaluate)
      echo "== evaluate $n spectra"
      measure evaluate evaluate --checkpoint "$work/model/checkpoint.safetensors" --data "$work/input" \
        --all --out "$work/out/report" --catalog "$work/out/evaluated.fits" --overwrite
      grep -E "success|sigma" "$work/evaluate.out" | head -3
      ;;
    *) echo "unknown command '$command' in COMMANDS (predict, evaluate)" >&2; exit 2 ;;
  esac
done
ls -l "$work/out"
echo
echo "| command | spectra | input NPY | peak RSS | wall time | spectra/s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
