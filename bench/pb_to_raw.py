#!/usr/bin/python3
"""Writes MODEL_DIR/test_data_set_0/input_N.pb as raw little-endian files plus
MODEL_DIR/raw_inputs.json (name, type, dims, file) for bench/ort_latency.js."""
import json, os, sys
import onnx
from onnx import numpy_helper

d = sys.argv[1]
out_dir = sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
model = onnx.load(os.path.join(d, "model.onnx"), load_external_data=False)
inits = {i.name for i in model.graph.initializer}
names = [i.name for i in model.graph.input if i.name not in inits]
manifest = []
for k, name in enumerate(names):
    t = onnx.TensorProto()
    with open(os.path.join(d, "test_data_set_0", f"input_{k}.pb"), "rb") as f:
        t.ParseFromString(f.read())
    a = numpy_helper.to_array(t)
    f = os.path.join(out_dir, f"input_{k}.bin")
    a.tofile(f)
    manifest.append({"name": name, "type": "int64" if a.dtype.kind == "i" else "float32", "dims": list(a.shape), "file": f})
json.dump(manifest, open(os.path.join(out_dir, "raw_inputs.json"), "w"))
