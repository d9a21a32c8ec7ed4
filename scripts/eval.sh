#!/usr/bin/env bash
# make eval: Recap's own quality evaluation. Makes the eval set if needed (eval/make-set.sh: talks, a long
# lecture, a dialogue, slides, music, a silent clip, into $RECAP_CACHE/eval/media), runs `recap run` over it
# once with a fresh store, measuring wall time and peak memory (RSS of recap and all its descendants, e.g.
# llama-server, sampled every 0.2 s), then once more with the social pipeline (into OUT/social, timed on its
# own), and scores both against eval/truth (eval/score.py).
#
#   scripts/eval.sh BIN [--label L] [recap-run-args...]     e.g.  --llm-model PATH   or   --quality best
#
#   --label L / EVAL_LABEL   name of the run (default: "default", "standin" with --standin); arguments after
#                            `--` go to recap verbatim
#   EVAL_OUT                 where the outputs go (default: $RECAP_CACHE/eval/runs/<label>); deleted first
#   --pipelines-rev REV / EVAL_PIPELINES_REV   run with the pipelines/ of git revision REV (RECAP_PIPELINES),
#                            for a binary built from an older revision than the checkout's pipelines
#   --no-social / EVAL_SOCIAL=0   skip the social pipeline's run (its columns then show "-")
#   --base-url URL           run through an OpenAI-compatible engine at API root URL (`--engine openai`; add
#                            e.g. `--preset llama-server --model NAME` as recap arguments), with
#                            scripts/standin-openai.py as a recording proxy in front of it, so the eval also
#                            checks what the engine was sent (eval/wire.py): frames, audio, summary requests
#   --standin                the same through the stand-in itself (an engine that takes text, images and
#                            audio and answers placeholders): the eval runs unchanged, and the frames and
#                            audio must reach it. Its answers score low; that is expected.
#
# Writes OUT/scores.json (compare two runs: python3 eval/score.py --compare A/scores.json B/scores.json),
# OUT/run.log (recap's stderr), OUT/run-summary.json (recap's --json summary), OUT/measure.json, the same under
# OUT/social/ for the social run, and with an engine OUT[/social]/wire.json (+ engine-requests.jsonl.gz).
# Exit: recap's failure code, or 1 when the wire check failed.
set -euo pipefail
[ $# -ge 1 ] || { sed -n "2,30p" "$0"; exit 1; }
recap="$(readlink -f "$1")"; shift
[ -x "$recap" ] || { echo "eval: $recap is not an executable" >&2; exit 1; }
cd "$(dirname "$0")/.."
export RECAP_CACHE="${RECAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recap}"
label="${EVAL_LABEL:-}"
rev="${EVAL_PIPELINES_REV:-}"
social="${EVAL_SOCIAL:-1}"
engine=""      # "", standin, or the URL a recording proxy forwards to
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --label) label="$2"; shift 2;;
    --label=*) label="${1#--label=}"; shift;;
    --pipelines-rev) rev="$2"; shift 2;;
    --no-social) social=0; shift;;
    --standin) engine=standin; shift;;
    --base-url) engine="$2"; shift 2;;
    --base-url=*) engine="${1#--base-url=}"; shift;;
    --) shift; args+=("$@"); break;;
    *) args+=("$1"); shift;;
  esac
