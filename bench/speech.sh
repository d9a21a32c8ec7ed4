#!/usr/bin/env bash
# Speech benchmark: recap transcribe vs whisper.cpp's own CLI (built by scripts/deps.sh from the same
# source, same flags) on the same generated audio, 2 threads, greedy decoding on both sides (the CLI's
# default is a 5-beam search: -bs 1 makes it greedy like recap; the CLI assumes English, so recap gets
# --language en too instead of detecting it). Medians of RUNS runs, side by side.
# Also the peak RSS of `recap transcribe` on a generated 10-minute file with base.
#
# Env: RECAP_BIN (release recap), BENCH_DIR (generated inputs), RECAP_CACHE; RUNS (default 3).
set -euo pipefail
: "${RECAP_BIN:?run through make bench}" "${BENCH_DIR:?run through make bench}" "${RECAP_CACHE:?}"
RECAP_PREFIX="${RECAP_PREFIX:-$RECAP_CACHE/prefix}"
RUNS="${RUNS:-3}"
CLI="$RECAP_PREFIX/bin/whisper-cli"
[ -x "$CLI" ] || { echo "speech bench: $CLI missing: run make deps" >&2; exit 1; }
dir="$BENCH_DIR/speech"; mkdir -p "$dir"

# ~75 s of varied English narration (espeak-ng), as 16 kHz mono 16-bit WAV: what both tools read.
speech="$dir/speech-75s.wav"
if [ ! -s "$speech" ]; then
  text="Recap turns folders of videos into captions, summaries and transcripts on your own machine. \
It probes each file, samples frames, and extracts the audio at sixteen kilohertz. \
Speech is recognised by whisper, running in the same process, with two threads. \
A small language model then writes a summary in structured form. \
Everything is stored in a job database, so an interrupted run resumes where it stopped. \
The river carries sand and mud to the sea, where a delta slowly forms. \
Over many years, the new land is colonised by plants, and then by birds. \
Lectures, meetings and family archives are the most common inputs. \
Creators use it to write captions for social media, and administrators run it from cron. \
Nothing leaves the computer unless the user points it at a server. \
The quick brown fox jumps over the lazy dog, and the five boxing wizards jump quickly. \
This is the end of the benchmark narration. Thank you for listening."
  espeak-ng -v en-us -s 150 -w "$dir/raw.wav" "$text"
  ffmpeg -nostdin -loglevel error -y -i "$dir/raw.wav" -ar 16000 -ac 1 -c:a pcm_s16le "$speech"
  rm -f "$dir/raw.wav"
fi
# 10 minutes: the narration looped, AAC in an .m4a (recap decodes and resamples it while streaming).
long="$dir/speech-10min.m4a"
if [ ! -s "$long" ]; then
  ffmpeg -nostdin -loglevel error -y -stream_loop -1 -i "$speech" -t 600 -c:a aac -b:a 64k "$long"
fi
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$speech")
# A talk as archives hold them: 30 s of music, the narration, 20 s of silence (VAD should skip the rest).
mixed="$dir/music-speech-silence-v2.wav"
if [ ! -s "$mixed" ]; then
  # The tests' music: a melody with a percussive tick twice a second (a pure tremolo melody is taken for
  # singing by Silero VAD; the tests cover that case).
  ffmpeg -nostdin -loglevel error -y -f lavfi -i "aevalsrc=0.25*sin(2*PI*(220*pow(2\\,floor(mod(t*3\\,8))/12))*t)*(0.5+0.5*sin(2*PI*3*t))+0.15*sin(2*PI*110*t)+0.1*(random(0)-0.5)*lt(mod(t\\,0.5)\\,0.05):s=16000:d=30" \
    -i "$speech" -f lavfi -i "anullsrc=r=16000:cl=mono:d=20" \
    -filter_complex "[0][1][2]concat=n=3:v=0:a=1" -ar 16000 -ac 1 -c:a pcm_s16le "$mixed"
fi
mixed_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$mixed")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN {print b - a}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }

