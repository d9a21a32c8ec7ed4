#!/usr/bin/env bash
# bench/pipeline.sh: `recap run` end to end with the embedded default engine.
#   - throughput (seconds of media per wall second) on samples/ and on a generated 10-minute talk
#     (espeak-ng narration over generated video), with CPU utilisation of the 2 cores;
#   - the share of time per stage (from the run's --json summary);
#   - peak RSS, 1-minute vs 10-minute talk (target: ≤ 1.2×);
#   - a no-op re-run over 1,000 already-done files (target: ≤ 1 s).
# Reference, side by side in the same run: the same decoding and transcription with the ffmpeg and
# whisper.cpp CLIs (frames at the pipeline's rate, audio to 16 kHz, whisper base on 2 threads): the floor
# the pipeline cannot beat without the language model, so the ratio shows what summarizing adds.
# Env: RECAP_BIN (release binary), BENCH_DIR (generated inputs), RECAP_CACHE; RUNS (default 3).
set -euo pipefail
recap="${RECAP_BIN:?}"; dir="${BENCH_DIR:?}/pipeline"; runs="${RUNS:-3}"
cache="${RECAP_CACHE:-$HOME/.cache/recap}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
export RECAP_PIPELINES="$repo/pipelines"
mkdir -p "$dir"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

