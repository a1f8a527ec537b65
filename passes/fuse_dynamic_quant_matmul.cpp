// The dynamic int8 MatMul that quantize_dynamic writes (ONNX Runtime's, and
// `normrt quantize`) becomes one com.microsoft DynamicQuantizeMatMul, ORT's
// own fusion target, which quantizes X and rescales in the GEMM's epilogue:
//   DynamicQuantizeLinear(X) → (Xq, Xs, Xzp)
//   MatMulInteger(Xq, Wq, Xzp, [Wzp]) → Cast(to float) → Mul(·, Mul(Xs, Ws)) [→ Add(·, bias)]
//   ⇒ DynamicQuantizeMatMul(X, Wq, Ws, [Wzp], [bias])
//   y = float(Σ_k (Xq − Xzp)(Wq − Wzp)) · (Xs·Ws[n]) [+ bias[n]]
// Wq: a constant 8-bit matrix; Ws (float32) and Wzp (Wq's type): constants,
// one value or one per column ([N]); bias: a constant float32 [N], else the
// Add stays. Every intermediate must have no reader outside the chain. One
// DynamicQuantizeLinear read by several such chains (Q, K, V projections of
// one X) fuses into one node per chain, each quantizing X again (a pass over
// X per chain against the GEMM's K·N per row); if any reader of Xq, Xs or Xzp
// is not such a chain, the group is left unfused. A Relu or ai.normrt Gelu that
// alone reads the result joins as the epilogue's activation: the node is then
// ai.normrt DynamicQuantizeMatMul(…; activation = Relu | Gelu | GeluTanh).
#include <algorithm>

#include "optimizer.h"

