"""The Python package against ONNX Runtime's API: the C++ API's results bit for
bit, inputs read in place, outputs that own their memory, runs from many
threads, every error path, and no leak over many runs. Run by ctest
(PYTHONPATH=build/python, NORMRT_CLI=the normrt tool)."""
import gc
import glob
import os
import subprocess
import threading

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper, TensorProto

import normrt

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(SOURCE, "models", "example", "model.onnx")
MODEL_TESTS = sorted(glob.glob(os.path.join(SOURCE, "models", "tests", "*", "model.onnx")))


def example_feed(batch=2, seq=5):
    rng = np.random.default_rng(0)
    return {"x": rng.standard_normal((batch, seq, 64), dtype=np.float32),
            "img": rng.standard_normal((batch, 8, 16, 16), dtype=np.float32)}


def data_set_inputs(model_path):
    folder = os.path.join(os.path.dirname(model_path), "test_data_set_0")
    files = sorted(glob.glob(os.path.join(folder, "input_*.pb")), key=lambda f: int(f.split("_")[-1][:-3]))
    feed = {}
    for f in files:
        t = onnx.TensorProto()
        with open(f, "rb") as src:
            t.ParseFromString(src.read())
        feed[t.name] = numpy_helper.to_array(t)
    return files, feed


@pytest.mark.parametrize("model", [EXAMPLE] + MODEL_TESTS, ids=lambda p: os.path.basename(os.path.dirname(p)))
def test_outputs_equal_the_cpp_api_bit_for_bit(model, tmp_path):
    files, feed = data_set_inputs(model)
    sess = normrt.InferenceSession(model, providers=["CPUExecutionProvider"])
    got = sess.run(None, feed)
    # The CLI runs the same inputs through the C++ Session and writes .npy files.
    cmd = [os.environ["NORMRT_CLI"], "run", model, "--output-dir", str(tmp_path), "--format", "npy"]
    for f, name in zip(files, feed):
        cmd += ["--input", f"{name}={f}"]
    subprocess.run(cmd, check=True, capture_output=True)
    for out, value in zip(sess.get_outputs(), got):
        want = np.load(tmp_path / f"{out.name}.npy")
        assert value.dtype == want.dtype and value.shape == want.shape, out.name
        assert value.tobytes() == want.tobytes(), out.name


def test_onnx_runtime_surface():
    assert normrt.get_available_providers() == ["CPUExecutionProvider"]
    assert normrt.get_device() == "CPU"
    assert normrt.__version__ == "0.1.0"
    assert normrt.active_isa() in ("sse2", "avx2", "avx512")
    so = normrt.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = normrt.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.execution_mode = normrt.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    sess = normrt.InferenceSession(EXAMPLE, sess_options=so, providers=[("CPUExecutionProvider", {})])
    ins, outs = sess.get_inputs(), sess.get_outputs()
    assert [i.name for i in ins] == ["x", "img"] and [o.name for o in outs] == ["y", "z"]
    assert ins[0].shape == ["batch", "seq", 64] and ins[0].type == "tensor(float)"
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert sess.get_modelmeta().producer_name == "normrt-example"
    assert sess.get_session_options() is so
    feed = example_feed()
    full = sess.run(None, feed)
    only_z = sess.run(["z"], feed)
    assert only_z[0].tobytes() == full[1].tobytes()
    # Every optimization level and ISA path gives the same outputs within rounding.
    for level in normrt.GraphOptimizationLevel:
        for isa in ("sse2", "avx2", "avx512"):
            if isa == "avx512" and normrt.active_isa() != "avx512" or isa == "avx2" and normrt.active_isa() == "sse2":
                continue
            o = normrt.SessionOptions()
            o.graph_optimization_level = level
            o.isa = isa
            s = normrt.InferenceSession(EXAMPLE, sess_options=o)
            assert s.isa == isa
            for a, b in zip(s.run(None, feed), full):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_model_from_bytes_and_profile():
    with open(EXAMPLE, "rb") as f:
        sess = normrt.InferenceSession(f.read())
    feed = example_feed()
    outputs, nodes = sess.run(None, feed, profile=True)
    assert [o.shape for o in outputs] == [(2, 5, 64), (2, 8, 16, 16)]
    assert nodes and {"name", "op_type", "start_us", "duration_us", "thread"} <= set(nodes[0])
    assert any(n["op_type"] == "LayerNormalization" for n in nodes)


