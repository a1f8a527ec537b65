#!/usr/bin/python3
"""Exports the model tests under models/tests/: small but structurally
faithful networks with random weights (fixed seeds, nothing downloaded), each
in the ONNX test layout (model.onnx + test_data_set_0/{input,output}_N.pb)
with PyTorch's own outputs as the expected data.

  /usr/bin/python3 scripts/make_model_tests.py [OUT_DIR] [--only NAME[,NAME...]]

--only rewrites just the named folders (the others stay byte for byte).

Needs Debian's python3-torch, python3-torchvision and python3-onnx (used only
to write the committed files; building and testing normrt never runs this).
"""
import math
import os
import shutil
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper

_args = sys.argv[1:]
ONLY = None
if "--only" in _args:
    i = _args.index("--only")
    ONLY = set(_args[i + 1].split(","))
    del _args[i:i + 2]
OUT = _args[0] if _args else os.path.join(os.path.dirname(__file__), "..", "models", "tests")


# ---------------------------------------------------------------- norms ----
class XuLayerNormSimple(nn.Module):
    """LayerNorm-simple as Xu et al. (2019) compute it: no gain or bias,
    unbiased std, eps added to the std."""

    def __init__(self, eps=1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True)
        return (x - mean) / (std + self.eps)


class XuAdaNorm(nn.Module):
    """AdaNorm as in Xu et al.'s released code: y = (x - mean)/(std + eps),
    z = C * (1 - k*y) * y with k = 0.1 (the gradient detach is a no-op here)."""

    def __init__(self, C=2.0, k=0.1, eps=1e-5):
        super().__init__()
        self.C, self.k, self.eps = C, k, eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True)
        x = x - mean
        mean = x.mean(-1, keepdim=True)
        gra_norm = (self.k * (x - mean) / (std + self.eps)).detach()
        x_norm = (x - x * gra_norm) / (std + self.eps)
        return self.C * x_norm


# ----------------------------------------------------------- transformer ----
class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.d = heads, hidden // heads
        self.q, self.k, self.v = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.o = nn.Linear(hidden, hidden)

    def forward(self, x, add_mask=None, causal=False):
        b, t, h = x.shape
        split = lambda y: y.view(b, t, self.heads, self.d).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        if add_mask is not None:
            s = s + add_mask
        if causal:
            keep = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()  # Trilu on bool
            s = s.masked_fill(~keep, float("-inf"))  # Not + Where
        p = torch.softmax(s, dim=-1)
        y = torch.matmul(p, v).transpose(1, 2).reshape(b, t, h)
        return self.o(y)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, pre_ln, norm=lambda h: nn.LayerNorm(h, eps=1e-12), act=F.gelu):
        super().__init__()
        self.pre_ln, self.act = pre_ln, act
        self.attn = SelfAttention(hidden, heads)
        self.ln1, self.ln2 = norm(hidden), norm(hidden)
        self.fc1, self.fc2 = nn.Linear(hidden, ffn), nn.Linear(ffn, hidden)

    def forward(self, x, add_mask=None, causal=False):
        if self.pre_ln:
            x = x + self.attn(self.ln1(x), add_mask, causal)
            return x + self.fc2(self.act(self.fc1(self.ln2(x))))
        x = self.ln1(x + self.attn(x, add_mask, causal))
        return self.ln2(x + self.fc2(self.act(self.fc1(x))))


class Bert(nn.Module):
    """BERT-style: token + position + token-type embeddings, LN, attention
    mask, post-LN layers with GELU (erf form), a pooled tanh head."""

    def __init__(self, vocab=1000, hidden=128, heads=4, layers=2, ffn=512, max_pos=64):
        super().__init__()
        self.tok, self.pos, self.typ = nn.Embedding(vocab, hidden), nn.Embedding(max_pos, hidden), nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, ffn, pre_ln=False) for _ in range(layers))
        self.pool = nn.Linear(hidden, hidden)

    def forward(self, input_ids, token_type_ids, attention_mask):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.ln(self.tok(input_ids) + self.pos(pos) + self.typ(token_type_ids))
        add_mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, add_mask)
        return x, torch.tanh(self.pool(x[:, 0]))


