#!/usr/bin/env bash
# The scene-detection eval set: 8 clips (640x360, 25 fps, H.264 yuv420p, no audio, 15-30 s each) built with
# ffmpeg from lavfi sources, and OUTDIR/truth.json, which says where every transition is, to the frame, and
# where the look-alikes are that must NOT be detected as transitions:
#
#   eval/scenes/make-set.sh [--force] [OUTDIR]   (default OUTDIR: ${RECAP_CACHE:-~/.cache/recap}/eval/scenes)
#   eval/scenes/make-set.sh --holdout [--force] [OUTDIR]   (default OUTDIR: .../eval/scenes-holdout)
#
# Positives: hard cuts, cuts between two dark (night-like) shots, fades through black and through white,
# cross-dissolves. Negatives: single-frame flashes, whip pans, camera shake, fast zooms, all inside one shot.
# Shots are textured and moving (testsrc2, mandelbrot zooms, life, cellauto, gradients, bars, sierpinski,
# noise "photos" with a slow pan), each with per-frame camera noise. The clip layout is the CLIPS table below.
#
# --holdout makes a HELD-OUT set of the same kinds (the scene detector is tuned on the set above, so only this
# one says how well it generalises): 7 clips, 854x480 at 30 and 29.97 fps and 1280x720 at 24 fps, other GOPs
# (some with x264 scenecut keyframes), other content (testsrc, yuvtestsrc, mandelbrot zooming out elsewhere,
# other cellauto and life rules, slower/faster gradients, geq plasma, stills from samples/*.mp4), colour grades,
# uniform camera noise, other timings (shots 1.2-5 s, dissolves 0.4-2 s, fades 0.3-1.2 s with 0-6 black
# frames, dark shots at luma 19-44 with lifted or full contrast, flashes of 1 and 2 frames, a slower and a
# faster whip pan, a small and a big rotating shake, a zoom in and a zoom out). Layout: HOLDOUT below.
#
# Deterministic (fixed seeds, x264 with one thread). Skipped when OUTDIR/.stamp is the sha256 of this script
# (--holdout: the sha256 of that and " holdout") and the files are there, so tests can call it every time.
# Built in OUTDIR.tmp.PID and moved into place at the end; every output is checked before that (frame count
# and frame times with ffprobe; per frame luma and scene score: each cut is the sharpest change around its
# frame, dark shots are dark (holdout: within 6 of their target luma), flashes are bright, fades reach
# black/white, dissolves hold no hard cut). SCENES_JOBS clips are encoded at once (default 2).
#
# truth.json: {"fps":25,"clips":[{"file","duration","frames",(holdout: "fps","width","height",)
#   "transitions":[{"kind":"cut"|"dark_cut"|"fade"|"dissolve","start","end","time"(,"color")}],
#   "negatives":[{"kind":"flash"|"pan"|"shake"|"zoom","start","end"}],
#   "shots":[{"start","end","source","dark"}]}]}
# Cut: start=end=time = the first frame of the new shot. Fade: start = first faded frame of the old shot,
# end = first full frame of the new shot, time = midpoint. Dissolve: the xfade's start and end, time = midpoint.
# Holdout flashes last 1 or 2 frames (the negative's end is one past the last). Holdout "fps" is per clip.
# Needs: ffmpeg, ffprobe (5.1 with libx264), python3 (stdlib only); --holdout also samples/*.mp4.
set -euo pipefail
force=0; out=""; set_name=main
for a in "$@"; do
  case "$a" in
    --force) force=1;;
    --holdout) set_name=holdout;;
    -h|--help) sed -n '2,36p' "$0"; exit 0;;
    -*) echo "make-set: unknown option $a" >&2; exit 1;;
    *) out="$a";;
  esac
done
suffix=""; [ "$set_name" = holdout ] && suffix=-holdout
out="${out:-${RECAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recap}/eval/scenes$suffix}"
samples="$(cd "$(dirname "$0")/../.." && pwd)/samples"
if [ "$set_name" = holdout ]; then
  for f in narrated portrait; do
    [ -s "$samples/$f.mp4" ] || { echo "make-set: missing $samples/$f.mp4" >&2; exit 1; }
  done
fi
for tool in ffmpeg ffprobe python3; do
  command -v "$tool" > /dev/null || { echo "make-set: missing $tool (scripts/install-debian.sh)" >&2; exit 1; }
done
stamp="$(sha256sum "$0" | cut -d' ' -f1)"
[ "$set_name" = holdout ] && stamp="$(printf '%s holdout' "$stamp" | sha256sum | cut -d' ' -f1)"
if [ "$force" = 0 ] && [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] && [ -s "$out/truth.json" ]; then
  if python3 -c 'import json,os,sys; t=json.load(open(sys.argv[1])); sys.exit(any(not os.path.getsize(os.path.join(os.path.dirname(sys.argv[1]),c["file"])) for c in t["clips"]))' "$out/truth.json" 2> /dev/null; then
    echo "make-set: $out is up to date"; exit 0
  fi
fi
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
python3 - "$tmp" "$set_name" "$samples" <<'PY'
import json, os, subprocess, sys, concurrent.futures as cf, multiprocessing as mp
from fractions import Fraction