calc() { awk "BEGIN { print $* }"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

# --- inputs (generated once, not committed) ---
talk10="$dir/talk-10min.mp4"; talk1="$dir/talk-1min.mp4"
if [ ! -s "$talk10" ]; then
  echo "generating a 10-minute narrated talk (espeak-ng over generated video)…" >&2
  python3 - "$tmp/talk.txt" <<'PY'
import sys, random
random.seed(7)
topics = ["river deltas", "mountain glaciers", "coastal wetlands", "desert dunes", "volcanic islands", "prairie grasslands"]
facts = ["forms slowly over thousands of years", "shelters many birds and fish", "changes with every season",
         "depends on the water that reaches it", "was mapped by early surveyors", "is studied with satellites today"]
lines = []
for i in range(150):
    t = topics[i // 25]
    lines.append(f"Part {i // 25 + 1}. The {t} {random.choice(facts)}, and this matters for the people who live nearby.")
open(sys.argv[1], "w").write("\n".join(lines))
PY
  espeak-ng -s 150 -w "$tmp/talk.wav" -f "$tmp/talk.txt"
  ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=640x360:rate=25" -i "$tmp/talk.wav" \
    -filter_complex "[0:v]hue=H=2*PI*t/100[v];[1:a]apad[a]" -map "[v]" -map "[a]" -t 600 \
    -c:v libx264 -preset veryfast -g 250 -pix_fmt yuv420p -c:a aac -b:a 64k "$talk10"
fi
[ -s "$talk1" ] || ffmpeg -loglevel error -y -i "$talk10" -t 60 -c copy "$talk1"

# One timed run: prints "wall user sys maxrss_kb" and leaves the --json summary in $tmp/summary.json.
timed_run() {  # out_dir input...
  local out="$1"; shift
  rm -rf "$out"
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$recap" run "$@" --out "$out" --json > "$tmp/summary.json" 2> "$tmp/stderr" || {
    rc=$?; [ "$rc" = 2 ] || { echo "recap run failed ($rc):" >&2; cat "$tmp/stderr" >&2; exit 1; }; }
  cat "$tmp/time"
}

# Reference: ffmpeg decodes frames (1 per 2 s, as scene sampling decodes every frame anyway) and audio;
# whisper-cli transcribes the audio with the base model on 2 threads.
whisper_model="$(find "$cache" -name 'ggml-base.bin' -o -name 'whisper-base*.bin' 2>/dev/null | head -1)"
reference() {  # input
  local start end
  start=$(date +%s.%N)
  ffmpeg -loglevel error -y -i "$1" -vf "fps=1/2,scale=768:-2" -f null - 2>/dev/null || true
  ffmpeg -loglevel error -y -i "$1" -vn -ac 1 -ar 16000 "$tmp/ref.wav" 2>/dev/null || true
  if [ -n "$whisper_model" ] && [ -s "$tmp/ref.wav" ]; then
    "$cache/prefix/bin/whisper-cli" -m "$whisper_model" -t 2 -f "$tmp/ref.wav" -np > /dev/null 2>&1 || true
  fi
  end=$(date +%s.%N)
  calc "$end - $start"
}

stage_shares() {
  python3 - "$tmp/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
st = s.get("stage_seconds", {}); tot = sum(st.values()) or 1
order = ["probe", "frames", "audio", "transcribe", "visual", "summarize", "write"]
print("  ".join(f"{k} {100*st.get(k,0)/tot:.0f}%" for k in order))
print(f"engine calls {s.get('engine_calls')}, media {s.get('media_seconds'):.1f} s, files {s.get('succeeded')}", file=sys.stderr)
PY
}

printf "\n%-22s %9s %9s %10s %8s %9s %10s %9s\n" "input" "media s" "wall s" "media/wall" "CPU %" "RSS MB" "ref wall" "ratio"
declare -A RSS
for case in samples talk-1min talk-10min; do
  case $case in
    samples) inp="$repo/samples"; n=$runs;;
    talk-1min) inp="$talk1"; n=$runs;;
    talk-10min) inp="$talk10"; n=1;;
  esac
  walls=(); cpus=(); rsss=(); media=0
  for i in $(seq "$n"); do
    read -r wall user sys rss < <(timed_run "$tmp/out-$case" "$inp")
    media=$(python3 -c "import json;print(json.load(open('$tmp/summary.json'))['media_seconds'])")
    walls+=("$wall"); cpus+=("$(calc "100*($user+$sys)/($wall*2)")"); rsss+=("$rss")
  done
  shares="$(stage_shares 2>/dev/null)"
  refs=()
  if [ "$case" = samples ]; then
    for i in $(seq "$n"); do t=0; for f in "$repo"/samples/*.mp4 "$repo"/samples/*.m4a; do t=$(calc "$t + $(reference "$f")"); done; refs+=("$t"); done
  else
    for i in $(seq "$n"); do refs+=("$(reference "$inp")"); done
  fi
  w=$(printf "%s\n" "${walls[@]}" | median); c=$(printf "%s\n" "${cpus[@]}" | median)
  r=$(printf "%s\n" "${rsss[@]}" | median); ref=$(printf "%s\n" "${refs[@]}" | median)
  RSS[$case]=$r
  printf "%-22s %9.1f %9.2f %10.2f %8.0f %9.1f %10.2f %8.2fx\n" "$case (n=$n)" "$media" "$w" "$(calc "$media/$w")" "$c" \
    "$(calc "$r/1024")" "$ref" "$(calc "$w/$ref")"
  echo "    stage share: $shares"
done
printf "peak RSS 10-min / 1-min: %.2fx (target ≤ 1.2x)\n" "$(calc "${RSS[talk-10min]}/${RSS[talk-1min]}")"

# --- no-op re-run over 1,000 done files ---
many="$dir/many"
if [ ! -f "$many/.done" ]; then
  echo "generating 1,000 distinct tiny clips…" >&2
  rm -rf "$many"; mkdir -p "$many"
  ffmpeg -loglevel error -y -f lavfi -i "color=c=gray:size=64x64:rate=5" -t 0.4 -c:v libx264 -pix_fmt yuv420p "$tmp/tiny.mp4"
  for i in $(seq -w 0 999); do mkdir -p "$many/d${i:0:1}"; cp "$tmp/tiny.mp4" "$many/d${i:0:1}/c$i.mp4"; printf 'recap-bench-%s' "$i" >> "$many/d${i:0:1}/c$i.mp4"; done
  touch "$many/.done"
fi
out="$dir/many-out"
if [ ! -f "$out/.recap/store.sqlite" ]; then
  echo "first run over the 1,000 clips (once)…" >&2
  "$recap" run "$many" --out "$out" --json > "$tmp/many.json" 2> "$tmp/many.err" || { echo "first run failed:"; tail -5 "$tmp/many.err"; }
fi
noops=()
for i in $(seq 5); do
  /usr/bin/time -f "%e" -o "$tmp/t" "$recap" run "$many" --out "$out" --json > "$tmp/noop.json" 2>/dev/null || true
  noops+=("$(cat "$tmp/t")")
done
calls=$(python3 -c "import json;d=json.load(open('$tmp/noop.json'));print(d['engine_calls'], d['unchanged'])")
printf "no-op re-run over 1,000 done files: median %.2f s over 5 (target ≤ 1 s); engine calls, unchanged: %s\n" \
  "$(printf "%s\n" "${noops[@]}" | median)" "$calls"
