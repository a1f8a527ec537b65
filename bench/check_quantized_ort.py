#!/usr/bin/python3
"""Checks that ONNX Runtime runs a model `normrt quantize` wrote and agrees with
normrt on it: quantizes MODEL_DIR/model.onnx (extra args go to normrt quantize),
runs onnx.checker on the result, runs it in ORT (bench/ort_outputs.js, at
optimization levels disabled and all) and in normrt on test_data_set_0, and
prints per output the cosine similarity and max abs difference, ORT vs normrt
and each vs the float32 expected output.
  ORT_NODE=/tmp/ort/node_modules/onnxruntime-node \\
  bench/check_quantized_ort.py build/normrt MODEL_DIR [--per-channel ...]"""
import json, os, subprocess, sys, tempfile
import numpy as np
import onnx
from onnx import numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
normrt, model_dir, extra = sys.argv[1], sys.argv[2], sys.argv[3:]


def cos_max(a, b):
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return (float(a @ b / den) if den else 1.0), float(np.abs(a - b).max())


with tempfile.TemporaryDirectory() as tmp:
    q = os.path.join(tmp, "model.onnx")
    subprocess.run([normrt, "quantize", os.path.join(model_dir, "model.onnx"), q] + extra, check=True,
                   stdout=subprocess.DEVNULL)
    onnx.checker.check_model(onnx.load(q), full_check=True)
    print("onnx.checker (full_check): ok")
    subprocess.run(["/usr/bin/python3", os.path.join(here, "pb_to_raw.py"), model_dir, tmp], check=True)
    data = os.path.join(model_dir, "test_data_set_0")
    subprocess.run([normrt, "run", q, "--data-dir", data, "--output-dir", os.path.join(tmp, "n"), "--threads", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    outs = [o.name for o in onnx.load(q, load_external_data=False).graph.output]
    for level in ("disabled", "all"):
        subprocess.run(["node", os.path.join(here, "ort_outputs.js"), tmp, level], check=True)
        for k, m in enumerate(json.load(open(os.path.join(tmp, "ort_outputs.json")))):
            ort = np.fromfile(m["file"], dtype=np.float32).reshape(m["dims"])
            file_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in m["name"])
            mine = np.load(os.path.join(tmp, "n", file_name + ".npy"))
            expected = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, f"output_{outs.index(m['name'])}.pb")))
            c, d = cos_max(ort, mine)
            ce, de = cos_max(ort, expected)
            cn, dn = cos_max(mine, expected)
            print(f"ORT({level}) {m['name']}: vs normrt cosine {c:.7f} max_abs {d:.3g} | vs float32 cosine "
                  f"ORT {ce:.6f} normrt {cn:.6f} (max_abs {de:.3g} / {dn:.3g})")