class ViT(nn.Module):
    """ViT-style: patch Conv, CLS token, position embedding, pre-LN layers, head."""

    def __init__(self, image=32, patch=8, hidden=128, heads=4, layers=2, ffn=256, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, hidden, patch, stride=patch)
        n = (image // patch) ** 2
        self.cls = nn.Parameter(torch.randn(1, 1, hidden) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, n + 1, hidden) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, ffn, pre_ln=True) for _ in range(layers))
        self.ln = nn.LayerNorm(hidden, eps=1e-6)
        self.head = nn.Linear(hidden, classes)

    def forward(self, pixels):
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(self.ln(x[:, 0]))


class Gpt(nn.Module):
    """GPT-style decoder: causal mask built in the graph (Trilu/Not/Where),
    pre-LN, GELU (tanh form), tied LM head."""

    def __init__(self, vocab=1000, hidden=128, heads=4, layers=2, ffn=512, max_pos=64):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, hidden), nn.Embedding(max_pos, hidden)
        gelu_tanh = lambda x: F.gelu(x, approximate="tanh")
        self.layers = nn.ModuleList(
            EncoderLayer(hidden, heads, ffn, pre_ln=True, norm=lambda h: nn.LayerNorm(h, eps=1e-5), act=gelu_tanh)
            for _ in range(layers))
        self.ln = nn.LayerNorm(hidden, eps=1e-5)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos(torch.arange(t, device=input_ids.device))
        for layer in self.layers:
            x = layer(x, causal=True)
        return torch.matmul(self.ln(x), self.tok.weight.t())


class XuBlock(nn.Module):
    """A post-norm transformer block with Xu et al.'s normalization."""

    def __init__(self, norm, hidden=64, heads=4, ffn=256):
        super().__init__()
        self.layer = EncoderLayer(hidden, heads, ffn, pre_ln=False, norm=lambda h: norm(), act=F.relu)

    def forward(self, x):
        return self.layer(x)


