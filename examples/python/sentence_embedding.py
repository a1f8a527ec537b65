#!/usr/bin/env python3
"""Sentence embeddings with normrt's ONNX Runtime-style API: a BERT-style
encoder over a batch of token ids, mean-pooled over the attention mask and
L2-normalised, their cosine similarities, and normrt's own latency.

    PYTHONPATH=build/python python3 examples/python/sentence_embedding.py [MODEL.onnx] [--runs N]

Without a model it uses the bundled test encoder (random weights); the token
ids are made up (no tokenizer): the point is the API and the timing."""
import argparse
import os
import time

import numpy as np

import normrt as ort  # the same code runs with: import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "models", "tests", "bert_opset17", "model.onnx")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", default=DEFAULT)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--seq", type=int, default=32)
    a = p.parse_args()
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    rng = np.random.default_rng(0)
    batch, seq = 3, a.seq
    ids = rng.integers(1, 100, size=(batch, seq), dtype=np.int64)
    mask = np.ones((batch, seq), np.int64)
    mask[1, seq // 2:] = 0  # a shorter second sentence
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    feed = {k: v for k, v in feed.items() if k in names}
    hidden = sess.run(None, feed)[0]  # [batch, seq, hidden]
    m = mask[:, :, None].astype(np.float32)
    emb = (hidden * m).sum(axis=1) / m.sum(axis=1)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    print("embeddings:", emb.shape, "cosine similarities:\n", np.round(emb @ emb.T, 4))
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    print(f"normrt {ort.__version__} ({sess.isa}): median {np.median(times):.3f} ms, min {min(times):.3f} ms "
          f"over {a.runs} runs, batch {batch} × {seq} tokens")


if __name__ == "__main__":
    main()
