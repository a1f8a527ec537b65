#!/usr/bin/python3
"""Exports full-size benchmark models (random weights, fixed seeds, nothing
downloaded) into bench/models/ (gitignored, never committed), each in the ONNX
test layout (model.onnx + test_data_set_0/{input,output}_N.pb with PyTorch's
outputs), so `normrt check`, `normrt bench --data-dir` and bench/compare_ort.sh
all take them.

  /usr/bin/python3 scripts/make_bench_models.py [--out DIR] [NAME ...]

Names (default: all): resnet18 resnet50 mobilenet_v2 (torchvision, 224×224,
BatchNorm kept), bert_base (12 layers, hidden 768, seq 128), bert_4l256 (4 layers,
hidden 256, seq 128), minilm_l6 (6 layers, hidden 384, 12 heads, seq 128),
vit_tiny and vit_small (224, patch 16), gpt2_small (12 layers, hidden 768, seq 64,
GPT-2's vocabulary), ln_lstm (hidden 256, 32 steps), whisper_tiny_encoder (Conv1d
stem + GELU, 4 pre-LN layers of 384 over 1500 frames), and more torchvision
models: efficientnet_b0 mobilenet_v3_large mnasnet1_0 regnet_y_800mf
resnext50_32x4d googlenet densenet121 squeezenet1_1 shufflenet_v2_x1_0
convnext_tiny swin_t.
Needs Debian's python3-torch, python3-torchvision and python3-onnx.
"""
import argparse
import importlib.util
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("make_model_tests", os.path.join(HERE, "make_model_tests.py"))
mt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mt)  # the model classes and export() of the committed model tests


class WhisperEncoder(nn.Module):
    """Whisper-tiny-sized audio encoder: two Conv1d + GELU over 80 mel bins
    (the second with stride 2: 3000 → 1500 frames), sinusoid-like positions,
    pre-LN layers, a final LayerNorm."""

    def __init__(self, mels=80, hidden=384, heads=6, layers=4, ffn=1536, frames=1500):
        super().__init__()
        self.conv1 = nn.Conv1d(mels, hidden, 3, padding=1)
        self.conv2 = nn.Conv1d(hidden, hidden, 3, stride=2, padding=1)
        self.pos = nn.Parameter(torch.randn(1, frames, hidden) * 0.02)
        self.layers = nn.ModuleList(
            mt.EncoderLayer(hidden, heads, ffn, pre_ln=True, norm=lambda h: nn.LayerNorm(h, eps=1e-5))
            for _ in range(layers))
        self.ln = nn.LayerNorm(hidden, eps=1e-5)

    def forward(self, mel):
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.ln(x)


def bert_inputs(seq, vocab):
    ids = torch.randint(0, vocab, (1, seq))
    types = torch.zeros(1, seq, dtype=torch.long)
    mask = torch.ones(1, seq, dtype=torch.long)
    return [ids, types, mask]


def cnn(name, model, seed):
    torch.manual_seed(seed)
    mt.randomize_batchnorm(model)
    mt.export(name, model, [torch.randn(1, 3, 224, 224)], ["image"], ["logits"], 13, preserve_bn=True)


def bert(name, seed, **kw):
    torch.manual_seed(seed)
    model = mt.Bert(vocab=8192, max_pos=512, **kw)
    names = ["input_ids", "token_type_ids", "attention_mask"]
    mt.export(name, model, bert_inputs(128, 8192), names, ["last_hidden_state", "pooled"], 17,
              {n: {0: "batch", 1: "sequence"} for n in names})