# ------------------------------------------------------------------ CNNs ----
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    """ResNet-18-style: 7×7 stem, max pool, four stages of basic blocks, GAP, FC."""

    def __init__(self, widths=(16, 32, 64, 128), classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 7, 2, 3, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks += [BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ------------------------------------------------------------ LN-LSTM ----
class LayerNormLSTM(nn.Module):
    """Ba et al. (2016) layer-normalized LSTM, unrolled: LN on W_x·x and W_h·h
    of the gates (separately) and on the cell before tanh."""

    def __init__(self, inp=32, hidden=64):
        super().__init__()
        self.hidden = hidden
        self.wx = nn.Linear(inp, 4 * hidden, bias=False)
        self.wh = nn.Linear(hidden, 4 * hidden, bias=False)
        self.b = nn.Parameter(torch.randn(4 * hidden) * 0.1)
        self.ln_x, self.ln_h, self.ln_c = nn.LayerNorm(4 * hidden), nn.LayerNorm(4 * hidden), nn.LayerNorm(hidden)
        for ln in (self.ln_x, self.ln_h, self.ln_c):
            nn.init.normal_(ln.weight, 1.0, 0.1)
            nn.init.normal_(ln.bias, 0.0, 0.1)

    def forward(self, x):
        b, steps, _ = x.shape
        h = torch.zeros(b, self.hidden)
        c = torch.zeros(b, self.hidden)
        outs = []
        for t in range(steps):
            g = self.ln_x(self.wx(x[:, t])) + self.ln_h(self.wh(h)) + self.b
            i, f, o, u = g.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(u)
            h = torch.sigmoid(o) * torch.tanh(self.ln_c(c))
            outs.append(h)
        return torch.stack(outs, dim=1)


# -------------------------------------------------------- torch RNNs ----
class TorchLstm(nn.Module):
    """nn.LSTM, 2 layers, bidirectional, batch_first (exported as ONNX LSTM nodes), and a linear head."""

    def __init__(self, inp=12, hidden=16):
        super().__init__()
        self.lstm = nn.LSTM(inp, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, 5)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return self.head(y), h, c


class TorchGru(nn.Module):
    """nn.GRU (ONNX GRU with linear_before_reset = 1) with an initial state, sequence first."""

    def __init__(self, inp=10, hidden=20):
        super().__init__()
        self.gru = nn.GRU(inp, hidden, num_layers=1)

    def forward(self, x, h0):
        return self.gru(x, h0)


class TorchRnn(nn.Module):
    """nn.RNN with ReLU, 2 layers, batch_first."""

    def __init__(self, inp=8, hidden=9):
        super().__init__()
        self.rnn = nn.RNN(inp, hidden, num_layers=2, nonlinearity="relu", batch_first=True)

    def forward(self, x):
        return self.rnn(x)


# ------------------------------------------------------- control flow ----
class ControlFlow(nn.Module):
    """Data-dependent control flow, kept as ONNX If and Loop by torch.jit.script:
    the branch depends on the sign of a sum (and gives different shapes), the
    loop runs a run-time number of steps."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.ln = nn.LayerNorm(width)

    def forward(self, x, steps):
        h = self.fc(x)
        if bool(h.sum() > 0):
            h = torch.relu(h)
        else:
            h = torch.cat([h, -h], 0)
        for _ in range(int(steps)):
            h = self.ln(torch.tanh(self.fc(h)) + h)
        return h


# -------------------------------------------------------------- float16 ----
class Fp16Cnn(nn.Module):
    """Conv-BN-ReLU-MaxPool-Conv-Upsample(bilinear)-Sigmoid, every step a module
    so that the expected outputs can round after each (export_fp16_cnn)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.up(self.conv2(self.pool(self.relu(self.bn(self.conv1(x)))))))


# -------------------------------------------------------------- export ----
def randomize_batchnorm(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)


def export(name, model, inputs, input_names, output_names, opset, dynamic_axes=None, preserve_bn=False,
           more_inputs=()):
    if ONLY is not None and name not in ONLY:
        return
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    model.eval()
    with torch.no_grad():
        outputs = model(*inputs)
    if isinstance(outputs, torch.Tensor):
        outputs = (outputs,)
    path = os.path.join(folder, "model.onnx")
    kwargs = {}
    if preserve_bn:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, tuple(inputs), path, input_names=input_names, output_names=output_names,
                      opset_version=opset, dynamic_axes=dynamic_axes, **kwargs)
    m = onnx.load(path)
    m.producer_name = "normrt scripts/make_model_tests.py (PyTorch " + torch.__version__ + ")"
    onnx.checker.check_model(m)
    onnx.save(m, path)
    for i, (n, t) in enumerate(zip(input_names, inputs)):
        onnx.save_tensor(numpy_helper.from_array(t.numpy(), n), os.path.join(folder, "test_data_set_0", f"input_{i}.pb"))
    for i, (n, t) in enumerate(zip(output_names, outputs)):
        onnx.save_tensor(numpy_helper.from_array(t.numpy(), n),
                         os.path.join(folder, "test_data_set_0", f"output_{i}.pb"))
    for k, extra in enumerate(more_inputs, 1):  # further data sets (another branch, another trip count)
        data = os.path.join(folder, f"test_data_set_{k}")
        os.makedirs(data)
        with torch.no_grad():
            outs = model(*extra)
        if isinstance(outs, torch.Tensor):
            outs = (outs,)
        for i, (n, t) in enumerate(zip(input_names, extra)):
            onnx.save_tensor(numpy_helper.from_array(t.numpy(), n), os.path.join(data, f"input_{i}.pb"))
        for i, (n, t) in enumerate(zip(output_names, outs)):
            onnx.save_tensor(numpy_helper.from_array(t.numpy(), n), os.path.join(data, f"output_{i}.pb"))
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    size = os.path.getsize(path)
    print(f"{name:24s} opset {opset:2d}  {size / 1e6:5.2f} MB  {len(m.graph.node):4d} nodes  " +
          " ".join(f"{k}:{v}" for k, v in sorted(ops.items())))


# ------------------------------------------------------------ quantized ----
# A Linear → ReLU → Linear MLP (64 → 128 → 32) in two int8 forms, built with
# onnx.helper; the expected outputs come from a numpy simulation of the same
# integer arithmetic, op by op in float32 / int64 as ONNX defines each op.
def save_onnx_test(name, graph, opset_imports, inputs, outputs):
    if ONLY is not None and name not in ONLY:
        return
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    m = onnx.helper.make_model(graph, opset_imports=opset_imports, ir_version=8,
                               producer_name="normrt scripts/make_model_tests.py (onnx.helper)")
    onnx.checker.check_model(m)
    path = os.path.join(folder, "model.onnx")
    onnx.save(m, path)
    for kind, values in (("input", inputs), ("output", outputs)):
        for i, (n, t) in enumerate(values):
            onnx.save_tensor(numpy_helper.from_array(t, n), os.path.join(folder, "test_data_set_0", f"{kind}_{i}.pb"))
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    print(f"{name:24s} opset {opset_imports[0].version:2d}  {os.path.getsize(path) / 1e6:5.2f} MB  "
          f"{len(m.graph.node):4d} nodes  " + " ".join(f"{k}:{v}" for k, v in sorted(ops.items())))


