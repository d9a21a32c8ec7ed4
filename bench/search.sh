#!/usr/bin/env bash
# Search benchmark (release build of StoreTestWorker, which drives the Store module in-process).
#   scan 100k / 1M   exhaustive cosine search of synthetic 384-dimension half-float vectors held in memory,
#                    top 20                                                      target: 100k well under 1 s
#   store 100k       100k passages with vectors in a store: load them (what `recap search` does once per
#                    call; `recap serve` keeps them loaded) and one hybrid search (FTS5 + vectors + RRF)
# Reference, side by side: numpy's matrix-vector product over the same number of float32 vectors (the usual
# "brute force" baseline), from Debian's python3-numpy when present.
# Medians of $RUNS runs; peak RSS via /usr/bin/time -f %M.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
bench_dir="${BENCH_DIR:-/tmp/recap-bench}"
mkdir -p "$bench_dir"
work="$(mktemp -d "$bench_dir/search.XXXXXX")"
trap 'rm -rf "$work"' EXIT

worker="${STORE_WORKER:-}"
if [ -z "$worker" ]; then
  scratch="${STORE_BENCH_SCRATCH:-.build}"
  swift build -c release --product StoreTestWorker --scratch-path "$scratch" >"$work/build.log" 2>&1 \
    || { echo "search bench: building StoreTestWorker failed"; tail -20 "$work/build.log"; exit 1; }
  worker="$scratch/release/StoreTestWorker"
fi
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(round(statistics.median(v),1))'; }
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

numpy_ms() {  # median ms of a float32 matrix-vector product over N x 384, or "-" without numpy
  python3 - "$1" <<'PY' 2>/dev/null || echo "-"
import sys, time, statistics
import numpy as np
n = int(sys.argv[1]); rng = np.random.default_rng(1)
m = rng.standard_normal((n, 384), dtype=np.float32); q = rng.standard_normal(384, dtype=np.float32)
t = []
for _ in range(9):
    s = time.perf_counter(); d = m @ q; np.argpartition(-d, 20)[:20]; t.append(time.perf_counter() - s)
print(round(statistics.median(t) * 1000, 1))
PY
}

printf "%-22s %12s %12s %12s\n" "case" "recap ms" "numpy f32 ms" "peak RSS MB"
for n in 100000 1000000; do
  : >"$work/q"; : >"$work/rss"
  for r in $(seq "$RUNS"); do
    /usr/bin/time -f %M -a -o "$work/rss" "$worker" bench-vectors --count "$n" | field medianQueryMs >>"$work/q"
  done
  printf "%-22s %12s %12s %12s\n" "scan $n" "$(median <"$work/q")" "$(numpy_ms "$n")" "$(python3 -c 'import sys; print(round(max(int(x) for x in open(sys.argv[1]).read().split())/1024))' "$work/rss")"
done
: >"$work/load"; : >"$work/search"
for r in $(seq "$RUNS"); do
  rm -f "$work/s.sqlite"*
  out="$("$worker" bench-vector-store --store "$work/s.sqlite" --count 100000)"
  echo "$out" | field loadSeconds >>"$work/load"
  echo "$out" | field medianSearchMs >>"$work/search"
done
printf "%-22s %12s\n" "store 100k: load" "$(python3 -c 'import sys,statistics; print(round(statistics.median(float(x) for x in sys.stdin.read().split())*1000,1))' <"$work/load")"
printf "%-22s %12s\n" "store 100k: hybrid" "$(median <"$work/search")"