def test_inputs_read_in_place_and_others_converted_once():
    sess = normrt.InferenceSession(EXAMPLE)
    feed = example_feed()
    addr = sess._sess._input_addresses(feed)
    assert addr["x"] == feed["x"].ctypes.data and addr["img"] == feed["img"].ctypes.data
    # A strided view and a Fortran-ordered array are copied to C order (once, by the binding).
    wide = np.zeros((2, 5, 128), np.float32)
    wide[:, :, ::2] = feed["x"]
    strided = {"x": wide[:, :, ::2], "img": np.asfortranarray(feed["img"])}
    addr = sess._sess._input_addresses(strided)
    assert addr["x"] != strided["x"].ctypes.data and addr["img"] != strided["img"].ctypes.data
    for a, b in zip(sess.run(None, strided), sess.run(None, feed)):
        assert a.tobytes() == b.tobytes()


def test_outputs_own_their_memory():
    sess = normrt.InferenceSession(EXAMPLE)
    y, z = sess.run(None, example_feed())
    assert y.flags.writeable and y.flags.c_contiguous
    assert type(y.base).__name__ == "PyCapsule"  # the result Tensor itself, not a copy
    keep = z.copy()
    del sess
    gc.collect()
    assert np.array_equal(z, keep)  # still the result after the session is gone
    y[...] = 7  # and the memory is the array's to write
    assert (y == 7).all()


def test_an_output_that_is_an_input_does_not_alias_it():
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    sess = normrt.InferenceSession(m.SerializeToString())
    x = np.arange(3, dtype=np.float32)
    (y,) = sess.run(None, {"x": x})
    y[0] = 42
    assert x[0] == 0 and not np.shares_memory(x, y)


