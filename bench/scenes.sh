#!/usr/bin/env bash
# Scene detection: recap against PySceneDetect 0.7.2 (the reference to beat), side by side, in the same run.
#
# Quality: `recap frames CLIP --scenes --json`, `scenedetect detect-content` and `scenedetect detect-adaptive`
# (defaults) on every clip of eval/scenes (made by eval/scenes/make-set.sh), scored by eval/scenes/score.py:
# recall per transition kind, score per negative kind, precision/recall/F1.
# Speed: a 10-minute 1920x1080 H.264 file with a hard cut every 7.5 s (one minute of eight lavfi shots, encoded
# once with a keyframe every 10 s, stream-copied ten times), medians of BENCH_RUNS_LONG runs (default
# BENCH_RUNS, default 3) of recap --scenes, `scenedetect detect-content` (detection only, no output files) and
# a full decode by the ffmpeg CLI; peak RSS of recap on its first minute (BENCH_RUNS runs) against the 10 minutes.
#
# PySceneDetect is installed the first time into $BENCH_DIR/venv-scenedetect (pinned below, from PyPI, into a
# venv of Debian's python3); only this benchmark uses it.
#
#   RECAP_BIN=.build/release/recap BENCH_DIR=/tmp/bench bench/scenes.sh
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/measure.sh"
recap="${RECAP_BIN:?set RECAP_BIN to a release recap binary}"
bench="${BENCH_DIR:?set BENCH_DIR to a cache folder}"
dir="$bench/scenes"
runs_default="${BENCH_RUNS:-3}"
runs_long="${BENCH_RUNS_LONG:-$runs_default}"
cd "$(dirname "$0")/.."
mkdir -p "$dir"
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
py=/usr/bin/python3; [ -x "$py" ] || py=python3

# ------------------------------------------------------------------------------------------ PySceneDetect
pins=(scenedetect==0.7.2 opencv-python==4.12.0.88 numpy==2.2.6 click==8.1.8 platformdirs==4.3.6 tqdm==4.67.1)
venv="$bench/venv-scenedetect"
sd="$venv/bin/scenedetect"
apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "scenes: need Debian packages: $* (run as root, or apt-get install them)" >&2; exit 1; fi
  if [ -z "${apt_updated:-}" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}
if [ "$(cat "$venv/.pins" 2> /dev/null)" != "${pins[*]}" ]; then
  echo "installing PySceneDetect into $venv (one time)..." >&2
  rm -rf "$venv"
  "$py" -c 'import ensurepip, venv' 2> /dev/null || apt_install python3-venv
  "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-input "${pins[@]}"
  # opencv-python's wheel links libGL and GLib
  "$venv/bin/python" -c 'import cv2' 2> /dev/null || apt_install libgl1 libglib2.0-0
  "$venv/bin/python" -c 'import cv2, scenedetect'
  echo "${pins[*]}" > "$venv/.pins"
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# ------------------------------------------------------------------------------------------ quality
# quality SET [--holdout]: the three detectors on one labelled set, scored the same way.
quality() {
  set_dir="${RECAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recap}/eval/$1"
  eval/scenes/make-set.sh ${2:-} "$set_dir" > /dev/null
  truth="$set_dir/truth.json"
  q="$scratch/quality-$1"
  mkdir -p "$q/recap" "$q/content" "$q/adaptive"
  mapfile -t clips < <("$py" -c 'import json,sys; [print(c["file"]) for c in json.load(open(sys.argv[1]))["clips"]]' "$truth")
  for c in "${clips[@]}"; do
    stem="${c%.*}"
    "$recap" frames "$set_dir/$c" --scenes --json --out "$q/recap/$stem" > "$q/recap/$stem.json" 2> "$q/err" || {
      echo "FAILED: recap frames $c --scenes" >&2; cat "$q/err" >&2; exit 1; }
    for det in content adaptive; do
      "$sd" -q -i "$set_dir/$c" -o "$q/$det" "detect-$det" list-scenes -q > /dev/null 2> "$q/err" || {
        echo "FAILED: scenedetect detect-$det on $c" >&2; cat "$q/err" >&2; exit 1; }
    done
  done
  eval/scenes/score.py "$truth" --from-recap "$q/recap" --json --label recap > "$q/recap.json"
  eval/scenes/score.py "$truth" --from-scenedetect "$q/content" --json --label detect-content > "$q/content.json"
  eval/scenes/score.py "$truth" --from-scenedetect "$q/adaptive" --json --label detect-adaptive > "$q/adaptive.json"
  echo
  echo "quality on eval/$1 (${#clips[@]} clips): transitions found (recall); negatives with a false detection (score = 1 - share)"
  "$py" - "$q/recap.json" "$q/content.json" "$q/adaptive.json" <<'PY'
import json, sys
rs = [json.load(open(p)) for p in sys.argv[1:]]
w = 17
print(f"{'kind':<12}{'count':>6}" + "".join(f"{r['label']:>{w}}" for r in rs))
print(f"{'transitions':<18}" + "".join(f"{'found (recall)':>{w}}" for r in rs))
for k, v in rs[0]["kinds"].items():
    col = "found" if "found" in v else "false"
    if col == "false" and k == next(k2 for k2, v2 in rs[0]["kinds"].items() if "false" in v2):
        print(f"{'negatives':<18}" + "".join(f"{'false (score)':>{w}}" for r in rs))
    cells = "".join(f"{r['kinds'][k][col]:>{w - 7}} ({r['kinds'][k]['score']:.2f})" for r in rs)
    print(f"{k:<12}{v['count']:>6}{cells}")
print(f"{'FP elsewhere':<18}" + "".join(f"{r['fp_elsewhere']:>{w}}" for r in rs))
print(f"{'TP / FP / FN':<18}" + "".join(f"{'%d / %d / %d' % (r['tp'], r['fp'], r['fn']):>{w}}" for r in rs))
for key in ("precision", "recall", "f1"):
    print(f"{key.upper() if key == 'f1' else key:<18}" + "".join(f"{r[key]:>{w}.3f}" for r in rs))
best = max(rs[1:], key=lambda r: r["f1"])
print(f"F1: recap {rs[0]['f1']:.3f}, best PySceneDetect ({best['label']}) {best['f1']:.3f}: "
      f"{'ok' if rs[0]['f1'] > best['f1'] else 'MISSED'} (target: recap higher)")
PY
}
# The tuning set (the detector's thresholds were chosen on it) and the held-out set (they were not).
quality scenes
quality scenes-holdout --holdout