done
[ "$engine" = standin ] && label="${label:-standin}"
label="${label:-default}"
case "$label" in */*|.*|"") echo "eval: bad label '$label'" >&2; exit 1;; esac
media="$RECAP_CACHE/eval/media"
out="${EVAL_OUT:-$RECAP_CACHE/eval/runs/$label}"
py=/usr/bin/python3; [ -x "$py" ] || py=python3

eval/make-set.sh "$media"

# A fresh store each run, so nothing is skipped as unchanged.
rm -rf "$out"
mkdir -p "$out"
unset RECAP_STORE
if [ -n "$rev" ]; then
  export RECAP_PIPELINES="$out/.pipelines-$rev"
  mkdir -p "$RECAP_PIPELINES"
  git archive "$rev" pipelines | tar -x -C "$RECAP_PIPELINES" --strip-components=1
  echo "== pipelines from $rev ($RECAP_PIPELINES)"
fi
# One `recap run` of PIPELINE into DIR, measured (DIR/measure.json, run-summary.json, run.log). With an engine,
# a stand-in (or recording proxy) is started for this run alone and its log checked afterwards (DIR/wire.json).
wire_failed=0
standin_pid=""
trap '[ -z "$standin_pid" ] || kill "$standin_pid" 2>/dev/null || true' EXIT
run_recap() {
  local dir="$1" pipeline="$2" port="" eargs=()
  standin_pid=""
  mkdir -p "$dir"
  if [ -n "$engine" ]; then
    local forward=(); [ "$engine" = standin ] || forward=(--forward "$engine")
    "$py" scripts/standin-openai.py "$dir/engine-requests.jsonl" "${forward[@]}" > "$dir/.standin-port" &
    standin_pid=$!
    for _ in $(seq 100); do [ -s "$dir/.standin-port" ] && break; sleep 0.1; done
    port="$(head -1 "$dir/.standin-port")"; rm -f "$dir/.standin-port"
    [ -n "$port" ] || { echo "eval: the stand-in did not start" >&2; kill "$standin_pid" 2>/dev/null; exit 1; }
    eargs=(--engine openai --base-url "http://127.0.0.1:$port/v1")
  fi
  local pargs=(); [ "$pipeline" = summarize ] || pargs=(--pipeline "$pipeline")
  echo "== eval '$label' ($pipeline): $recap run $media --out $dir --json ${pargs[*]:-} ${eargs[*]:-} ${args[*]:-}"
  "$py" - "$dir" "$recap" run "$media" --out "$dir" --json "${pargs[@]}" "${eargs[@]}" "${args[@]}" <<'PY'
# Starts recap as a child, samples the RSS of its whole process tree from /proc every 0.2 s, and records the
# wall time, the peak (MB, 2^20 bytes) and which processes made it up at the peak.
import json, os, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
page = os.sysconf("SC_PAGE_SIZE")

def tree_rss(root):
    children, info = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit(): continue
        try:
            with open(f"/proc/{d}/stat") as f: stat = f.read()
            with open(f"/proc/{d}/statm") as f: rss = int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        comm, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(rest[1]), []).append(int(d))
        info[int(d)] = (comm, rss)
    total, parts, todo, seen = 0, {}, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in info: continue
        seen.add(pid)
        comm, rss = info[pid]
        total += rss; parts[comm] = parts.get(comm, 0) + rss
        todo += children.get(pid, [])
    return total, parts

with open(f"{out}/run-summary.json", "wb") as so, open(f"{out}/run.log", "wb") as se:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=so, stderr=se, stdin=subprocess.DEVNULL)
    peak, peak_parts = 0, {}
    while proc.poll() is None:
        total, parts = tree_rss(proc.pid)
        if total > peak: peak, peak_parts = total, parts
        time.sleep(0.2)
    wall = time.monotonic() - start
mb = 1 << 20
m = {"seconds": round(wall, 2), "peak_mb": round(peak / mb, 1), "exit": proc.returncode, "command": cmd,
     "peak_by_process_mb": {k: round(v / mb, 1) for k, v in sorted(peak_parts.items(), key=lambda kv: -kv[1])}}
with open(f"{out}/measure.json", "w") as f: json.dump(m, f, indent=1)
print(f"recap exited {proc.returncode} after {wall:.1f} s; peak {peak / mb:.0f} MB "
      f"({', '.join(f'{k} {v:.0f}' for k, v in m['peak_by_process_mb'].items())})")
PY
  if [ -n "$standin_pid" ]; then
    kill "$standin_pid" 2>/dev/null; wait "$standin_pid" 2>/dev/null || true
    standin_pid=""
    local expect=""; [ "$engine" = standin ] && expect="images,audio"
    "$py" eval/wire.py "$dir/engine-requests.jsonl" "$dir" --expect "$expect" --json "$dir/wire.json" --label "$pipeline" || wire_failed=1
    gzip -f "$dir/engine-requests.jsonl"
  fi
}

run_recap "$out" summarize
read -r seconds peak status < <("$py" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["seconds"], m["peak_mb"], m["exit"])' "$out/measure.json")
case "$status" in
  0) ;;
  2) echo "eval: some files failed (see $out/run.log):"; tail -n 20 "$out/run.log";;
  *) echo "eval: recap run failed with exit code $status; last lines of $out/run.log:"; tail -n 30 "$out/run.log";;
esac
social_args=()
if [ "$social" != 0 ] && { [ "$status" = 0 ] || [ "$status" = 2 ]; }; then
  echo
  run_recap "$out/social" social
  read -r social_seconds social_status < <("$py" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["seconds"], m["exit"])' "$out/social/measure.json")
  case "$social_status" in
    0) ;;
    *) echo "eval: the social run exited $social_status; last lines of $out/social/run.log:"; tail -n 20 "$out/social/run.log";;
  esac
  social_args=(--social "$out/social" --social-seconds "$social_seconds" --meta "social_exit=$social_status")
fi
echo
"$py" eval/score.py --truth eval/truth --out "$out" --seconds "$seconds" --peak-mb "$peak" --label "$label" \
  --json "$out/scores.json" --meta "binary=$recap" --meta "args=${args[*]:-}" --meta "exit=$status" --meta "pipelines_rev=$rev" \
  --meta "engine=${engine:-local}" "${social_args[@]}"
case "$status" in 0|2) ;; *) exit "$status";; esac
[ "$wire_failed" = 0 ] || { echo "eval: the engine wire check failed (see above)"; exit 1; }
