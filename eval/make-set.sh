#!/usr/bin/env bash
# The quality-eval set: short talks, a long lecture, a dialogue, slides, music and a silent clip, made with
# espeak-ng and ffmpeg from the data in eval/truth/*.json (one file per medium: its "make" section says what
# is spoken and shown; its facts, names and source_text are what the scorer checks). Regenerated into a cache,
# never committed:
#
#   eval/make-set.sh [--force] [OUTDIR]     (default OUTDIR: $RECAP_CACHE/eval/media)
#   eval/make-set.sh --sync-truth [OUTDIR]  after editing a "make" section: remake what changed, then rewrite
#                                           each truth file's source_text and duration_s to match
#
# A medium is remade only when its "make" data or this script changed (per-file stamps in OUTDIR/.stamps);
# the whole run is skipped when OUTDIR/.stamp is the sha256 of this script and every truth file.
# Deterministic: the same script and truth give the same speech, slides and timings.
#
# Truth file (eval/truth/NAME.json):
#   file, kind (talk|dialogue|slides|music|silent), duration_s,
#   source_text   everything the medium holds, verbatim: file name, each slide's lines, what is said over it
#   facts         [{id, text, pattern (case-insensitive Python regex, generous to paraphrase), where:
#                 speech|slide|both}]
#   names, numbers  the names in the source, and the numbers it holds as digits (spoken "forty-two" -> "42")
#   describe      optional: patterns a description of a medium without facts should match
#   make          {type: slides|music|silent, voice, speed, gap, music (volume of quiet chords instead of
#                 speech), seconds, slides: [{bg, lines: [...], seconds | say: ["sentence" |
#                 {text, speak (what espeak reads, when its spelling must differ), voice, speed}]}]}
#
# Needs: ffmpeg, ffprobe, espeak-ng, python3, the DejaVu fonts (scripts/install-debian.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${RECAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recap}"
force=0; sync=0; out=""
for a in "$@"; do
  case "$a" in
    --force) force=1;;
    --sync-truth) sync=1;;
    -h|--help) sed -n '2,26p' "$0"; exit 0;;
    -*) echo "make-set: unknown option $a" >&2; exit 1;;
    *) out="$a";;
  esac
done
out="${out:-$cache/eval/media}"
py=/usr/bin/python3; [ -x "$py" ] || py=python3
for tool in ffmpeg ffprobe espeak-ng; do
  command -v "$tool" > /dev/null || { echo "make-set: missing $tool (scripts/install-debian.sh)" >&2; exit 1; }
done
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
[ -f "$font" ] || { echo "make-set: missing $font (apt-get install fonts-dejavu-core)" >&2; exit 1; }

