#!/usr/bin/env python3
"""What an OpenAI-compatible engine was sent during an eval run, checked against what the outputs say.

  wire.py LOG OUT [--expect images,audio] [--json FILE] [--label L]

LOG is the request log of scripts/standin-openai.py (as the stand-in, or as a recording proxy in front of a
real server with --forward); OUT is the run's output folder (its *.recap.json, not those under OUT/social
unless OUT is that folder). Counted: chat completions by schema name; audio parts (each must be a 16 kHz mono
WAV of at most 30 s) and the seconds they hold; image parts (each a JPEG data URI, at most 768 px a side) and
the most in one request; the files named by a summary request.

Checked, each a failure when it does not hold:
- every audio part and every image part is well formed (as above);
- when outputs say the engine wrote their transcript (transcript.source "engine"), their audio reached it:
  the clips add up to those files' durations (within 0.5 s a file);
- when outputs keep model scene descriptions, at least that many frames reached the engine;
- every output whose summary provenance says "model" was named in a summary request;
- with --expect images / audio: that kind of part reached the engine at all (an engine that takes it).
Exit 1 when a check fails. Writes the counts and failures as JSON (--json).
"""
import argparse, base64, json, pathlib, re, struct, sys

SUMMARY_SCHEMAS = re.compile(r"^recap_(summarize|map|reduce|combine)")


def wav_facts(data):
    """(format tag, channels, sample rate, bits, seconds) of a WAV, or None."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, fmt, size_data = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif cid == b"data":
            size_data = min(size, len(data) - pos - 8)
        pos += 8 + size + (size & 1)
    if not fmt or size_data is None:
        return None
    tag, channels, rate, _, align, bits = fmt
    return tag, channels, rate, bits, size_data / max(1, align) / max(1, rate)


def jpeg_size(data):
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        if data[i + 1] in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None


def parts_of(body):
    out = []
    for m in body.get("messages") or []:
        c = m.get("content")
        out += c if isinstance(c, list) else [{"type": "text", "text": c or ""}]
    return out


def outputs(out):
    root = pathlib.Path(out)
    for p in sorted(root.rglob("*.recap.json")):
        rel = p.relative_to(root).parts
        if "social" in rel[:-1] or any(x.startswith(".") for x in rel):
            continue
        yield p, json.loads(p.read_text())


def check(log, out, expect):
    reqs = [json.loads(l) for l in pathlib.Path(log).read_text().splitlines() if l.strip()]
    by_schema, failures = {}, []
    clips, clip_seconds, bad_audio = 0, 0.0, []
    images, bad_images, most_images = 0, [], 0
    summary_texts = []
    for r in reqs:
        body = r.get("body") or {}
        if not r.get("path", "").endswith("/chat/completions") or not isinstance(body, dict):
            continue
        name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "(no schema)")
        by_schema[name] = by_schema.get(name, 0) + 1
        parts = parts_of(body)
        n_img = 0
        for p in parts:
            if p.get("type") == "input_audio":
                clips += 1
                a = p.get("input_audio") or {}
                try:
                    facts = wav_facts(base64.b64decode(a.get("data", ""), validate=True))
                except ValueError:
                    facts = None
                if a.get("format") != "wav" or not facts or facts[1:3] != (1, 16000) or facts[4] > 30.001:
                    bad_audio.append(f"{name}: format {a.get('format')!r}, {facts}")
                else:
                    clip_seconds += facts[4]
            elif p.get("type") == "image_url":
                images += 1; n_img += 1
                url = (p.get("image_url") or {}).get("url", "")
                size = None
                if url.startswith("data:image/jpeg;base64,"):
                    try:
                        size = jpeg_size(base64.b64decode(url.split(",", 1)[1], validate=True))
                    except ValueError:
                        size = None
                if not size or max(size) > 768 or min(size) < 16:
                    bad_images.append(f"{name}: {url[:40]}… {size}")
            elif p.get("type") == "text" and SUMMARY_SCHEMAS.match(name):
                summary_texts.append(p.get("text", ""))
        most_images = max(most_images, n_img)
    if bad_audio: failures.append(f"{len(bad_audio)} audio parts are not 16 kHz mono WAV clips of at most 30 s: {bad_audio[:3]}")
    if bad_images: failures.append(f"{len(bad_images)} image parts are not JPEGs of 16-768 px a side: {bad_images[:3]}")

    files, heard_files, heard_seconds, model_scenes, unnamed = 0, 0, 0.0, 0, []
    summary = "\n".join(summary_texts)
    for path, doc in outputs(out):
        files += 1
        probe = (doc.get("source") or {}).get("probe") or {}
        if (doc.get("transcript") or {}).get("source") == "engine":
            heard_files += 1
            heard_seconds += probe.get("duration_seconds") or 0
        model_scenes += sum(1 for s in doc.get("scenes") or [] if s.get("description_source") == "model")
        prov = doc.get("provenance") or {}
        said = any(str(v).startswith("model") for k, v in prov.items()
                   if k.startswith("results.") and k not in ("results.scenes", "results.transcript"))
        name = (doc.get("source") or {}).get("path", path.name)
        if said and f"file {pathlib.Path(name).name}" not in summary:
            unnamed.append(name)
    if heard_files and (clips == 0 or abs(clip_seconds - heard_seconds) > 0.5 * heard_files):
        failures.append(f"{heard_files} transcripts say the engine heard them ({heard_seconds:.1f} s of media), "
                        f"but {clips} clips of {clip_seconds:.1f} s reached it")
    if images < model_scenes:
        failures.append(f"{model_scenes} scenes keep a model description, but only {images} frames reached the engine")
    if unnamed:
        failures.append(f"summaries called the model's, but no summary request named: {', '.join(unnamed)}")
    if "audio" in expect and clips == 0: failures.append("no audio part reached the engine")
    if "images" in expect and images == 0: failures.append("no image part reached the engine")
    return {"requests": len(reqs), "chat_completions": sum(by_schema.values()), "by_schema": dict(sorted(by_schema.items())),
            "audio_clips": clips, "audio_seconds": round(clip_seconds, 2), "images": images,
            "most_images_per_request": most_images, "outputs": files, "transcripts_by_engine": heard_files,
            "scenes_described_by_model": model_scenes, "failures": failures}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log"); ap.add_argument("out")
    ap.add_argument("--expect", default="", help="comma-separated: images, audio")
    ap.add_argument("--json"); ap.add_argument("--label", default="")
    a = ap.parse_args()
    w = check(a.log, a.out, {x.strip() for x in a.expect.split(",") if x.strip()})
    kinds = ", ".join(f"{k} {n}" for k, n in w["by_schema"].items())
    print(f"engine wire{' (' + a.label + ')' if a.label else ''}: {w['chat_completions']} chat completions ({kinds}); "
          f"{w['audio_clips']} audio clips ({w['audio_seconds']:.1f} s), {w['images']} images (at most "
          f"{w['most_images_per_request']} a request); {w['transcripts_by_engine']} of {w['outputs']} transcripts by the engine, "
          f"{w['scenes_described_by_model']} scenes described by it")
    for f in w["failures"]:
        print(f"engine wire: FAILED: {f}")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(w, indent=1) + "\n")
    return 1 if w["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
