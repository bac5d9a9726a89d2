#!/usr/bin/env bash
# Compares zcnn's training and inference throughput with PyTorch's, and its inference with ONNX
# Runtime's, on the reference models (specz-baseline at batch 32 and 256, kim-brunner and
# pasquet at batch 128), measured the same way in the same run: 3 warm-up steps, training for
# SECONDS, inference for SECONDS/2, random inputs and labels, Adam lr 1e-4, cross-entropy.
# zcnn runs `benches/throughput.rs`, PyTorch `scripts/peers/torch_bench.py`, ONNX Runtime
# `scripts/peers/ort_bench.py` (the same PyTorch models exported with torch.onnx.export, graph
# optimisations on); each case runs in its own process so that its peak resident memory is its
# own. Cases alternate between the engines so that all of them see the same load.
#
# Usage:
#   scripts/bench_vs_pytorch.sh [THREADS ...]      e.g. scripts/bench_vs_pytorch.sh 1 2
#
# THREADS: thread counts to measure (zcnn: RAYON_NUM_THREADS, PyTorch: torch.set_num_threads,
# ONNX Runtime: intra_op_num_threads); default: $RAYON_NUM_THREADS, or the number of CPUs.
#
# Environment:
#   ZCNN_TORCH_PYTHON   Python interpreter with torch installed (e.g. a venv's bin/python);
#                       default: python3 if it can import torch, else zcnn is measured alone.
#                       ONNX Runtime is measured when it also imports onnx and onnxruntime.
#   ZCNN_BENCH_REPEATS  runs of every measurement; the table shows their medians (default 1).
#   ZCNN_BENCH_SECONDS  training seconds per measurement, inference half of it (default 8, as
#                       torch_bench.py).
#
# Prints a Markdown table: samples/s of each engine, the ratios zcnn / PyTorch (training and
# inference) and zcnn / the faster of PyTorch and ONNX Runtime (inference), and the peak
# resident memory (MB) of the zcnn and PyTorch processes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

repeats="${ZCNN_BENCH_REPEATS:-1}"
seconds="${ZCNN_BENCH_SECONDS:-8}"
if [[ $# -gt 0 ]]; then
    threads_list=("$@")
else
    threads_list=("${RAYON_NUM_THREADS:-$(nproc 2>/dev/null || echo 1)}")
fi
# model (zcnn's name), batch, and the peers' name of the same model in peer_models.py.
cases=("specz-baseline 32 specz-cnn" "specz-baseline 256 specz-cnn" "kim-brunner 128 kim-brunner"
    "pasquet 128 pasquet")

# --- the PyTorch interpreter, if any ------------------------------------------------------
torch_python="${ZCNN_TORCH_PYTHON:-python3}"
if "$torch_python" -c "import torch" 2>/dev/null; then
    torch_version="$("$torch_python" -c "import torch; print(torch.__version__)")"
else
    if [[ -n "${ZCNN_TORCH_PYTHON:-}" ]]; then
        echo "error: ZCNN_TORCH_PYTHON=$ZCNN_TORCH_PYTHON cannot import torch" >&2
        exit 1
    fi
    echo "note: python3 cannot import torch (set ZCNN_TORCH_PYTHON); measuring zcnn alone" >&2
    torch_python=""
    torch_version="not available"
fi
ort_version="not available"
if [[ -n "$torch_python" ]] && "$torch_python" -c "import onnx, onnxruntime" 2>/dev/null; then
    ort_version="$("$torch_python" -c "import onnxruntime; print(onnxruntime.__version__)")"
else
    echo "note: the PyTorch interpreter cannot import onnx and onnxruntime; no ONNX Runtime column" >&2
fi

# --- build zcnn's runner once and find its executable -------------------------------------
echo "building benches/throughput.rs ..." >&2
zcnn_runner="$(cargo bench -q -p zcnn --bench throughput --no-run --message-format=json \
    | grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d'"' -f4)"
if [[ -z "$zcnn_runner" || ! -x "$zcnn_runner" ]]; then
    echo "error: could not find the throughput bench executable" >&2
    exit 1
fi

# --- one measurement of each engine --------------------------------------------------------
# Each prints "... [train T samples/s] infer I samples/s ..." and maybe "peak_rss_mb R"; this
# reduces such output to "T I R" ("n/a" for a missing T or R).
parse_result() {
    awk '{ for (i = 1; i < NF; i++) {
               if ($i == "train") t = $(i + 1);
               if ($i == "infer") n = $(i + 1);
               if ($i == "peak_rss_mb") r = $(i + 1) } }
         END { if (n == "") exit 1; print (t == "" ? "n/a" : t), n, (r == "" ? "n/a" : r) }'
}

