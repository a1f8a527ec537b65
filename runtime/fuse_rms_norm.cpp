// RMSNorm fusion: the decomposition of T5/LLaMA-style exports,
//   S = Sqrt(Add(ReduceMean(Pow(X, 2), axes), eps))      axes: the last k, keepdims
//   Y = Mul(Div(X, S) | Mul(X, Reciprocal(S)), scale)     scale a constant over the normalized dims
// becomes ai.normrt RMSNormalization(X, scale; axis = -k, epsilon = eps).
#include <algorithm>

#include "optimizer.h"

namespace normrt {

namespace {

int trailing_k(std::vector<int64_t> axes) {
  if (axes.empty()) return 0;
  std::sort(axes.begin(), axes.end());
  const int k = static_cast<int>(axes.size());
  for (int i = 0; i < k; ++i)
    if (axes[static_cast<size_t>(i)] != -k + i) return 0;
  return k;
}

int only_reader(const GraphIndex& ix, const std::string& v) {
  if (ix.uses(v) != 1 || !ix.consumers.count(v)) return -1;
  return ix.consumers.at(v)[0];
}

bool op_is(const Graph& g, int i, const char* op) {
  return i >= 0 && g.nodes[static_cast<size_t>(i)].domain.empty() && g.nodes[static_cast<size_t>(i)].op_type == op;
}

std::string other(const Node& n, const std::string& v) {
  if (n.inputs.size() != 2) return "";
  return n.inputs[0] == v ? n.inputs[1] : n.inputs[1] == v ? n.inputs[0] : "";
}

}  // namespace

int fuse_rms_norm(Graph& g) {
  int fused = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    GraphIndex ix(g);
    for (size_t pi = 0; pi < g.nodes.size() && !changed; ++pi) {
      const Node& pw = g.nodes[pi];
      double e;
      if (!op_is(g, static_cast<int>(pi), "Pow") || !constant_scalar(g, ix, pw.inputs[1], &e) || e != 2.0) continue;
      const std::string X = pw.inputs[0];
      const int rm = only_reader(ix, pw.outputs[0]);
      if (!op_is(g, rm, "ReduceMean")) continue;
      const int k = trailing_k(reduce_mean_axes(g, ix, g.nodes[static_cast<size_t>(rm)]));
      if (!k) continue;
      const int add = only_reader(ix, g.nodes[static_cast<size_t>(rm)].outputs[0]);
      double eps;
      if (!op_is(g, add, "Add") ||
          !constant_scalar(g, ix, other(g.nodes[static_cast<size_t>(add)], g.nodes[static_cast<size_t>(rm)].outputs[0]),
                           &eps) ||
          !(eps >= 0))
        continue;
      const int sq = only_reader(ix, g.nodes[static_cast<size_t>(add)].outputs[0]);
      if (!op_is(g, sq, "Sqrt")) continue;
      const std::string& s_out = g.nodes[static_cast<size_t>(sq)].outputs[0];
      int div = only_reader(ix, s_out), recip = -1;
      if (op_is(g, div, "Reciprocal")) {
        recip = div;
        div = only_reader(ix, g.nodes[static_cast<size_t>(recip)].outputs[0]);
        if (!op_is(g, div, "Mul") ||
            other(g.nodes[static_cast<size_t>(div)], g.nodes[static_cast<size_t>(recip)].outputs[0]) != X)
          continue;
      } else if (!op_is(g, div, "Div") || g.nodes[static_cast<size_t>(div)].inputs[0] != X ||
                 g.nodes[static_cast<size_t>(div)].inputs[1] != s_out) {
        continue;
      }
      const int mul = only_reader(ix, g.nodes[static_cast<size_t>(div)].outputs[0]);
      if (!op_is(g, mul, "Mul")) continue;
      const std::string scale = other(g.nodes[static_cast<size_t>(mul)], g.nodes[static_cast<size_t>(div)].outputs[0]);
      const Tensor* st = constant_tensor(g, ix, scale);
      if (!st || !dtype_is_float(st->dtype()) || st->rank() > k) continue;
      std::vector<int> pattern = {static_cast<int>(pi), rm, add, sq, div, mul};
      if (recip >= 0) pattern.push_back(recip);
      Node f;
      f.domain = "ai.normrt";
      f.opset = 1;
      f.op_type = "RMSNormalization";
      f.name = pw.name + "/fused_RMSNormalization";
      f.inputs = {X, scale};
      f.outputs = {g.nodes[static_cast<size_t>(mul)].outputs[0]};
      Attribute axis, epsilon;
      axis.kind = Attribute::Kind::Int;
      axis.i = -k;
      epsilon.kind = Attribute::Kind::Float;
      epsilon.f = static_cast<float>(eps);
      f.attrs["axis"] = axis;
      f.attrs["epsilon"] = epsilon;
      std::vector<char> dead(g.nodes.size(), 0);
      for (int n : pattern) dead[static_cast<size_t>(n)] = 1;
      const size_t at = static_cast<size_t>(*std::max_element(pattern.begin(), pattern.end()));
      dead[at] = 0;
      g.nodes[at] = std::move(f);
      erase_nodes(g, dead);
      import_normrt_domain(g);
      ++fused;
      changed = true;
    }
  }
  return fused;
}

}  // namespace normrt
