#!/usr/bin/python3
"""Writes tests/corpus/malformed/: hand-made malformed models and tensor files,
and expected.tsv (file, error category, a substring of the message) that
tests/test_corpus.cpp asserts. Deterministic; rerun after changing it.
Run with /usr/bin/python3 (Debian's, with python3-onnx and python3-numpy)."""
import os
import shutil
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "malformed")
expected = []


def write(name, data, category, message):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    expected.append((name, category, message))


def ln_model(opset=17, nodes=None, inits=None, inputs=None, outputs=None):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    w = numpy_helper.from_array(np.arange(1, 5, dtype=np.float32), "w")
    g = helper.make_graph(nodes if nodes is not None else [helper.make_node("LayerNormalization", ["x", "w"], ["y"])],
                          "m", inputs if inputs is not None else [x], outputs if outputs is not None else [y],
                          initializer=inits if inits is not None else [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def model(name, m, category, message):
    write(name, m.SerializeToString(), category, message)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    good = ln_model().SerializeToString()

    # --- truncated and garbled bytes -----------------------------------------
    # Top-level field boundaries of the ModelProto, then cuts inside fields.
    m = ln_model()
    cuts = set()
    partial = onnx.ModelProto()
    for field, value in m.ListFields():
        if field.label == field.LABEL_REPEATED:
            for v in value:
                getattr(partial, field.name).add().CopyFrom(v)
                cuts.add(len(partial.SerializeToString()))
        elif field.message_type is not None:
            getattr(partial, field.name).CopyFrom(value)
            cuts.add(len(partial.SerializeToString()))
        else:
            setattr(partial, field.name, value)
            cuts.add(len(partial.SerializeToString()))
    boundary = sorted(c for c in cuts if c < len(good))
    for i, c in enumerate(boundary):
        write(f"truncated_at_field_{i}.onnx", good[:c], "InvalidModel", "")
    for frac in (1, 3, 10, 25, 50, 75, 90, 99):
        c = max(1, len(good) * frac // 100)
        write(f"truncated_{frac}pct.onnx", good[:c], "InvalidModel", "")
    write("truncated_minus1.onnx", good[:-1], "InvalidModel", "not a valid ONNX model")
    write("empty.onnx", b"", "InvalidModel", "")
    rng = np.random.default_rng(7)
    for i in range(3):
        write(f"random_{i}.onnx", rng.integers(0, 256, 300 + 100 * i, dtype=np.uint8).tobytes(), "InvalidModel", "")
    # ir_version's tag (field 1, varint = 0x08) turned into field 1, length-delimited (0x0a).
    assert good[0] == 0x08
    write("wrong_wire_type.onnx", b"\x0a" + good[1:], "InvalidModel", "")
    write("not_onnx_text.onnx", b"ir_version: 8\ngraph { }\n", "InvalidModel", "")

    # --- bad tensors inside the model ----------------------------------------
    t = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    t.ClearField("dims")
    t.dims.extend([1 << 40, 1 << 40])
    model("huge_dims.onnx", ln_model(inits=[t]), "InvalidModel", "too large")
    t = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    t.dims[0] = -4
    model("negative_dim.onnx", ln_model(inits=[t]), "InvalidModel", "negative dimension")
    t = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    t.raw_data = t.raw_data[:10]
    model("raw_data_short.onnx", ln_model(inits=[t]), "InvalidModel", "raw_data has 10 bytes")
    t = helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    del t.float_data[3]
    model("float_data_count.onnx", ln_model(inits=[t]), "InvalidModel", "float_data holds 3 values")
    t = helper.make_tensor("w", TensorProto.STRING, [1], [b"a"])
    model("string_initializer.onnx", ln_model(inits=[t]), "UnsupportedOp",
          "string tensors are not supported by LayerNormalization")
    t = helper.make_tensor("w", TensorProto.COMPLEX64, [2], [1 + 2j, 3 + 4j])
    model("complex64_initializer.onnx", ln_model(inits=[t]), "UnsupportedOp", "data type complex64")
    t = helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    model("initializer_twice.onnx", ln_model(inits=[t, t]), "InvalidModel", "defined twice")

    # --- external data -------------------------------------------------------
    def ext(name, location, offset=None, length=None, category="InvalidModel", message=""):
        t = onnx.TensorProto()
        t.name, t.data_type = "w", TensorProto.FLOAT
        t.dims.append(4)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("offset", offset), ("length", length)):
            if v is not None:
                e = t.external_data.add()
                e.key, e.value = k, str(v)
        model(name, ln_model(inits=[t]), category, message)

    with open(os.path.join(OUT, "weights.bin"), "wb") as f:
        f.write(struct.pack("<6f", 0, 0, 1, 2, 3, 4))
    os.makedirs(os.path.join(OUT, "a_directory"), exist_ok=True)
    with open(os.path.join(OUT, "a_directory", ".keep"), "w") as f:
        f.write("")
    ext("ext_absolute.onnx", "/etc/passwd", message="is an absolute path")
    ext("ext_escape.onnx", "../malformed/../../CMakeLists.txt", message="points outside the model's folder")
    ext("ext_missing.onnx", "no_such_file.bin", category="IO", message="does not exist")
    ext("ext_directory.onnx", "a_directory", message="not a regular file")
    ext("ext_too_short.onnx", "weights.bin", offset=16, length=16, message="too short")
    ext("ext_negative_offset.onnx", "weights.bin", offset=-8, message="negative external data offset")
    ext("ext_length_mismatch.onnx", "weights.bin", offset=0, length=12, message="does not match")
    ext("ext_not_a_number.onnx", "weights.bin", offset="eight", message="is not a number")
    ext("ext_no_location.onnx", "", message="no 'location'")

    # --- graph structure -----------------------------------------------------
    model("cycle.onnx", ln_model(nodes=[helper.make_node("Add", ["x", "b"], ["a"]),
                                        helper.make_node("Neg", ["a"], ["b"]),
                                        helper.make_node("LayerNormalization", ["a", "w"], ["y"])]),
          "InvalidModel", "cycle")
    model("dangling_input.onnx", ln_model(nodes=[helper.make_node("LayerNormalization", ["x", "nowhere"], ["y"])]),
          "InvalidModel", "'nowhere', which no node")
    model("duplicate_output.onnx", ln_model(nodes=[helper.make_node("Neg", ["x"], ["y"]),
                                                   helper.make_node("Abs", ["x"], ["y"])]),
          "InvalidModel", "produced twice")
    model("output_not_produced.onnx", ln_model(nodes=[helper.make_node("Neg", ["x"], ["z"])]),
          "InvalidModel", "graph output 'y' is not produced")
    m = ln_model()
    del m.opset_import[:]
    model("no_opset.onnx", m, "InvalidModel", "imports no opset")
    m = ln_model()
    m.ClearField("graph")
    model("no_graph.onnx", m, "InvalidModel", "no graph")
    bad_in = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    bad_in.type.tensor_type.shape.dim[0].dim_value = -3
    model("negative_input_dim.onnx", ln_model(inputs=[bad_in]), "InvalidModel", "negative dimension")
    sparse = helper.make_sparse_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    model("sparse_input.onnx", ln_model(inputs=[sparse]), "UnsupportedOp", "is not a tensor")
    seq_in_seq = helper.make_value_info("x", helper.make_sequence_type_proto(
        helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, [2]))))
    model("sequence_of_sequences_input.onnx", ln_model(inputs=[seq_in_seq]), "UnsupportedOp", "is not a tensor")

    # --- operators and attributes --------------------------------------------
    model("unknown_op.onnx", ln_model(nodes=[helper.make_node("FrobnicateNorm", ["x"], ["y"])]),
          "UnsupportedOp", "FrobnicateNorm (domain ai.onnx, opset 17) is not implemented")
    model("old_opset_batchnorm.onnx",
          ln_model(opset=5, nodes=[helper.make_node("BatchNormalization", ["x", "w", "w", "w", "w"], ["y"])]),
          "UnsupportedOp", "normrt implements versions from 7")
    model("future_opset.onnx", ln_model(opset=99), "UnsupportedOp", "knows ai.onnx opsets up to")
    model("domain_not_imported.onnx",
          ln_model(nodes=[helper.make_node("AdaNorm", ["x"], ["y"], domain="ai.normrt")]),
          "UnsupportedOp", "does not import domain ai.normrt")
    model("ln_axis_out_of_range.onnx", ln_model(nodes=[helper.make_node("LayerNormalization", ["x", "w"], ["y"], axis=5)]),
          "InvalidModel", "axis 5 is out of range")
    t = numpy_helper.from_array(np.ones(3, np.float32), "w")
    model("ln_scale_shape.onnx", ln_model(inits=[t]), "InvalidModel", "does not broadcast")
    model("ln_axis_float.onnx",
          ln_model(nodes=[helper.make_node("LayerNormalization", ["x", "w"], ["y"], axis=1.5)]),
          "InvalidModel", "attribute 'axis' must be an int")
    model("ln_missing_scale.onnx", ln_model(nodes=[helper.make_node("LayerNormalization", ["x", ""], ["y"])]),
          "InvalidModel", "required input 1 is missing")
    t = numpy_helper.from_array(np.ones(3, np.float32), "w")
    model("batchnorm_scale_shape.onnx",
          ln_model(nodes=[helper.make_node("BatchNormalization", ["x", "w", "w", "w", "w"], ["y"])], inits=[t]),
          "InvalidModel", "must have shape [4]")
    s = numpy_helper.from_array(np.array([-2, 4], np.int64), "s")
    model("reshape_bad_dim.onnx",
          ln_model(nodes=[helper.make_node("Reshape", ["x", "s"], ["y"])], inits=[s]),
          "InvalidModel", "invalid dimension -2")
    model("concat_no_axis.onnx", ln_model(nodes=[helper.make_node("Concat", ["x", "x"], ["y"])]),
          "InvalidModel", "missing required attribute 'axis'")
    st = [numpy_helper.from_array(np.array([v], np.int64), n) for n, v in (("b", 0), ("e", 2), ("a", 1), ("p", 0))]
    model("slice_step_zero.onnx",
          ln_model(nodes=[helper.make_node("Slice", ["x", "b", "e", "a", "p"], ["y"])], inits=st),
          "InvalidModel", "step 0")
    gn = [numpy_helper.from_array(np.ones(4, np.float32), n) for n in ("s", "b")]
    gx = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3])
    gy = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 3])
    model("groupnorm_groups.onnx",
          ln_model(opset=21, nodes=[helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=3)],
                   inits=gn, inputs=[gx], outputs=[gy]),
          "InvalidModel", "must be positive and divide the 4 channels")
    model("constant_no_value.onnx",
          ln_model(nodes=[helper.make_node("Constant", [], ["y"])], inputs=[]),
          "InvalidModel", "exactly one value attribute")
    model("cast_to_string.onnx", ln_model(nodes=[helper.make_node("Cast", ["x"], ["s"], to=TensorProto.STRING),
                                                 helper.make_node("Relu", ["s"], ["y"])]),
          "UnsupportedOp", "string tensors are not supported by Relu")
    # Hostile values: int64 arithmetic on them must fail naming the node, never overflow.
    huge_pads = numpy_helper.from_array(np.array([0, (1 << 62), 0, (1 << 62)], np.int64), "p")
    model("pad_overflow.onnx", ln_model(nodes=[helper.make_node("Pad", ["x", "p"], ["y"])], inits=[huge_pads]),
          "InvalidModel", "the padded shape overflows int64")
    reps = numpy_helper.from_array(np.array([1, 1 << 62], np.int64), "r")
    model("tile_overflow.onnx", ln_model(nodes=[helper.make_node("Tile", ["x", "r"], ["y"])], inits=[reps]),
          "InvalidModel", "the tiled shape overflows int64")
    # Range(0, −1e300, 1) is empty (its count was cast from −1e300: UB); Range(0, 1e300, 1) is refused.
    rng = [numpy_helper.from_array(np.array(v, np.float64), n) for n, v in (("s", 0.0), ("l", -1e300), ("d", 1.0),
                                                                                 ("b", 1e300))]
    ry = helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None])
    rz = helper.make_tensor_value_info("z", TensorProto.DOUBLE, [None])
    model("range_hostile.onnx", ln_model(nodes=[helper.make_node("Range", ["s", "l", "d"], ["y"]),
                                                 helper.make_node("Range", ["s", "b", "d"], ["z"])],
                                          inits=rng, inputs=[], outputs=[ry, rz]),
          "InvalidModel", "range is too long")
    big = numpy_helper.from_array(np.array([1 << 40, 1 << 40], np.int64), "s")
    model("constant_of_shape_huge.onnx",
          ln_model(nodes=[helper.make_node("ConstantOfShape", ["s"], ["y"])], inits=[big], inputs=[]),
          "InvalidModel", "too large")

    # Hostile values, issue #22: each fails at session creation naming the node
    # (the message tells a fix's error from the one a wrapped value would give).
    I64_MAX = (1 << 63) - 1
    U8, F32 = TensorProto.UINT8, TensorProto.FLOAT

    def vi(name, elem, dims):
        return helper.make_tensor_value_info(name, elem, dims)

    def i64(name, values):
        return numpy_helper.from_array(np.array(values, np.int64), name)

    def f32(name, values, shape=None):
        a = np.array(values, np.float32)
        return numpy_helper.from_array(a.reshape(shape) if shape is not None else a, name)

    def graph_model(name, opset, nodes, inputs, outputs, inits, category, message):
        model(name, ln_model(opset=opset, nodes=nodes, inputs=inputs, outputs=outputs, inits=inits), category, message)

    # A 0 dim makes the element count 0, but ops multiply the other dims (Flatten: 2^80).
    graph_model("zero_dim_input_overflow.onnx", 17, [helper.make_node("Flatten", ["x"], ["y"])],
                [vi("x", F32, [0, 1 << 40, 1 << 40])], [vi("y", F32, None)], [], "InvalidModel", "too large")
    # Π kernel_shape = 2^93 (the count of an AveragePool window overflowed when it ran).
    graph_model("pool_kernel_overflow.onnx", 17,
                [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[1 << 31] * 3, pads=[1 << 30] * 6,
                                  strides=[1 << 31] * 3, count_include_pad=1)],
                [vi("x", F32, [1, 1, 1, 1, 1])], [vi("y", F32, None)], [], "InvalidModel",
                "the kernel size (product of kernel_shape) overflows int64")
    # M = W's dim 1 · group = 2^80 (wrapped to 0: an empty output, silently).
    graph_model("conv_transpose_group_overflow.onnx", 17,
                [helper.make_node("ConvTranspose", ["x", "w"], ["y"], group=1 << 40)],
                [vi("x", F32, [1, 0, 4]), vi("w", F32, [0, 1 << 40, 3])], [vi("y", F32, None)], [], "InvalidModel",
                "output channels (W's dim 1 · group) overflows int64")
    # The col2im buffer, 32 · 1 · 2^59 floats (wrapped to 0, then written), while pads empty the output.
    graph_model("conv_transpose_col_overflow.onnx", 17,
                [helper.make_node("ConvTranspose", ["x", "w"], ["y"], pads=[1 << 19, 1 << 19, 1 << 18] * 2)],
                [vi("x", F32, [1, 0, 1 << 20, 1 << 20, 1 << 19]), vi("w", F32, [0, 32, 1, 1, 1])],
                [vi("y", F32, None)], [], "InvalidModel", "the col2im buffer overflows int64")
    # 17·(2^60 − 1) + 16 wraps to the dim, 2^60 − 1 (the largest an empty tensor's dims may multiply to).
    dim = (1 << 60) - 1
    graph_model("split_sum_overflow.onnx", 13,
                [helper.make_node("Split", ["x", "s"], [f"y{i}" for i in range(18)], axis=1)],
                [vi("x", U8, [0, dim])], [vi(f"y{i}", U8, None) for i in range(18)],
                [i64("s", [dim] * 17 + [16])], "InvalidModel", "the sum of split sizes overflows int64")
    # ⌈4 / block_size⌉ is 1 (x + block_size − 1 overflowed: 0).
    graph_model("quantize_block_size_huge.onnx", 21,
                [helper.make_node("QuantizeLinear", ["x", "s"], ["y"], axis=1, block_size=I64_MAX)],
                [vi("x", F32, [2, 4])], [vi("y", U8, None)], [f32("s", [1, 1, 1, 1], [2, 2])], "InvalidModel",
                "must have shape [2,1]")
    # int64 attributes read as int: 2^32 + 2 must not pass as 2.
    graph_model("lp_norm_p_truncated.onnx", 17, [helper.make_node("LpNormalization", ["x"], ["y"], p=(1 << 32) + 2)],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [], "InvalidModel", "p must be 1 or 2, got 4294967298")
    graph_model("cast_to_truncated.onnx", 17, [helper.make_node("Cast", ["x"], ["y"], to=(1 << 32) + 1)],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [], "UnsupportedOp", "(type 4294967297)")
    graph_model("quantize_output_dtype_truncated.onnx", 21,
                [helper.make_node("QuantizeLinear", ["x", "s"], ["y"], output_dtype=(1 << 32) + 2)],
                [vi("x", F32, [2, 4])], [vi("y", U8, None)], [f32("s", [1])], "UnsupportedOp",
                "output_dtype unknown")
    # BatchNormalization after a Conv with no output channels: folding divided by 0 (SIGFPE).
    # The Reshape after it fails planning, so the model ends in an error once the optimizer survives.
    graph_model("bn_fold_empty_conv.onnx", 17,
                [helper.make_node("Conv", ["x", "w"], ["c"]),
                 helper.make_node("BatchNormalization", ["c", "e", "e", "e", "e"], ["b"]),
                 helper.make_node("Reshape", ["b", "r"], ["y"])],
                [vi("x", F32, [1, 2, 4, 4])], [vi("y", F32, None)],
                [f32("w", [], [0, 2, 1, 1]), f32("e", []), i64("r", [-2, 4])], "InvalidModel",
                "invalid dimension -2")
    # GatherElements reads data at the indices' positions off the axis: indices wider than data read past it.
    graph_model("gather_elements_indices_wider.onnx", 13,
                [helper.make_node("GatherElements", ["x", "i"], ["y"], axis=1)],
                [vi("x", F32, [2, 2]), vi("i", TensorProto.INT64, [5, 1])], [vi("y", F32, None)], [],
                "InvalidModel", "indices [5,1] exceed data [2,2] in dim 0")
    # Pad crops 2^63 and pads 2^63 − 1 back: the output fits (3), the kernel's index o − pad_begin did not.
    graph_model("pad_crop_overflow.onnx", 13, [helper.make_node("Pad", ["x", "p"], ["y"])],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [i64("p", [0, -(1 << 63), 0, I64_MAX])],
                "InvalidModel", "pad_begin -2^63 overflows int64")
    graph_model("pad_crop_overflow_2.onnx", 13, [helper.make_node("Pad", ["x", "p"], ["y"])],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [i64("p", [0, -(1 << 63) + 1, 0, I64_MAX - 1])],
                "InvalidModel", "the padded shape minus pad_begin overflows int64")
    # Resize to a size from an empty axis: no taps for it, so the kernel copied 32 bytes out of an empty x.
    graph_model("resize_empty_axis.onnx", 13, [helper.make_node("Resize", ["x", "", "", "s"], ["y"])],
                [vi("x", F32, [2, 0])], [vi("y", F32, None)], [i64("s", [2, 4])], "InvalidModel",
                "cannot resize axis 1 of size 0 to 4")
    # Already refused before issue #22; kept so that they stay refused.
    graph_model("conv_pads_huge.onnx", 17, [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1 << 40, 0, 1 << 40, 0])],
                [vi("x", F32, [1, 1, 4, 4])], [vi("y", F32, None)], [f32("w", [1], [1, 1, 1, 1])], "InvalidModel",
                "must be in [0, 2^31]")
    graph_model("pool_dilation_huge.onnx", 17,
                [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[1 << 62, 1])],
                [vi("x", F32, [1, 1, 4, 4])], [vi("y", F32, None)], [], "InvalidModel", "must be in [0, 2^31]")
    graph_model("conv_transpose_output_padding_huge.onnx", 17,
                [helper.make_node("ConvTranspose", ["x", "w"], ["y"], output_padding=[I64_MAX])],
                [vi("x", F32, [1, 1, 4])], [vi("y", F32, None)], [f32("w", [1, 1], [1, 1, 2])], "InvalidModel",
                "must be in [0, 2^31]")
    graph_model("resize_scale_inf.onnx", 13, [helper.make_node("Resize", ["x", "", "s"], ["y"])],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [f32("s", [1, np.inf])], "InvalidModel",
                "scales make the output too large")
    graph_model("resize_scale_huge.onnx", 13, [helper.make_node("Resize", ["x", "", "s"], ["y"])],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [f32("s", [1, 1e30])], "InvalidModel",
                "scales make the output too large")
    graph_model("resize_scale_nan.onnx", 13, [helper.make_node("Resize", ["x", "", "s"], ["y"])],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [f32("s", [1, np.nan])], "InvalidModel",
                "scales must be > 0")
    graph_model("onehot_depth_huge.onnx", 11, [helper.make_node("OneHot", ["i", "d", "v"], ["y"])],
                [vi("i", TensorProto.INT64, [3])], [vi("y", F32, None)],
                [f32("d", [1e30]), f32("v", [0, 1])], "InvalidModel", "depth must be in [0, 1e12)")
    graph_model("expand_huge.onnx", 13, [helper.make_node("Expand", ["x", "s"], ["y"])],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [i64("s", [1 << 40, 1 << 40, 2, 4])], "InvalidModel",
                "too large")
    graph_model("reshape_overflow.onnx", 13, [helper.make_node("Reshape", ["x", "s"], ["y"])],
                [vi("x", F32, [2, 4])], [vi("y", F32, None)], [i64("s", [1 << 40, 1 << 40, -1])], "InvalidModel",
                "element count overflows")
    graph_model("topk_k_huge.onnx", 11, [helper.make_node("TopK", ["x", "k"], ["v", "i"])],
                [vi("x", F32, [2, 4])], [vi("v", F32, None), vi("i", TensorProto.INT64, None)], [i64("k", [I64_MAX])],
                "InvalidModel", "is out of range for an axis of 4")
    graph_model("einsum_work_overflow.onnx", 12, [helper.make_node("Einsum", ["a", "b"], ["y"], equation="ab,cd->ac")],
                [vi("a", F32, [1 << 31, 1 << 20]), vi("b", F32, [1 << 31, 1 << 20])], [vi("y", F32, None)], [],
                "InvalidModel", "the number of products (Π label sizes) overflows int64")
    graph_model("depth_to_space_block_overflow.onnx", 13,
                [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=1 << 32)],
                [vi("x", F32, [1, 4, 2, 2])], [vi("y", F32, None)], [], "InvalidModel", "blocksize² overflows int64")
    graph_model("gather_nd_batch_dims_huge.onnx", 13,
                [helper.make_node("GatherND", ["x", "i"], ["y"], batch_dims=I64_MAX)],
                [vi("x", F32, [2, 4]), vi("i", TensorProto.INT64, [2, 1])], [vi("y", F32, None)], [],
                "InvalidModel", "batch_dims or indices' last dim is invalid")

    # Issue #22, the ops added after the first audit.
    # GridSample from an empty spatial axis: border padding read pixel 0 of the empty X.
    graph_model("grid_sample_empty_axis.onnx", 16,
                [helper.make_node("GridSample", ["x", "g"], ["y"], padding_mode="border")],
                [vi("x", F32, [1, 1, 0, 4]), vi("g", F32, [1, 2, 2, 2])], [vi("y", F32, None)], [], "InvalidModel",
                "has an empty spatial axis: there is nothing to sample")
    # Unique along an axis of 2^59 slices of an empty constant: the sort order (8 bytes a slice) was
    # allocated before anything was checked (std::bad_alloc, not a normrt::Error).
    empty = TensorProto()
    empty.name, empty.data_type = "x", TensorProto.FLOAT
    empty.dims.extend([0, 1 << 59])
    graph_model("unique_empty_axis_huge.onnx", 11,
                [helper.make_node("Unique", ["x"], ["y"], axis=1)], [], [vi("y", F32, None)], [empty],
                "InvalidArgument", "the inverse indices of 576460752303423488 slices exceed the limit")

    # --- .npy files ------------------------------------------------------------
    def npy(header, payload=b"", version=1):
        h = header.encode()
        pad = (64 - (10 + len(h) + 1) % 64) % 64
        h = h + b" " * pad + b"\n"
        return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H", len(h)) + h + payload

    ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    write("npy_bad_magic.npy", b"\x93NUMPZ" + npy(ok, b"\0" * 24)[6:], "InvalidArgument", "bad magic")
    write("npy_version_9.npy", npy(ok, b"\0" * 24, version=9), "InvalidArgument", "format version 9")
    write("npy_header_past_end.npy", b"\x93NUMPY\x01\x00\xff\x7f{'descr'", "InvalidArgument", "truncated .npy header")
    write("npy_no_descr.npy", npy("{'fortran_order': False, 'shape': (2, 3), }", b"\0" * 24),
          "InvalidArgument", "has no 'descr'")
    write("npy_big_endian.npy", npy(ok.replace("<f4", ">f4"), b"\0" * 24), "InvalidArgument", "not supported")
    write("npy_object.npy", npy(ok.replace("<f4", "|O"), b"\0" * 24), "InvalidArgument", "not supported")
    write("npy_fortran.npy", npy(ok.replace("False", "True"), b"\0" * 24), "InvalidArgument", "Fortran")
    write("npy_bad_shape.npy", npy(ok.replace("(2, 3)", "(2, -3)"), b"\0" * 24), "InvalidArgument", "malformed 'shape'")
    write("npy_short_payload.npy", npy(ok, b"\0" * 20), "InvalidArgument", "needs 24")
    write("npy_long_payload.npy", npy(ok, b"\0" * 28), "InvalidArgument", "needs 24")
    write("npy_shape_overflow.npy", npy(ok.replace("(2, 3)", "(4294967296, 4294967296, 4294967296)")),
          "InvalidArgument", "too large")
    write("npy_truncated.npy", b"\x93NUMP", "InvalidArgument", "bad magic")

    # --- TensorProto (.pb) files ----------------------------------------------
    write("pb_garbage.pb", b"\xff\xff\xff\xff\xff\xff", "InvalidArgument", "")
    t = numpy_helper.from_array(np.zeros(6, np.float32), "t")
    t.raw_data = t.raw_data[:8]
    write("pb_raw_short.pb", t.SerializeToString(), "InvalidArgument", "raw_data has 8 bytes")
    t = numpy_helper.from_array(np.zeros(6, np.float32), "t")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", "weights.bin"
    write("pb_external.pb", t.SerializeToString(), "InvalidArgument", "external data needs the model's folder")
    t = helper.make_tensor("t", TensorProto.STRING, [1], [b"x"])
    t.dims[0] = 2
    write("pb_string.pb", t.SerializeToString(), "InvalidArgument", "string_data holds 1 values, the shape needs 2")
    t = numpy_helper.from_array(np.zeros(1, np.float32), "t")
    t.ClearField("dims")
    t.dims.extend([1 << 31, 1 << 31, 1 << 31])
    write("pb_huge_dims.pb", t.SerializeToString(), "InvalidArgument", "too large")
    write("pb_empty.pb", b"", "InvalidArgument", "not a TensorProto")

    with open(os.path.join(OUT, "expected.tsv"), "w") as f:
        f.write("# file\tcategory\tmessage substring (may be empty)\n")
        for name, category, message in expected:
            f.write(f"{name}\t{category}\t{message}\n")
    print(f"wrote {len(expected)} malformed inputs to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