OUT, SET, SAMPLES = sys.argv[1], sys.argv[2], sys.argv[3]
JOBS = max(1, int(os.environ.get("SCENES_JOBS", "2")))
NOISE = "alls=6:allf=t" if SET == "main" else "c0s=8:c1s=4:c2s=4:allf=t+u"  # camera noise on every shot
# The picture format of the clip being made (set by use_format; each clip is made in a worker process).
FPS, W, H, RATE, TB = 25, 640, 360, "25", "1/25"
ENC = ["-preset", "veryfast", "-crf", "23", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0"]

def use_format(fmt):
    global FPS, W, H, RATE, TB, ENC
    W, H, FPS, ENC = fmt["w"], fmt["h"], fmt["fps"], fmt["enc"]
    RATE = str(FPS)  # "30000/1001" for a Fraction
    TB = f"1/{FPS}" if isinstance(FPS, int) else f"{FPS.denominator}/{FPS.numerator}"

class Fr(int):  # a length given in frames, not seconds
    pass

def F(sec):  # seconds -> frames (every duration in the main table is a multiple of 0.04 s; holdout ones round)
    if isinstance(sec, Fr):
        return int(sec)
    n = round(sec * FPS)
    assert SET == "holdout" or abs(n / FPS - sec) < 1e-9, sec
    return n

def T(frames):
    return round(float(frames / FPS), 3)

# ---------------------------------------------------------------------------------------------- sources
# Each returns a filter chain (no labels) that yields a moving, textured picture; it is trimmed, timed and
# given camera noise by shot_chain().
HUES = [0, 40, 95, 150, 200, 260, 310]
MANDEL = [(-0.743643887, 0.131825904), (-0.1011, 0.9563), (-1.25066, 0.02012), (-0.7453, 0.1127),
          (0.2549870375, 0.0005), (-0.16070135, 1.0375665)]
LIFE = [("#ffd070", "#102040", "#a03020"), ("#b0ff90", "#301020", "#2060a0"), ("#f0f0ff", "#203020", "#806020"),
        ("#ff90c0", "#101830", "#40a0a0")]
GRAD = [("0x1d3557", "0xe63946", "0xf1faee", "0xa8dadc"), ("0x264653", "0x2a9d8f", "0xe9c46a", "0xf4a261"),
        ("0x3d0c02", "0xc44536", "0xfed766", "0x0b6e4f"), ("0x22223b", "0x9a8c98", "0xf2e9e4", "0x4a4e69")]
PHOTO = [("0x2a5d2a", "0x8fb7e0", "0xc8a060", "0x335577"), ("0x7a3b12", "0xe0a060", "0x40281a", "0xd8c8a0"),
         ("0x1b4965", "0x62b6cb", "0xcae9ff", "0x5fa8d3"), ("0x5b3a29", "0x9c6644", "0x7f9172", "0xdde5b6")]

def photo(seed, w, h):
    """A still "photo": three octaves of blurred noise laid over a colour gradient, looped forever."""
    c = PHOTO[seed % len(PHOTO)]
    s = 1000 + seed * 7
    return (f"color=c=gray:s=64x36:r={RATE}:d=0.04,noise=alls=90:allf=u:all_seed={s},gblur=sigma=1.2,"
            f"lutyuv=y='clip((val-128)*4+128,0,255)',scale={w}:{h}:flags=bicubic[po1_@];"
            f"color=c=gray:s=320x180:r={RATE}:d=0.04,noise=alls=90:allf=u:all_seed={s+1},gblur=sigma=1,"
            f"lutyuv=y='clip((val-128)*3+128,0,255)',scale={w}:{h}:flags=bicubic[po2_@];"
            f"[po1_@][po2_@]blend=all_mode=overlay[pt1_@];"
            f"color=c=gray:s={w}x{h}:r={RATE}:d=0.04,noise=c0s=60:allf=u:c0_seed={s+2},gblur=sigma=0.8[po3_@];"
            f"[pt1_@][po3_@]blend=all_mode=overlay,format=yuv420p[ptex_@];"
            f"gradients=s={w}x{h}:r={RATE}:d=0.04:n=4:seed={seed}:c0={c[0]}:c1={c[1]}:c2={c[2]}:c3={c[3]},"
            f"format=yuv420p[pbase_@];"
            f"[pbase_@][ptex_@]blend=c0_mode=overlay:c1_mode=normal:c2_mode=normal,"
            f"loop=loop=-1:size=1,settb={TB},setpts=N")

def source(kind, seed, w=W, h=H):
    if kind == "testsrc2":
        return f"testsrc2=s={w}x{h}:r={RATE},hue=h={HUES[seed % len(HUES)]}"
    if kind == "mandel":
        x, y = MANDEL[seed % len(MANDEL)]
        return (f"mandelbrot=s={w}x{h}:r={RATE}:maxiter=256:start_x={x}:start_y={y}:start_scale=0.4:"
                f"end_scale=0.02:end_pts=120,hue=h={HUES[seed % len(HUES)]}")
    if kind == "life":
        a, b, c = LIFE[seed % len(LIFE)]
        return (f"life=s={w//4}x{h//4}:r={RATE}:seed={seed}:ratio=0.3:mold=10:life_color={a}:death_color={b}:"
                f"mold_color={c},scale={w}:{h}:flags=neighbor,gblur=sigma=1.5")
    if kind == "cellauto":
        u, v = [(110, 160), (160, 100), (90, 120), (150, 150)][seed % 4]
        return (f"cellauto=s={w//2}x{h//2}:r={RATE}:rule={[30, 110, 90, 150][seed % 4]}:seed={seed}:ratio=0.5:"
                f"scroll=1,format=gray,scale={w}:{h}:flags=neighbor,gblur=sigma=0.7,format=yuv420p,"
                f"lutyuv=y='val*0.75+30':u={u}:v={v}")
    if kind == "gradients":
        c = GRAD[seed % len(GRAD)]
        return (f"gradients=s={w}x{h}:r={RATE}:n=4:seed={seed}:speed=0.04:type={seed % 4}:c0={c[0]}:c1={c[1]}:"
                f"c2={c[2]}:c3={c[3]},format=yuv420p[gb_@];"
                f"cellauto=s={w//4}x{h//4}:r={RATE}:rule=90:seed={seed}:scroll=1,format=gray,"
                f"scale={w}:{h}:flags=bicubic,format=yuv420p,lutyuv=y='val*0.45+70'[gt_@];"
                f"[gb_@][gt_@]blend=c0_mode=overlay:c1_mode=normal:c2_mode=normal")
    if kind == "bars":
        return (f"smptehdbars=s={w}x{h}:r={RATE},scroll=h=0.004,hue=h={HUES[seed % len(HUES)]},"
                f"noise=alls=22:allf=t:all_seed={seed}")
    if kind == "sierp":
        u, v = [(100, 150), (150, 110), (160, 160), (90, 100)][seed % 4]
        return (f"sierpinski=s={w}x{h}:r={RATE}:seed={seed}:jump=40:type={['carpet', 'triangle'][seed % 2]},"
                f"format=yuv420p,gblur=sigma=1,lutyuv=y='val*0.7+40':u={u}:v={v}")
    if kind == "photo":  # a still photo with a slow pan
        return photo(seed, 1280, 720) + f",crop={w}:{h}:x='{200 + 37 * (seed % 5)}+3*n':y='{120 + 23 * (seed % 4)}+n'"
    raise ValueError(kind)

# Mean luma of each source (measured), for darkening it to about 28/255 with its content still visible.
MEAN_Y = {"testsrc2": 130, "mandel": 80, "life": 95, "cellauto": 110, "gradients": 120, "bars": 120,
          "sierp": 150, "photo": 100, "pan": 100, "shake": 100, "zoom": 110}

def smooth(n0, length):  # 0 before frame n0, smoothstep to 1 over `length` frames
    u = f"clip((n-{n0})/{length},0,1)"
    return f"({u}*{u}*(3-2*{u}))"

def move(kind, seed, a, length):
    """Shots with a camera move between frames a and a+length (the negatives)."""
    if kind == "pan":  # whip pan across a big photo, motion-blurred by tmix
        x0, d = (80, 950) if seed % 2 == 0 else (1180, -950)
        return (photo(seed, 1920, 1080) + f",crop={W}:{H}:x='{x0}+{1 if d > 0 else -1}*1.5*n+{d}*{smooth(a, length)}'"
                f":y='{300 + 40 * (seed % 3)}+0.5*n',tmix=frames=3")
    if kind == "shake":  # hand-held shake: the crop window jitters by up to about 18 px a frame
        on = f"between(n,{a},{a + length - 1})"
        jx = "(13*sin(n*2.1)+6*sin(n*5.7+1))"
        jy = "(9*sin(n*3.3+2)+5*sin(n*1.3))"
        if seed % 2 == 0:
            big = source("mandel", seed, 720, 405)
            cx, cy = 40, 22
        else:
            big = photo(seed, 1280, 720)
            cx, cy = 300, 180
        return big + f",crop={W}:{H}:x='{cx}+if({on},{jx},0)':y='{cy}+if({on},{jy},0)'"
    if kind == "zoom":  # fast 2x zoom into the centre, then hold
        z = f"if(lt(on,{a}),1,if(lt(on,{a + length}),1+(on-{a})/{length},2))"
        big = photo(seed, 1280, 720) if seed % 2 == 0 else source("testsrc2", seed, 1280, 720)
        return big + f",zoompan=z='{z}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s={W}x{H}:fps={RATE}"
    raise ValueError(kind)

# ---------------------------------------------------------------------------------------------- the set
# A clip is a list of shots and transitions. Shot: (source, seconds, seed, options) with options
#   dark=True (or the source's mean luma, when MEAN_Y is far off for this seed); flash=[seconds into the shot]; white=True (the flash is pure white, else a strong brightening);
#   move=(pan|shake|zoom, start s into the shot, length s).
# Transition: "cut" (dark_cut when both shots are dark); ("fade", out s, black s, in s, colour);
#   ("dissolve", s).
def S(src, sec, seed, **o):
    return ("shot", src, sec, seed, o)

CUT = ("cut",)
def FADE(o, k, i, color="black"): return ("fade", o, k, i, color)
def DIS(d): return ("dissolve", d)

CLIPS = {
    "cuts-a": [S("testsrc2", 2.4, 1), CUT, S("mandel", 3.0, 1), CUT, S("life", 2.0, 1), CUT,
               S("bars", 3.6, 1, flash=[1.6], white=True), CUT, S("gradients", 2.4, 1), CUT, S("sierp", 1.6, 1), CUT,
               S("photo", 3.0, 1), CUT, S("cellauto", 2.4, 1)],
    "night-a": [S("testsrc2", 3.0, 2, dark=True), CUT, S("photo", 2.4, 2, dark=True), CUT,
                S("mandel", 3.2, 2, dark=150, flash=[1.4]), CUT, S("life", 2.4, 2, dark=True), CUT,
                S("gradients", 3.0, 2), CUT, S("bars", 2.4, 2), FADE(0.6, 0.12, 0.6), S("testsrc2", 3.0, 3)],
    "fades": [S("mandel", 3.0, 3), FADE(0.6, 0.2, 0.6), S("life", 3.0, 3), CUT, S("photo", 3.6, 3),
              FADE(0.48, 0.12, 0.48, "white"), S("gradients", 3.0, 3), FADE(1.0, 0.0, 0.8),
              S("sierp", 3.0, 2, flash=[1.4], white=True), CUT, S("testsrc2", 3.0, 4), FADE(0.4, 0.08, 0.4),
              S("cellauto", 3.0, 2)],
    "dissolves": [S("testsrc2", 3.0, 5), DIS(1.0), S("mandel", 3.0, 4), DIS(0.6), S("life", 3.0, 4), CUT,
                  S("bars", 3.0, 3), DIS(1.48), S("gradients", 3.6, 4), CUT, S("photo", 3.0, 4)],
    "camera-a": [S("pan", 4.0, 0, move=("pan", 1.8, 0.4)), CUT, S("testsrc2", 2.8, 6, flash=[1.2]), CUT,
                 S("shake", 4.0, 0, move=("shake", 1.2, 1.6)), CUT, S("zoom", 4.0, 0, move=("zoom", 1.6, 0.8)),
                 DIS(0.8), S("life", 3.0, 5), CUT, S("gradients", 2.4, 5)],
    "camera-b": [S("sierp", 2.4, 3), CUT, S("pan", 4.0, 1, move=("pan", 2.0, 0.32)), CUT,
                 S("bars", 3.0, 4, flash=[1.6], white=True), FADE(0.6, 0.16, 0.6, "white"),
                 S("zoom", 4.0, 1, move=("zoom", 1.6, 0.6)), CUT, S("shake", 3.6, 1, move=("shake", 1.0, 1.2)),
                 CUT, S("cellauto", 2.4, 3)],
    "night-b": [S("gradients", 2.4, 6), CUT, S("sierp", 3.0, 4, dark=True), CUT,
                S("gradients", 2.4, 7, dark=True, flash=[1.2]), CUT, S("testsrc2", 3.0, 0, dark=True),
                FADE(0.8, 0.24, 0.6), S("mandel", 3.0, 5), DIS(1.2), S("photo", 3.0, 5)],
    "quick": [S("life", 2.0, 6), CUT, S("testsrc2", 1.6, 4), CUT, S("mandel", 2.4, 0, flash=[1.2]), CUT,
              S("bars", 1.6, 5), CUT, S("photo", 2.0, 6), CUT, S("cellauto", 1.6, 1), CUT, S("sierp", 2.0, 5),
              CUT, S("gradients", 2.0, 0), CUT, S("life", 1.6, 7)],
}

# ---------------------------------------------------------------------------------------------- held-out set
# Nothing here is shared with the sources or the table above: other generators and parameters, a colour grade
# on every ordinary shot, other noise, sizes, rates, GOPs and timings.
SD = {"w": 854, "h": 480, "fps": 30,
      "enc": ["-preset", "superfast", "-crf", "26", "-g", "45", "-keyint_min", "45", "-sc_threshold", "0"]}
SD_SC = {**SD, "enc": ["-preset", "superfast", "-crf", "26", "-g", "60", "-keyint_min", "8"]}  # scenecut keyframes
NTSC = {**SD, "fps": Fraction(30000, 1001)}
HD = {"w": 1280, "h": 720, "fps": 24, "enc": ["-preset", "superfast", "-crf", "27", "-g", "96", "-keyint_min", "12"]}
GRADES = ["eq=contrast=1.15:saturation=1.3:gamma=0.92",                                 # punchy
          "lutyuv=y='val*0.82+34':u='(val-128)*0.8+122':v='(val-128)*0.8+136'",             # faded, warm
          "lutyuv=y='255*pow(val/255,1.15)':u='(val-128)*1.1+134':v='(val-128)*1.1+120'",   # teal
          "eq=contrast=0.88:brightness=0.03:saturation=0.75",                               # flat
          "lutyuv=y='clip((val-128)*1.25+128,16,235)':u='(val-128)*0.8+120':v='(val-128)*1.2+134'"]  # cross
H_MANDEL = [(-0.77568377, 0.13646737, 0.004, 0.3, "iteration_count"),
            (-1.7497, 0.0, 0.002, 0.15, "normalized_iteration_count"),
            (-0.0452407411, 0.9868162204, 0.003, 0.25, "iteration_count"),
            (-0.8115312340, 0.2014296112, 0.001, 0.08, "normalized_iteration_count"),
            (-1.4011551890, 0.0, 0.0005, 0.03, "iteration_count")]
H_LIFE = [("S23/B36", "#40e0ff", "#301800", "#ffa040"), ("S34/B34", "#ff5050", "#0a2a10", "#f0f000"),
          ("S235/B368", "#e8e8a0", "#200030", "#40c060"), ("S1234/B3", "#a0a0ff", "#402000", "#ff80ff")]
H_GRAD = [("0x0b132b", "0x5bc0be", "0xffd166", "0xef476f"), ("0x3a0ca3", "0xf72585", "0x4cc9f0", "0xfefae0"),
          ("0x283618", "0xdda15e", "0xbc6c25", "0xfefae0"), ("0x001219", "0x94d2bd", "0xee9b00", "0x9b2226")]
H_STILL = [("narrated", 30), ("portrait", 30), ("narrated", 150), ("portrait", 90)]

def grain(seed, w, h, amount):
    """One frame of fine still grain, to lay over smooth or upscaled pictures."""
    return (f"color=c=gray:s={w}x{h}:r={RATE}:d=0.2,noise=alls={amount}:allf=u:all_seed={9000 + seed},"
            f"gblur=sigma=0.6,trim=end_frame=1,format=yuv420p")

def overlay_grain(seed, w, h, amount, label, still=False):
    """`,...[<label>b_@];grain[<label>g_@];[..][..]blend`: the grain laid over the chain so far (a moving
    picture, or one frame when still=True)."""
    held = "" if still else f",loop=loop=-1:size=1,settb={TB},setpts=N"
    return (f",format=yuv420p[{label}b_@];{grain(seed, w, h, amount)}{held}[{label}g_@];"
            f"[{label}b_@][{label}g_@]blend=c0_mode=overlay:c1_mode=normal:c2_mode=normal:shortest=1")

def source_h(kind, seed, w=None, h=None):
    w, h = w or W, h or H
    if kind == "tsrc":
        return f"testsrc=s={w}x{h}:r={RATE}:decimals=1"
    if kind == "yuvt":  # yuvtestsrc drifting diagonally under a HighLife texture
        return (f"yuvtestsrc=s={w // 2}x{h // 2}:r={RATE},scale={w}:{h}:flags=bicubic,scroll=h=0.0021:v=-0.0033"
                f"[yb_@];life=s={w // 5}x{h // 5}:r={RATE}:seed={seed + 40}:ratio=0.55:rule=S23/B36:"
                f"life_color=#d0d0d0:death_color=#303030:mold=0,format=gray,scale={w}:{h}:flags=bicubic,"
                f"format=yuv420p,lutyuv=y='val*0.5+64'[yt_@];"
                f"[yb_@][yt_@]blend=c0_mode=overlay:c1_mode=normal:c2_mode=normal")
    if kind == "mandel":  # zooming OUT, other places, other colouring, computed at half size
        x, y, s0, s1, outer = H_MANDEL[seed % len(H_MANDEL)]
        return (f"mandelbrot=s={w // 2}x{h // 2}:r={RATE}:maxiter=180:start_x={x}:start_y={y}:start_scale={s0}:"
                f"end_scale={s1}:end_pts=150:outer={outer}:inner=convergence,scale={w}:{h}:flags=bicubic,"
                f"colorchannelmixer=rr=0.2:rg=0.8:gg=0.3:gb=0.7:bb=0.4:br=0.6")
    if kind == "cella":
        u, v = [(150, 90), (100, 170), (170, 140), (80, 120), (140, 160)][seed % 5]
        return (f"cellauto=s={w // 3}x{h // 3}:r={RATE}:rule={[18, 45, 73, 105, 126][seed % 5]}:seed={seed + 20}:"
                f"ratio=0.62:scroll=1,format=gray,scale={w}:{h}:flags=bicubic,format=yuv420p,"
                f"lutyuv=y='225-val*0.62':u={u}:v={v}")
    if kind == "life":
        rule, a, b, c = H_LIFE[seed % len(H_LIFE)]
        return (f"life=s={w // 6}x{h // 6}:r={RATE}:seed={seed + 60}:ratio=0.6:rule={rule}:mold=25:life_color={a}:"
                f"death_color={b}:mold_color={c},trim=start_frame=24,setpts=PTS-STARTPTS,"  # past the first churn
                f"scale={w}:{h}:flags=bicubic")
    if kind == "grad":  # slow or fast, made at a quarter size, with grain
        c = H_GRAD[seed % len(H_GRAD)]
        return (f"gradients=s={w // 4}x{h // 4}:r={RATE}:n={3 + seed % 2}:seed={seed + 80}:"  # (more: random colours)
                f"speed={[0.015, 0.08, 0.03, 0.06][seed % 4]}:type={[2, 3, 0, 2, 3][seed % 5]}:c0={c[0]}:c1={c[1]}:"
                f"c2={c[2]}:c3={c[3]},scale={w}:{h}:flags=bicubic" + overlay_grain(seed, w, h, 40, "gr"))
    if kind == "plasma":  # geq interference pattern, made at a quarter size, with grain
        a, b, c, d, e = [(9, 7, 11, 13, 6), (14, 5, 8, 9, 4), (6, 11, 15, 7, 9)][seed % 3]
        return (f"color=c=black:s={w // 4}x{h // 4}:r={RATE},format=yuv420p,"
                f"geq=lum='128+45*sin(X/{a}+N/{b})+35*sin(Y/{c}-N/{d})+25*sin(hypot(X-{40 + seed * 7},Y-30)/{e}+N/5)'"
                f":cb='128+50*sin(X/{c}+Y/{a}+N/{d})':cr='128+50*cos(Y/{b}-X/{e}-N/{a})',"
                f"scale={w}:{h}:flags=bicubic" + overlay_grain(seed, w, h, 36, "pl"))
    if kind == "still":  # a frame of samples/*.mp4, enlarged, with grain, panned slowly
        f, k = H_STILL[seed % len(H_STILL)]
        bw, bh = w * 3 // 4 * 2, h * 3 // 4 * 2
        return (f"movie='{SAMPLES}/{f}.mp4',trim=start_frame={k}:end_frame={k + 1},settb={TB},setpts=N,"
                f"scale={bw}:{bh}:flags=bicubic,setsar=1" + overlay_grain(seed, bw, bh, 30, "st", still=True) +
                f",loop=loop=-1:size=1,settb={TB},setpts=N,fps={RATE},"
                f"crop={w}:{h}:x='{30 + 25 * seed}+{1.5 + seed % 2}*n':y='{30 + 10 * seed}+0.7*n'")
    raise ValueError(kind)

def big_still(kind, seed, w, h):
    """One frame of a holdout source, w x h, with grain, held (for camera moves over it)."""
    return (source_h(kind, seed, w, h) + f",trim=end_frame=1" + overlay_grain(seed + 7, w, h, 30, "bs", still=True) +
            f",loop=loop=-1:size=1,settb={TB},setpts=N,fps={RATE}")

def move_h(kind, seed, a, length):
    if kind == "pan":
        # (tmix's first frames blur less: they are dropped, so n counts from 4 frames before the shot)
        if seed % 2 == 0:  # a slower whip, left to right across a mandelbrot still, 1500 px, 4-frame blur
            return (big_still("mandel", seed, 2600, 800) + f",crop={W}:{H}:x='60+n+1500*{smooth(a + 4, length)}'"
                    f":y='150',tmix=frames=4,trim=start_frame=4,setpts=PTS-STARTPTS")
        # a very fast diagonal whip up and to the left across a held test-pattern still, 2-frame blur
        return (big_still("yuvt", seed, 3000, 1500) + f",crop={W}:{H}:x='1600-1300*{smooth(a + 4, length)}'"
                f":y='700-520*{smooth(a + 4, length)}',tmix=frames=2,trim=start_frame=4,setpts=PTS-STARTPTS")
    if kind == "shake":
        on = f"between(n,{a},{a + length - 1})"
        if seed % 2 == 0:  # small, quick jitter (up to about 7 px) over a moving life texture
            jx, jy = "(5*sin(n*2.9)+2.5*sin(n*7.1+0.5))", "(4*sin(n*3.7+1)+2*sin(n*1.7))"
            return (source_h("life", seed + 2, W + 32, H + 32) +
                    f",crop={W}:{H}:x='16+if({on},{jx},0)':y='16+if({on},{jy},0)'")
        # big jitter (up to about 28 px) with a roll of up to 2.4 degrees over a moving life texture
        bw, bh = W * 5 // 4 // 2 * 2, H * 5 // 4 // 2 * 2
        jx, jy = "(20*sin(n*1.9)+9*sin(n*4.1+2))", "(14*sin(n*2.6+1)+7*sin(n*5.3))"
        return (source_h("life", seed + 3, bw, bh) + f",rotate=a='if({on},0.03*sin(n*1.7)+0.012*sin(n*4.3),0)',"
                f"crop={W}:{H}:x='{(bw - W) // 2}+if({on},{jx},0)':y='{(bh - H) // 2}+if({on},{jy},0)'")
    if kind == "zoom":
        if seed % 2 == 0:  # zoom in to 2.5x on a plasma still, eased
            z = f"1+1.5*{smooth(a, length).replace('(n-', '(on-')}"
            return (big_still("plasma", seed, W * 2, H * 2) +
                    f",zoompan=z='{z}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s={W}x{H}:fps={RATE}")
        # zoom OUT from 2.2x to 1x, towards the upper left third, on a moving testsrc
        z = f"if(lt(on,{a}),2.2,if(lt(on,{a + length}),2.2-1.2*(on-{a})/{length},1))"
        return (source_h("tsrc", seed, W * 2, H * 2) +
                f",zoompan=z='{z}':x='iw/3-iw/zoom/3':y='ih/3-ih/zoom/3':d=1:s={W}x{H}:fps={RATE}")
    raise ValueError(kind)

# Mean luma of each (ungraded) source and seed as used for a dark shot, measured; night=(target luma, lift):
# y = 16 + lift + (val-16)*k, k chosen so that the shot's mean is the target (lift > 0: low contrast, fog).
MEAN_H = {"mandel1": 120, "still1": 92, "mandel2": 129, "cella2": 145, "plasma2": 123, "tsrc2": 123,
          "still6": 76, "grad6": 120}

# Shot options here: night=(target, lift); flash=[(seconds into the shot, frames, "white"|"bright")];
# move=(pan|shake|zoom, start s into the shot, length s). Fade black lengths are in frames (Fr).
HOLDOUT = {
    "hd-camera": (HD, [S("life", 2.5, 1), CUT, S("pan", 3.5, 1, move=("pan", 1.5, 0.25)), CUT,
                       S("still", 2.0, 1, night=(22, 0)), CUT, S("mandel", 3.0, 1, night=(40, 0)), CUT,
                       S("zoom", 3.5, 1, move=("zoom", 1.4, 0.5)), CUT, S("shake", 3.0, 1, move=("shake", 0.8, 1.8)),
                       DIS(1.5), S("plasma", 3.0, 1, flash=[(1.9, 1, "white")]), FADE(0.6, Fr(2), 0.6),
                       S("cella", 2.5, 1)]),
    "dusk": (SD, [S("grad", 2.0, 2), CUT, S("mandel", 3.1, 2, night=(26, 0)), CUT,
                  S("cella", 2.5, 2, night=(36, 10), flash=[(1.0, 2, "bright")]), CUT,
                  S("plasma", 4.2, 2, night=(44, 0)), CUT, S("tsrc", 1.8, 2, night=(19, 0)), CUT, S("life", 2.7, 2),
                  FADE(0.5, Fr(4), 0.7), S("still", 3.0, 2)]),
    "fades-2997": (NTSC, [S("mandel", 3.0, 3), FADE(0.3, Fr(0), 0.5), S("yuvt", 2.5, 3), CUT, S("grad", 2.2, 3),
                          FADE(0.7, Fr(3), 0.4, "white"), S("life", 3.3, 3, flash=[(1.6, 2, "white")]),
                          FADE(1.2, Fr(6), 0.9), S("cella", 2.8, 3), CUT, S("still", 2.0, 3)]),
    "blends": (SD, [S("plasma", 3.0, 4), DIS(0.4), S("tsrc", 3.2, 4), DIS(2.0), S("mandel", 4.0, 4), CUT,
                    S("life", 2.4, 4), DIS(1.1), S("grad", 3.6, 4), CUT, S("cella", 2.0, 4)]),
    "handheld": (SD, [S("pan", 3.8, 0, move=("pan", 1.6, 0.7)), CUT, S("shake", 3.2, 0, move=("shake", 1.0, 1.0)),
                      CUT, S("zoom", 4.0, 0, move=("zoom", 1.5, 1.0)), DIS(0.7),
                      S("tsrc", 2.5, 5, flash=[(1.3, 1, "bright")])]),
    "rapid": (SD_SC, [S("tsrc", 1.4, 6), CUT, S("life", 1.2, 6), CUT, S("still", 1.6, 6, night=(30, 6)), CUT,
                      S("grad", 1.3, 6, night=(24, 0)), CUT, S("mandel", 1.8, 6, flash=[(0.9, 2, "bright")]), CUT,
                      S("plasma", 1.5, 6), CUT, S("cella", 1.2, 6)]),
    "mixed": (SD, [S("tsrc", 2.2, 7), CUT, S("mandel", 3.4, 7, flash=[(1.5, 1, "white")]), CUT, S("plasma", 1.2, 7),
                   CUT, S("cella", 2.8, 7), CUT, S("grad", 4.4, 7), CUT, S("life", 5.0, 7)]),
}
MAIN = {"w": 640, "h": 360, "fps": 25, "enc": ENC}
if SET == "holdout":
    CLIPS = {name: items for name, (fmt, items) in HOLDOUT.items()}
    FORMATS = {name: fmt for name, (fmt, items) in HOLDOUT.items()}
else:
    FORMATS = {name: MAIN for name in CLIPS}

def dark(o):
    return bool(o.get("dark") or o.get("night"))

def flashes(o):
    """[(seconds into the shot, frames, white)]"""
    return [(f[0], f[1], f[2] == "white") if isinstance(f, tuple) else (f, 1, bool(o.get("white")))
            for f in o.get("flash", [])]

def shot_chain(i, shot, fade_in=None, fade_out=None):
    """The filter chain of one shot, ending in [s<i>]: exactly n frames, W x H, FPS, yuv420p."""
    _, src, sec, seed, o = shot
    n = F(sec)
    if "move" in o:
        kind, a, length = o["move"]
        chain = (move if SET == "main" else move_h)(kind, seed, F(a), F(length))
    else:
        chain = (source if SET == "main" else source_h)(src, seed)
    chain += f",scale={W}:{H},format=yuv420p,setsar=1,trim=end_frame={n},settb={TB},setpts=N"
    if SET == "holdout" and not o.get("night"):
        chain += f",{GRADES[(i + seed) % len(GRADES)]},format=yuv420p"
    if o.get("night"):
        target, lift = o["night"]
        k = round((target - 16 - lift) / (MEAN_H[f"{src}{seed}"] - 16), 3)
        tu, tv = (6, -3) if seed % 2 == 0 else (0, 0)
        chain += (f",lutyuv=y='16+{lift}+(val-16)*{k}':u='(val-128)*0.5+{128 + tu}':v='(val-128)*0.5+{128 + tv}'")
    if o.get("dark"):
        mean = MEAN_Y[src] if o["dark"] is True else o["dark"]
        k = round((28 - 16) / (mean - 16), 3)
        chain += f",lutyuv=y='16+(val-16)*{k}':u='(val-128)*0.6+128':v='(val-128)*0.6+128'"
    for f, nf, white in flashes(o):
        if SET == "main":
            y = "255" if white else "min(255,val*1.3+150)"
            uv = "128" if white else "(val-128)*0.4+128"
        else:
            y = "240" if white else "min(245,val*1.15+120)"
            uv = "128" if white else "(val-128)*0.5+128"
        on = f"eq(n,{F(f)})" if nf == 1 else f"between(n,{F(f)},{F(f) + nf - 1})"
        chain += f",lutyuv=y='{y}':u='{uv}':v='{uv}':enable='{on}'"
    if fade_out:
        fo, color = fade_out
        chain += f",fade=t=out:s={n - fo}:n={fo}:c={color}"
    if fade_in:
        fi, color = fade_in
        chain += f",fade=t=in:s=0:n={fi}:c={color}"
    chain += f",noise={NOISE}:all_seed={100 + i},settb={TB}[s{i}]"
    return chain.replace("_@", f"_{i}")  # labels inside multi-chain sources, unique per shot

def build(name, items):
    shots = [it for it in items if it[0] == "shot"]
    trans = [it for it in items if it[0] != "shot"]
    assert len(shots) == len(trans) + 1 and all(items[2 * j][0] == "shot" for j in range(len(shots)))
    fade_in = [None] * len(shots)
    fade_out = [None] * len(shots)
    for j, t in enumerate(trans):
        if t[0] == "fade":
            fade_out[j] = (F(t[1]), t[4])
            fade_in[j + 1] = (F(t[3]), t[4])
    graph = [shot_chain(i, s, fade_in[i], fade_out[i]) for i, s in enumerate(shots)]
    segments = ["s0"]   # streams to concat, each with its length in frames
    seglen = [F(shots[0][2])]
    pos = 0             # output frame where the last segment starts
    shot_starts = [0]
    truth_t, truth_n, truth_shots = [], [], []
    for j, t in enumerate(trans):
        b = shots[j + 1]
        nb = F(b[2])
        end_a = pos + seglen[-1]   # output frame just after shot j
        if t[0] == "cut":
            kind = "dark_cut" if dark(shots[j][4]) and dark(b[4]) else "cut"
            truth_t.append({"kind": kind, "start": T(end_a), "end": T(end_a), "time": T(end_a)})
            pos = end_a; segments.append(f"s{j + 1}"); seglen.append(nb)
        elif t[0] == "fade":
            fo, k, fi = F(t[1]), F(t[2]), F(t[3])
            if k:
                graph.append(f"color=c={t[4]}:s={W}x{H}:r={RATE},format=yuv420p,setsar=1,trim=end_frame={k},"
                             f"settb={TB},setpts=N,noise={NOISE}:all_seed={500 + j},settb={TB}[k{j}]")
                segments.append(f"k{j}"); seglen.append(k)
            start, end = end_a - fo, end_a + k + fi
            tr = {"kind": "fade", "start": T(start), "end": T(end), "time": T((start + end) / 2)}
            if t[4] != "black":
                tr["color"] = t[4]
            truth_t.append(tr)
            pos = end_a + k; segments.append(f"s{j + 1}"); seglen.append(nb)
        elif t[0] == "dissolve":
            d = F(t[1])
            a_label = segments.pop(); a_len = seglen.pop()
            graph.append(f"[{a_label}][s{j + 1}]xfade=transition=fade:duration={float(d / FPS)}:"
                         f"offset={float((a_len - d) / FPS)}[x{j}]")
            start = end_a - d
            truth_t.append({"kind": "dissolve", "start": T(start), "end": T(end_a), "time": T(start + d / 2)})
            segments.append(f"x{j}"); seglen.append(a_len + nb - d)
            pos = pos  # the merged segment starts where the old one did
            end_a = start  # shot j+1 starts (in the output) where the dissolve starts
        shot_starts.append(end_a if t[0] != "fade" else end_a + F(t[2]))
    total = 0
    for L in seglen:
        total += L
    graph.append("".join(f"[{s}]" for s in segments) + f"concat=n={len(segments)}:v=1:a=0[out]")
    negatives, targets = [], []
    for i, s in enumerate(shots):
        o = s[4]
        p = shot_starts[i]
        for f, nf, _ in flashes(o):
            negatives.append({"kind": "flash", "start": T(p + F(f)), "end": T(p + F(f) + nf)})
        if "move" in o:
            kind, a, length = o["move"]
            negatives.append({"kind": kind, "start": T(p + F(a)), "end": T(p + F(a) + F(length))})
        truth_shots.append({"start": T(p), "end": T(p + F(s[2])), "source": s[1], "dark": dark(o)})
        targets.append(o["night"][0] if o.get("night") else None)
    clip = {"file": f"{name}.mp4", "duration": T(total), "frames": total}
    if SET == "holdout":
        clip.update({"fps": FPS if isinstance(FPS, int) else round(float(FPS), 5), "width": W, "height": H})
    clip.update({"transitions": truth_t, "negatives": negatives, "shots": truth_shots})
    return ";".join(graph), total, clip, targets

def encode(name, graph):
    path = os.path.join(OUT, f"{name}.mp4")
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-filter_complex_threads", "1",
           "-filter_complex", graph, "-map", "[out]", "-an", "-c:v", "libx264", "-threads", "1"] + ENC + [
           "-pix_fmt", "yuv420p", "-r", RATE, "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
           "-movflags", "+faststart", path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"make-set: ffmpeg failed on {name}:\n{r.stderr[-3000:]}\n--- graph:\n{graph}")
    return path

