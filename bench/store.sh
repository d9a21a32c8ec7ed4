#!/usr/bin/env bash
# Job store benchmark (release build of StoreTestWorker, which drives the Store module in-process).
#   enqueue   10,000 new jobs in one call                                target ≤ 1 s
#   drain×1   claim + 7 checkpoints + complete, one process              target ≥ 1,000 jobs/s
#   drain×4   the same with 4 processes contending on one store          target: no errors, ≥ 70% of drain×1
#   rescan    an unchanged tree of 10,000 files, enqueueing nothing      target ≤ 2 s
# Reference, side by side: the sqlite3 CLI inserting the same 10,000 rows in one transaction.
# Medians of $RUNS runs; peak RSS of the worker via /usr/bin/time -f %M.
# Env: BENCH_DIR (inputs, kept between runs), STORE_WORKER (a prebuilt worker), or
#      STORE_BENCH_SCRATCH (SwiftPM scratch path for building it; default .build, as `make`).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
JOBS="${JOBS:-4000}"
FILES="${FILES:-10000}"
bench_dir="${BENCH_DIR:-/tmp/recap-bench}"
mkdir -p "$bench_dir"
work="$(mktemp -d "$bench_dir/store.XXXXXX")"
trap 'rm -rf "$work"' EXIT

worker="${STORE_WORKER:-}"
if [ -z "$worker" ]; then
  scratch="${STORE_BENCH_SCRATCH:-.build}"
  swift build -c release --product StoreTestWorker --scratch-path "$scratch" >"$work/build.log" 2>&1 \
    || { echo "store bench: building StoreTestWorker failed"; tail -20 "$work/build.log"; exit 1; }
  worker="$scratch/release/StoreTestWorker"
fi

rss() { /usr/bin/time -f %M -a -o "$work/rss" "$@"; }
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(statistics.median(v))'; }
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

for r in $(seq "$RUNS"); do
  # enqueue 10,000 into a fresh store (the store is created first, outside the timing)
  s="$work/enq$r.sqlite"
  rss "$worker" bench-enqueue --store "$s" --count 1 >/dev/null
  rss "$worker" bench-enqueue --store "$s" --count 10000 | field seconds >>"$work/enqueue"

  # reference: sqlite3 CLI, same 10,000 rows, one transaction, WAL
  ref="$work/ref$r.sqlite"
  sqlite3 "$ref" "PRAGMA journal_mode=WAL; CREATE TABLE jobs(id INTEGER PRIMARY KEY, fingerprint TEXT, pipeline TEXT,
    pipelineVersion TEXT, engine TEXT, path TEXT, state TEXT, attempts INT, maxAttempts INT, notBefore REAL,
    createdAt REAL, updatedAt REAL, UNIQUE(fingerprint, pipeline, pipelineVersion, engine));" >/dev/null
  python3 - "$work/ref$r.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("BEGIN IMMEDIATE;\n")
    for i in range(10000):
        f.write(f"INSERT INTO jobs VALUES(NULL,'fp-{i}','test','1','fake','/media/file-{i}.mp4','queued',0,4,1,1,1);\n")
    f.write("COMMIT;\n")
PY
  t0=$(date +%s.%N); sqlite3 "$ref" <"$work/ref$r.sql"; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l >>"$work/reference"

  # one process draining $JOBS jobs
  s="$work/one$r.sqlite"
  "$worker" bench-enqueue --store "$s" --count "$JOBS" >/dev/null
  rss "$worker" bench-drain --store "$s" >"$work/one$r.jsonl"
  python3 - "$work/one$r.jsonl" >>"$work/drain1" <<'PY'
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
print(sum(r["jobs"] for r in rows)/(max(r["end"] for r in rows)-min(r["start"] for r in rows)))
PY
  python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r["jobs"]/r["cpuSeconds"])' "$work/one$r.jsonl" >>"$work/drain1cpu"

  # four processes draining $JOBS jobs from one store
  s="$work/four$r.sqlite"
  "$worker" bench-enqueue --store "$s" --count "$JOBS" >/dev/null
  for p in 1 2 3 4; do rss "$worker" bench-drain --store "$s" >"$work/four$r.$p.jsonl" & done
  wait
  cat "$work"/four$r.*.jsonl >"$work/four$r.jsonl"
  python3 - "$work/four$r.jsonl" "$JOBS" "$s" >>"$work/drain4" 2>>"$work/drain4.err" <<'PY'