def quantize_np(x, scale, zp, lo, hi, dtype):
    """QuantizeLinear: saturate(rint(x / scale) + zp), x / scale in float32."""
    return np.clip(np.rint(np.float32(x) / np.float32(scale)) + zp, lo, hi).astype(dtype)


def dequantize_np(q, scale, zp):
    """DequantizeLinear: (q - zp) * scale in float32."""
    return ((q.astype(np.float32) - np.float32(zp)) * np.float32(scale)).astype(np.float32)


def pow2_at_least(v):
    return np.float32(2.0 ** math.ceil(math.log2(v)))


def export_quant_linear():
    torch.manual_seed(8)
    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 32)).eval()
    x = torch.randn(4, 64).numpy().astype(np.float32)
    W1 = mlp[0].weight.detach().numpy().T.copy()  # [64, 128] for MatMul
    b1 = mlp[0].bias.detach().numpy().copy()
    W2 = mlp[2].weight.detach().numpy().T.copy()  # [128, 32]
    b2 = mlp[2].bias.detach().numpy().copy()
    H, T = onnx.helper, onnx.TensorProto
    init = lambda n, a: numpy_helper.from_array(np.asarray(a), n)

    # (a) QDQ: QuantizeLinear/DequantizeLinear around each MatMul's input, int8
    # per-column weights. Power-of-two scales make every MatMul sum exact in
    # float32 (integers times one scale, below 2^24), so any summation order
    # gives the same bits as numpy.
    xs = pow2_at_least(np.abs(x).max() / 127)
    w1s = np.array([pow2_at_least(np.abs(W1[:, n]).max() / 127) for n in range(W1.shape[1])], np.float32)
    w2s = np.array([pow2_at_least(np.abs(W2[:, n]).max() / 127) for n in range(W2.shape[1])], np.float32)
    W1q = quantize_np(W1, w1s, 0, -127, 127, np.int8)
    W2q = quantize_np(W2, w2s, 0, -127, 127, np.int8)
    xq = quantize_np(x, xs, 128, 0, 255, np.uint8)
    h = np.maximum(dequantize_np(xq, xs, 128) @ dequantize_np(W1q, w1s, 0) + b1, np.float32(0))
    hs = pow2_at_least(h.max() / 255)
    hq = quantize_np(h, hs, 0, 0, 255, np.uint8)
    y = (dequantize_np(hq, hs, 0) @ dequantize_np(W2q, w2s, 0) + b2).astype(np.float32)
    nodes = [
        H.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"]),
        H.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"]),
        H.make_node("DequantizeLinear", ["w1_q", "w1_scale", "w1_zp"], ["w1"], axis=1),
        H.make_node("MatMul", ["xd", "w1"], ["mm1"]),
        H.make_node("Add", ["mm1", "b1"], ["a1"]),
        H.make_node("Relu", ["a1"], ["h"]),
        H.make_node("QuantizeLinear", ["h", "h_scale", "h_zp"], ["hq"]),
        H.make_node("DequantizeLinear", ["hq", "h_scale", "h_zp"], ["hd"]),
        H.make_node("DequantizeLinear", ["w2_q", "w2_scale", "w2_zp"], ["w2"], axis=1),
        H.make_node("MatMul", ["hd", "w2"], ["mm2"]),
        H.make_node("Add", ["mm2", "b2"], ["y"]),
    ]
    inits = [init("x_scale", xs), init("x_zp", np.uint8(128)), init("w1_q", W1q), init("w1_scale", w1s),
             init("w1_zp", np.zeros(128, np.int8)), init("b1", b1), init("h_scale", hs), init("h_zp", np.uint8(0)),
             init("w2_q", W2q), init("w2_scale", w2s), init("w2_zp", np.zeros(32, np.int8)), init("b2", b2)]
    graph = H.make_graph(nodes, "quant_qdq_linear", [H.make_tensor_value_info("x", T.FLOAT, [4, 64])],
                         [H.make_tensor_value_info("y", T.FLOAT, [4, 32])], inits)
    save_onnx_test("quant_qdq_linear", graph, [H.make_opsetid("", 13)], [("x", x)], [("y", y)])

    # (b) ONNX Runtime's dynamic form: DynamicQuantizeLinear → MatMulInteger
    # (uint8 × int8, per-column symmetric weights) → Cast → Mul(x_scale·w_scale) → Add bias.
    def dynamic_quantize(v):
        lo, hi = np.float32(min(0.0, v.min())), np.float32(max(0.0, v.max()))
        s = np.float32(1.0) if hi == lo else np.float32((hi - lo) / np.float32(255))
        zp = np.rint(np.clip(np.float32(0) - lo / s, 0, 255))
        return quantize_np(v, s, zp, 0, 255, np.uint8), s, np.uint8(zp)

    d1s = (np.abs(W1).max(axis=0) / 127).astype(np.float32)
    d2s = (np.abs(W2).max(axis=0) / 127).astype(np.float32)
    D1q = quantize_np(W1, d1s, 0, -127, 127, np.int8)
    D2q = quantize_np(W2, d2s, 0, -127, 127, np.int8)

    def layer(v, Wq, ws, b):
        q, s, zp = dynamic_quantize(v)
        acc = (q.astype(np.int64) - np.int64(zp)) @ Wq.astype(np.int64)
        return (acc.astype(np.int32).astype(np.float32) * (np.float32(s) * ws).astype(np.float32) + b).astype(np.float32)

    y = layer(np.maximum(layer(x, D1q, d1s, b1), np.float32(0)), D2q, d2s, b2)
    nodes = []
    for i, src, dst in ((1, "x", "a1"), (2, "h", "y")):
        nodes += [
            H.make_node("DynamicQuantizeLinear", [src], [f"q{i}", f"q{i}_scale", f"q{i}_zp"]),
            H.make_node("MatMulInteger", [f"q{i}", f"w{i}_q", f"q{i}_zp", f"w{i}_zp"], [f"acc{i}"]),
            H.make_node("Cast", [f"acc{i}"], [f"accf{i}"], to=T.FLOAT),
            H.make_node("Mul", [f"q{i}_scale", f"w{i}_scale"], [f"s{i}"]),
            H.make_node("Mul", [f"accf{i}", f"s{i}"], [f"m{i}"]),
            H.make_node("Add", [f"m{i}", f"b{i}"], [dst]),
        ]
        if i == 1:
            nodes.append(H.make_node("Relu", ["a1"], ["h"]))
    inits = [init("w1_q", D1q), init("w1_scale", d1s), init("w1_zp", np.int8(0)), init("b1", b1),
             init("w2_q", D2q), init("w2_scale", d2s), init("w2_zp", np.int8(0)), init("b2", b2)]
    graph = H.make_graph(nodes, "quant_dynamic_linear", [H.make_tensor_value_info("x", T.FLOAT, [4, 64])],
                         [H.make_tensor_value_info("y", T.FLOAT, [4, 32])], inits)
    save_onnx_test("quant_dynamic_linear", graph, [H.make_opsetid("", 13)], [("x", x)], [("y", y)])

    # How far the int8 forms are from the float model (printed, not tested).
    with torch.no_grad():
        ref = mlp(torch.from_numpy(x)).numpy()
    print(f"  int8 vs float32 MLP: max |diff| {np.abs(ref - y).max():.4f} (outputs up to {np.abs(ref).max():.3f})")


