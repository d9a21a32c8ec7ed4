#!/usr/bin/env python3
"""Scores a `recap run` over the eval set (eval/make-set.sh) against eval/truth/*.json.

  score.py --truth eval/truth --out OUT [--seconds WALL] [--peak-mb MB] [--label L] [--json FILE]
  score.py --compare A.json B.json          two runs' scores side by side

Per file, from OUT/<name>.recap.json:
  fact recall      share of the file's key facts whose pattern (case-insensitive regex) matches the readable
                   text: results.title, one_line, paragraph, key_points[], chapters[].title (whichever exist).
  evidence recall  the same patterns over what the model was given (transcript segments + scenes' OCR text):
                   the ceiling any model can reach with this evidence.
  invented         names (capitalized words not at a sentence start, and multi-word capitalized phrases) and
                   numbers (digit runs) in the readable text that the source (truth source_text: spoken script,
                   slide text, file name; plus the truth's names and numbers, and the file's duration) never
                   contains. Case-insensitive word match; numbers compared as digit strings ("180,000" = 180000).
                   Not counted: counters such as "Scene 3" / "Part 2", and common words in title-cased titles.
  title rules      empty; an error/apology sentence; a timestamp or date-time; file-system junk (extension,
                   slash, underscore); longer than 80 characters.
  describe         for files without facts: share of the truth's "describe" patterns the readable text matches.
Totals: mean fact recall over the files with facts, invented per file (mean, max), title rules broken over all
files, seconds of wall time per minute of media, peak MB (sum of RSS over recap and its children).
"""
import argparse, datetime, json, pathlib, re, sys

APOLOGY = re.compile(r"no speech|nothing to|\berror|cannot|can not|unable|not found|no on-screen text|\bsorry\b", re.I)
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2})?|\b\d{1,2}:\d{2}(?::\d{2})?\b")
FS_JUNK = re.compile(r"\.(?:mp4|mkv|m4a|m4v|mov|webm|avi|wav|mp3|aac|flac|json|srt|vtt|jpe?g|png)\b|[/\\_]", re.I)
MAX_TITLE = 80

# Words that connect a capitalized phrase ("Lighthouse of Alexandria") or that are never names.
CONNECTORS = {"of", "the", "and", "de", "da", "di", "del", "von", "van", "der", "la", "le", "du", "&"}
NOT_NAMES = {"i", "i'm", "i've", "i'll", "i'd", "a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "with",
             "by", "from", "about", "as", "into", "is", "are", "was", "were", "it", "its", "this", "that", "these", "how",
             "what", "why", "when", "where", "who", "your", "my", "our", "their", "his", "her", "we", "you", "they"}
# Ordinary words a title-cased title capitalizes; in such a field they are not names (a name there must be a
# word outside this list and outside the source).
TITLE_WORDS = set("""
about across after all amazing ancient art arts at back baking basic basics before beginner beginners behind best
big bread brief build building built business change changed changes changing city class classic complete cooking
day days deep design discover discovering discussion dive early easy end epic essential essentials everyday
evolution explained exploring facts famous fast final first from fun future great guide guided high highlights
history home hour how idea ideas important in inside interview intro introduction journey key kitchen knowledge
lecture legacy lesson lessons life light little local look looking making master meet meeting minute minutes
modern more music new news notes old on one origin origins our overview part past people perfect plan plans power
practical presentation quick recap recipe review rise road secret secrets short simple small start started
steps story stories summary system talk talks team the time tips today top tour tutorial two ultimate
understanding update updates video visit walk way ways what when why wonder wonders work world years your
""".split())


def readable(results):
    """The text a reader sees: title, one_line, paragraph, key points, chapter titles, each a separate field."""
    fields = []
    for key in ("title", "one_line", "paragraph"):
        if isinstance(results.get(key), str):
            fields.append((key, results[key]))
    for kp in results.get("key_points") or []:
        if isinstance(kp, str):
            fields.append(("key_points", kp))
    for ch in results.get("chapters") or []:
        if isinstance(ch, dict) and isinstance(ch.get("title"), str):
            fields.append(("chapters", ch["title"]))
    return fields


def evidence(doc):
    parts = [s.get("text", "") for s in ((doc.get("transcript") or {}).get("segments") or [])]
    parts += [s.get("ocr_text", "") or "" for s in doc.get("scenes") or []]
    return "\n".join(p for p in parts if p)