# ------------------------------------------------------------------------------------------ speed
media="$bench/media"
mkdir -p "$media"
long="$media/bench-10min-1080p-cuts.mp4"
short="$media/bench-1min-1080p-cuts.mp4"
if [ ! -s "$long" ]; then
  echo "generating $long (one time, a few minutes)..." >&2
  # Eight 7.5 s shots, hard cuts, textured and moving, camera noise; encoded as one minute, then copied.
  s="s=960x540:r=25"
  ff -filter_complex_threads 1 -filter_complex "
    testsrc2=s=1920x1080:r=25,format=yuv420p[v0];
    mandelbrot=$s:maxiter=200:start_scale=0.5:end_scale=0.01:end_pts=200,format=yuv420p[v1];
    life=s=240x135:r=25:seed=3:ratio=0.3:mold=10:life_color=#ffd070:death_color=#102040:mold_color=#a03020,format=yuv420p[v2];
    smptehdbars=$s,scroll=h=0.003,format=yuv420p[v3];
    gradients=$s:n=5:seed=4:speed=0.05:type=radial,format=yuv420p[v4];
    cellauto=s=480x270:r=25:rule=30:seed=5:scroll=1,format=gray,format=yuv420p,lutyuv=u=110:v=160[v5];
    sierpinski=$s:seed=6:jump=40,format=yuv420p,hue=h=120[v6];
    testsrc2=$s,hue=h=200,format=yuv420p,vflip[v7];
    $(for i in 0 1 2 3 4 5 6 7; do printf '[v%d]trim=end_frame=%d,scale=1920:1080:flags=bicubic,setsar=1,settb=1/25,setpts=N[w%d];' $i $((188 - i % 2)) $i; done)
    [w0][w1][w2][w3][w4][w5][w6][w7]concat=n=8:v=1:a=0,noise=alls=6:allf=t[out]" -map "[out]" \
    -c:v libx264 -threads 1 -preset veryfast -crf 26 -g 250 -keyint_min 250 -sc_threshold 0 -pix_fmt yuv420p \
    "$media/minute-cuts.mp4"
  : > "$media/list-cuts.txt"
  for _ in 1 2 3 4 5 6 7 8 9 10; do echo "file '$media/minute-cuts.mp4'" >> "$media/list-cuts.txt"; done
  ff -f concat -safe 0 -i "$media/list-cuts.txt" -c copy -movflags +faststart "$long.tmp.mp4"
  mv "$long.tmp.mp4" "$long"
  rm -f "$media/minute-cuts.mp4" "$media/list-cuts.txt"
fi
if [ ! -s "$short" ]; then
  ff -i "$long" -t 60 -c copy -movflags +faststart "$short.tmp.mp4" && mv "$short.tmp.mp4" "$short"
fi

mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
ratio_row() { # LABEL OURS_S THEIRS_S TARGET
  local r ok; r=$(awk -v a="$2" -v b="$3" 'BEGIN{printf "%.3f", a/b}')
  ok=$(awk -v r="$r" -v t="$4" 'BEGIN{print (r <= t) ? "ok" : "MISSED"}')
  printf '%-30s %8sx %8s %s\n' "$1" "$r" "<= $4" "$ok"
}

runs=$runs_long
echo
echo "$(basename "$long")  (median of $runs runs; RSS = peak over runs)"
read -r rt rrss <<< "$(measure "$recap" frames "$long" --scenes --out "$scratch/out/r")"
read -r st srss <<< "$(measure "$sd" -q -i "$long" detect-content)"
read -r ft frss <<< "$(measure ffmpeg -hide_banner -loglevel error -nostdin -threads 2 -i "$long" -f null -)"
printf '%-44s %9s %9s\n' "command" "seconds" "peak MB"
printf '%-44s %9.2f %9s\n' "recap frames --scenes" "$rt" "$(mb "$rrss")"
printf '%-44s %9.2f %9s\n' "scenedetect detect-content (defaults)" "$st" "$(mb "$srss")"
printf '%-44s %9.2f %9s\n' "ffmpeg -threads 2 -f null (full decode)" "$ft" "$(mb "$frss")"
ratio_row "recap / scenedetect" "$rt" "$st" 0.8
ratio_row "recap / ffmpeg decode" "$rt" "$ft" 1.1
runs=$runs_default
read -r _ srss1 <<< "$(measure "$recap" frames "$short" --scenes --out "$scratch/out/r")"
r=$(awk -v a="$rrss" -v b="$srss1" 'BEGIN{printf "%.2f", a/b}')
echo "recap peak RSS: $(mb "$srss1") MB on the first minute, $(mb "$rrss") MB on 10 minutes (x$r;" \
  "target: flat, $(awk -v r="$r" 'BEGIN{print (r <= 1.2) ? "ok" : "MISSED"}'))"
