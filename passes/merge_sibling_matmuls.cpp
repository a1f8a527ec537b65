// Sibling int8 products of one input (a transformer's Q, K and V
// projections) become one wider product with one output per member:
//   DynamicQuantizeMatMul(X, Wq_i, s_i, [z_i], [b_i])   i = 1 … n, same X, K, weight type,
//                                  domain (com.microsoft, or ai.normrt with the same activation)
//   ⇒ ai.normrt DynamicQuantizeMatMul(X, [Wq_1 … Wq_n], s, z, [b]; split = [N_1 … N_n])
//     with the n outputs (each member's columns written straight to its output)
// The weights are concatenated along their columns; per-tensor scales and
// zero points become per-column ones, a missing zero point or bias zeros. X is
// quantized and packed once instead of n times. Every output element is the
// same integer sum scaled by the same factor, so results are bit for bit
// unchanged. Float products (FusedMatMul) are left apart: the wider float GEMM
// ran no faster.
#include <algorithm>
#include <cstring>

#include "optimizer.h"

namespace normrt {

namespace {

struct Sibling {
  int node = -1;
  const Tensor* w = nullptr;
  const Tensor* scale = nullptr;
  const Tensor* zero = nullptr;  // optional
  const Tensor* bias = nullptr;  // optional
  int64_t N = 0;
};

bool is_dynamic_quant_matmul(const Node& n) {
  return (n.domain == "com.microsoft" || n.domain == "ai.normrt") && n.op_type == "DynamicQuantizeMatMul";
}

const Tensor* input_constant(const Graph& g, const GraphIndex& ix, const Node& n, size_t i) {
  return i < n.inputs.size() && !n.inputs[i].empty() ? constant_tensor(g, ix, n.inputs[i]) : nullptr;
}

// Node i as a sibling (its constants checked), or node == -1.
Sibling sibling_of(const Graph& g, const GraphIndex& ix, int i) {
  const Node& n = g.nodes[static_cast<size_t>(i)];
  Sibling s;
  if (!is_dynamic_quant_matmul(n) || n.outputs.size() != 1) return s;
  s.w = input_constant(g, ix, n, 1);
  if (!s.w || s.w->rank() != 2 || (s.w->dtype() != DType::Int8 && s.w->dtype() != DType::UInt8)) return s;
  s.N = s.w->dim(1);
  s.scale = input_constant(g, ix, n, 2);
  const bool has_zero = n.inputs.size() > 3 && !n.inputs[3].empty();
  const bool has_bias = n.inputs.size() > 4 && !n.inputs[4].empty();
  s.zero = has_zero ? input_constant(g, ix, n, 3) : nullptr;
  s.bias = has_bias ? input_constant(g, ix, n, 4) : nullptr;
  const auto per_column = [&](const Tensor* t) { return t->rank() <= 1 && (t->numel() == 1 || t->numel() == s.N); };
  if (!s.scale || s.scale->dtype() != DType::Float32 || !per_column(s.scale)) return s;
  if (has_zero && (!s.zero || s.zero->dtype() != s.w->dtype() || !per_column(s.zero))) return s;
  if (has_bias && (!s.bias || s.bias->dtype() != DType::Float32 || s.bias->numel() != s.N)) return s;
  s.node = i;
  return s;
}

// Whether b can join a group led by a (same op, activation, K and weight type).
bool compatible(const Graph& g, const Sibling& a, const Sibling& b) {
  const Node &na = g.nodes[static_cast<size_t>(a.node)], &nb = g.nodes[static_cast<size_t>(b.node)];
  return na.domain == nb.domain && na.op_type == nb.op_type &&
         na.attr_string("activation", "") == nb.attr_string("activation", "") && a.w->dim(0) == b.w->dim(0) &&
         a.w->dtype() == b.w->dtype();
}

// The columns of the group's weights side by side.
Tensor concat_columns(const std::vector<Sibling>& group, int64_t total) {
  const int64_t K = group[0].w->dim(0);
  const size_t es = dtype_size(group[0].w->dtype());
  Tensor out(group[0].w->dtype(), {K, total});
  char* dst = static_cast<char*>(out.raw());
  int64_t col = 0;
  for (const Sibling& s : group) {
    const char* src = static_cast<const char*>(s.w->raw());
    for (int64_t k = 0; k < K; ++k)
      std::memcpy(dst + (k * total + col) * es, src + k * s.N * es, static_cast<size_t>(s.N) * es);
    col += s.N;
  }
  return out;
}

// One value per column of the group: each member's t (one value or N of
// them; `fallback` when t is null), in the dtype given.
template <class T>
Tensor per_column(const std::vector<Sibling>& group, const Tensor* Sibling::*member, DType dtype, int64_t total,
                  T fallback) {
  Tensor out(dtype, {total});
  T* dst = out.data<T>();
  for (const Sibling& s : group) {
    const Tensor* t = s.*member;
    for (int64_t j = 0; j < s.N; ++j) *dst++ = !t ? fallback : t->data<T>()[t->numel() == 1 ? 0 : j];
  }
  return out;
}

void merge_group(Graph& g, const GraphIndex& ix, const std::vector<Sibling>& group, std::vector<char>& dead,
                 std::vector<std::pair<size_t, std::vector<Node>>>& inserts) {
  int64_t total = 0;
  for (const Sibling& s : group) total += s.N;
  const Node& first = g.nodes[static_cast<size_t>(group[0].node)];
  // A prefix no value or initializer of the graph starts with.
  std::string base = first.name + "/merged";
  const auto taken = [&](const std::string& b) {
    for (const char* suffix : {"_w", "_scale", "_zero", "_bias"})
      if (ix.producer.count(b + suffix) || ix.consumers.count(b + suffix) || g.initializers.count(b + suffix) ||
          std::any_of(g.inputs.begin(), g.inputs.end(), [&](const ValueMeta& v) { return v.name == b + suffix; }))
        return true;
    return false;
  };
  for (int k = 2; taken(base); ++k) base = first.name + "/merged" + std::to_string(k);
  Node p = first;
  p.name = base;
  p.inputs.resize(1);
  g.initializers[base + "_w"] = concat_columns(group, total);
  p.inputs.push_back(base + "_w");
  g.initializers[base + "_scale"] = per_column<float>(group, &Sibling::scale, DType::Float32, total, 0.f);
  p.inputs.push_back(base + "_scale");
  const DType wt = group[0].w->dtype();
  g.initializers[base + "_zero"] = wt == DType::Int8
                                       ? per_column<int8_t>(group, &Sibling::zero, wt, total, int8_t{0})
                                       : per_column<uint8_t>(group, &Sibling::zero, wt, total, uint8_t{0});
  p.inputs.push_back(base + "_zero");
  if (std::any_of(group.begin(), group.end(), [](const Sibling& s) { return s.bias != nullptr; })) {
    g.initializers[base + "_bias"] = per_column<float>(group, &Sibling::bias, DType::Float32, total, 0.f);
    p.inputs.push_back(base + "_bias");
  }
  // One ai.normrt node writes each member's columns to that member's output (no Split copy).
  p.domain = "ai.normrt";
  p.opset = 1;  // ai.normrt nodes are version 1 (normrt_node)
  Attribute sizes;
  sizes.kind = Attribute::Kind::Ints;
  p.outputs.clear();
  for (const Sibling& s : group) {
    sizes.ints.push_back(s.N);
    p.outputs.push_back(g.nodes[static_cast<size_t>(s.node)].outputs[0]);
    dead[static_cast<size_t>(s.node)] = 1;
  }
  p.attrs["split"] = sizes;
  inserts.emplace_back(static_cast<size_t>(group[0].node), std::vector<Node>{std::move(p)});
}

}  // namespace

int merge_sibling_matmuls(Graph& g) {
  if (g.opset_for("") < 2) return 0;
  GraphIndex ix(g);
  std::vector<char> dead(g.nodes.size(), 0);
  std::vector<std::pair<size_t, std::vector<Node>>> inserts;
  std::vector<char> grouped(g.nodes.size(), 0);
  for (const auto& [value, readers] : ix.consumers) {
    std::vector<Sibling> candidates;
    for (int r : readers) {
      if (grouped[static_cast<size_t>(r)] || g.nodes[static_cast<size_t>(r)].inputs[0] != value) continue;
      const Sibling s = sibling_of(g, ix, r);
      if (s.node >= 0 &&
          std::none_of(candidates.begin(), candidates.end(), [&](const Sibling& c) { return c.node == r; }))
        candidates.push_back(s);
    }
    std::sort(candidates.begin(), candidates.end(), [](const Sibling& a, const Sibling& b) { return a.node < b.node; });
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (grouped[static_cast<size_t>(candidates[i].node)]) continue;
      std::vector<Sibling> group{candidates[i]};
      for (size_t j = i + 1; j < candidates.size(); ++j)
        if (!grouped[static_cast<size_t>(candidates[j].node)] && compatible(g, candidates[i], candidates[j]))
          group.push_back(candidates[j]);
      if (group.size() < 2) continue;
      for (const Sibling& s : group) grouped[static_cast<size_t>(s.node)] = 1;
      merge_group(g, ix, group, dead, inserts);
    }
  }
  if (inserts.empty()) return 0;
  // The merged product takes the place of the group's first node
  // (X and the constants are ready there; every reader of an output comes later).
  std::sort(inserts.begin(), inserts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size() + inserts.size());
  size_t next = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (; next < inserts.size() && inserts[next].first == i; ++next)
      for (Node& n : inserts[next].second) nodes.push_back(std::move(n));
    if (!dead[i]) nodes.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(nodes);
  return static_cast<int>(inserts.size());
}

}  // namespace normrt
