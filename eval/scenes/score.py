#!/usr/bin/env python3
"""Scores scene-transition detections against the truth of eval/scenes/make-set.sh.

  eval/scenes/score.py TRUTH.json DETECTIONS.json [--json] [--label NAME] [-v]
  eval/scenes/score.py TRUTH.json --from-recap DIR [...]        DIR/<clip stem>.json: `recap frames --scenes --json`
  eval/scenes/score.py TRUTH.json --from-scenedetect DIR [...]  DIR/<clip stem>-Scenes.csv: `scenedetect list-scenes`

DETECTIONS.json: {"clips": {"NAME.mp4": [{"time": S, "start": S, "end": S, "kind": "cut"|"fade"|...}]}}
(start, end and kind are optional and only informational; a clip left out has no detections).

Matching, per clip, one to one: a detection can match a truth transition when its time lies within
[start - 0.25 s, end + 0.25 s] of it (for a cut, start = end, so +-0.25 s = +-6 frames at 25 fps; for a fade or
dissolve, anywhere over it or 0.25 s either side). Candidate pairs are taken greedily, nearest first (distance
from the detection to the transition's time). Each detection left over is a false positive; it is put down to
the negative (flash, pan, shake, zoom) whose interval +-0.25 s holds it, else to "elsewhere" (a second detection
of an already matched transition counts as elsewhere, and is also counted as a duplicate).

Reported: per transition kind, count, found and recall; per negative kind, count, how many got at least one false
detection ("false") and score = 1 - false / count; in total TP, FP, FN, precision, recall and F1.
"""
import argparse
import csv
import json
import os
import sys

TOL = 0.25
POSITIVE = ["cut", "dark_cut", "fade", "dissolve"]
NEGATIVE = ["flash", "pan", "shake", "zoom"]


def stem(name):
    return os.path.splitext(os.path.basename(name))[0]


def from_recap(truth, folder):
    """recap's frames.json: every scene after the first is opened by a transition at scene.start."""
    clips = {}
    for clip in truth["clips"]:
        s = stem(clip["file"])
        path = next((p for p in (os.path.join(folder, s + ".json"), os.path.join(folder, s, "frames.json"))
                     if os.path.exists(p)), None)
        if path is None:
            print(f"score: no recap output for {clip['file']} in {folder}", file=sys.stderr)
            continue
        with open(path) as f:
            doc = json.load(f)
        dets = []
        for sc in sorted(doc.get("scenes") or [], key=lambda x: x["start"])[1:]:
            tr = sc.get("transition")
            if tr:
                d = {"time": sc["start"], "start": tr.get("start", sc["start"]), "end": tr.get("end", sc["start"]),
                     "kind": tr.get("kind", "cut")}
                if "score" in tr:
                    d["score"] = tr["score"]
            else:  # a binary from before transitions were reported: every boundary is a cut
                d = {"time": sc["start"], "start": sc["start"], "end": sc["start"], "kind": "cut"}
            dets.append(d)
        clips[clip["file"]] = dets
    return {"clips": clips}


def from_scenedetect(truth, folder):
    """PySceneDetect's scene list CSV: the cuts are the start times of every scene but the first."""
    clips = {}
    for clip in truth["clips"]:
        s = stem(clip["file"])
        path = next((p for p in (os.path.join(folder, s + "-Scenes.csv"), os.path.join(folder, s + ".csv"))
                     if os.path.exists(p)), None)
        if path is None:
            print(f"score: no PySceneDetect scene list for {clip['file']} in {folder}", file=sys.stderr)
            continue
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        head = next((i for i, r in enumerate(rows) if r and r[0].strip() == "Scene Number"), None)
        starts = []
        if head is not None:
            col = rows[head].index("Start Time (seconds)")
            starts = [float(r[col]) for r in rows[head + 1:] if len(r) > col and r[col].strip()]
        clips[clip["file"]] = [{"time": t, "kind": "cut"} for t in sorted(starts)[1:]]
    return {"clips": clips}


