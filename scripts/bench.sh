#!/usr/bin/env bash
# make bench: every area's benchmark, side by side with its reference tool, medians and ratios.
# Generated inputs go to $RECAP_CACHE/bench (not committed). Each bench/<area>.sh prints its own table.
set -euo pipefail
recap="$(readlink -f "$1")"
export RECAP_BIN="$recap"
export BENCH_DIR="${RECAP_CACHE:?run through make}/bench"
mkdir -p "$BENCH_DIR"
cd "$(dirname "$0")/.."
for area in media scenes store queue search speech engine requests pipeline; do
  if [ -x "bench/$area.sh" ]; then
    echo; echo "=== $area ==="
    "bench/$area.sh"
  fi
done
