#!/usr/bin/python3
"""Writes models/example/model.onnx, the bundled example normrt runs in the README,
and models/example/test_data_set_0/ (inputs and numpy-computed expected outputs,
in the ONNX backend-test layout) so that `normrt check models/example` proves it.

Two independent blocks in one graph (so the executor can run them in parallel):
  * a transformer feed-forward block on tokens x[batch, seq, 64]:
      h = LayerNorm(x); f = Relu(h·W1 + b1)·W2 + b2; y = LayerNorm(x + f)
  * a CNN-style normalization block on images img[batch, 8, 16, 16]:
      z = InstanceNorm(Relu(BatchNorm(img)))
Weights come from a fixed seed, so the file is reproducible.
Run with /usr/bin/python3 (Debian's, which has python3-onnx and python3-numpy).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, FFN, CHANNELS = 64, 128, 8


def main(out_dir):
    rng = np.random.default_rng(20261126)

    def init(name, arr):
        return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)

    inits = [
        init("ln1_scale", 1 + 0.1 * rng.standard_normal(HIDDEN)),
        init("ln1_bias", 0.1 * rng.standard_normal(HIDDEN)),
        init("w1", rng.standard_normal((HIDDEN, FFN)) / np.sqrt(HIDDEN)),
        init("b1", 0.01 * rng.standard_normal(FFN)),
        init("w2", rng.standard_normal((FFN, HIDDEN)) / np.sqrt(FFN)),
        init("b2", 0.01 * rng.standard_normal(HIDDEN)),
        init("ln2_scale", 1 + 0.1 * rng.standard_normal(HIDDEN)),
        init("ln2_bias", 0.1 * rng.standard_normal(HIDDEN)),
        init("bn_scale", 1 + 0.1 * rng.standard_normal(CHANNELS)),
        init("bn_bias", 0.1 * rng.standard_normal(CHANNELS)),
        init("bn_mean", 0.1 * rng.standard_normal(CHANNELS)),
        init("bn_var", 1 + 0.1 * rng.random(CHANNELS)),
        init("in_scale", 1 + 0.1 * rng.standard_normal(CHANNELS)),
        init("in_bias", 0.1 * rng.standard_normal(CHANNELS)),
    ]
    nodes = [
        helper.make_node("LayerNormalization", ["x", "ln1_scale", "ln1_bias"], ["h"], name="ln1", axis=-1, epsilon=1e-5),
        helper.make_node("MatMul", ["h", "w1"], ["f1"], name="ffn_up"),
        helper.make_node("Add", ["f1", "b1"], ["f1b"], name="ffn_up_bias"),
        helper.make_node("Relu", ["f1b"], ["f1r"], name="ffn_act"),
        helper.make_node("MatMul", ["f1r", "w2"], ["f2"], name="ffn_down"),
        helper.make_node("Add", ["f2", "b2"], ["f2b"], name="ffn_down_bias"),
        helper.make_node("Add", ["x", "f2b"], ["res"], name="residual"),
        helper.make_node("LayerNormalization", ["res", "ln2_scale", "ln2_bias"], ["y"], name="ln2", axis=-1, epsilon=1e-5),
        helper.make_node("BatchNormalization", ["img", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["bn_relu"], name="bn_act"),
        helper.make_node("InstanceNormalization", ["bn_relu", "in_scale", "in_bias"], ["z"], name="instnorm", epsilon=1e-5),
    ]
    graph = helper.make_graph(
        nodes,
        "normrt_example",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", HIDDEN]),
         helper.make_tensor_value_info("img", TensorProto.FLOAT, ["batch", CHANNELS, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", HIDDEN]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", CHANNELS, 16, 16])],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="normrt-example", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(out_dir, exist_ok=True)
    model_path = os.path.join(out_dir, "model.onnx")
    onnx.save(model, model_path)
    print(f"wrote {model_path} ({os.path.getsize(model_path)} bytes)")

    # Expected outputs from numpy (fp64 math, rounded to fp32) on seeded inputs.
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in inits}
    x = rng.standard_normal((2, 5, HIDDEN)).astype(np.float32)
    img = rng.standard_normal((2, CHANNELS, 16, 16)).astype(np.float32)

    def layer_norm(v, scale, bias, eps=1e-5):
        mean = v.mean(axis=-1, keepdims=True)
        var = ((v - mean) ** 2).mean(axis=-1, keepdims=True)
        return (v - mean) / np.sqrt(var + eps) * scale + bias

    xd = x.astype(np.float64)
    h = layer_norm(xd, w["ln1_scale"], w["ln1_bias"])
    f = np.maximum(h @ w["w1"] + w["b1"], 0) @ w["w2"] + w["b2"]
    y = layer_norm(xd + f, w["ln2_scale"], w["ln2_bias"])
    c = lambda k: w[k].reshape(1, CHANNELS, 1, 1)
    bn = (img.astype(np.float64) - c("bn_mean")) / np.sqrt(c("bn_var") + 1e-5) * c("bn_scale") + c("bn_bias")
    r = np.maximum(bn, 0)
    mean = r.mean(axis=(2, 3), keepdims=True)
    var = ((r - mean) ** 2).mean(axis=(2, 3), keepdims=True)
    z = (r - mean) / np.sqrt(var + 1e-5) * c("in_scale") + c("in_bias")
    data_dir = os.path.join(out_dir, "test_data_set_0")
    os.makedirs(data_dir, exist_ok=True)
    for i, (name, arr) in enumerate([("x", x), ("img", img)]):
        with open(os.path.join(data_dir, f"input_{i}.pb"), "wb") as fh:
            fh.write(numpy_helper.from_array(arr, name).SerializeToString())
    for i, (name, arr) in enumerate([("y", y), ("z", z)]):
        with open(os.path.join(data_dir, f"output_{i}.pb"), "wb") as fh:
            fh.write(numpy_helper.from_array(arr.astype(np.float32), name).SerializeToString())
    print(f"wrote {data_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "example"))