run_zcnn() { # model batch threads
    RAYON_NUM_THREADS="$3" "$zcnn_runner" "$1" "$2" "$seconds" | parse_result
}

run_torch() { # torch_model batch threads
    # Runs the peer script in this interpreter, then reports its peak RSS (ru_maxrss: KiB on
    # Linux) once the selected case has finished.
    PYTHONWARNINGS=ignore "$torch_python" - "$root/scripts/peers/torch_bench.py" "$3" "$1:$2" "$seconds" <<'PY' | parse_result
import resource, runpy, sys
script = sys.argv[1]
sys.argv = sys.argv[1:]
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit as done:
    if done.code not in (None, 0):
        raise
print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
PY
}

run_ort() { # peer_model batch threads
    PYTHONWARNINGS=ignore "$torch_python" "$root/scripts/peers/ort_bench.py" "$3" "$1:$2" "$seconds" \
        | parse_result
}

# --- measure ------------------------------------------------------------------------------
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
echo "engine model batch threads train/s infer/s peak-RSS-MB" >&2
for ((rep = 1; rep <= repeats; rep++)); do
    for threads in "${threads_list[@]}"; do
        for c in "${cases[@]}"; do
            read -r model batch torch_model <<<"$c"
            # Rows: engine model batch threads train/s infer/s RSS-MB (also shown as they come).
            echo "zcnn $model $batch $threads $(run_zcnn "$model" "$batch" "$threads")" \
                | tee -a "$results" >&2
            if [[ -n "$torch_python" ]]; then
                echo "torch $model $batch $threads $(run_torch "$torch_model" "$batch" "$threads")" \
                    | tee -a "$results" >&2
            fi
            if [[ "$ort_version" != "not available" ]]; then
                echo "ort $model $batch $threads $(run_ort "$torch_model" "$batch" "$threads")" \
                    | tee -a "$results" >&2
            fi
        done
    done
done

# --- report -------------------------------------------------------------------------------
# Median of column $5 (train), $6 (infer) or $7 (RSS) of the rows of one engine, model, batch
# and thread count; "-" when there are none.
median() { # engine model batch threads column
    awk -v e="$1" -v m="$2" -v b="$3" -v t="$4" -v col="$5" \
        '$1 == e && $2 == m && $3 == b && $4 == t && $col != "n/a" { print $col }' "$results" \
        | sort -g \
        | awk '{ v[NR] = $1 }
               END { if (NR == 0) print "-";
                     else if (NR % 2) print v[(NR + 1) / 2];
                     else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { # zcnn peer
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

faster() { # peer peer: the larger of two throughputs, ignoring a missing one ("-")
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-") print b; else if (b == "-" || a + 0 >= b + 0) print a; else print b }'
}

cpu="$(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
echo
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  cpu: ${cpu:-unknown} ($(nproc 2>/dev/null || echo '?') CPUs)"
echo "zcnn: $(git rev-parse --short HEAD 2>/dev/null || echo '?')  torch: $torch_version  onnxruntime: $ort_version  repeats: $repeats (medians)  seconds: $seconds train, half for inference"
echo
echo "| model | batch | threads | zcnn train/s | torch train/s | ratio | zcnn infer/s | torch infer/s | ORT infer/s | ratio vs torch | ratio vs faster peer | zcnn peak RSS MB | torch peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for threads in "${threads_list[@]}"; do
    for c in "${cases[@]}"; do
        read -r model batch _ <<<"$c"
        zt="$(median zcnn "$model" "$batch" "$threads" 5)"
        pt="$(median torch "$model" "$batch" "$threads" 5)"
        zi="$(median zcnn "$model" "$batch" "$threads" 6)"
        pi="$(median torch "$model" "$batch" "$threads" 6)"
        oi="$(median ort "$model" "$batch" "$threads" 6)"
        zr="$(median zcnn "$model" "$batch" "$threads" 7)"
        pr="$(median torch "$model" "$batch" "$threads" 7)"
        best="$(faster "$pi" "$oi")"
        echo "| $model | $batch | $threads | $zt | $pt | $(ratio "$zt" "$pt") | $zi | $pi | $oi | $(ratio "$zi" "$pi") | $(ratio "$zi" "$best") | $zr | $pr |"
    done
done