def test_eight_threads_on_one_session_are_bit_identical():
    sess = normrt.InferenceSession(EXAMPLE)
    feed = example_feed(2, 7)
    want = [o.tobytes() for o in sess.run(None, feed)]
    bad = []

    def worker():
        for _ in range(100):
            got = [o.tobytes() for o in sess.run(None, feed)]
            if got != want:
                bad.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def test_errors_are_exceptions_that_name_what_is_wrong(tmp_path):
    sess = normrt.InferenceSession(EXAMPLE)
    feed = example_feed()
    with pytest.raises(normrt.InvalidArgument, match="no input 'q'"):
        sess.run(None, {**feed, "q": feed["x"]})
    with pytest.raises(normrt.InvalidArgument, match="input 'img' is missing"):
        sess.run(None, {"x": feed["x"]})
    with pytest.raises(normrt.InvalidArgument, match="input 'x' has dtype float64, the model expects float32"):
        sess.run(None, {**feed, "x": feed["x"].astype(np.float64)})
    with pytest.raises(normrt.InvalidArgument, match="input 'x' has shape"):
        sess.run(None, {**feed, "x": feed["x"][0]})
    with pytest.raises(normrt.InvalidArgument, match="input 'x' must be a numpy.ndarray, got list"):
        sess.run(None, {**feed, "x": feed["x"].tolist()})
    with pytest.raises(normrt.InvalidArgument, match="no output 'w'"):
        sess.run(["w"], feed)
    with pytest.raises(normrt.InvalidArgument, match="input_feed must be a dict"):
        sess.run(None, [feed["x"]])
    with pytest.raises(ValueError):  # InvalidArgument is also a ValueError
        sess.run(None, {"x": feed["x"]})
    with pytest.raises(normrt.FileError, match="does not exist"):
        normrt.InferenceSession(str(tmp_path / "missing.onnx"))
    with open(EXAMPLE, "rb") as f:
        data = f.read()
    with pytest.raises(normrt.InvalidModel):
        normrt.InferenceSession(data[: len(data) // 3])
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(normrt.Error):
        normrt.InferenceSession(str(bad))
    g = helper.make_graph([helper.make_node("NoSuchOp", ["x"], ["y"])], "u",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    with pytest.raises(normrt.UnsupportedOp, match="NoSuchOp"):
        normrt.InferenceSession(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(ValueError, match="CUDAExecutionProvider"):
        normrt.InferenceSession(EXAMPLE, providers=["CUDAExecutionProvider"])
    with pytest.raises(TypeError):
        normrt.InferenceSession(3)
    assert issubclass(normrt.InvalidModel, normrt.Error) and issubclass(normrt.Error, RuntimeError)


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_no_leak_over_ten_thousand_runs():
    sess = normrt.InferenceSession(EXAMPLE)
    feed = example_feed(1, 4)
    for _ in range(1000):
        sess.run(None, feed)
    gc.collect()
    before = rss_kb()
    for _ in range(10000):
        sess.run(None, feed)
    gc.collect()
    grown = rss_kb() - before
    assert grown < 2048, f"RSS grew by {grown} kB over 10,000 runs"


def test_string_inputs_and_outputs():
    x = helper.make_tensor_value_info("x", TensorProto.STRING, [None])
    y = helper.make_tensor_value_info("y", TensorProto.STRING, [None])
    f = helper.make_tensor_value_info("f", TensorProto.FLOAT, [None])
    nodes = [helper.make_node("StringNormalizer", ["x"], ["y"], case_change_action="UPPER"),
             helper.make_node("Cast", ["x"], ["f"], to=TensorProto.FLOAT)]
    m = helper.make_model(helper.make_graph(nodes, "s", [x], [y, f]), opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    s = normrt.InferenceSession(m.SerializeToString())
    assert s.get_inputs()[0].type == "tensor(string)"
    for feed in (np.array(["1.5", "nan", "2e3"]), np.array(["1.5", "nan", "2e3"], dtype=object)):
        up, fl = s.run(None, {"x": feed})
        assert up.dtype == object and list(up) == ["1.5", "NAN", "2E3"]
        assert fl.dtype == np.float32 and fl[0] == 1.5 and np.isnan(fl[1]) and fl[2] == 2000
    with pytest.raises(normrt.InvalidArgument):
        s.run(None, {"x": np.array([1.0, 2.0], dtype=np.float32)})
    with pytest.raises(normrt.InvalidArgument):  # not a number: an error naming the element
        s.run(None, {"x": np.array(["abc"])})
def test_sequences_and_optionals(tmp_path):
    # (x, o: optional, q: seq) → SequenceConstruct(x), OptionalHasElement(o), SequenceInsert(q, x).
    opt_in = helper.make_value_info("o", helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [2])))
    g = helper.make_graph([helper.make_node("SequenceConstruct", ["x"], ["s"]),
                           helper.make_node("OptionalHasElement", ["o"], ["has"]),
                           helper.make_node("SequenceInsert", ["q", "x"], ["q2"])], "seq",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]), opt_in,
                           helper.make_tensor_sequence_value_info("q", TensorProto.FLOAT, None)],
                          [helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("has", TensorProto.BOOL, []),
                           helper.make_tensor_sequence_value_info("q2", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = str(tmp_path / "seq.onnx")
    onnx.save(m, path)
    sess = normrt.InferenceSession(path)
    assert [i.type for i in sess.get_inputs()] == ["tensor(float)", "optional(tensor(float))", "seq(tensor(float))"]
    assert sess.get_outputs()[0].type == "seq(tensor(float))"
    x = np.array([1.5, -2.0], np.float32)
    q = [np.arange(3, dtype=np.float32), np.ones((2, 2), np.float32)]
    s, has, q2 = sess.run(None, {"x": x, "o": None, "q": q})
    assert isinstance(s, list) and len(s) == 1 and np.array_equal(s[0], x)
    assert not has
    assert len(q2) == 3 and np.array_equal(q2[0], q[0]) and np.array_equal(q2[1], q[1]) and np.array_equal(q2[2], x)
    x[0] = 7  # outputs own their memory
    assert s[0][0] == 1.5
    _, has, _ = sess.run(None, {"x": x, "o": np.zeros(2, np.float32), "q": []})
    assert has
    with pytest.raises(normrt.InvalidArgument, match="list of numpy.ndarray"):
        sess.run(None, {"x": x, "o": None, "q": x})
    with pytest.raises(normrt.InvalidArgument, match="float64"):
        sess.run(None, {"x": x, "o": None, "q": [np.zeros(2)]})