namespace normrt {

namespace {

struct Chain {
  int matmul = -1, cast = -1, mul = -1, scales = -1, add = -1;
  std::string wq, ws, wzp, bias, out;
};

bool per_column(const Tensor& t, int64_t N) { return t.numel() == 1 ? t.rank() <= 1 : t.rank() == 1 && t.dim(0) == N; }

// The chain from MatMulInteger node `mi` reading DynamicQuantizeLinear `d`'s outputs.
bool match_chain(const Graph& g, const GraphIndex& ix, const Node& d, int mi, Chain* c) {
  if (!is_onnx_op(g, mi, "MatMulInteger")) return false;
  const Node& mm = g.nodes[static_cast<size_t>(mi)];
  if (mm.inputs.size() < 3 || mm.inputs[0] != d.outputs[0] || mm.inputs[2] != d.outputs[2] ||
      mm.inputs[1] == d.outputs[0] || mm.outputs.size() != 1)
    return false;
  const Tensor* wq = constant_tensor(g, ix, mm.inputs[1]);
  if (!wq || wq->rank() != 2 || (wq->dtype() != DType::Int8 && wq->dtype() != DType::UInt8)) return false;
  const int64_t N = wq->dim(1);
  c->matmul = mi, c->wq = mm.inputs[1];
  if (mm.inputs.size() > 3 && !mm.inputs[3].empty()) {
    const Tensor* wzp = constant_tensor(g, ix, mm.inputs[3]);
    if (!wzp || wzp->dtype() != wq->dtype() || !per_column(*wzp, N)) return false;
    c->wzp = mm.inputs[3];
  }
  c->cast = sole_consumer(ix, mm.outputs[0]);
  if (!is_onnx_op(g, c->cast, "Cast")) return false;
  const Node& cast = g.nodes[static_cast<size_t>(c->cast)];
  try {
    if (cast.attr_int("to", 0) != static_cast<int64_t>(DType::Float32)) return false;
  } catch (const Error&) {
    return false;  // a malformed attribute: planning reports it
  }
  c->mul = sole_consumer(ix, cast.outputs[0]);
  if (!is_onnx_op(g, c->mul, "Mul")) return false;
  const Node& mul = g.nodes[static_cast<size_t>(c->mul)];
  const std::string scale = other_input(mul, cast.outputs[0]);
  const auto sp = ix.producer.find(scale);
  if (scale.empty() || sp == ix.producer.end() || !is_onnx_op(g, sp->second, "Mul") ||
      sole_consumer(ix, scale) != c->mul)
    return false;
  c->scales = sp->second;
  c->ws = other_input(g.nodes[static_cast<size_t>(c->scales)], d.outputs[1]);
  const Tensor* ws = c->ws.empty() ? nullptr : constant_tensor(g, ix, c->ws);
  if (!ws || ws->dtype() != DType::Float32 || !per_column(*ws, N) || c->ws == d.outputs[1]) return false;
  c->out = mul.outputs[0];
  const int ai = sole_consumer(ix, c->out);
  if (is_onnx_op(g, ai, "Add")) {
    const Node& add = g.nodes[static_cast<size_t>(ai)];
    const std::string bias = other_input(add, c->out);
    const Tensor* b = bias.empty() ? nullptr : constant_tensor(g, ix, bias);
    if (b && b->dtype() == DType::Float32 && b->rank() == 1 && b->dim(0) == N && bias != c->out) {
      c->add = ai, c->bias = bias, c->out = add.outputs[0];
    }
  }
  return true;
}

// Every reader of `value` is one of `allowed` (each counted once per use).
bool read_only_by(const GraphIndex& ix, const std::string& value, std::vector<int> allowed) {
  if (ix.is_graph_output.count(value)) return false;
  auto it = ix.consumers.find(value);
  std::vector<int> readers = it == ix.consumers.end() ? std::vector<int>{} : it->second;
  std::sort(readers.begin(), readers.end());
  std::sort(allowed.begin(), allowed.end());
  return readers == allowed;
}

// The chains of DynamicQuantizeLinear node `di`, if all of its outputs' readers are chains.
std::vector<Chain> match_group(const Graph& g, const GraphIndex& ix, int di) {
  const Node& d = g.nodes[static_cast<size_t>(di)];
  if (d.inputs.size() != 1 || d.outputs.size() != 3) return {};
  for (auto& o : d.outputs)
    if (o.empty()) return {};
  auto it = ix.consumers.find(d.outputs[0]);
  if (it == ix.consumers.end()) return {};
  std::vector<Chain> chains;
  std::vector<int> matmuls, scale_muls;
  for (int mi : it->second) {
    Chain c;
    if (std::find(matmuls.begin(), matmuls.end(), mi) != matmuls.end() || !match_chain(g, ix, d, mi, &c)) return {};
    chains.push_back(c);
    matmuls.push_back(mi);
    scale_muls.push_back(c.scales);
  }
  if (!read_only_by(ix, d.outputs[0], matmuls) || !read_only_by(ix, d.outputs[2], matmuls) ||
      !read_only_by(ix, d.outputs[1], scale_muls))
    return {};
  return chains;
}

}  // namespace

int fuse_dynamic_quant_matmul(Graph& g) {
  GraphIndex ix(g);
  std::vector<char> dead(g.nodes.size(), 0);
  std::vector<std::pair<size_t, Node>> fused;
  for (size_t di = 0; di < g.nodes.size(); ++di) {
    if (!is_onnx_op(g, static_cast<int>(di), "DynamicQuantizeLinear")) continue;
    const std::vector<Chain> chains = match_group(g, ix, static_cast<int>(di));
    if (chains.empty()) continue;
    dead[di] = 1;
    for (const Chain& c : chains) {
      Node f;
      f.domain = "com.microsoft";
      f.op_type = "DynamicQuantizeMatMul";
      f.name = g.nodes[static_cast<size_t>(c.matmul)].name + "/fused_DynamicQuantizeMatMul";
      f.inputs = {g.nodes[di].inputs[0], c.wq, c.ws, c.wzp, c.bias};
      while (f.inputs.back().empty()) f.inputs.pop_back();
      f.outputs = {c.out};
      const int last = c.add >= 0 ? c.add : c.mul;
      for (int n : {c.matmul, c.cast, c.mul, c.scales, c.add})
        if (n >= 0) dead[static_cast<size_t>(n)] = 1;
      // A Relu or (fused) Gelu as the sole reader: applied in the epilogue (ai.normrt's node).
      const int ai = sole_consumer(ix, c.out);
      std::string act;
      if (is_onnx_op(g, ai, "Relu"))
        act = "Relu";
      else if (ai >= 0 && g.nodes[static_cast<size_t>(ai)].domain == "ai.normrt" &&
               g.nodes[static_cast<size_t>(ai)].op_type == "Gelu")
        act = g.nodes[static_cast<size_t>(ai)].attr_string("approximate", "none") == "tanh" ? "GeluTanh" : "Gelu";
      if (!act.empty()) {
        f.domain = "ai.normrt";
        f.attrs["activation"] = string_attr(act);
        f.outputs = {g.nodes[static_cast<size_t>(ai)].outputs[0]};
        dead[static_cast<size_t>(ai)] = 1;
      }
      fused.emplace_back(static_cast<size_t>(last), std::move(f));
    }
  }
  if (fused.empty()) return 0;
  for (auto& [at, f] : fused) {
    if (f.domain == "com.microsoft" && g.opset_for("com.microsoft") < 0) g.opsets.emplace_back("com.microsoft", 1);
    f.opset = f.domain == "ai.normrt" ? 1 : g.opset_for(f.domain);  // ai.normrt nodes are version 1 (normrt_node)
    g.nodes[at] = std::move(f);
    dead[at] = 0;
  }
  erase_nodes(g, dead);
  return static_cast<int>(fused.size());
}

}  // namespace normrt