# -------------------------------------------------------------- float16 ----
# A float16 CNN as `model.half()` gives it: weights, input and output float16
# (Resize's scales stay float32, as PyTorch writes them). PyTorch 1.13 on the
# CPU cannot run float16 convolutions (nor export a model through them), so
# the float32 model, its parameters first rounded to float16, is exported and
# its initializers and value types rewritten to float16 with onnx. The expected
# output is the same float32 model run on the float16 input with every
# module's output rounded to float16: each ONNX op computes and rounds once.
def export_fp16_cnn():
    name = "fp16_cnn"
    if ONLY is not None and name not in ONLY:
        return
    torch.manual_seed(11)
    model = Fp16Cnn()
    randomize_batchnorm(model)
    model = model.half().float().eval()
    for m in model.modules():  # BatchNorm's statistics are buffers, not parameters: round them too
        for k, b in m.named_buffers(recurse=False):
            if b.is_floating_point():
                b.copy_(b.half().float())
    x = torch.randn(1, 3, 16, 16).half().float()
    rounds = [m.register_forward_hook(lambda m, i, o: o.half().float()) for m in model.children()]
    with torch.no_grad():
        y = model(x)
    for h in rounds:
        h.remove()
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "test_data_set_0"))
    path = os.path.join(folder, "model.onnx")
    torch.onnx.export(model, (x,), path, input_names=["image"], output_names=["mask"], opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE)
    m = onnx.load(path)
    resize_params = {n.input[i] for n in m.graph.node if n.op_type == "Resize" for i in (1, 2)}
    for i, t in enumerate(m.graph.initializer):
        if t.data_type == onnx.TensorProto.FLOAT and t.name not in resize_params:
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))
    for v in list(m.graph.input) + list(m.graph.output):
        v.type.tensor_type.elem_type = onnx.TensorProto.FLOAT16
    del m.graph.value_info[:]
    m.producer_name = "normrt scripts/make_model_tests.py (PyTorch " + torch.__version__ + ", float16 by onnx)"
    onnx.checker.check_model(m)
    onnx.save(m, path)
    onnx.save_tensor(numpy_helper.from_array(x.numpy().astype(np.float16), "image"),
                     os.path.join(folder, "test_data_set_0", "input_0.pb"))
    onnx.save_tensor(numpy_helper.from_array(y.numpy().astype(np.float16), "mask"),
                     os.path.join(folder, "test_data_set_0", "output_0.pb"))
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    print(f"{name:24s} opset 13  {os.path.getsize(path) / 1e6:5.2f} MB  {len(m.graph.node):4d} nodes  " +
          " ".join(f"{k}:{v}" for k, v in sorted(ops.items())))