def norm_word(w):
    w = w.lower().replace("\u2019", "'")
    return re.sub(r"'s$", "", w).strip("'")


def words_of(text):
    return {norm_word(w) for w in re.findall(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*", text)}


def numbers_of(text):
    """Digit strings: "180,000" and "1,100" count as 180000 and 1100; "3rd" and "24-hour" as 3 and 24."""
    found = set()
    for tok in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
        tok = tok.rstrip(",")
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", tok):
            found.add(tok.replace(",", ""))
        else:
            found.update(t for t in tok.split(",") if t)
    return found


def is_title_case(text):
    long_words = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) >= 4]
    return len(long_words) >= 2 and sum(w[0].isupper() for w in long_words) >= 0.66 * len(long_words)


def name_candidates(text):
    """Capitalized phrases: runs of capitalized words (joined by 'of', 'the', ...), with whether the run opens a
    sentence or clause. A single capitalized word that opens a sentence is not a name candidate."""
    out = []
    for sentence in re.split(r"(?<=[.!?:;])\s+|\s+[-\u2013\u2014]\s+|[\n\"\u201c\u201d()\[\]]", text):
        toks = re.findall(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*|\S", sentence)
        i, first_word = 0, True
        while i < len(toks):
            t = toks[i]
            if not t[0].isalpha():
                i += 1
                continue
            if t[0].isupper():
                run, start, j = [t], first_word, i + 1
                while j < len(toks):
                    if toks[j][0].isalpha() and toks[j][0].isupper():
                        run.append(toks[j]); j += 1
                    elif (toks[j].lower() in CONNECTORS and j + 1 < len(toks) and toks[j + 1][0].isalpha()
                          and toks[j + 1][0].isupper()):
                        run += [toks[j], toks[j + 1]]; j += 2
                    else:
                        break
                caps = [w for w in run if w[0].isupper()]
                if len(caps) >= 2 or not start:
                    out.append(" ".join(run))
                i = j
            else:
                i += 1
            first_word = False
    return out


def invented(fields, truth, doc):
    src = truth.get("source_text", "") + "\n" + " ".join(truth.get("names", []))
    src_words = words_of(src)
    allowed = numbers_of(src) | {str(n).replace(",", "") for n in truth.get("numbers", [])}
    dur = ((doc.get("source") or {}).get("probe") or {}).get("duration_seconds") or truth.get("duration_s") or 0
    for d in (dur, dur / 60):
        allowed |= {str(int(d)), str(int(d) + 1), str(int(round(d)))}
    names, numbers = {}, {}
    for _, text in fields:
        title_case = is_title_case(text)
        for phrase in name_candidates(text):
            parts = [norm_word(w) for w in re.split(r"[\s\-]+", phrase) if w and w[0].isupper()]
            new = [p for p in parts if p and p not in NOT_NAMES and p not in src_words
                   and not (title_case and p in TITLE_WORDS)]
            if new:   # one entry per invented word set: "Poke" and "Poke and Chain" are one invention
                key = tuple(sorted(set(new)))
                shown = phrase if len(phrase) <= 48 else phrase[:47] + "\u2026"
                if len(shown) > len(names.get(key, "")): names[key] = shown
        cleaned = re.sub(r"\b(?:scene|part|chapter|section|slide|segment)\s+\d+\b", " ", text, flags=re.I)
        for n in numbers_of(cleaned):
            if n not in allowed:
                numbers.setdefault(n, n)
    return sorted(names.values()), sorted(numbers.values(), key=lambda s: (len(s), s))


def title_rules(title):
    if title is None or not str(title).strip():
        return ["empty"]
    broken = []
    if APOLOGY.search(title): broken.append("apology")
    if TIMESTAMP.search(title): broken.append("timestamp")
    if FS_JUNK.search(title): broken.append("file-junk")
    if len(title) > MAX_TITLE: broken.append("too-long")
    return broken


# Each platform's own caption limit (characters), as the platforms publish them; not read from the pipeline, so
# the eval checks Recap's limits rather than repeating them.
PLATFORM_LIMITS = {"x": 280, "instagram": 2200, "tiktok": 2200, "youtube": 100, "linkedin": 3000}
CAPTION_LIMITS = {"short_caption": 150, "long_caption": 2200}
MAX_HASHTAGS = 5
HASHTAG = re.compile(r"#[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*")
HASHTAG_FULL = re.compile(r"^#[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*$")
HASHTAG_JUNK = re.compile(r"(?:mp4|mkv|m4a|mov|webm|jpe?g|png|json|srt|vtt)$", re.I)


def loops(text):
    """A looping model's mark: the same sentence twice, the same run of 5 words twice, or one word 4 times in a
    row. Hashtags are left out (a tag may repeat a phrase of the caption)."""
    text = HASHTAG.sub(" ", text)
    sentences = [tuple(re.findall(r"[^\W_]+", s.lower())) for s in re.split(r"[.!?\n]+", text)]
    seen = set()
    for s in sentences:
        if len(s) >= 3:
            if s in seen: return "sentence said twice"
            seen.add(s)
    words = re.findall(r"[^\W_]+", text.lower())
    grams = {}
    for i in range(len(words) - 4):
        g = tuple(words[i:i + 5])
        if g in grams and i - grams[g] >= 5: return "'%s' said twice" % " ".join(g)
        grams.setdefault(g, i)
    for i in range(len(words) - 3):
        if len(set(words[i:i + 4])) == 1: return "'%s' 4 times in a row" % words[i]
    return None


# An error, apology or status message instead of a caption ("no speech or on-screen text was found"). Unlike a
# title's rule, a caption may say what the media holds ("the audio holds no speech").
CAPTION_ERROR = re.compile(r"nothing to|\berror\b|cannot|can not|unable to|not found|(?:was|were) found|\bsorry\b|"
                           r"no speech and|as an ai\b|i can't", re.I)


def error_sentence(text, truth):
    """An error or apology instead of a caption; a word the source itself says does not count."""
    src = truth.get("source_text", "").lower()
    for m in CAPTION_ERROR.finditer(text):
        if m.group(0).lower() not in src: return m.group(0)
    return None


def hashtag_problems(tags):
    out, seen = [], set()
    for t in tags:
        if not isinstance(t, str) or not HASHTAG_FULL.match(t): out.append(f"malformed {json.dumps(t, ensure_ascii=False)}")
        elif not 2 <= len(t) <= 30: out.append(f"{t} is {len(t)} characters")
        elif HASHTAG_JUNK.search(t): out.append(f"{t} is file junk")
        elif t.lower() in seen: out.append(f"{t} repeated")
        seen.add(t.lower() if isinstance(t, str) else t)
    if len(seen) > MAX_HASHTAGS: out.append(f"{len(seen)} hashtags (at most {MAX_HASHTAGS})")
    return out


def caption_problems(text, limit, truth, doc):
    """(problem kinds, details, invented names, invented numbers) of one caption."""
    kinds, details = [], []
    if not isinstance(text, str) or not text.strip():
        return ["empty"], ["empty"], [], []
    if len(text) > limit: kinds.append("too-long"); details.append(f"{len(text)} > {limit} characters")
    why = loops(text)
    if why: kinds.append("loops"); details.append(why)
    names, numbers = invented([("caption", HASHTAG.sub(" ", text))], truth, doc)
    if names or numbers: kinds.append("invented"); details.append("invented " + "; ".join(names + numbers))
    err = error_sentence(text, truth)
    if err: kinds.append("error"); details.append(f"error sentence ({err!r})")
    return kinds, details, names, numbers


def score_social(truth, social_dir):
    """The social pipeline's output for one file: each platform's post and the captions, checked."""
    path = find_output(social_dir, truth["file"]) if social_dir and social_dir.is_dir() else None
    if not path:
        return {"social_output": None, "social_posts_expected": len(PLATFORM_LIMITS), "social_posts_ok": 0,
                "social_score": 0.0 if social_dir and social_dir.is_dir() else None,
                "social_problems": {"no-output": 1} if social_dir and social_dir.is_dir() else {},
                "social_notes": ["no output"] if social_dir and social_dir.is_dir() else [],
                "social_invented_names": [], "social_invented_numbers": [], "social_invented": 0, "social_posts": {}}
    doc = json.loads(path.read_text())
    results = doc.get("results") or {}
    problems, notes, names, numbers, posts = {}, [], set(), set(), {}
    def note(kind, where, detail):
        problems[kind] = problems.get(kind, 0) + 1
        notes.append(f"{where}: {detail}")
    by_platform = {}
    for p in results.get("posts") or []:
        if isinstance(p, dict) and p.get("platform") in PLATFORM_LIMITS:
            if p["platform"] in by_platform: note("repeated-platform", p["platform"], "a second post")
            by_platform.setdefault(p["platform"], p)
    ok = 0
    for platform, limit in PLATFORM_LIMITS.items():
        p = by_platform.get(platform)
        if p is None:
            note("missing", platform, "no post"); posts[platform] = ["missing"]; continue
        caption = p.get("caption")
        kinds, details, n, m = caption_problems(caption, limit, truth, doc)
        names |= set(n); numbers |= set(m)
        tags = list(p.get("hashtags") or []) + [t for t in HASHTAG.findall(caption or "")
                                                if t.lower() not in {str(x).lower() for x in p.get("hashtags") or []}]
        bad_tags = hashtag_problems(tags)
        if bad_tags: kinds.append("hashtags"); details.append("hashtags: " + ", ".join(bad_tags))
        for k, d in zip(kinds, details): note(k, platform, d)
        posts[platform] = kinds
        ok += not kinds
    for key, limit in CAPTION_LIMITS.items():
        if key in results:
            kinds, details, n, m = caption_problems(results[key], limit, truth, doc)
            names |= set(n); numbers |= set(m)
            for k, d in zip(kinds, details): note(k, key, d)
    bad_tags = hashtag_problems(results.get("hashtags") or [])
    if bad_tags: note("hashtags", "hashtags", ", ".join(bad_tags))
    prov = (doc.get("provenance") or {}).get("results.posts")
    return {"social_output": str(path), "social_posts_expected": len(PLATFORM_LIMITS), "social_posts_ok": ok,
            "social_score": ok / len(PLATFORM_LIMITS), "social_problems": problems, "social_notes": notes,
            "social_invented_names": sorted(names), "social_invented_numbers": sorted(numbers, key=lambda s: (len(s), s)),
            "social_invented": len(names) + len(numbers), "social_posts": posts, "social_posts_provenance": prov}


def find_output(out, name):
    stem = pathlib.Path(name).stem
    for cand in (out / f"{stem}.recap.json", out / f"{name}.recap.json"):
        if cand.exists():
            return cand
    hits = sorted(h for h in out.rglob(f"{stem}*.recap.json") if "social" not in h.relative_to(out).parts[:-1])
    return hits[0] if hits else None


def score_file(truth, out, social_dir=None):
    row = {"file": truth["file"], "kind": truth.get("kind", ""), "duration_s": truth.get("duration_s", 0)}
    path = find_output(out, truth["file"])
    doc = json.loads(path.read_text()) if path else {}
    results = doc.get("results") or {}
    fields = readable(results)
    text = "\n".join(t for _, t in fields)
    ev = evidence(doc)
    facts = truth.get("facts", [])
    hit = [f["id"] for f in facts if re.search(f["pattern"], text, re.I)]
    ev_hit = [f["id"] for f in facts if re.search(f["pattern"], ev, re.I)]
    names, numbers = invented(fields, truth, doc)
    title = results.get("title") if path else None
    describe = truth.get("describe", [])
    row.update({
        "output": str(path) if path else None,
        "title": title,
        "facts": len(facts),
        "facts_hit": hit,
        "facts_missed": [f["id"] for f in facts if f["id"] not in hit],
        "fact_recall": len(hit) / len(facts) if facts else None,
        "evidence_hit": ev_hit,
        "evidence_missed": [f["id"] for f in facts if f["id"] not in ev_hit],
        "evidence_recall": len(ev_hit) / len(facts) if facts else None,
        "missed_with_evidence": [f["id"] for f in facts if f["id"] in ev_hit and f["id"] not in hit],
        "invented_names": names,
        "invented_numbers": numbers,
        "invented": len(names) + len(numbers),
        "title_rules_broken": title_rules(title) if path else ["no-output"],
        "describe": len(describe),
        "describe_hit": [p for p in describe if re.search(p, text, re.I)],
        "where_missed": {w: sum(1 for f in facts if f.get("where") == w and f["id"] not in hit)
                         for w in ("speech", "slide", "both")},
    })
    row.update(score_social(truth, social_dir))
    return row


def totals(rows, seconds, peak_mb, social_seconds=None):
    with_facts = [r for r in rows if r["facts"]]
    minutes = sum(r["duration_s"] for r in rows) / 60
    mean = lambda xs: sum(xs) / len(xs) if xs else None
    worst = max(rows, key=lambda r: r["invented"]) if rows else None
    return {
        "files": len(rows),
        "media_minutes": round(minutes, 2),
        "fact_recall_mean": mean([r["fact_recall"] for r in with_facts]),
        "facts_hit": sum(len(r["facts_hit"]) for r in rows),
        "facts_total": sum(r["facts"] for r in rows),
        "evidence_recall_mean": mean([r["evidence_recall"] for r in with_facts]),
        "evidence_facts_hit": sum(len(r["evidence_hit"]) for r in rows),
        "invented_total": sum(r["invented"] for r in rows),
        "invented_mean": mean([r["invented"] for r in rows]),
        "invented_max": worst["invented"] if worst else None,
        "invented_max_file": worst["file"] if worst else None,
        "title_rules_broken": sum(len(r["title_rules_broken"]) for r in rows),
        "titles_broken_files": sum(1 for r in rows if r["title_rules_broken"]),
        "describe_hit": sum(len(r["describe_hit"]) for r in rows),
        "describe_total": sum(r["describe"] for r in rows),
        "seconds": seconds,
        "seconds_per_media_minute": seconds / minutes if seconds and minutes else None,
        "peak_mb": peak_mb,
        **social_totals(rows, minutes, social_seconds),
    }


def social_totals(rows, minutes, seconds):
    scored = [r for r in rows if r.get("social_score") is not None]
    if not scored:
        return {"social_score": None}
    problems = {}
    for r in scored:
        for k, n in r["social_problems"].items(): problems[k] = problems.get(k, 0) + n
    worst = max(scored, key=lambda r: r["social_invented"])
    return {
        "social_score": sum(r["social_posts_ok"] for r in scored) / sum(r["social_posts_expected"] for r in scored),
        "social_posts_ok": sum(r["social_posts_ok"] for r in scored),
        "social_posts_expected": sum(r["social_posts_expected"] for r in scored),
        "social_problems": dict(sorted(problems.items())),
        "social_invented_mean": sum(r["social_invented"] for r in scored) / len(scored),
        "social_invented_max": worst["social_invented"],
        "social_invented_max_file": worst["file"],
        "social_seconds": seconds,
        "social_seconds_per_media_minute": seconds / minutes if seconds and minutes else None,
    }


def pct(x): return "-" if x is None else f"{100 * x:.0f}%"


def print_report(s):
    rows, t = s["rows"], s["totals"]
    print(f"== eval: {s['label']}  ({t['files']} files, {t['media_minutes']:.1f} min of media)")
    hdr = f"{'file':22} {'kind':8} {'min':>5} {'facts':>9} {'evidence':>9} {'invented':>8} {'title':>5} {'social':>6}  title / problems"
    print(hdr); print("-" * len(hdr))
    for r in rows:
        facts = f"{len(r['facts_hit'])}/{r['facts']}" if r["facts"] else (
            f"d {len(r['describe_hit'])}/{r['describe']}" if r["describe"] else "-")
        ev = f"{len(r['evidence_hit'])}/{r['facts']}" if r["facts"] else "-"
        ok = "ok" if not r["title_rules_broken"] else str(len(r["title_rules_broken"]))
        print(f"{r['file']:22} {r['kind']:8} {r['duration_s'] / 60:5.1f} {facts:>9} {ev:>9} {r['invented']:>8} {ok:>5} {social_cell(r):>6}  "
              f"{json.dumps(r['title'], ensure_ascii=False) if r['title'] is not None else '(no output)'}")
        notes = []
        if r["title_rules_broken"]: notes.append("title: " + ", ".join(r["title_rules_broken"]))
        if r["facts_missed"]: notes.append("missed: " + ", ".join(
            f + ("" if f in r["evidence_hit"] else "*") for f in r["facts_missed"]))
        if r["invented_names"]: notes.append("invented names: " + "; ".join(r["invented_names"]))
        if r["invented_numbers"]: notes.append("invented numbers: " + ", ".join(r["invented_numbers"]))
        if r["describe"] and len(r["describe_hit"]) < r["describe"]:
            notes.append("describe missing: " + ", ".join(p for p in
                         s["truth_describe"][r["file"]] if p not in r["describe_hit"]))
        if r.get("social_notes"): notes.append("social: " + social_summary(r["social_notes"]))
        for n in notes: print(f"{'':50}{n}")
    print("(facts: output hit/total; d = describe patterns for files without facts; missed* = not in the evidence either;"
          " social: good posts/5 from the social pipeline's run)")
    print()
    spm = t["seconds_per_media_minute"]
    print(f"fact recall (mean over {sum(1 for r in rows if r['facts'])} files with facts): {pct(t['fact_recall_mean'])}"
          f"  ({t['facts_hit']}/{t['facts_total']} facts)   evidence recall: {pct(t['evidence_recall_mean'])}"
          f"  ({t['evidence_facts_hit']}/{t['facts_total']})")
    print(f"invented names/numbers per file: mean {t['invented_mean']:.1f}, max {t['invented_max']} ({t['invented_max_file']});"
          f" total {t['invented_total']}")
    print(f"title rules broken: {t['title_rules_broken']} (in {t['titles_broken_files']} of {t['files']} files)"
          f"   describe: {t['describe_hit']}/{t['describe_total']}")
    wall = "" if t["seconds"] is None else " (%.0f s wall)" % t["seconds"]
    speed = "-" if spm is None else "%.1f s per media minute" % spm
    peak = "-" if t["peak_mb"] is None else "%.0f MB" % t["peak_mb"]
    print(f"time: {speed}{wall}   peak memory: {peak}")
    for run, w in (s.get("wire") or {}).items():
        print(f"engine wire ({run}): {w['chat_completions']} chat completions, {w['audio_clips']} audio clips"
              f" ({w['audio_seconds']:.0f} s), {w['images']} images; " + ("; ".join(w["failures"]) or "checks passed"))
    if t.get("social_score") is not None:
        probs = ", ".join(f"{k} {n}" for k, n in t["social_problems"].items()) or "none"
        sspm = t.get("social_seconds_per_media_minute")
        print(f"social posts good: {pct(t['social_score'])} ({t['social_posts_ok']}/{t['social_posts_expected']})   problems: {probs}")
        print(f"social invented names/numbers per file: mean {t['social_invented_mean']:.1f}, max {t['social_invented_max']}"
              f" ({t['social_invented_max_file']})   social run: "
              + ("-" if sspm is None else f"{sspm:.1f} s per media minute ({t['social_seconds']:.0f} s wall)"))
    else:
        print("social: not scored (no social run)")
    print()
    print(markdown(s))


def social_summary(notes):
    """'x: no post; instagram: invented A; tiktok: invented A' -> 'no post (x); invented A (instagram, tiktok)'."""
    by = {}
    for n in notes:
        where, _, detail = n.partition(": ")
        by.setdefault(detail, []).append(where)
    return "; ".join(f"{d} ({', '.join(w)})" for d, w in by.items())


def social_cell(r):
    return "-" if r.get("social_score") is None else f"{r['social_posts_ok']}/{r['social_posts_expected']}"


def markdown(s):
    rows, t = s["rows"], s["totals"]
    lines = [f"Eval `{s['label']}`: {t['files']} files, {t['media_minutes']:.1f} min of media"
             + (f"; {t['seconds_per_media_minute']:.1f} s per media minute" if t["seconds_per_media_minute"] else "")
             + (f", peak {t['peak_mb']:.0f} MB" if t["peak_mb"] else "") + ".", "",
             "| file | kind | min | facts in output | facts in evidence | invented | title | social posts good |",
             "|---|---|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        facts = f"{len(r['facts_hit'])}/{r['facts']}" if r["facts"] else "–"
        ev = f"{len(r['evidence_hit'])}/{r['facts']}" if r["facts"] else "–"
        title = "ok" if not r["title_rules_broken"] else ", ".join(r["title_rules_broken"])
        lines.append(f"| {r['file']} | {r['kind']} | {r['duration_s'] / 60:.1f} | {facts} | {ev} | {r['invented']} | {title} | {social_cell(r)} |")
    lines.append(f"| **total** | | {t['media_minutes']:.1f} | {pct(t['fact_recall_mean'])} ({t['facts_hit']}/{t['facts_total']}) "
                 f"| {pct(t['evidence_recall_mean'])} ({t['evidence_facts_hit']}/{t['facts_total']}) "
                 f"| {t['invented_mean']:.1f}/file, max {t['invented_max']} | {t['title_rules_broken']} broken "
                 f"| {pct(t.get('social_score'))}" + (f" ({t['social_posts_ok']}/{t['social_posts_expected']})" if t.get("social_score") is not None else "") + " |")
    return "\n".join(lines)


def compare(a_path, b_path):
    a, b = (json.loads(pathlib.Path(p).read_text()) for p in (a_path, b_path))
    ta, tb = a["totals"], b["totals"]
    def f(v, kind):
        if v is None: return "-"
        return {"pct": lambda: pct(v), "num": lambda: f"{v:.1f}", "int": lambda: str(v)}[kind]()
    print(f"{'':34} {a['label'][:18]:>18} {b['label'][:18]:>18}")
    for key, kind, what in [("fact_recall_mean", "pct", "fact recall (mean)"), ("facts_hit", "int", "facts hit"),
                            ("evidence_recall_mean", "pct", "evidence recall (mean)"),
                            ("invented_mean", "num", "invented per file (mean)"), ("invented_max", "int", "invented (max)"),
                            ("title_rules_broken", "int", "title rules broken"), ("describe_hit", "int", "describe hits"),
                            ("seconds_per_media_minute", "num", "s per media minute"), ("peak_mb", "num", "peak MB"),
                            ("social_score", "pct", "social posts good"), ("social_posts_ok", "int", "social posts good (count)"),
                            ("social_invented_mean", "num", "social invented per file (mean)"),
                            ("social_invented_max", "int", "social invented (max)"),
                            ("social_seconds_per_media_minute", "num", "social s per media minute")]:
        print(f"{what:34} {f(ta.get(key), kind):>18} {f(tb.get(key), kind):>18}")
    print()
    rb = {r["file"]: r for r in b["rows"]}
    print(f"{'file':22} {'facts':>13} {'invented':>10} {'title rules':>12} {'social':>9}")
    for r in a["rows"]:
        o = rb.get(r["file"])
        if not o: continue
        fa = f"{len(r['facts_hit'])}->{len(o['facts_hit'])}/{r['facts']}" if r["facts"] else "-"
        print(f"{r['file']:22} {fa:>13} {str(r['invented']) + '->' + str(o['invented']):>10} "
              f"{str(len(r['title_rules_broken'])) + '->' + str(len(o['title_rules_broken'])):>12} "
              f"{social_cell(r) + '->' + social_cell(o):>9}")
        if r["title"] != o["title"]:
            print(f"{'':24}{json.dumps(r['title'], ensure_ascii=False)}\n{'':22}->{json.dumps(o['title'], ensure_ascii=False)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth", default=str(pathlib.Path(__file__).parent / "truth"))
    ap.add_argument("--out", help="the run's output folder (holds NAME.recap.json)")
    ap.add_argument("--seconds", type=float, help="wall time of the run")
    ap.add_argument("--peak-mb", type=float, help="peak RSS of recap and its children, MB")
    ap.add_argument("--label", default=None)
    ap.add_argument("--social", help="the social pipeline's output folder (default: OUT/social when it exists)")
    ap.add_argument("--social-seconds", type=float, help="wall time of the social run")
    ap.add_argument("--json", help="write the scores here (default: OUT/scores.json)")
    ap.add_argument("--meta", action="append", default=[], help="KEY=VALUE recorded in the scores JSON")
    ap.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"))
    args = ap.parse_args()
    if args.compare:
        compare(*args.compare); return
    if not args.out:
        ap.error("--out is required")
    out = pathlib.Path(args.out)
    truths = [json.loads(p.read_text()) for p in sorted(pathlib.Path(args.truth).glob("*.json"))]
    social = pathlib.Path(args.social) if args.social else (out / "social" if (out / "social").is_dir() else None)
    rows = [score_file(t, out, social) for t in truths]
    s = {"label": args.label or out.name, "created": datetime.datetime.now().isoformat(timespec="seconds"),
         "out": str(out), "meta": dict(m.split("=", 1) for m in args.meta if "=" in m),
         "totals": totals(rows, args.seconds, args.peak_mb, args.social_seconds), "rows": rows,
         "truth_describe": {t["file"]: t.get("describe", []) for t in truths}}
    # What an OpenAI-compatible engine was sent (eval/wire.py, written by scripts/eval.sh with --standin/--base-url).
    wire = {k: json.loads(p.read_text()) for k, p in (("summarize", out / "wire.json"), ("social", (social or out / "social") / "wire.json"))
            if p.is_file()}
    if wire: s["wire"] = wire
    print_report(s)
    dest = pathlib.Path(args.json) if args.json else out / "scores.json"
    dest.write_text(json.dumps(s, indent=1, ensure_ascii=False) + "\n")
    print(f"\nscores: {dest}")


if __name__ == "__main__":
    sys.exit(main())
