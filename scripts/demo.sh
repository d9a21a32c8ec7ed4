#!/usr/bin/env bash
# The demo: `recap run` over samples/ with the embedded default engine (whisper.cpp + llama-server with
# SmolLM2 + OCR and pixel facts, all offline), then a short human summary of what came out.
# Called by `make demo` as: scripts/demo.sh RELEASE_BIN OUT_DIR
set -uo pipefail
recap="$1"; out="$2"
cd "$(dirname "$0")/.."
mkdir -p "$out"

echo "== recap run samples --out $out"
"$recap" run samples --out "$out"
status=$?
case $status in
  0) ;;
  2) echo "(some files failed; they are listed above)";;
  *) echo "recap run failed with exit code $status"; exit "$status";;
esac

echo
echo "== What came out"
python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for p in sorted(out.rglob("*.recap.json")):
    d = json.loads(p.read_text())
    r, g = d.get("results", {}), d.get("grounding", {})
    t = d.get("transcript") or {}
    words = sum(len(s["text"].split()) for s in t.get("segments", []))
    head = r.get("title") or r.get("short_caption") or r.get("one_line") or ""
    print(f"{p.relative_to(out)}  ({d['source']['probe']['duration_seconds']:.0f} s, {words} words transcribed, {len(d.get('scenes', []))} scenes)")
    if head: print(f"    title:    {head}")
    if r.get("one_line"): print(f"    summary:  {r['one_line']}")
    for s in d.get("extract", [])[:2]: print(f"    said:     \"{s['text']}\" (at {s['start']:.0f} s)")
    print(f"    grounded: {g.get('note', '')}")
    extra = [f for f in ("srt", "vtt", "contact_sheet") if d.get("files", {}).get(f)]
    if extra: print(f"    also:     {', '.join(d['files'][f] for f in extra)}")
PY
echo
echo "Output written to $out (one NAME.recap.json per file; schema: schemas/recap-output.v1.json)"
echo "Try: $recap search delta --out $out   |   $recap status --out $out"
