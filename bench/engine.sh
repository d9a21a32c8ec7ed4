#!/usr/bin/env bash
# Engine benchmark: llama-server (SmolLM2-135M, 2 threads) prompt and generation tokens/s from its own timings,
# and Recap's overhead per request: wall time of the same request through Recap's OpenAI client
# (`recap engine bench`) minus the server's reported compute, against curl replaying the identical body.
# Medians of $RUNS requests each. Env: RECAP_BIN (release recap), RECAP_CACHE, BENCH_DIR.
set -euo pipefail
recap="${RECAP_BIN:?set RECAP_BIN to the recap binary}"
RUNS="${RUNS:-15}"
work="$(mktemp -d "${BENCH_DIR:-/tmp}/engine.XXXXXX")"
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# One supervised llama-server for everything below.
"$recap" engine serve --json --no-ocr >"$work/serve.json" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 600); do [ -s "$work/serve.json" ] && break; sleep 0.1; done
[ -s "$work/serve.json" ] || { echo "engine bench: llama-server did not start"; cat "$work/serve.err"; exit 1; }
url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$work/serve.json")"

# Warm up (first request loads caches), then the three series.
"$recap" engine bench --base-url "$url" --requests 2 >/dev/null
"$recap" engine bench --base-url "$url" --requests "$RUNS" --vary --max-tokens 128 >"$work/speed.jsonl"
# Room for the whole answer: a reply cut at max_tokens goes through the repair path (a second call), which
# is not the single exchange curl replays. Both sides send the identical body (same max_tokens).
"$recap" engine bench --base-url "$url" --requests "$RUNS" --max-tokens 256 >"$work/recap.jsonl"
"$recap" engine bench --base-url "$url" --max-tokens 256 --dump-body >"$work/body.json"
for _ in $(seq "$RUNS"); do
  curl -sS -o "$work/resp.json" -w '%{time_total}\n' -H 'Content-Type: application/json' \
    --data-binary @"$work/body.json" "$url/chat/completions" >>"$work/curl.times"
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timings"]; print(t["prompt_ms"], t["predicted_ms"])' \
    "$work/resp.json" >>"$work/curl.server"
done

python3 - "$work" <<'PY'
import json, statistics as st, sys, os
w = sys.argv[1]
def lines(name): return [json.loads(l) for l in open(os.path.join(w, name)) if l.strip()]
speed = [r for r in lines("speed.jsonl") if r["calls"] == 1]
recap = [r for r in lines("recap.jsonl") if r["calls"] == 1]
if not speed or not recap:
    sys.exit(f"engine bench: no single-call samples ({len(speed)} speed, {len(recap)} recap): every answer needed a repair")
curl_t = [float(x) for x in open(os.path.join(w, "curl.times"))]
curl_s = [tuple(map(float, l.split())) for l in open(os.path.join(w, "curl.server"))]
med = st.median
print(f"{'measure':<44}{'median':>12}")
print(f"{'llama-server prompt tokens/s (varied prompts)':<44}{med(r['prompt_tps'] for r in speed):>12.1f}")
print(f"{'llama-server generation tokens/s':<44}{med(r['gen_tps'] for r in speed):>12.1f}")
print(f"{'prompt tokens per request':<44}{med(r['prompt_tokens'] for r in speed):>12.0f}")
recap_wall = [r["total_s"] * 1000 for r in recap]
recap_server = [r["prompt_ms"] + r["gen_ms"] for r in recap]
curl_wall = [t * 1000 for t in curl_t]
curl_server = [p + g for p, g in curl_s]
recap_over = med(a - b for a, b in zip(recap_wall, recap_server))
curl_over = med(a - b for a, b in zip(curl_wall, curl_server))
print(f"{'same request, wall ms: recap client':<44}{med(recap_wall):>12.2f}")
print(f"{'same request, wall ms: curl':<44}{med(curl_wall):>12.2f}")
print(f"{'wall - server compute, ms: recap':<44}{recap_over:>12.2f}")
print(f"{'wall - server compute, ms: curl':<44}{curl_over:>12.2f}")
over = recap_over - curl_over
print(f"{'recap overhead per request, ms (target <= 5)':<44}{over:>12.2f}   {'OK' if over <= 5 else 'OVER TARGET'}")
print(f"(n = {len(speed)} speed / {len(recap)} recap / {len(curl_t)} curl requests)")
PY
