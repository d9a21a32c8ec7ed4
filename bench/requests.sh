#!/usr/bin/env bash
# bench/requests.sh: how many requests `recap run` sends to an engine that takes text, images and audio
# (the vLLM + Gemma 3n shape), per minute of media, over samples/. The engine is scripts/standin-openai.py,
# a recording stand-in that answers instantly, so the wall time is Recap's own (decoding, planning, I/O).
# Requests: one per ≤ 30 s audio clip (hear), one per group of up to 8 frames (see), one summary per file
# (more only when a file's evidence exceeds the context). Env: RECAP_BIN; RUNS (default 3).
set -euo pipefail
recap="${RECAP_BIN:?}"; runs="${RUNS:-3}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
export RECAP_PIPELINES="$repo/pipelines"
tmp="$(mktemp -d)"
python3 "$repo/scripts/standin-openai.py" "$tmp/requests.jsonl" > "$tmp/port" &
server=$!
trap 'kill -9 $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port="$(head -1 "$tmp/port")"

walls=()
for i in $(seq "$runs"); do
  rm -rf "$tmp/out" "$tmp/requests.jsonl"
  /usr/bin/time -f "%e" -o "$tmp/t" "$recap" run "$repo/samples" --out "$tmp/out" --json --engine openai --preset vllm \
    --base-url "http://127.0.0.1:$port/v1" > "$tmp/summary.json" 2> "$tmp/stderr" || { echo "recap run failed:"; tail -5 "$tmp/stderr"; exit 1; }
  walls+=("$(cat "$tmp/t")")
done
python3 - "$tmp/requests.jsonl" "$tmp/summary.json" "${walls[@]}" <<'PY'
import json, sys, statistics
reqs = [json.loads(l) for l in open(sys.argv[1])]
summary = json.load(open(sys.argv[2]))
walls = sorted(float(w) for w in sys.argv[3:])
kinds = {}
for r in reqs:
    if r["path"] != "/v1/chat/completions":
        continue
    name = ((r["body"] or {}).get("response_format") or {}).get("json_schema", {}).get("name", "?")
    kinds[name] = kinds.get(name, 0) + 1
minutes = summary["media_seconds"] / 60
total = sum(kinds.values())
print(f"samples/: {summary['succeeded']} files, {summary['media_seconds']:.1f} s of media; wall median {statistics.median(walls):.2f} s over {len(walls)} runs")
print(f"{'request':28} {'count':>6} {'per media minute':>17}")
for k, n in sorted(kinds.items()):
    print(f"{k:28} {n:6d} {n / minutes:17.1f}")
print(f"{'all chat completions':28} {total:6d} {total / minutes:17.1f}")
PY