def score(truth, detections, label=""):
    dets_by_clip = {}
    for name, dets in (detections.get("clips") or {}).items():
        dets_by_clip[os.path.basename(name)] = dets
        dets_by_clip.setdefault(stem(name), dets)
    kinds = {k: {"count": 0, "found": 0} for k in POSITIVE}
    negs = {k: {"count": 0, "false": 0} for k in NEGATIVE}
    tp = fp = fn = elsewhere = duplicate = 0
    missed, false, matched = [], [], []
    for clip in truth["clips"]:
        trs = clip["transitions"]
        dets = dets_by_clip.get(clip["file"], dets_by_clip.get(stem(clip["file"]), []))
        times = [float(d["time"]) for d in dets]
        pairs = []
        for ti, tr in enumerate(trs):
            for di, t in enumerate(times):
                if tr["start"] - TOL - 1e-9 <= t <= tr["end"] + TOL + 1e-9:
                    pairs.append((abs(t - tr["time"]), ti, di))
        pairs.sort()
        t_used, d_used = {}, {}
        for dist, ti, di in pairs:
            if ti not in t_used and di not in d_used:
                t_used[ti] = di
                d_used[di] = ti
        for ti, tr in enumerate(trs):
            k = tr["kind"]
            kinds.setdefault(k, {"count": 0, "found": 0})
            kinds[k]["count"] += 1
            if ti in t_used:
                kinds[k]["found"] += 1
                tp += 1
                d = dets[t_used[ti]]
                matched.append({"clip": clip["file"], "kind": k, "time": tr["time"], "detected": float(d["time"]),
                                "detected_kind": d.get("kind")})
            else:
                fn += 1
                missed.append({"clip": clip["file"], "kind": k, "time": tr["time"]})
        hit = set()
        for di, t in enumerate(times):
            if di in d_used:
                continue
            fp += 1
            near = [(min(abs(t - x["start"]), abs(t - x["end"])), ni, x) for ni, x in enumerate(clip["negatives"])
                    if x["start"] - TOL - 1e-9 <= t <= x["end"] + TOL + 1e-9]
            entry = {"clip": clip["file"], "time": t, "detected_kind": dets[di].get("kind")}
            if near:
                _, ni, x = min(near, key=lambda n: (n[0], n[1]))
                entry["negative"] = x["kind"]
                hit.add(ni)
            else:
                entry["negative"] = "elsewhere"
                elsewhere += 1
                if any(tr["start"] - TOL <= t <= tr["end"] + TOL for tr in trs):
                    entry["duplicate"] = True
                    duplicate += 1
            false.append(entry)
        for ni, x in enumerate(clip["negatives"]):
            negs.setdefault(x["kind"], {"count": 0, "false": 0})
            negs[x["kind"]]["count"] += 1
            if ni in hit:
                negs[x["kind"]]["false"] += 1
    for k, v in kinds.items():
        v["score"] = round(v["found"] / v["count"], 4) if v["count"] else None
    for k, v in negs.items():
        v["score"] = round(1 - v["false"] / v["count"], 4) if v["count"] else None
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"label": label, "f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4),
            "tp": tp, "fp": fp, "fn": fn, "fp_elsewhere": elsewhere, "fp_duplicate": duplicate,
            "tolerance_s": TOL, "kinds": {**kinds, **negs}, "missed": missed, "false": false, "matched": matched}


def table(r, verbose=False):
    out = []
    title = f"scenes eval{': ' + r['label'] if r['label'] else ''}"
    out.append(f"{title}  (match: detection within [start-{TOL}, end+{TOL}] s of a transition, one to one)")
    out.append(f"{'transition':<12}{'count':>6}{'found':>7}{'recall':>8}")
    for k, v in r["kinds"].items():
        if "found" in v:
            out.append(f"{k:<12}{v['count']:>6}{v['found']:>7}{v['score'] if v['score'] is not None else '-':>8}")
    out.append(f"{'negative':<12}{'count':>6}{'false':>7}{'score':>8}")
    for k, v in r["kinds"].items():
        if "false" in v:
            out.append(f"{k:<12}{v['count']:>6}{v['false']:>7}{v['score'] if v['score'] is not None else '-':>8}")
    out.append(f"false detections elsewhere: {r['fp_elsewhere']} (second detections of a transition: "
               f"{r['fp_duplicate']})")
    out.append(f"TP {r['tp']}  FP {r['fp']}  FN {r['fn']}  precision {r['precision']:.3f}  "
               f"recall {r['recall']:.3f}  F1 {r['f1']:.3f}")
    if verbose:
        for m in r["missed"]:
            out.append(f"  missed {m['kind']:<9} {m['clip']} at {m['time']:.2f}")
        for m in r["false"]:
            out.append(f"  false  {m['negative']:<9} {m['clip']} at {m['time']:.2f}"
                       f"{' (duplicate)' if m.get('duplicate') else ''}")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("truth")
    ap.add_argument("detections", nargs="?")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--from-recap", metavar="DIR")
    src.add_argument("--from-scenedetect", metavar="DIR")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--label", default="")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss and false detection")
    ap.add_argument("--write-detections", metavar="FILE", help="also write the detections (e.g. converted) as JSON")
    a = ap.parse_args(argv)
    with open(a.truth) as f:
        truth = json.load(f)
    given = sum(x is not None for x in (a.detections, a.from_recap, a.from_scenedetect))
    if given != 1:
        ap.error("give exactly one of DETECTIONS.json, --from-recap DIR, --from-scenedetect DIR")
    if a.from_recap:
        dets = from_recap(truth, a.from_recap)
    elif a.from_scenedetect:
        dets = from_scenedetect(truth, a.from_scenedetect)
    else:
        with open(a.detections) as f:
            dets = json.load(f)
    if a.write_detections:
        with open(a.write_detections, "w") as f:
            json.dump(dets, f, indent=1)
    r = score(truth, dets, a.label)
    print(json.dumps(r, indent=1) if a.json else table(r, a.verbose))


if __name__ == "__main__":
    main()