def op_chain(name, length=1000, width=256):
    """Per-operator overhead: a chain of `length` tiny ops on [1, width]
    (Add a constant, Mul by a constant, Sigmoid, repeating)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    rng = np.random.default_rng(21)
    add_c = rng.uniform(-0.1, 0.1, (1, width)).astype(np.float32)
    mul_c = rng.uniform(0.9, 1.1, (1, width)).astype(np.float32)
    nodes, prev = [], "x"
    x = rng.standard_normal((1, width)).astype(np.float32)
    y = x.copy()
    for i in range(length):
        out = "y" if i == length - 1 else f"t{i}"
        kind = i % 3
        if kind == 0:
            nodes.append(helper.make_node("Add", [prev, "add_c"], [out]))
            y = y + add_c
        elif kind == 1:
            nodes.append(helper.make_node("Mul", [prev, "mul_c"], [out]))
            y = y * mul_c
        else:
            nodes.append(helper.make_node("Sigmoid", [prev], [out]))
            y = (1 / (1 + np.exp(-y))).astype(np.float32)
        prev = out
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])],
                          [numpy_helper.from_array(add_c, "add_c"), numpy_helper.from_array(mul_c, "mul_c")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="normrt make_bench_models.py")
    folder = os.path.join(mt.OUT, name)
    os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
    onnx.save(m, os.path.join(folder, "model.onnx"))
    onnx.save_tensor(numpy_helper.from_array(x, "x"), os.path.join(folder, "test_data_set_0", "input_0.pb"))
    onnx.save_tensor(numpy_helper.from_array(y.astype(np.float32), "y"),
                     os.path.join(folder, "test_data_set_0", "output_0.pb"))
    print(f"{name:24s} opset 17  {length} nodes  Add/Mul/Sigmoid on [1,{width}]")


MODELS = {
    "resnet18": lambda: cnn("resnet18", torchvision.models.resnet18(weights=None), 10),
    "resnet50": lambda: cnn("resnet50", torchvision.models.resnet50(weights=None), 11),
    "mobilenet_v2": lambda: cnn("mobilenet_v2", torchvision.models.mobilenet_v2(weights=None), 12),
    "bert_base": lambda: bert("bert_base", 13, hidden=768, heads=12, layers=12, ffn=3072),
    "bert_4l256": lambda: bert("bert_4l256", 14, hidden=256, heads=4, layers=4, ffn=1024),
    "minilm_l6": lambda: bert("minilm_l6", 15, hidden=384, heads=12, layers=6, ffn=1536),
    "vit_tiny": lambda: (torch.manual_seed(16), mt.export(
        "vit_tiny", mt.ViT(image=224, patch=16, hidden=192, heads=3, layers=12, ffn=768, classes=1000),
        [torch.randn(1, 3, 224, 224)], ["pixels"], ["logits"], 17)),
    "vit_small": lambda: (torch.manual_seed(17), mt.export(
        "vit_small", mt.ViT(image=224, patch=16, hidden=384, heads=6, layers=12, ffn=1536, classes=1000),
        [torch.randn(1, 3, 224, 224)], ["pixels"], ["logits"], 17)),
    "gpt2_small": lambda: (torch.manual_seed(18), mt.export(
        "gpt2_small", mt.Gpt(vocab=50257, hidden=768, heads=12, layers=12, ffn=3072, max_pos=1024),
        [torch.randint(0, 50257, (1, 64))], ["input_ids"], ["logits"], 17, {"input_ids": {0: "batch", 1: "sequence"}})),
    "ln_lstm": lambda: (torch.manual_seed(19), mt.export(
        "ln_lstm", mt.LayerNormLSTM(inp=256, hidden=256), [torch.randn(1, 32, 256)], ["x"], ["h"], 17)),
    "op_chain_1000": lambda: op_chain("op_chain_1000"),
    # More torchvision CNNs (224×224, weights=None): the ops and layer shapes the
    # four above lack — SiLU and squeeze-excite (EfficientNet-B0, RegNetY),
    # HardSwish (MobileNetV3), grouped convs (ResNeXt, RegNet), stride-1 and
    # ceil-mode MaxPools (GoogLeNet, SqueezeNet), concats with BN before the conv
    # (DenseNet), channel shuffles (ShuffleNetV2), 7×7 depthwise and channels-last
    # LayerNorm (ConvNeXt), shifted-window attention (Swin-T).
    **{name: (lambda name=name, seed=seed: cnn(name, getattr(torchvision.models, name)(weights=None), seed))
       for seed, name in enumerate(["efficientnet_b0", "mobilenet_v3_large", "mnasnet1_0", "regnet_y_800mf",
                                    "resnext50_32x4d", "googlenet", "densenet121", "squeezenet1_1",
                                    "shufflenet_v2_x1_0", "convnext_tiny", "swin_t"], start=100)},
    "whisper_tiny_encoder": lambda: (torch.manual_seed(20), mt.export(
        "whisper_tiny_encoder", WhisperEncoder(), [torch.randn(1, 80, 3000)], ["mel"], ["features"], 17)),
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(HERE, "..", "bench", "models"))
    p.add_argument("names", nargs="*", choices=[[]] + list(MODELS), default=[])
    a = p.parse_args()
    mt.OUT = a.out
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)
    for name in a.names or list(MODELS):
        MODELS[name]()


if __name__ == "__main__":
    main()
