#!/usr/bin/env bash
# Regenerates samples/: small media files made with ffmpeg's lavfi sources and espeak-ng, each with a
# ground-truth JSON the tests assert against. Deterministic inputs; the committed results total < 2 MB.
#
#   scripts/make-samples.sh [OUTDIR]      (default: samples/ in the repo)
#
# Needs: ffmpeg, ffprobe, espeak-ng (scripts/install-debian.sh) and the DejaVu fonts (fonts-dejavu-core).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(readlink -f "${1:-samples}")"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
[ -f "$font" ] || { echo "make-samples: missing $font (apt-get install fonts-dejavu-core)" >&2; exit 1; }
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
dur() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }
# Fixed metadata so the files are byte-stable and probe tests have tags to read.
export TZ=UTC
created="2024-05-01T10:00:00.000000Z"
common_v=(-c:v libx264 -preset medium -tune stillimage -pix_fmt yuv420p -profile:v high -bitexact)
common_a=(-c:a aac -b:a 48k -bitexact)

# json_stream_facts FILE: ffprobe's own view of the streams (the reference our probe is compared with).
json_stream_facts() {
  ffprobe -v error -show_entries \
    "stream=index,codec_type,codec_name,width,height,sample_rate,channels,channel_layout,r_frame_rate,avg_frame_rate,sample_aspect_ratio,duration:stream_side_data=rotation:format=format_name,duration,bit_rate" \
    -of json "$1"
}

# Speech: one WAV per sentence, silence trimmed from both ends so the recorded start/end are the speech itself.
say() { # say TEXT OUT.wav
  espeak-ng -s 150 -v en-us -w "$work/raw.wav" "$1"
  ff -i "$work/raw.wav" -af "silenceremove=start_periods=1:start_threshold=-50dB,areverse,silenceremove=start_periods=1:start_threshold=-50dB,areverse" \
    -ar 22050 -ac 1 "$2"
}

##############################################################################################
# narrated.mp4: ~30 s, a five-sentence lecture on river deltas over four scenes cut at known times.
##############################################################################################
sentences=(
  "Welcome to this short lecture about river deltas."
  "A delta forms where a slow river meets the sea."
  "The water drops sand and mud at the river mouth."
  "Over many years, this builds new land for plants and birds."
  "Thank you for listening, and see you next time."
)
lead=1.2   # speech-free silence before the first sentence
gap=1.3    # silence between sentences
fps=25
duration=30
cuts=(8 15 23)   # scene cut times in seconds (exact frame boundaries at 25 fps)

