// Swish fusions, the forms exporters write SiLU and HardSwish out in:
//   Mul(x, Sigmoid(x))                      → ai.normrt Swish(x)      (SiLU:
//                                             EfficientNet, YOLOv5/v8, LLaMA's MLP)
//   Mul(x, HardSigmoid(x; α = 1/6, β = ½))  → ai.normrt HardSwish(x)  (MobileNetV3
//                                             exported below opset 14)
// One pass over memory instead of three (the gate written, then both read).
// The Sigmoid / HardSigmoid must have no reader but the Mul; x may have others.
#include <cmath>

#include "optimizer.h"

namespace normrt {

namespace {

bool fuse_one(Graph& g) {
  GraphIndex ix(g);
  for (size_t mi = 0; mi < g.nodes.size(); ++mi) {
    const Node& mul = g.nodes[mi];
    if (!is_onnx_op(g, static_cast<int>(mi), "Mul") || mul.inputs.size() != 2 || mul.outputs.size() != 1) continue;
    for (size_t side = 0; side < 2; ++side) {
      const std::string &gate = mul.inputs[side], &x = mul.inputs[1 - side];
      auto it = ix.producer.find(gate);
      if (gate == x || it == ix.producer.end() || sole_consumer(ix, gate) != static_cast<int>(mi)) continue;
      const int ai = it->second;
      const Node& act = g.nodes[static_cast<size_t>(ai)];
      if (act.inputs.size() != 1 || act.inputs[0] != x || act.outputs.size() != 1) continue;
      std::string op;
      if (is_onnx_op(g, ai, "Sigmoid")) {
        op = "Swish";
      } else if (is_onnx_op(g, ai, "HardSigmoid")) {
        const double alpha = act.attr_float("alpha", 0.2f), beta = act.attr_float("beta", 0.5f);
        if (std::fabs(alpha - 1.0 / 6.0) > 1e-6 || beta != 0.5) continue;
        op = "HardSwish";
      } else {
        continue;
      }
      Node f;
      f.domain = "ai.normrt";
      f.opset = 1;
      f.op_type = op;
      f.name = act.name + "/fused_Mul";
      f.inputs = {x};
      f.outputs = mul.outputs;
      replace_with_fused(g, {ai, static_cast<int>(mi)}, std::move(f));
      return true;
    }
  }
  return false;
}

}  // namespace

int fuse_swish(Graph& g) {
  int fused = 0;
  while (fuse_one(g)) ++fused;
  return fused;
}

}  // namespace normrt
