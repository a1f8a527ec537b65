#!/usr/bin/env python3
"""Image classification with normrt's ONNX Runtime-style API: a CNN on a batch
of images, top-5 classes and the latency of normrt alone (median of timed runs).

    PYTHONPATH=build/python python3 examples/python/classify_image.py [MODEL.onnx] [--runs N]

Without a model it uses the bundled test ResNet (random weights, 64×64 input).
The image is random: the point is the API and the timing, not the labels."""
import argparse
import os
import time

import numpy as np

import normrt as ort  # the same code runs with: import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "models", "tests", "resnet", "model.onnx")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", default=DEFAULT)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    sess = ort.InferenceSession(a.model, sess_options=so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]  # symbolic dims (batch) = 1
    image = np.random.default_rng(0).random(shape, dtype=np.float32)
    mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
    x = np.ascontiguousarray((image - mean) / std)  # C-contiguous float32: read in place
    (logits,) = sess.run([sess.get_outputs()[0].name], {inp.name: x})
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    top = np.argsort(-probs[0])[:5]
    print("top-5 classes:", ", ".join(f"{c} ({probs[0, c]:.3f})" for c in top))
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        sess.run(None, {inp.name: x})
        times.append((time.perf_counter() - t0) * 1e3)
    print(f"normrt {ort.__version__} ({sess.isa}): median {np.median(times):.3f} ms, min {min(times):.3f} ms "
          f"over {a.runs} runs of {os.path.basename(a.model)} {shape}")


if __name__ == "__main__":
    main()
