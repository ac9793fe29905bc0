#!/usr/bin/env bash
# Where one burn-flex training step of the NAS-Bench-201 benchmark network
# (C=16, N=5, batch 64, the cell of `cargo xtask bench-train-step`) spends its
# time: `perf record` of that harness (flex only, no PyTorch), then the symbols
# with the most samples (self time; the release profile keeps line tables).
#
#   bash benches/profile/flex_train_step.sh [timed steps, default 5]
#   CALL_GRAPH=1 bash benches/profile/flex_train_step.sh   # also the callers of
#                                                          # the top symbols (DWARF unwinding)
#
# Needs Linux perf (Debian: `apt-get install linux-perf`) and permission to
# sample user space (root, or kernel.perf_event_paranoid <= 2). About 1 minute
# after the release build. Samples include the network's construction and one
# warm-up step, a small share beside the timed steps.
set -euo pipefail
cd "$(dirname "$0")/../.."
steps="${1:-5}"
target_dir="${CARGO_TARGET_DIR:-target}"
data="$target_dir/perf-flex-train-step.data"

cargo build --release -p xtask
if [[ -n "${CALL_GRAPH:-}" ]]; then
  record=(-F 97 --call-graph dwarf,16384)
  report=(--call-graph=caller,1 --percent-limit 5)
else
  record=(-F 499)
  report=(--percent-limit 1)
fi
perf record "${record[@]}" -o "$data" -- "$target_dir/release/xtask" bench-train-step \
  --backends flex --steps "$steps" --warmup 1 --python /nonexistent/python
echo
echo "self time by symbol:"
perf report -i "$data" --no-children --sort symbol --stdio "${report[@]}" > "$data.txt"
grep -v '^#' "$data.txt" | grep -v '^$' | sed 's/[[:space:]-]*$//'
