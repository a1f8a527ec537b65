// MatMul with constant weights followed by Add(bias) — and optionally by Relu
// or a (fused) Gelu — becomes ai.normrt FusedMatMul(A, W, bias; activation),
// whose GEMM adds the bias and applies the activation in its epilogue:
//   MatMul(A, W) → Add(·, b) [→ Relu | ai.normrt Gelu]
// W: a constant float32 matrix; b: a constant with one value per output
// column (any leading 1s). Each intermediate must have no other reader.
#include "optimizer.h"

namespace normrt {

namespace {

const Tensor* float_constant(const Graph& g, const GraphIndex& ix, const std::string& v) {
  const Tensor* t = constant_tensor(g, ix, v);
  return t && t->dtype() == DType::Float32 ? t : nullptr;
}

bool fuse_one(Graph& g) {
  GraphIndex ix(g);
  for (size_t mi = 0; mi < g.nodes.size(); ++mi) {
    const Node& mm = g.nodes[mi];
    if (!mm.domain.empty() || mm.op_type != "MatMul" || mm.inputs.size() != 2) continue;
    const Tensor* W = float_constant(g, ix, mm.inputs[1]);
    if (!W || W->rank() != 2) continue;
    const int ai = sole_consumer(ix, mm.outputs[0]);
    if (!is_onnx_op(g, ai, "Add")) continue;
    const Node& add = g.nodes[static_cast<size_t>(ai)];
    const std::string bias = other_input(add, mm.outputs[0]);
    const Tensor* b = bias.empty() ? nullptr : float_constant(g, ix, bias);
    if (!b || b->numel() != W->dim(1) || b->rank() < 1 || b->shape().back() != W->dim(1)) continue;
    std::vector<int> pattern{static_cast<int>(mi), ai};
    std::string out = add.outputs[0], act;
    const int ni = sole_consumer(ix, out);
    if (is_onnx_op(g, ni, "Relu")) {
      act = "Relu";
    } else if (ni >= 0 && g.nodes[static_cast<size_t>(ni)].domain == "ai.normrt" &&
               g.nodes[static_cast<size_t>(ni)].op_type == "Gelu") {
      act = g.nodes[static_cast<size_t>(ni)].attr_string("approximate", "none") == "tanh" ? "GeluTanh" : "Gelu";
    }
    if (!act.empty()) {
      pattern.push_back(ni);
      out = g.nodes[static_cast<size_t>(ni)].outputs[0];
    }
    std::string bias_name = bias;
    if (b->rank() != 1) {  // store the bias as a plain row
      bias_name = mm.name + "/bias_row";
      g.initializers[bias_name] = b->reshaped({W->dim(1)});
    }
    Node f = normrt_node("FusedMatMul", mm.name, {mm.inputs[0], mm.inputs[1], bias_name}, {out}, nullptr, 0.f);
    f.attrs.erase("epsilon");
    if (!act.empty()) f.attrs["activation"] = string_attr(act);
    replace_with_fused(g, pattern, std::move(f));
    return true;
  }
  return false;
}

}  // namespace

int fuse_matmul_bias(Graph& g) {
  int fused = 0;
  while (fuse_one(g)) ++fused;
  return fused;
}

}  // namespace normrt
