#!/usr/bin/env python3
"""A recording stand-in for an OpenAI-compatible server (vLLM serving Gemma 3n), for tests and benchmarks.

It is not a model. It records every request (method, path, headers, JSON body) as one JSON line in LOG, and
answers chat completions with JSON that fits the request's schema, built from what the request holds:
- "recap_hear" (an audio clip): one segment naming the clip's measured length when the clip is loud enough
  to hold speech, none otherwise; sounds and music from the same measurement.
- "recap_describe_frames" (images): one description per image, naming its JPEG size.
- anything else: the smallest instance of the schema, with plain words.

Usage: standin-openai.py LOG [--mode ok|echo|fail-echo-headers|fail-summaries|refuse-key|trickle|huge] [--forward URL]
                         [--delay SECONDS]
  --delay            every chat completion waits this long before answering (a model's time, for tests that
                     must catch a worker in the middle of a stage)
  echo               descriptions restate the prompt (Recap must reject them)
  fail-echo-headers  every chat completion fails with HTTP 500, echoing the request headers (as some proxies do)
  refuse-key         every request is refused with HTTP 401
  trickle            chat completions send their headers, then one byte of body a second for two minutes
  huge               chat completions answer with a 20 MB body
  --forward URL      not a stand-in but a recording proxy: every request is logged as above, then sent on to the
                     real server at API root URL (e.g. http://gpu:8000/v1; /v1/X goes to URL/X) and its answer,
                     status and body, passed back unchanged. The eval uses it to check what a real engine was sent.
Prints the port it listens on (127.0.0.1, chosen by the system) on the first line of stdout.
"""
import base64, json, math, signal, struct, sys, threading, time, urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
MODE = sys.argv[sys.argv.index("--mode") + 1] if "--mode" in sys.argv else "ok"
DELAY = float(sys.argv[sys.argv.index("--delay") + 1]) if "--delay" in sys.argv else 0.0
FORWARD = sys.argv[sys.argv.index("--forward") + 1].rstrip("/") if "--forward" in sys.argv else None
lock = threading.Lock()


