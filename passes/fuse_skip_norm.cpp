// Skip-LayerNorm fusion: S = Add(A, B) read by a LayerNormalization over the
// last axis (ai.onnx, or fused by the LayerNorm pass) with constant 1-D scale
// and bias becomes ai.normrt SkipLayerNormalization(A, B, scale, bias): one
// kernel that reads both inputs once. When other nodes also read S, the fused
// node writes it as its fourth output.
#include <climits>

#include "optimizer.h"

namespace normrt {

int fuse_skip_norm(Graph& g) {
  int fused = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    GraphIndex ix(g);
    for (size_t li = 0; li < g.nodes.size() && !changed; ++li) {
      Node& ln = g.nodes[li];
      const bool onnx_ln = ln.domain.empty() && ln.op_type == "LayerNormalization";
      const bool normrt_ln = ln.domain == "ai.normrt" && ln.op_type == "LayerNormalization";
      if (!onnx_ln && !normrt_ln) continue;
      auto int_attr = [&](const char* k, int64_t fallback) {  // a malformed attribute: no match
        auto it = ln.attrs.find(k);
        return it == ln.attrs.end() ? fallback : it->second.kind == Attribute::Kind::Int ? it->second.i : INT64_MIN;
      };
      if (int_attr("axis", -1) != -1 || ln.inputs.size() < 2 || ln.outputs.size() != 1) continue;
      if (onnx_ln && int_attr("stash_type", 1) != 1) continue;
      auto eps_it = ln.attrs.find("epsilon");
      if (eps_it != ln.attrs.end() && eps_it->second.kind != Attribute::Kind::Float) continue;
      auto pit = ix.producer.find(ln.inputs[0]);
      if (pit == ix.producer.end()) continue;
      const int ai = pit->second;
      const Node& add = g.nodes[static_cast<size_t>(ai)];
      if (!add.domain.empty() || add.op_type != "Add" || add.inputs.size() != 2) continue;
      const Tensor* scale = constant_tensor(g, ix, ln.inputs[1]);
      const Tensor* bias =
          ln.inputs.size() > 2 && !ln.inputs[2].empty() ? constant_tensor(g, ix, ln.inputs[2]) : nullptr;
      if (!scale || scale->rank() != 1 ||
          (ln.inputs.size() > 2 && !ln.inputs[2].empty() && (!bias || bias->rank() != 1)))
        continue;
      // Constants on either side of the Add are left alone (that is a bias, not a residual).
      if (constant_tensor(g, ix, add.inputs[0]) || constant_tensor(g, ix, add.inputs[1])) continue;
      const std::string sum = add.outputs[0];
      const bool sum_read_elsewhere = ix.uses(sum) > 1;
      std::vector<std::string> inputs = {add.inputs[0], add.inputs[1], ln.inputs[1]};
      if (bias) inputs.push_back(ln.inputs[2]);
      std::vector<std::string> outputs = {ln.outputs[0]};
      if (sum_read_elsewhere) outputs = {ln.outputs[0], "", "", sum};
      const float eps = eps_it != ln.attrs.end() ? eps_it->second.f : 1e-5f;
      // The Add goes; the fused node takes the LayerNorm's slot (after the Add).
      replace_with_fused(g, {ai, static_cast<int>(li)},
                         normrt_node("SkipLayerNormalization", ln.name, inputs, outputs, nullptr, eps));
      ++fused;
      changed = true;
    }
  }
  return fused;
}

}  // namespace normrt
