#!/usr/bin/env bash
# Where one burn-flex training step of the NAS-Bench-201 benchmark network
# (C=16, N=5, batch 64, the cell of `cargo xtask bench-train-step`) spends its
# time: `perf record` of that harness (flex only, no PyTorch), then the symbols
# with the most samples (self time; the release profile keeps debug info).
#
#   bash benches/profile/flex_train_step.sh [timed steps, default 5]
#
# Needs Linux perf (Debian: `apt-get install linux-perf`) and permission to
# sample (root, or kernel.perf_event_paranoid <= 1). About 1 minute after the
# release build. Samples include the network's construction and one warm-up
# step, a small share beside the timed steps.
set -euo pipefail
cd "$(dirname "$0")/../.."
steps="${1:-5}"
target_dir="${CARGO_TARGET_DIR:-target}"
data="$target_dir/perf-flex-train-step.data"

cargo build --release -p xtask
perf record -F 499 -o "$data" -- "$target_dir/release/xtask" bench-train-step \
  --backends flex --steps "$steps" --warmup 1 --python /nonexistent/python
echo
echo "self time by symbol (≥ 1 % of samples):"
perf report -i "$data" --sort symbol --stdio --percent-limit 1 2>/dev/null \
  | grep '%' | grep -v '^#' | sed 's/[[:space:]-]*$//'