stamp_hash="$(cat "$0" eval/truth/*.json | sha256sum | cut -d' ' -f1)"
if [ "$force" = 0 ] && [ "$sync" = 0 ] && [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp_hash" ]; then
  missing=0
  for t in eval/truth/*.json; do
    f="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["file"])' "$t")"
    [ -s "$out/$f" ] || missing=1
  done
  if [ "$missing" = 0 ]; then echo "make-set: $out is up to date"; exit 0; fi
fi

mkdir -p "$out"
rm -f "$out/.stamp"
export EVAL_FONT="$font" EVAL_SYNC="$sync" EVAL_FORCE="$force" EVAL_SCRIPT_SHA="$(grep -v '^ *#' "$0" | sha256sum | cut -d' ' -f1)"   # comments remake nothing
"$py" - "$out" eval/truth <<'PY'
import hashlib, json, os, pathlib, re, shutil, subprocess, sys, tempfile, wave

out, truth_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
font, sync, force = os.environ["EVAL_FONT"], os.environ["EVAL_SYNC"] == "1", os.environ["EVAL_FORCE"] == "1"
script_sha = os.environ["EVAL_SCRIPT_SHA"]
RATE = 22050          # speech sample rate (mono, 16-bit)
W, H, FPS = 960, 540, 25
LEAD, GAP, TAIL = 0.6, 0.55, 0.9   # seconds: before a slide's first sentence, between sentences, after its last

def run(*cmd):
    if subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode:   # once seen failing without a message: retry once
        print(f"make-set: retrying {cmd[0]} {cmd[-1]}", file=sys.stderr)
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)

def ff(*args):
    run("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args)

def duration(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                       check=True, capture_output=True, text=True)
    return float(r.stdout.strip())

V_ENC = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-bitexact", "-threads", "2"]
A_ENC = ["-c:a", "aac", "-b:a", "64k", "-bitexact"]

def source_text(t):
    """Everything the medium holds, verbatim: the file name, each slide's text, then what is said over it."""
    parts = [t["file"]]
    for s in t.get("make", {}).get("slides", []):
        if s.get("lines"): parts.append(" / ".join(s["lines"]))
        for item in s.get("say", []):
            parts.append(item["text"] if isinstance(item, dict) else item)
    return "\n".join(parts)

class Work:
    def __init__(self, d): self.d, self.n = pathlib.Path(d), 0
    def path(self, suffix):
        self.n += 1
        return self.d / f"w{self.n}{suffix}"

def pcm(path):
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return w.readframes(w.getnframes())

def silence(seconds): return b"\0\0" * int(round(seconds * RATE))

def speak(work, text, voice, speed, pitch=None):
    raw, trimmed = work.path(".wav"), work.path(".wav")
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw)]
    if pitch is not None: cmd += ["-p", str(pitch)]
    run(*cmd, text)
    trim = "silenceremove=start_periods=1:start_threshold=-50dB"
    ff("-i", str(raw), "-af", f"{trim},areverse,{trim},areverse", "-ar", str(RATE), "-ac", "1",
       "-c:a", "pcm_s16le", str(trimmed))
    return pcm(trimmed)

def slide_png(work, lines, bg, fg="white"):
    png = work.path(".png")
    longest = max((len(l) for l in lines), default=1)
    size = int(min(58, 0.88 * W / (0.72 * longest)))
    step = int(size * 1.55)
    top = (H - step * len(lines)) // 2 + (step - size) // 2
    filters = []
    for i, line in enumerate(lines):
        tf = work.path(".txt"); tf.write_text(line)
        filters.append(f"drawtext=fontfile={font}:textfile={tf}:expansion=none:fontsize={size if i == 0 else int(size * 0.85)}"
                       f":fontcolor={fg}:x=(w-tw)/2:y={top + i * step}")
    ff("-f", "lavfi", "-i", f"color=c={bg}:s={W}x{H}:d=1", "-vf", ",".join(filters or ["null"]), "-frames:v", "1", str(png))
    return png

def soft_music(seconds, volume):
    """Slow, quiet chords (A minor, F, C, G) from sine sources: background for the slides-only clip."""
    chords = [(220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (261.63, 329.63, 392.0), (196.0, 246.94, 293.66)]
    terms = []
    for i, ch in enumerate(chords):
        on = f"between(mod(t,8),{2*i},{2*i+2})"
        terms.append(f"{on}*(" + "+".join(f"sin(2*PI*{f}*t)" for f in ch) + ")")
    return f"aevalsrc='{volume}*(" + "+".join(terms) + f")*(0.6+0.4*cos(PI*mod(t,2)))':s=44100:d={seconds}"

def melody(seconds):
    """A stepping pentatonic melody with a bass line and a little tremolo: plainly music, no voice."""
    notes = "floor(mod(t*3,12))"
    semis = f"(0*eq({notes},0)+2*eq({notes},1)+4*eq({notes},2)+7*eq({notes},3)+9*eq({notes},4)+7*eq({notes},5)" \
            f"+4*eq({notes},6)+2*eq({notes},7)+0*eq({notes},8)+4*eq({notes},9)+7*eq({notes},10)+12*eq({notes},11))"
    lead = f"0.22*sin(2*PI*t*440*pow(2,{semis}/12))*(1-0.5*mod(t*3,1))"
    bass = "0.14*sin(2*PI*t*(110+55*eq(floor(mod(t/2,2)),1)))"
    pad = "0.06*sin(2*PI*t*329.63)*(0.7+0.3*sin(2*PI*t*5))"
    return f"aevalsrc='{lead}+{bass}+{pad}':s=44100:c=stereo:d={seconds}"

def make_slides(t, dest, work):
    """A talk, dialogue or slides-only clip: one still slide per entry, shown while its lines are spoken."""
    m = t["make"]
    voice, speed = m.get("voice", "en-us"), m.get("speed", 150)
    audio, durations = bytearray(), []
    for s in m["slides"]:
        if s.get("say"):
            chunk = bytearray(silence(s.get("lead", LEAD)))
            for i, item in enumerate(s["say"]):
                item = item if isinstance(item, dict) else {"text": item}
                if i: chunk += silence(item.get("gap_before", m.get("gap", GAP)))
                chunk += speak(work, item.get("speak", item["text"]), item.get("voice", voice),
                               item.get("speed", speed), item.get("pitch"))
            chunk += silence(s.get("tail", TAIL))
        else:
            chunk = bytearray(silence(s["seconds"]))
        durations.append(len(chunk) / 2 / RATE)
        audio += chunk
    wav = work.path(".wav")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(RATE); w.writeframes(bytes(audio))
    total = sum(durations)
    inputs, labels = [], []
    for i, (s, d) in enumerate(zip(m["slides"], durations)):
        png = slide_png(work, s.get("lines", []), s.get("bg", "0x203040"), s.get("fg", "white"))
        inputs += ["-loop", "1", "-framerate", str(FPS), "-t", f"{d:.3f}", "-i", str(png)]
        labels.append(f"[{i}:v]")
    n = len(labels)
    graph = "".join(labels) + f"concat=n={n}:v=1:a=0,format=yuv420p[v]"
    if m.get("music"):
        inputs += ["-f", "lavfi", "-i", soft_music(f"{total:.3f}", m["music"])]
        graph += f";[{n}:a]aformat=sample_rates=44100:channel_layouts=stereo[a]"
        amap = "[a]"
    else:
        inputs += ["-i", str(wav)]
        amap = f"{n}:a"
    ff(*inputs, "-filter_complex", graph, "-map", "[v]", "-map", amap, *V_ENC, "-tune", "stillimage",
       "-crf", "30", "-r", str(FPS), "-g", str(FPS * 10), *A_ENC, "-ar", "44100", "-ac", "2",
       "-t", f"{total:.3f}", "-movflags", "+faststart", str(dest))

def make_music(t, dest, work):
    sec = t["make"]["seconds"]
    ff("-f", "lavfi", "-i", f"mandelbrot=s=480x270:r={FPS}:end_pts={sec * 4}:start_scale=2.5:end_scale=0.05",
       "-f", "lavfi", "-i", melody(sec), "-t", str(sec), "-vf", "format=yuv420p",
       *V_ENC, "-crf", "30", "-g", str(FPS * 2), *A_ENC, "-ar", "44100", "-ac", "2", "-movflags", "+faststart", str(dest))

def make_silent(t, dest, work):
    sec = t["make"]["seconds"]
    ff("-f", "lavfi", "-i",
       f"gradients=s=640x360:r={FPS}:d={sec}:n=3:speed=0.02:c0=0x2e8b2e:c1=0x7ccd3c:c2=0x87ceeb:x0=0:y0=360:x1=0:y1=0:seed=3",
       "-vf", "noise=alls=18:allf=t+u,format=yuv420p", *V_ENC, "-crf", "30", "-g", str(FPS * 2), "-an",
       "-movflags", "+faststart", str(dest))

MAKERS = {"slides": make_slides, "music": make_music, "silent": make_silent}

def fmt(v, indent=0, width=118):
    """JSON with short containers on one line and long ones broken, so truth files read well in a diff."""
    one = json.dumps(v, ensure_ascii=False)
    flat = isinstance(v, dict) and not any(isinstance(x, (dict, list)) for x in v.values()) and "say" not in v
    if flat or len(one) + indent <= width or not isinstance(v, (dict, list)) or not v:
        return one
    pad = " " * (indent + 2)
    if isinstance(v, dict):
        body = [f"{pad}{json.dumps(k)}: {fmt(x, indent + 2, width)}" for k, x in v.items()]
        return "{\n" + ",\n".join(body) + "\n" + " " * indent + "}"
    body = [pad + fmt(x, indent + 2, width) for x in v]
    return "[\n" + ",\n".join(body) + "\n" + " " * indent + "]"

truths = sorted(truth_dir.glob("*.json"))
wanted = set()
tmp = out / ".tmp"
shutil.rmtree(tmp, ignore_errors=True); tmp.mkdir(parents=True)
bad = []
for tp in truths:
    t = json.loads(tp.read_text())
    name, kind = t["file"], t["make"]["type"]
    wanted.add(name)
    expect = source_text(t)
    if t.get("source_text") != expect and not sync:
        bad.append(f"{tp}: source_text differs from its make data (run eval/make-set.sh --sync-truth)")
        continue
    # Each medium is remade only when its make data or this script changed (editing facts costs nothing).
    key = hashlib.sha256((script_sha + name + json.dumps(t["make"], sort_keys=True)).encode()).hexdigest()
    stamp = out / ".stamps" / name
    if force or not (out / name).is_file() or not stamp.is_file() or stamp.read_text() != key:
        stamp.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(dir=tmp) as wd:
            dest = tmp / name
            MAKERS[kind](t, dest, Work(wd))
        (out / name).unlink(missing_ok=True)
        dest.replace(out / name)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(key)
        made = "made"
    else:
        made = "kept"
    d = duration(out / name)
    print(f"make-set: {made} {name:24} {d:6.1f} s")
    if sync:
        t["source_text"], t["duration_s"] = expect, round(d, 1)
        order = ["file", "kind", "duration_s", "source_text", "facts", "names", "numbers", "describe", "make"]
        t = {k: t[k] for k in order if k in t} | {k: v for k, v in t.items() if k not in order}
        tp.write_text(fmt(t) + "\n")
    elif abs(d - t["duration_s"]) > 1.0:
        bad.append(f"{tp}: made {d:.1f} s but duration_s is {t['duration_s']} (run eval/make-set.sh --sync-truth)")
shutil.rmtree(tmp, ignore_errors=True)
for p in out.iterdir():       # media from an older version of the set
    if p.is_file() and not p.name.startswith(".") and p.name not in wanted: p.unlink()
if bad:
    print("\n".join(bad), file=sys.stderr); sys.exit(1)
PY
# Truth files may have been rewritten by --sync-truth: stamp what they are now.
cat "$0" eval/truth/*.json | sha256sum | cut -d' ' -f1 > "$out/.stamp"
echo "make-set: $(ls "$out" | wc -l) files in $out ($(du -sh "$out" | cut -f1))"
