// Xu et al. (2019) normalizations as their released code computes them, with
// σ the unbiased std and eps added to σ:
//   d   = Sub(X, ReduceMean(X, axes))                  axes: the last k, keepdims
//   σ   = Sqrt(Div(Mul(ReduceMean(Mul(d, d) | Pow(d, 2), axes), n), n − 1))
//         (or Mul by n/(n − 1)); n, n − 1 constants (folded from the shape)
//   den = Add(σ, eps)
// LayerNorm-simple:  Y = Div(d, den)
//   → ai.normrt LayerNormSimple(X; axis = −k, epsilon, std_mode = unbiased_std_eps)
// AdaNorm:           g = Div(Mul(Sub(d, ReduceMean(d)), k), den)
//                    Y = Mul(Div(Sub(d, Mul(d, g)), den), C)
//   → ai.normrt AdaNorm(X; k, C, axis, epsilon, std_mode = unbiased_std_eps)
// The fused node records n (attribute row_size), checked when planning.
// Nothing is fused when a pattern value is read outside the pattern.
#include <cmath>
#include <set>

#include "optimizer.h"

namespace normrt {

namespace {

const Node* node_at(const Graph& g, int i) { return i < 0 ? nullptr : &g.nodes[static_cast<size_t>(i)]; }

int producer_index(const GraphIndex& ix, const std::string& v) {
  auto it = ix.producer.find(v);
  return it == ix.producer.end() ? -1 : it->second;
}

bool is_op(const Node* n, const char* op) { return n && n->domain.empty() && n->op_type == op; }

// Every output of every pattern node but `last` is read only inside the pattern.
bool closed(const Graph& g, const GraphIndex& ix, const std::set<int>& pattern, int last) {
  for (int i : pattern) {
    if (i == last) continue;
    for (const std::string& o : g.nodes[static_cast<size_t>(i)].outputs) {
      if (o.empty()) continue;
      if (ix.is_graph_output.count(o)) return false;
      auto it = ix.consumers.find(o);
      if (it == ix.consumers.end()) continue;
      for (int c : it->second)
        if (!pattern.count(c)) return false;
    }
  }
  return true;
}

// The consumers of v (each once).
std::vector<int> readers(const GraphIndex& ix, const std::string& v) {
  auto it = ix.consumers.find(v);
  if (it == ix.consumers.end()) return {};
  std::set<int> s(it->second.begin(), it->second.end());
  return std::vector<int>(s.begin(), s.end());
}

// Binary node `n` with one input `v` and the other a scalar constant: its value.
bool const_operand(const Graph& g, const GraphIndex& ix, const Node* n, const std::string& v, double* c) {
  if (!n || n->inputs.size() != 2) return false;
  const std::string o = other_input(*n, v);
  return !o.empty() && constant_scalar(g, ix, o, c);
}

struct StdMatch {
  std::string x, d;
  int k = 0;      // normalized trailing axes
  int64_t n = 0;  // row size implied by the n/(n−1) factor
  double eps = 0;
  std::set<int> nodes;  // mean … Add(eps)
  int den = -1;         // the Add(σ, eps) node
};

// Matches the unbiased-std subgraph ending in Sqrt node si.
bool match_unbiased_std(const Graph& g, const GraphIndex& ix, int si, StdMatch* m) {
  const Node* sq = node_at(g, si);
  if (!is_op(sq, "Sqrt") || sq->inputs.size() != 1) return false;
  m->nodes = {si};
  // U = Div(Mul(V, n), n−1) | Mul(Div(V, n−1), n) | Mul(V, n/(n−1))
  int ui = producer_index(ix, sq->inputs[0]);
  const Node* u = node_at(g, ui);
  std::string v;
  double factor = 0;
  if (is_op(u, "Div")) {
    double c2;
    const Node* mul = node_at(g, producer_index(ix, u->inputs[0]));
    if (!constant_scalar(g, ix, u->inputs[1], &c2) || !is_op(mul, "Mul")) return false;
    double c1 = 0;
    for (const std::string& in : mul->inputs)
      if (constant_scalar(g, ix, in, &c1)) {
        v = other_input(*mul, in);
        break;
      }
    if (v.empty() || c1 != c2 + 1) return false;
    factor = c1;
    m->nodes.insert({ui, producer_index(ix, u->inputs[0])});
  } else if (is_op(u, "Mul")) {
    double r = 0;
    for (const std::string& in : u->inputs)
      if (constant_scalar(g, ix, in, &r)) {
        v = other_input(*u, in);
        break;
      }
    if (v.empty() || !(r > 1)) return false;
    factor = std::round(r / (r - 1));  // r = n/(n−1)
    if (std::fabs(factor / (factor - 1) - r) > 1e-6 * r) return false;
    m->nodes.insert(ui);
  } else {
    return false;
  }
  if (factor < 2 || factor > 1e12) return false;
  m->n = static_cast<int64_t>(factor);
  // V = ReduceMean(Mul(d, d) | Pow(d, 2), axes)
  const int vi = producer_index(ix, v);
  const Node* var = node_at(g, vi);
  if (!is_op(var, "ReduceMean")) return false;
  const auto axes = reduce_mean_axes(g, ix, *var);
  m->k = trailing_axes(axes);
  if (!m->k) return false;
  const int pi = producer_index(ix, var->inputs[0]);
  const Node* p = node_at(g, pi);
  double two = 0;
  if (is_op(p, "Mul") && p->inputs.size() == 2 && p->inputs[0] == p->inputs[1])
    m->d = p->inputs[0];
  else if (is_op(p, "Pow") && constant_scalar(g, ix, p->inputs[1], &two) && two == 2.0)
    m->d = p->inputs[0];
  else
    return false;
  // d = Sub(X, ReduceMean(X, same axes))
  const int di = producer_index(ix, m->d);
  const Node* d = node_at(g, di);
  if (!is_op(d, "Sub")) return false;
  const int mi = producer_index(ix, d->inputs[1]);
  const Node* mean = node_at(g, mi);
  if (!is_op(mean, "ReduceMean") || mean->inputs[0] != d->inputs[0] ||
      trailing_axes(reduce_mean_axes(g, ix, *mean)) != m->k)
    return false;
  m->x = d->inputs[0];
  m->nodes.insert({vi, pi, di, mi});
  // den = Add(σ, eps): σ's only reader.
  const int ai = sole_consumer(ix, sq->outputs[0]);
  if (!is_onnx_op(g, ai, "Add") || !const_operand(g, ix, node_at(g, ai), sq->outputs[0], &m->eps)) return false;
  m->den = ai;
  m->nodes.insert(ai);
  return true;
}

Node xu_node(const char* op, const Node& last, const StdMatch& m) {
  const int64_t axis = -m.k;
  Node f = normrt_node(op, last.name, {m.x}, {last.outputs[0]}, &axis, static_cast<float>(m.eps));
  f.attrs["std_mode"] = string_attr("unbiased_std_eps");
  f.attrs["row_size"] = int_attr(m.n);
  return f;
}

// One fusion per call; returns the op fused ("" if none).
std::string fuse_one(Graph& g) {
  GraphIndex ix(g);
  for (size_t si = 0; si < g.nodes.size(); ++si) {
    StdMatch m;
    if (!match_unbiased_std(g, ix, static_cast<int>(si), &m)) continue;
    const std::string den = g.nodes[static_cast<size_t>(m.den)].outputs[0];
    const std::vector<int> den_readers = readers(ix, den);
    // LayerNorm-simple: Div(d, den) is den's only reader.
    if (den_readers.size() == 1) {
      const Node* div = node_at(g, den_readers[0]);
      if (is_op(div, "Div") && div->inputs[0] == m.d && div->inputs[1] == den) {
        std::set<int> pat = m.nodes;
        pat.insert(den_readers[0]);
        if (!closed(g, ix, pat, den_readers[0])) continue;
        Node f = xu_node("LayerNormSimple", *div, m);
        replace_with_fused(g, std::vector<int>(pat.begin(), pat.end()), std::move(f));
        return "LayerNormSimple";
      }
    }
    // AdaNorm: den read by g = Div(Mul(Sub(d, ReduceMean(d)), k), den) and by Div(t, den).
    if (den_readers.size() != 2) continue;
    int gi = -1, oi = -1;
    double k = 0, C = 0;
    std::set<int> pat = m.nodes;
    for (int r : den_readers) {
      const Node* div = node_at(g, r);
      if (!is_op(div, "Div") || div->inputs[1] != den) break;
      const Node* mk = node_at(g, producer_index(ix, div->inputs[0]));
      if (is_op(mk, "Mul")) {
        // g's numerator: Mul(Sub(d, ReduceMean(d)), k)
        std::string e;
        for (const std::string& in : mk->inputs)
          if (constant_scalar(g, ix, in, &k)) e = other_input(*mk, in);
        const int ei = producer_index(ix, e);
        const Node* sub = node_at(g, ei);
        if (!is_op(sub, "Sub") || sub->inputs[0] != m.d) break;
        const int rmi = producer_index(ix, sub->inputs[1]);
        const Node* rm = node_at(g, rmi);
        if (!is_op(rm, "ReduceMean") || rm->inputs[0] != m.d || trailing_axes(reduce_mean_axes(g, ix, *rm)) != m.k)
          break;
        gi = r;
        pat.insert({r, producer_index(ix, div->inputs[0]), ei, rmi});
      } else if (is_op(mk, "Sub")) {
        oi = r;
      }
    }
    if (gi < 0 || oi < 0) continue;
    // t = Sub(d, Mul(d, g)), then Y = Mul(Div(t, den), C)
    const Node* out_div = node_at(g, oi);
    const int ti = producer_index(ix, out_div->inputs[0]);
    const Node* t = node_at(g, ti);
    const Node* dg = node_at(g, producer_index(ix, t->inputs[1]));
    const std::string gv = g.nodes[static_cast<size_t>(gi)].outputs[0];
    if (t->inputs[0] != m.d || !is_op(dg, "Mul") || other_input(*dg, m.d) != gv) continue;
    const int ci = sole_consumer(ix, out_div->outputs[0]);
    const Node* cm = node_at(g, ci);
    if (!is_onnx_op(g, ci, "Mul") || !const_operand(g, ix, cm, out_div->outputs[0], &C)) continue;
    pat.insert({oi, ti, producer_index(ix, t->inputs[1]), ci});
    if (!closed(g, ix, pat, ci)) continue;
    Node f = xu_node("AdaNorm", *cm, m);
    f.attrs["k"] = float_attr(static_cast<float>(k));
    f.attrs["C"] = float_attr(static_cast<float>(C));
    replace_with_fused(g, std::vector<int>(pat.begin(), pat.end()), std::move(f));
    return "AdaNorm";
  }
  return "";
}

}  // namespace

int fuse_xu_norm(Graph& g) {
  int fused = 0;
  while (!fuse_one(g).empty()) ++fused;
  return fused;
}

}  // namespace normrt