def main():
    os.makedirs(OUT, exist_ok=True)

    torch.manual_seed(0)
    bert = Bert()
    seq = 32
    ids = torch.randint(0, 1000, (1, seq))
    types = torch.cat([torch.zeros(1, seq // 2, dtype=torch.long), torch.ones(1, seq // 2, dtype=torch.long)], 1)
    mask = torch.ones(1, seq, dtype=torch.long)
    mask[0, -5:] = 0
    names = ["input_ids", "token_type_ids", "attention_mask"]
    dyn = {n: {0: "batch", 1: "sequence"} for n in names}
    for opset in (17, 13):
        export(f"bert_opset{opset}", bert, [ids, types, mask], names, ["last_hidden_state", "pooled"], opset, dyn)

    torch.manual_seed(1)
    export("vit", ViT(), [torch.randn(1, 3, 32, 32)], ["pixels"], ["logits"], 17)

    torch.manual_seed(2)
    export("gpt", Gpt(), [torch.randint(0, 1000, (1, 24))], ["input_ids"], ["logits"], 17,
           {"input_ids": {0: "batch", 1: "sequence"}})

    torch.manual_seed(3)
    resnet = ResNet()
    randomize_batchnorm(resnet)
    export("resnet", resnet, [torch.randn(1, 3, 64, 64)], ["image"], ["logits"], 13, preserve_bn=True)

    torch.manual_seed(4)
    mobilenet = torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10)
    randomize_batchnorm(mobilenet)
    export("mobilenet_v2", mobilenet, [torch.randn(1, 3, 64, 64)], ["image"], ["logits"], 13, preserve_bn=True)

    torch.manual_seed(5)
    export("ln_lstm", LayerNormLSTM(), [torch.randn(1, 16, 32)], ["x"], ["h"], 17)

    torch.manual_seed(8)
    export("torch_lstm", TorchLstm(), [torch.randn(2, 7, 12)], ["x"], ["y", "h_n", "c_n"], 14,
           {"x": {0: "batch", 1: "sequence"}})
    torch.manual_seed(9)
    export("torch_gru", TorchGru(), [torch.randn(6, 3, 10), torch.randn(1, 3, 20)], ["x", "h0"], ["y", "h_n"], 17)
    torch.manual_seed(10)
    export("torch_rnn", TorchRnn(), [torch.randn(3, 5, 8)], ["x"], ["y", "h_n"], 14)

    torch.manual_seed(6)
    export("xu_adanorm_block", XuBlock(XuAdaNorm), [torch.randn(1, 16, 64)], ["x"], ["y"], 13)
    torch.manual_seed(7)
    export("xu_layernorm_simple_block", XuBlock(XuLayerNormSimple), [torch.randn(1, 16, 64)], ["x"], ["y"], 13)

    export_quant_linear()
    export_fp16_cnn()

    torch.manual_seed(8)
    flow = torch.jit.script(ControlFlow())
    x = torch.randn(3, 16)
    sign = 1.0 if float(flow.fc(x).sum()) > 0 else -1.0
    export("control_flow", flow, [x, torch.tensor(3)], ["x", "steps"], ["h"], 16, {"x": {0: "batch"}},
           more_inputs=[(-x, torch.tensor(2)), (x * sign, torch.tensor(0)), (x * -sign, torch.tensor(5))])


if __name__ == "__main__":
    main()
