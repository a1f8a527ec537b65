// GELU fusion, the two forms exporters write out:
//   erf:  Mul(Mul(x, Add(Erf(Div(x, √2) | Mul(x, 1/√2)), 1)), 0.5)
//         (or the 0.5 applied to x first: Mul(Mul(x, 0.5), Add(Erf(…), 1)))
//   tanh: Mul(Mul(x, Add(Tanh(Mul(√(2/π), Add(x, Mul(0.044715, x³)))), 1)), 0.5),
//         x³ = Mul(x, Mul(x, x)) | Pow(x, 3)
// → ai.normrt Gelu(x; approximate = none | tanh). Each intermediate must
// have no reader outside the pattern.
#include <cmath>
#include <set>

#include "optimizer.h"

namespace normrt {

namespace {

int prod(const GraphIndex& ix, const std::string& v) {
  auto it = ix.producer.find(v);
  return it == ix.producer.end() ? -1 : it->second;
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-4 * std::fabs(b); }

// Binary node i is `op` with one operand the scalar constant ≈ c: the other operand.
std::string with_constant(const Graph& g, const GraphIndex& ix, int i, const char* op, double c) {
  if (!is_onnx_op(g, i, op)) return "";
  const Node& n = g.nodes[static_cast<size_t>(i)];
  if (n.inputs.size() != 2) return "";
  for (int k = 0; k < 2; ++k) {
    double v;
    if (constant_scalar(g, ix, n.inputs[k], &v) && near(v, c)) {
      if (std::string(op) == "Div" && k == 0) return "";  // c / x is not x / c
      return n.inputs[1 - k];
    }
  }
  return "";
}

// x³ as Mul(x, Mul(x, x)) or Pow(x, 3): the nodes, or empty.
std::vector<int> cube_of(const Graph& g, const GraphIndex& ix, const std::string& v, const std::string& x) {
  const int i = prod(ix, v);
  double three;
  if (is_onnx_op(g, i, "Pow") && g.nodes[i].inputs[0] == x && constant_scalar(g, ix, g.nodes[i].inputs[1], &three) &&
      three == 3.0)
    return {i};
  if (!is_onnx_op(g, i, "Mul")) return {};
  const std::string sq = other_input(g.nodes[i], x);
  const int j = prod(ix, sq);
  if (is_onnx_op(g, j, "Mul") && g.nodes[j].inputs[0] == x && g.nodes[j].inputs[1] == x) return {i, j};
  return {};
}

bool fuse_one(Graph& g, int* fired) {
  GraphIndex ix(g);
  for (size_t fi = 0; fi < g.nodes.size(); ++fi) {
    const Node& f = g.nodes[fi];
    if (!f.domain.empty() || (f.op_type != "Erf" && f.op_type != "Tanh")) continue;
    const bool erf = f.op_type == "Erf";
    std::vector<int> pat{static_cast<int>(fi)};
    // The argument: x/√2, or √(2/π)·(x + 0.044715·x³).
    const int ai = prod(ix, f.inputs[0]);
    std::string x;
    if (erf) {
      x = with_constant(g, ix, ai, "Div", std::sqrt(2.0));
      if (x.empty()) x = with_constant(g, ix, ai, "Mul", std::sqrt(0.5));
      pat.push_back(ai);
    } else {
      const std::string inner = with_constant(g, ix, ai, "Mul", std::sqrt(2.0 / M_PI));
      const int si = prod(ix, inner);
      if (inner.empty() || !is_onnx_op(g, si, "Add")) continue;
      for (const std::string& cand : g.nodes[si].inputs) {
        const std::string cubic = other_input(g.nodes[si], cand);
        const int ci = prod(ix, cubic);
        const std::string x3 = with_constant(g, ix, ci, "Mul", 0.044715);
        if (x3.empty()) continue;
        const std::vector<int> cube = cube_of(g, ix, x3, cand);
        if (cube.empty()) continue;
        x = cand;
        pat.insert(pat.end(), {ai, si, ci});
        pat.insert(pat.end(), cube.begin(), cube.end());
        break;
      }
    }
    if (x.empty()) continue;
    // Add(f, 1) → Mul(x, ·) → Mul(·, 0.5), or Mul(Mul(x, 0.5), Add(f, 1)).
    const int add = sole_consumer(ix, f.outputs[0]);
    if (with_constant(g, ix, add, "Add", 1.0) != f.outputs[0]) continue;
    pat.push_back(add);
    const int m1 = sole_consumer(ix, g.nodes[add].outputs[0]);
    if (!is_onnx_op(g, m1, "Mul")) continue;
    const std::string other = other_input(g.nodes[m1], g.nodes[add].outputs[0]);
    int last = -1;
    if (other == x) {
      const int m2 = sole_consumer(ix, g.nodes[m1].outputs[0]);
      if (with_constant(g, ix, m2, "Mul", 0.5) != g.nodes[m1].outputs[0]) continue;
      pat.insert(pat.end(), {m1, m2});
      last = m2;
    } else {
      const int h = prod(ix, other);
      if (with_constant(g, ix, h, "Mul", 0.5) != x || sole_consumer(ix, other) != m1) continue;
      pat.insert(pat.end(), {h, m1});
      last = m1;
    }
    // Intermediates read only inside the pattern.
    const std::set<int> in_pat(pat.begin(), pat.end());
    bool closed = true;
    for (int i : in_pat) {
      if (i == last) continue;
      for (const std::string& o : g.nodes[i].outputs) {
        if (ix.is_graph_output.count(o)) closed = false;
        auto it = ix.consumers.find(o);
        if (it != ix.consumers.end())
          for (int c : it->second) closed = closed && in_pat.count(c);
      }
    }
    if (!closed) continue;
    Node gelu = normrt_node("Gelu", g.nodes[last].name, {x}, {g.nodes[last].outputs[0]}, nullptr, 0.f);
    gelu.attrs.erase("epsilon");
    gelu.attrs["approximate"] = string_attr(erf ? "none" : "tanh");
    replace_with_fused(g, std::vector<int>(in_pat.begin(), in_pat.end()), std::move(gelu));
    ++*fired;
    return true;
  }
  return false;
}

}  // namespace

int fuse_gelu(Graph& g) {
  int fired = 0;
  while (fuse_one(g, &fired)) {
  }
  return fired;
}

}  // namespace normrt
