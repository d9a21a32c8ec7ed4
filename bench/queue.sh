#!/usr/bin/env bash
# Job queue benchmark: claim + one checkpoint + complete per job, with 1, 4 and 16 concurrent workers (tasks of
# one StoreTestWorker process, release build, each PostgreSQL worker on a connection of its own), through the
# JobQueue protocol, against SQLite and against one PostgreSQL 15 server.   target (issue 15): PG ×16 ≥ 2,000 jobs/s
# Client and server share the machine's cores, so PostgreSQL's figures include its own CPU; on 2 cores the
# workers past 4 mostly queue for CPU.
# PostgreSQL is a throwaway cluster with Debian's defaults (fsync and synchronous_commit on), on a free loopback
# port, run as `nobody` when root (initdb refuses root), stopped and removed on exit. Rows: "postgres" waits for
# the WAL flush at each commit (durable); "postgres async" connects with ?synchronous_commit=off, which is what the
# SQLite store does (WAL, synchronous = NORMAL: a crash may lose the last commits, never corrupts).
# Medians of $RUNS runs of $JOBS jobs; "enqueued/s" times enqueueing them first, in batches of 1,000. Env: BENCH_DIR, STORE_WORKER (a prebuilt worker), STORE_BENCH_SCRATCH,
# QUEUE_BENCH_DEADLINE (seconds a PostgreSQL call may wait, default 30; 0 measures without the deadline).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
JOBS="${JOBS:-4000}"
PGBIN=/usr/lib/postgresql/15/bin
bench_dir="${BENCH_DIR:-/tmp/recap-bench}"
mkdir -p "$bench_dir"
work="$(mktemp -d /tmp/recap-queue-bench.XXXXXX)"  # under /tmp: the server user must reach it

as_server() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
cleanup() {
  [ -f "$work/pg/postmaster.pid" ] && as_server "$PGBIN/pg_ctl" -D "$work/pg" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

worker="${STORE_WORKER:-}"
if [ -z "$worker" ]; then
  scratch="${STORE_BENCH_SCRATCH:-.build}"
  swift build -c release --product StoreTestWorker --scratch-path "$scratch" >"$work/build.log" 2>&1 \
    || { echo "queue bench: building StoreTestWorker failed"; tail -20 "$work/build.log"; exit 1; }
  worker="$scratch/release/StoreTestWorker"
fi
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(round(statistics.median(v)))'; }
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

pg_url=""
if [ -x "$PGBIN/initdb" ]; then
  [ "$(id -u)" = 0 ] && chown nobody:nogroup "$work"
  as_server "$PGBIN/initdb" -D "$work/pg" -A trust -U recap -E UTF8 --locale=C >"$work/initdb.log" 2>&1
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  as_server "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
  pg_url="postgres://recap@127.0.0.1:$port/postgres"
else
  echo "queue bench: PostgreSQL 15 is not installed (run scripts/install-debian.sh); SQLite only"
fi

printf "%-16s %8s %10s %12s\n" "store" "workers" "jobs/s" "enqueued/s"
for store in sqlite postgres "postgres async"; do
  [ "$store" != sqlite ] && [ -z "$pg_url" ] && continue
  for w in 1 4 16; do
    : >"$work/rate"; : >"$work/enq"
    for r in $(seq "$RUNS"); do
      case "$store" in
        sqlite) target="$work/q$w.$r.sqlite" ;;
        postgres) target="$pg_url" ;;
        *) target="$pg_url?synchronous_commit=off" ;;
      esac
      "$worker" bench-queue --store "$target" --workers "$w" --count "$JOBS" >"$work/run.json"
      field jobsPerSecond <"$work/run.json" >>"$work/rate"
      field enqueuedPerSecond <"$work/run.json" >>"$work/enq"
    done
    printf "%-16s %8s %10s %12s   (runs: %s)\n" "$store" "$w" "$(median <"$work/rate")" "$(median <"$work/enq")" "$(tr '\n' ' ' <"$work/rate" | python3 -c 'import sys; print(" ".join(str(round(float(x))) for x in sys.stdin.read().split()))')"
  done
done