concat_list="$work/concat.txt"; : > "$concat_list"
ff -f lavfi -i "anullsrc=r=22050:cl=mono" -t "$lead" "$work/lead.wav"
ff -f lavfi -i "anullsrc=r=22050:cl=mono" -t "$gap" "$work/gap.wav"
echo "file '$work/lead.wav'" >> "$concat_list"
t=$lead
sentence_json=""
for i in "${!sentences[@]}"; do
  say "${sentences[$i]}" "$work/s$i.wav"
  d=$(dur "$work/s$i.wav")
  start=$t
  end=$(awk -v a="$t" -v b="$d" 'BEGIN{printf "%.3f", a+b}')
  sentence_json+="${sentence_json:+,}
    {\"text\": \"${sentences[$i]}\", \"start\": $(printf %.3f "$start"), \"end\": $end}"
  echo "file '$work/s$i.wav'" >> "$concat_list"
  echo "file '$work/gap.wav'" >> "$concat_list"
  t=$(awk -v a="$end" -v b="$gap" 'BEGIN{printf "%.3f", a+b}')
done
speech_end=$end
awk -v e="$speech_end" -v d="$duration" 'BEGIN{exit !(e < d - 0.5)}' || { echo "narration too long ($speech_end s)" >&2; exit 1; }
ff -f concat -safe 0 -i "$concat_list" -af "apad" -t "$duration" -ar 44100 -ac 2 "$work/narration.wav"

# Four visually distinct scenes; scene 1 carries a large title for OCR.
s1=${cuts[0]}; s2=$((cuts[1]-cuts[0])); s3=$((cuts[2]-cuts[1])); s4=$((duration-cuts[2]))
ff -f lavfi -i "color=c=0x1f3a93:s=320x180:r=$fps:d=$s1" \
   -f lavfi -i "testsrc2=s=320x180:r=$fps:d=$s2" \
   -f lavfi -i "color=c=0xe8a33d:s=320x180:r=$fps:d=$s3" \
   -f lavfi -i "gradients=s=320x180:r=$fps:d=$s4:n=3:speed=0.03:c0=0x8e24aa:c1=0x00acc1:c2=0xfdd835:seed=7" \
   -filter_complex "[0]drawtext=fontfile=$font:text='RIVER DELTAS':fontsize=40:fontcolor=white:x=(w-tw)/2:y=(h-th)/2[a];\
[a][1][2][3]concat=n=4:v=1:a=0,format=yuv420p[v]" \
   -map "[v]" "${common_v[@]}" -crf 30 -g 50 -keyint_min 50 -sc_threshold 0 \
   -force_key_frames "$(IFS=,; echo "${cuts[*]}")" "$work/narrated-video.mp4"

# Chapters follow the scenes, so probe has chapters to report.
{
  echo ";FFMETADATA1"
  echo "title=River Deltas Lecture"
  echo "creation_time=$created"
  prev=0; n=1
  for c in "${cuts[@]}" "$duration"; do
    printf '[CHAPTER]\nTIMEBASE=1/1000\nSTART=%d\nEND=%d\ntitle=Part %d\n' $((prev*1000)) $((c*1000)) $n
    prev=$c; n=$((n+1))
  done
} > "$work/meta.txt"
ff -i "$work/narrated-video.mp4" -i "$work/narration.wav" -i "$work/meta.txt" \
   -map 0:v -map 1:a -map_metadata 2 -map_chapters 2 -c:v copy "${common_a[@]}" -ar 44100 -ac 2 \
   -metadata creation_time="$created" -movflags +faststart "$out/narrated.mp4"

script_text="${sentences[*]}"
cat > "$out/narrated.json" <<EOF
{
  "file": "narrated.mp4",
  "description": "espeak-ng (en-us, 150 wpm) reads a five-sentence lecture on river deltas over four scenes: blue title card 'RIVER DELTAS', testsrc2 pattern, plain orange card, slowly moving purple/cyan/yellow gradients.",
  "duration": $duration,
  "fps": $fps,
  "width": 320,
  "height": 180,
  "script": "$script_text",
  "speechStart": $lead,
  "sentences": [$sentence_json
  ],
  "sceneCuts": [$(IFS=,; echo "${cuts[*]}")],
  "scenes": [
    {"start": 0, "end": ${cuts[0]}, "content": "solid blue with the white title RIVER DELTAS"},
    {"start": ${cuts[0]}, "end": ${cuts[1]}, "content": "testsrc2 colour test pattern"},
    {"start": ${cuts[1]}, "end": ${cuts[2]}, "content": "plain orange"},
    {"start": ${cuts[2]}, "end": $duration, "content": "slowly moving purple, cyan and yellow gradients"}
  ],
  "onScreenText": [{"text": "RIVER DELTAS", "start": 0, "end": ${cuts[0]}}],
  "title": "River Deltas Lecture",
  "creationTime": "$created",
  "chapters": [
    {"title": "Part 1", "start": 0, "end": ${cuts[0]}},
    {"title": "Part 2", "start": ${cuts[0]}, "end": ${cuts[1]}},
    {"title": "Part 3", "start": ${cuts[1]}, "end": ${cuts[2]}},
    {"title": "Part 4", "start": ${cuts[2]}, "end": $duration}
  ],
  "keyframeInterval": 2,
  "audio": {"codec": "aac", "sampleRate": 44100, "channels": 2},
  "ffprobe": $(json_stream_facts "$out/narrated.mp4")
}
EOF

##############################################################################################
# music.mp4: 10 s of a sine melody over a drone, colour bars; no speech.
##############################################################################################
ff -f lavfi -i "smptebars=s=320x180:r=25:d=10" \
   -f lavfi -i "aevalsrc='0.25*sin(2*PI*t*440*pow(2,(floor(mod(t*2,8))*2)/12))+0.15*sin(2*PI*t*220)+0.1*sin(2*PI*t*330)':s=44100:d=10" \
   "${common_v[@]}" -crf 32 -g 50 "${common_a[@]}" -ac 2 -shortest -movflags +faststart \
   -metadata title="Tone Melody" "$out/music.mp4"
cat > "$out/music.json" <<EOF
{
  "file": "music.mp4",
  "description": "SMPTE colour bars with a stepping sine melody over a 220/330 Hz drone. No speech.",
  "duration": 10,
  "width": 320,
  "height": 180,
  "fps": 25,
  "speech": false,
  "title": "Tone Melody",
  "audio": {"codec": "aac", "sampleRate": 44100, "channels": 2},
  "ffprobe": $(json_stream_facts "$out/music.mp4")
}
EOF

##############################################################################################
# silent-video.mp4: 6 s of test pattern, no audio stream at all.
##############################################################################################
ff -f lavfi -i "testsrc=s=320x180:r=25:d=6" "${common_v[@]}" -crf 32 -g 25 -an -movflags +faststart "$out/silent-video.mp4"
cat > "$out/silent-video.json" <<EOF
{
  "file": "silent-video.mp4",
  "description": "testsrc pattern with a running counter; no audio stream.",
  "duration": 6,
  "width": 320,
  "height": 180,
  "fps": 25,
  "keyframeInterval": 1,
  "hasAudio": false,
  "ffprobe": $(json_stream_facts "$out/silent-video.mp4")
}
EOF

##############################################################################################
# audio-only.m4a: one spoken sentence, AAC, no video.
##############################################################################################
audio_sentence="The river carries water from the hills to the sea."
say "$audio_sentence" "$work/ao.wav"
ff -f lavfi -i "anullsrc=r=22050:cl=mono" -i "$work/ao.wav" -filter_complex "[0]atrim=duration=0.5[s];[s][1]concat=n=2:v=0:a=1,apad=pad_dur=0.5" \
   "${common_a[@]}" -ar 22050 -ac 1 -metadata title="River Sentence" "$out/audio-only.m4a"
ao_speech_end=$(awk -v d="$(dur "$work/ao.wav")" 'BEGIN{printf "%.3f", 0.5+d}')
cat > "$out/audio-only.json" <<EOF
{
  "file": "audio-only.m4a",
  "description": "espeak-ng reads one sentence after 0.5 s of silence; AAC mono 22.05 kHz; no video stream.",
  "script": "$audio_sentence",
  "sentences": [{"text": "$audio_sentence", "start": 0.5, "end": $ao_speech_end}],
  "title": "River Sentence",
  "hasVideo": false,
  "audio": {"codec": "aac", "sampleRate": 22050, "channels": 1},
  "ffprobe": $(json_stream_facts "$out/audio-only.m4a")
}
EOF

##############################################################################################
# portrait.mp4: a phone-style upright clip (180x320 displayed) stored as 320x180 with rotation metadata.
# Upright content: the top third is white, the rest dark blue, with the word UP near the top.
##############################################################################################
ff -f lavfi -i "color=c=0x10205a:s=180x320:r=30:d=4" -f lavfi -i "sine=f=660:d=4:r=44100" \
   -filter_complex "[0]drawbox=x=0:y=0:w=180:h=106:color=white:t=fill,drawtext=fontfile=$font:text='UP':fontsize=48:fontcolor=black:x=(w-tw)/2:y=30,transpose=cclock[v]" \
   -map "[v]" -map 1:a "${common_v[@]}" -crf 30 -g 30 "${common_a[@]}" -ac 1 \
   -metadata creation_time="$created" "$work/portrait-stored.mp4"
# FFmpeg 5.1 only writes a display matrix when stream-copying; its "rotate=270" here yields the usual phone
# matrix (ffprobe: rotation -90, i.e. turn 90 degrees clockwise to display). Checked: ffmpeg's autorotate
# then shows the white third at the top.
ff -i "$work/portrait-stored.mp4" -map 0 -c copy -metadata:s:v:0 rotate=270 -movflags +faststart "$out/portrait.mp4"
cat > "$out/portrait.json" <<EOF
{
  "file": "portrait.mp4",
  "description": "Upright phone clip: white top third with the word UP, dark blue below. Stored 320x180 rotated; the display matrix turns it back to 180x320.",
  "duration": 4,
  "storedWidth": 320,
  "storedHeight": 180,
  "displayWidth": 180,
  "displayHeight": 320,
  "rotation": 90,
  "rotationNote": "clockwise degrees to turn the stored picture to display it (ffprobe reports the display matrix as -90)",
  "uprightCheck": "the top third of the displayed frame is bright, the bottom is dark",
  "fps": 30,
  "ffprobe": $(json_stream_facts "$out/portrait.mp4")
}
EOF

##############################################################################################
# vfr.mp4: variable frame rate. 0-3 s: every third frame of 30 fps kept (10 fps); 3-6 s: all 30 fps.
# A running clock is drawn on each frame.
##############################################################################################
ff -f lavfi -i "testsrc2=s=320x180:r=30:d=6" \
   -vf "select='if(lt(t\,3)\,not(mod(n\,3))\,1)',drawtext=fontfile=$font:text='%{pts\:hms}':fontsize=24:fontcolor=white:box=1:boxcolor=black:x=10:y=10" \
   -fps_mode vfr "${common_v[@]}" -crf 32 -g 30 -an -video_track_timescale 30000 -movflags +faststart "$out/vfr.mp4"
frame_times=$(ffprobe -v error -select_streams v:0 -show_entries frame=pts_time -of csv=p=0 "$out/vfr.mp4" | tr -d , | awk 'NF{printf "%s%s", (n++?",":""), $1}')
cat > "$out/vfr.json" <<EOF
{
  "file": "vfr.mp4",
  "description": "Variable frame rate: 10 fps for the first 3 s, 30 fps for the last 3 s; testsrc2 with a drawn clock; no audio.",
  "duration": 6,
  "width": 320,
  "height": 180,
  "segments": [{"start": 0, "end": 3, "fps": 10}, {"start": 3, "end": 6, "fps": 30}],
  "frameTimes": [$frame_times],
  "ffprobe": $(json_stream_facts "$out/vfr.mp4")
}
EOF

# Sanity-check the ground truth with whichever JSON tool is present (ffprobe-only machines skip this).
for j in "$out"/*.json; do
  if command -v jq > /dev/null; then jq empty "$j" || { echo "bad JSON: $j" >&2; exit 1; }
  elif command -v python3 > /dev/null; then python3 -m json.tool "$j" > /dev/null || { echo "bad JSON: $j" >&2; exit 1; }
  fi
done
du -ch "$out"/* | tail -1