def wav_facts(data):
    """(sample rate, channels, seconds, rms) of a 16-bit PCM or float WAV."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            samples = body
        pos += 8 + size + (size & 1)
    if not fmt or samples is None:
        return None
    tag, channels, rate, _, align, bits = fmt
    n = len(samples) // align
    if tag == 3 and bits == 32:
        values = struct.unpack("<%df" % (len(samples) // 4), samples[: (len(samples) // 4) * 4])
    else:
        values = [v / 32768 for v in struct.unpack("<%dh" % (len(samples) // 2), samples[: (len(samples) // 2) * 2])]
    rms = math.sqrt(sum(v * v for v in values) / max(1, len(values)))
    return rate, channels, n / rate, rms


def jpeg_size(data):
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None


def minimal(schema, words="plain words"):
    t = schema.get("type")
    if isinstance(t, list):
        t = [x for x in t if x != "null"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if t == "object":
        props = schema.get("properties", {})
        return {k: minimal(v, words) for k, v in props.items() if k in schema.get("required", props.keys())}
    if t == "array":
        return [minimal(schema.get("items", {}), words) for _ in range(schema.get("minItems", 0))]
    if t == "string":
        text = words
        if "pattern" in schema and schema["pattern"].startswith("^#"):
            text = "#standin"
        n = schema.get("minLength", 0)
        text = (text + " " + "x" * n)[: max(n, len(text))] if len(text) < n else text
        return text[: schema.get("maxLength", len(text))]
    if t in ("number", "integer"):
        return schema.get("minimum", 0)
    if t == "boolean":
        return False
    return None


def answer(body):
    fmt = (body.get("response_format") or {}).get("json_schema") or {}
    name, schema = fmt.get("name", ""), fmt.get("schema", {"type": "object"})
    parts = []
    for m in body.get("messages", []):
        c = m.get("content")
        parts += c if isinstance(c, list) else [{"type": "text", "text": c or ""}]
    texts = [p.get("text", "") for p in parts if p.get("type") == "text"]
    # What a confused model says: the instructions back (system message, then the task's first words).
    echo = " ".join([texts[0][:60]] + texts[-1].split()[:3]) if texts else ""
    if name == "recap_hear":
        audio = [p for p in parts if p.get("type") == "input_audio"]
        facts = wav_facts(base64.b64decode(audio[0]["input_audio"]["data"])) if audio else None
        seconds, rms = (facts[2], facts[3]) if facts else (0, 0)
        loud = rms > 0.01
        return {"language": "en" if loud else "", "music": False, "tone": "even" if loud else "",
                "sounds": ["hum"] if loud else [],
                "segments": [{"start": 0, "end": round(seconds, 2), "text": "stand-in words for %.1f seconds" % seconds}] if loud else []}
    if name == "recap_describe_frames":
        images = [p for p in parts if p.get("type") == "image_url"]
        out = []
        for p in images:
            url = p["image_url"]["url"]
            size = jpeg_size(base64.b64decode(url.split(",", 1)[1])) if url.startswith("data:image/jpeg;base64,") else None
            out.append(echo if MODE == "echo" else "A stand-in picture of %dx%d pixels." % (size or (0, 0)))
        return {"descriptions": out}
    return minimal(schema)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def record(self, body):
        with lock, open(LOG, "a") as f:
            headers = dict(self.headers.items())
            if FORWARD:   # a real key must not reach the log: say only that one was sent
                headers = {k: ("(redacted)" if k.lower() in ("authorization", "x-api-key") else v) for k, v in headers.items()}
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": headers, "body": body}) + "\n")

    def send(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self, raw):
        """Sends the request on to the real server and passes its answer back as it came."""
        # /v1/X goes under the API root; anything else (llama-server's /tokenize) to the server's root.
        root = FORWARD[:-3] if FORWARD.endswith("/v1") else FORWARD
        target = FORWARD + self.path[3:] if self.path.startswith("/v1/") else root + self.path
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "accept")}
        req = urllib.request.Request(target, data=raw, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(req, timeout=3600) as r:
                status, ctype, data = r.status, r.headers.get("Content-Type", "application/json"), r.read()
        except urllib.error.HTTPError as e:
            status, ctype, data = e.code, e.headers.get("Content-Type", "application/json"), e.read()
        except OSError as e:
            status, ctype, data = 502, "application/json", json.dumps({"error": {"message": f"stand-in proxy: {e}"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.record(None)
        if FORWARD:
            return self.forward(None)
        if MODE == "refuse-key":
            return self.send(401, {"error": {"message": "Incorrect API key provided: " + self.headers.get("Authorization", "")}})
        if self.path.rstrip("/") == "/v1/models":
            self.send(200, {"object": "list", "data": [{"id": "gemma-3n-standin", "object": "model"}]})
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.record(body)
        if FORWARD:
            return self.forward(raw)
        if self.path != "/v1/chat/completions" or body is None:
            return self.send(404, {"error": "not found"})
        if DELAY > 0:
            time.sleep(DELAY)
        if MODE == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "120")
            self.end_headers()
            try:
                for _ in range(120):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass  # the client gave up, as it should
            return
        if MODE == "huge":
            return self.send(200, {"choices": [], "padding": "x" * (20 << 20)})
        if MODE == "fail-echo-headers":
            return self.send(500, {"error": "upstream failed", "request_headers": dict(self.headers.items())})
        # Hears and sees, but every summary request fails (a model that crashes on long prompts, say).
        name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "")
        if MODE == "fail-summaries" and name in ("recap_summarize", "recap_map", "recap_reduce", "recap_combine"):
            return self.send(500, {"error": "upstream failed", "request_headers": dict(self.headers.items())})
        content = json.dumps(answer(body))
        self.send(200, {"id": "standin", "object": "chat.completion", "model": body.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": len(content) // 4}})


# A parent may have blocked signals in the thread that started us; SIGTERM must stop the server.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
