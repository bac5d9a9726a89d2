#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS (default 30) on stable Rust; fails on any crash.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-30}
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
export RUSTFLAGS="-C target-cpu=native"
cargo fuzz build -s none
for target in $(cargo fuzz list); do
  echo "== fuzz $target for ${seconds}s"
  # -timeout: an input that runs over 10 s is a failure (with its artifact), not a hang.
  # Seed inputs (e.g. valid NPY files) live in seeds/<target>; the corpus grows in corpus/<target>.
  mkdir -p "corpus/$target"
  seeds=(); [ -d "seeds/$target" ] && seeds=("seeds/$target")
  cargo fuzz run -s none "$target" "corpus/$target" "${seeds[@]}" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=0
done
