#!/usr/bin/env bash
# The demo: the main job on samples/ with the embedded default engine.
set -euo pipefail
recap="$1"; out="$2"
mkdir -p "$out"
"$recap" probe samples/*.mp4 samples/*.m4a
"$recap" frames samples/narrated.mp4 --scenes --out "$out/narrated-frames" --contact-sheet "$out/narrated-contact.jpg"
echo "Output written to $out"
