#!/usr/bin/env bash
# Media benchmarks: recap's frames/audio commands against the ffmpeg CLI doing the same job, side by side,
# in the same run. Medians of BENCH_RUNS runs (default 3), ratios recap/ffmpeg, peak RSS (/usr/bin/time %M).
#
# Inputs (generated once into $BENCH_DIR, not committed): a 10-minute 1920x1080 H.264 (veryfast, B-frames)
# clip with AAC audio and a keyframe every 10 s (one encoded minute, stream-copied ten times), and its first
# minute (stream copy) for the RSS comparison.
#
#   RECAP_BIN=.build/release/recap BENCH_DIR=/tmp/bench bench/media.sh
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/measure.sh"
recap="${RECAP_BIN:?set RECAP_BIN to a release recap binary}"
dir="${BENCH_DIR:?set BENCH_DIR to a cache folder}/media"
runs_default="${BENCH_RUNS:-3}"
runs_long="${BENCH_RUNS_LONG:-$runs_default}"   # the 10-minute full-decode references are slow on 2 cores
mkdir -p "$dir"
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

long="$dir/bench-10min-1080p.mp4"
short="$dir/bench-1min-1080p.mp4"
if [ ! -s "$long" ]; then
  # Encoding 10 minutes of 1080p takes long on 2 cores, so one minute is encoded (keyframe every 10 s)
  # and stream-copied ten times; the AAC track is encoded for the full 10 minutes and muxed in.
  echo "generating $long (one time, a few minutes)..." >&2
  ff -f lavfi -i "testsrc2=s=1920x1080:r=25:d=60" \
     -c:v libx264 -preset veryfast -crf 26 -g 250 -keyint_min 250 -sc_threshold 0 -pix_fmt yuv420p "$dir/minute.mp4"
  : > "$dir/list.txt"
  for _ in 1 2 3 4 5 6 7 8 9 10; do echo "file '$dir/minute.mp4'" >> "$dir/list.txt"; done
  ff -f lavfi -i "sine=f=440:r=48000:d=600,aformat=channel_layouts=stereo" -c:a aac -b:a 128k "$dir/audio.m4a"
  ff -f concat -safe 0 -i "$dir/list.txt" -i "$dir/audio.m4a" -map 0:v -map 1:a -c copy -movflags +faststart "$long.tmp.mp4"
  mv "$long.tmp.mp4" "$long"
  rm -f "$dir/minute.mp4" "$dir/audio.m4a" "$dir/list.txt"
fi
if [ ! -s "$short" ]; then
  ff -i "$long" -t 60 -c copy -movflags +faststart "$short.tmp.mp4" && mv "$short.tmp.mp4" "$short"
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT


declare -A reference=()   # the same ffmpeg command is measured once per clip
row() { # row LABEL TARGET "recap cmd" "ffmpeg cmd"
  local label="$1" target="$2" ours theirs
  ours=$(measure bash -c "$3") || return 1
  if [ -z "${reference[$4]:-}" ]; then reference[$4]=$(measure bash -c "$4") || return 1; fi
  theirs=${reference[$4]}
  read -r ot orss <<< "$ours"; read -r ft frss <<< "$theirs"
  local ratio; ratio=$(awk -v a="$ot" -v b="$ft" 'BEGIN{printf "%.3f", a/b}')
  local ok; ok=$(awk -v r="$ratio" -v t="$target" 'BEGIN{print (t == "-" || r <= t) ? "ok" : "MISSED"}')
  printf '%-34s %9.2fs %9.2fs %8sx %8s %-6s %8.1f %8.1f\n' "$label" "$ot" "$ft" "$ratio" "<= $target" "$ok" \
    "$(awk -v k="$orss" 'BEGIN{print k/1024}')" "$(awk -v k="$frss" 'BEGIN{print k/1024}')"
}

for clip in "$long" "$short"; do
  name=$(basename "$clip")
  runs=$runs_default; [ "$clip" = "$long" ] && runs=$runs_long
  reference=()
  echo
  echo "$name  (median of $runs runs; RSS = peak over runs, MB)"
  printf '%-34s %10s %10s %9s %8s %-6s %8s %8s\n' "pair" "recap" "ffmpeg" "ratio" "target" "" "recapMB" "ffmpegMB"
  row "frames --keyframes" 1.0 \
    "'$recap' frames '$clip' --keyframes --out '$scratch/out/k'" \
    "ffmpeg -hide_banner -loglevel error -nostdin -skip_frame nokey -i '$clip' -f null -"
  row "frames --every 10" 0.25 \
    "'$recap' frames '$clip' --every 10 --out '$scratch/out/e'" \
    "ffmpeg -hide_banner -loglevel error -nostdin -i '$clip' -vf fps=1/10 -f null -"
  # Not an issue target: targets half-way between keyframes, the worst case for seek-and-decode.
  row "frames --count N (mid-GOP)" - \
    "'$recap' frames '$clip' --count $(( $(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip" | cut -d. -f1) / 10 )) --out '$scratch/out/c'" \
    "ffmpeg -hide_banner -loglevel error -nostdin -i '$clip' -vf fps=1/10 -f null -"
  row "audio (16 kHz mono)" 1.0 \
    "'$recap' audio '$clip' --out '$scratch/out/a.wav'" \
    "ffmpeg -hide_banner -loglevel error -nostdin -i '$clip' -vn -ac 1 -ar 16000 -f f32le - > /dev/null"
done
echo
echo "RSS target: recap under 150 MB on both clips, about the same for 1 and 10 minutes."