import json,sys,sqlite3
rows=[json.loads(l) for l in open(sys.argv[1])]
jobs=sum(r["jobs"] for r in rows); errors=sum(r["errors"] for r in rows)
done=sqlite3.connect(sys.argv[3]).execute("select count(*) from jobs where state='succeeded'").fetchone()[0]
if errors or jobs != int(sys.argv[2]) or done != jobs:
    print(f"run: {errors} errors, {jobs} jobs reported, {done} succeeded in the store", file=sys.stderr)
print(jobs/(max(r["end"] for r in rows)-min(r["start"] for r in rows)))
PY
done

# rescan: a 10,000-file tree made once (kept in BENCH_DIR), one priming scan, then timed re-scans.
tree="$bench_dir/store-tree-$FILES"
"$worker" bench-tree --dir "$tree" --count "$FILES" >/dev/null
s="$work/rescan.sqlite"
"$worker" bench-rescan --store "$s" --dir "$tree" >"$work/prime.json"
for r in $(seq "$RUNS"); do
  rss "$worker" bench-rescan --store "$s" --dir "$tree" >"$work/rescan$r.json"
  field seconds <"$work/rescan$r.json" >>"$work/rescan"
  field enqueued <"$work/rescan$r.json" >>"$work/rescan.enqueued"
  field fingerprinted <"$work/rescan$r.json" >>"$work/rescan.read"
done

enqueue=$(median <"$work/enqueue"); reference=$(median <"$work/reference")
one=$(median <"$work/drain1"); four=$(median <"$work/drain4"); onecpu=$(median <"$work/drain1cpu")
load=$(cut -d' ' -f1 /proc/loadavg)
rescan=$(median <"$work/rescan")
enqueued=$(sort -n "$work/rescan.enqueued" | tail -1); fread=$(sort -n "$work/rescan.read" | tail -1)
prime=$(field seconds <"$work/prime.json")
peak=$(sort -n "$work/rss" | tail -1)
errors=$( [ -s "$work/drain4.err" ] && cat "$work/drain4.err" || echo none)

python3 - "$enqueue" "$reference" "$one" "$four" "$rescan" "$enqueued" "$fread" "$prime" "$peak" "$RUNS" "$JOBS" "$FILES" "$errors" "$onecpu" "$load" <<'PY'
import sys
enq, ref, one, four, rescan = map(float, sys.argv[1:6])
enqueued, fread, prime, peak, runs, jobs, files = sys.argv[6:13]
errors = sys.argv[13]
onecpu, load = float(sys.argv[14]), sys.argv[15]
ok = lambda b: "ok" if b else "MISSED"
print(f"store benchmark: medians of {runs} runs, release build ({jobs} jobs per drain, {files}-file tree), "
      f"{__import__('os').cpu_count()} CPUs, load average {load} at the end")
print(f"{'measure':44} {'value':>14} {'target':>16}  result")
print(f"{'enqueue 10,000 jobs':44} {enq:>12.3f} s {'<= 1 s':>16}  {ok(enq <= 1)}")
print(f"{'  reference: sqlite3 CLI, same rows':44} {ref:>12.3f} s {'':>16}  ratio {enq/ref:.2f}x")
print(f"{'claim + 7 checkpoints + complete, 1 process':44} {one:>8.0f} jobs/s {'>= 1,000 jobs/s':>16}  {ok(one >= 1000)}")
print(f"{'  CPU cost: jobs per CPU-second (load-free)':44} {onecpu:>8.0f} jobs/s")
print(f"{'  same, 4 contending processes (total)':44} {four:>8.0f} jobs/s {'>= 70% of 1 proc':>16}  {ok(four >= 0.7*one)} ({four/one:.0%})")
print(f"{'  errors in 4-process runs':44} {errors:>14} {'none':>16}  {ok(errors == 'none')}")
print(f"{'rescan unchanged 10,000 files':44} {rescan:>12.3f} s {'<= 2 s':>16}  {ok(rescan <= 2 and enqueued == '0')}")
print(f"{'  jobs enqueued / files read by it':44} {enqueued + ' / ' + fread:>14} {'0 / 0':>16}")
print(f"{'  first scan (fingerprints all, enqueues)':44} {float(prime):>12.3f} s")
print(f"{'peak RSS of a worker process':44} {int(peak)/1024:>11.1f} MiB")
PY