def analyse(path):
    """Per frame: (pts_time, YAVG, scene score) from one decode."""
    meta = path + ".meta"
    r = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1", "-i", path,
                        "-vf", f"signalstats,select='gte(scene,0)',metadata=mode=print:file={meta}",
                        "-f", "null", "-"], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"make-set: analysing {path} failed: {r.stderr}")
    frames = []
    for line in open(meta):
        if line.startswith("frame:"):
            frames.append({"t": float(line.split("pts_time:")[1])})
        elif "=" in line:
            k, v = line.strip().split("=", 1)
            if k == "lavfi.signalstats.YAVG":
                frames[-1]["y"] = float(v)
            elif k == "lavfi.scene_score":
                frames[-1]["s"] = float(v)
    os.remove(meta)
    return frames

def verify(clip, path, targets):
    errors = []
    n = clip["frames"]
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "packet=pts_time", "-of", "csv=p=0", path],
                           capture_output=True, text=True, check=True).stdout.split()
    times = sorted(float(x.strip(",")) for x in probe if x.strip(","))
    if len(times) != n:
        errors.append(f"{len(times)} frames, expected {n}")
    bad = [i for i, t in enumerate(times) if abs(t - i / FPS) > 1e-3]
    if bad:
        errors.append(f"frame {bad[0]} at {times[bad[0]]}, expected {bad[0] / FPS}")
    dur = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                path], capture_output=True, text=True, check=True).stdout)
    if abs(dur - clip["duration"]) > 0.041:
        errors.append(f"duration {dur}, expected {clip['duration']}")
    fr = analyse(path)
    if len(fr) != n:
        return errors + [f"decoded {len(fr)} frames, expected {n}"]
    ys = [f.get("y", 0) for f in fr]
    sc = [f.get("s", 0) for f in fr]
    idx = lambda t: round(t * FPS)
    flash_frames = {f for x in clip["negatives"] if x["kind"] == "flash" for f in range(idx(x["start"]), idx(x["end"]))}
    cut_scores = []
    for tr in clip["transitions"]:
        a, b = idx(tr["start"]), idx(tr["end"])
        if tr["kind"] in ("cut", "dark_cut"):
            win = [sc[i] for i in range(max(1, a - 6), min(n, a + 7)) if i != a and i not in flash_frames
                   and i - 1 not in flash_frames]
            if not (sc[a] > 1.5 * max(win)):
                errors.append(f"{tr['kind']} at {tr['time']}: scene score {sc[a]:.3f}, around it up to {max(win):.3f}")
            cut_scores.append(sc[a])
        elif tr["kind"] == "fade":
            extreme = min(ys[a:b + 1]) if tr.get("color", "black") == "black" else max(ys[a:b + 1])
            if (tr.get("color", "black") == "black" and extreme > 24) or (tr.get("color") == "white" and extreme < 220):
                errors.append(f"fade at {tr['time']} reaches only luma {extreme:.0f}")
    cut_scores.sort()
    for tr in clip["transitions"]:
        if tr["kind"] == "dissolve" and cut_scores:
            a, b = idx(tr["start"]), idx(tr["end"])
            top = max(sc[a - 5:b + 6])
            if top > 0.5 * cut_scores[len(cut_scores) // 2]:
                errors.append(f"dissolve at {tr['time']}: a frame change of {top:.3f} looks like a cut")
    for s, target in zip(clip["shots"], targets):
        if s["dark"]:
            seg = [ys[i] for i in range(idx(s["start"]), idx(s["end"])) if i not in flash_frames]
            m = sum(seg) / len(seg)
            if not (18 <= m <= 40 if target is None else abs(m - target) <= 6):
                errors.append(f"dark shot at {s['start']}: mean luma {m:.1f}" +
                              (f", meant {target}" if target is not None else ""))
    for x in clip["negatives"]:
        if x["kind"] == "flash":
            f, e = idx(x["start"]), idx(x["end"])
            around = sorted(ys[f - 3:f] + ys[e:e + 3])
            for g in range(f, e):
                if ys[g] - around[len(around) // 2] < 60:
                    errors.append(f"flash at {x['start']}: luma {ys[g]:.0f} vs {around[len(around) // 2]:.0f}")
    return errors

def make(name):
    use_format(FORMATS[name])
    graph, total, clip, targets = build(name, CLIPS[name])
    path = encode(name, graph)
    errors = verify(clip, path, targets)
    return name, clip, errors

names = sorted(CLIPS, key=lambda c: -FORMATS[c]["w"])  # the biggest first, for the two workers
with cf.ProcessPoolExecutor(max_workers=JOBS, mp_context=mp.get_context("fork")) as pool:
    results = list(pool.map(make, names))
results.sort(key=lambda r: list(CLIPS).index(r[0]))
failed = False
clips = []
for name, clip, errors in results:
    for e in errors:
        print(f"make-set: {name}: {e}", file=sys.stderr); failed = True
    clips.append(clip)
if failed:
    raise SystemExit("make-set: the generated clips do not match their truth")
json.dump({"fps": 30 if SET == "holdout" else FPS, "clips": clips}, open(os.path.join(OUT, "truth.json"), "w"),
          indent=1)
count = {}
for c in clips:
    for x in c["transitions"] + c["negatives"]:
        k = x["kind"] + ("_" + x["color"] if "color" in x else "")
        count[k] = count.get(k, 0) + 1
print("make-set: %d clips, %.1f s; %s" % (len(clips), sum(c["duration"] for c in clips),
      ", ".join(f"{k} {v}" for k, v in count.items())))
PY
echo "$stamp" > "$tmp/.stamp"
rm -rf "$out.old.$$"
[ -e "$out" ] && mv -T "$out" "$out.old.$$"
if ! mv -T "$tmp" "$out" 2> /dev/null; then   # another make-set got there first: keep its set if it is this one
  [ "$(cat "$out/.stamp" 2> /dev/null)" = "$stamp" ] || { echo "make-set: could not move $tmp to $out" >&2; exit 1; }
  rm -rf "$tmp"
fi
rm -rf "$out.old.$$"
trap - EXIT
echo "make-set: wrote $out in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