printf '\naudio: %.1f s of speech, 2 threads, %s runs each (medians)\n' "$dur" "$RUNS"
printf '%-16s %12s %12s %10s %14s\n' model "whisper-cli s" "recap s" "ratio" "recap × realtime"
for m in whisper-base whisper-tiny.en; do
  model=$("$RECAP_BIN" models path "$m")
  short=${m#whisper-}
  "$CLI" -m "$model" -f "$speech" -t 2 -bs 1 -np >/dev/null 2>&1  # warm the page cache
  cli_t=(); rec_t=()
  for _ in $(seq "$RUNS"); do
    cli_t+=("$(seconds "$CLI" -m "$model" -f "$speech" -t 2 -bs 1 -np)")
    rec_t+=("$(seconds "$RECAP_BIN" transcribe "$speech" --model "$short" --threads 2 --language en --json)")
  done
  c=$(printf '%s\n' "${cli_t[@]}" | median); r=$(printf '%s\n' "${rec_t[@]}" | median)
  printf '%-16s %12.2f %12.2f %9.2fx %13.1fx\n' "$m" "$c" "$r" "$(div "$r" "$c")" "$(div "$dur" "$r")"
done
echo "targets: ratio ≤ 1.10, base ≥ 10× realtime"

# VAD: recap hands whisper only the speech; the CLI decodes all of it (music and silence included).
model=$("$RECAP_BIN" models path whisper-base)
cli_t=(); rec_t=()
for _ in $(seq "$RUNS"); do
  cli_t+=("$(seconds "$CLI" -m "$model" -f "$mixed" -t 2 -bs 1 -np)")
  rec_t+=("$(seconds "$RECAP_BIN" transcribe "$mixed" --model base --threads 2 --language en --json)")
done
c=$(printf '%s\n' "${cli_t[@]}" | median); r=$(printf '%s\n' "${rec_t[@]}" | median)
printf '\nmusic + speech + silence (%.0f s), base: whisper-cli %.2f s, recap (Silero VAD + whisper) %.2f s: %.2fx (target ≤ 1.00), %.1fx realtime\n' \
  "$mixed_dur" "$c" "$r" "$(div "$r" "$c")" "$(div "$mixed_dur" "$r")"

# Speaker labels: the same transcription with and without the voice encoder; the cost per minute of speech.
with=(); without=()
for _ in $(seq "$RUNS"); do
  with+=("$(seconds "$RECAP_BIN" transcribe "$speech" --model base --threads 2 --language en --json)")
  without+=("$(seconds "$RECAP_BIN" transcribe "$speech" --model base --threads 2 --language en --json --no-speakers)")
done
w=$(printf '%s\n' "${with[@]}" | median); wo=$(printf '%s\n' "${without[@]}" | median)
printf '\nspeaker labels (GE2E voice encoder): %.2f s with, %.2f s without: %.2f s per minute of speech (%.0f%% of transcription)\n' \
  "$w" "$wo" "$(awk -v a="$w" -v b="$wo" -v d="$dur" 'BEGIN {print (a - b) * 60 / d}')" "$(awk -v a="$w" -v b="$wo" 'BEGIN {print (a - b) / b * 100}')"

# Under load: two busy loops on this machine's cores, the same transcription, beside the CLI.
loaded() { yes >/dev/null & local y1=$!; yes >/dev/null & local y2=$!; sleep 0.5; seconds "$@"; kill "$y1" "$y2"; wait "$y1" "$y2" 2>/dev/null || true; }
idle_r=(); load_r=(); idle_c=(); load_c=()
for _ in $(seq "$RUNS"); do
  idle_r+=("$(seconds "$RECAP_BIN" transcribe "$speech" --model base --threads 2 --language en --json)")
  load_r+=("$(loaded "$RECAP_BIN" transcribe "$speech" --model base --threads 2 --language en --json)")
  idle_c+=("$(seconds "$CLI" -m "$model" -f "$speech" -t 2 -bs 1 -np)")
  load_c+=("$(loaded "$CLI" -m "$model" -f "$speech" -t 2 -bs 1 -np)")
done
ir=$(printf '%s\n' "${idle_r[@]}" | median); lr=$(printf '%s\n' "${load_r[@]}" | median)
ic=$(printf '%s\n' "${idle_c[@]}" | median); lc=$(printf '%s\n' "${load_c[@]}" | median)
printf '\nunder load (2 × yes on %s cores), base, 2 threads asked:\n' "$(nproc)"
printf '  recap       idle %6.2f s  loaded %6.2f s  slowdown %.2fx\n' "$ir" "$lr" "$(div "$lr" "$ir")"
printf '  whisper-cli idle %6.2f s  loaded %6.2f s  slowdown %.2fx\n' "$ic" "$lc" "$(div "$lc" "$ic")"
echo "target: a slowdown near the load (2 busy loops on 2 cores: ~2x), not the spin-wait collapse"

rss_kb=$( { /usr/bin/time -f %M "$RECAP_BIN" transcribe "$long" --model base --threads 2 --json >/dev/null; } 2>&1 | tail -1 )
printf '\npeak RSS, recap transcribe --model base on 10 min (%s): %d MB (target ≤ 600 MB)\n' "$(basename "$long")" "$((rss_kb / 1024))"
