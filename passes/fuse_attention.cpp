// Scaled-dot-product attention as exporters write it (BERT, GPT, ViT):
//   MatMul(Transpose(Q, 0213), Transpose(K, 0231))
//     [→ Div(·, c) | Mul(·, c)]  [→ Add(·, mask) | Where(cond, fill, ·) | Where(cond, ·, fill)]
//     → Softmax(last axis) → MatMul(·, Transpose(V, 0213)) → Transpose(0213)
// → ai.normrt Attention(Q, K, V [, mask | cond]; scale = 1/c | c, mask_mode,
// fill, fill_where) (ops/attention.cpp), reading Q, K, V [B, S, H, d] in
// place. c and fill are scalar constants. The Transposes of Q, K, V stay when
// something else reads them (a KV-cache output); every other intermediate
// must have no reader outside the pattern.
#include <cmath>
#include <limits>

#include "optimizer.h"

namespace normrt {

namespace {

int producer(const GraphIndex& ix, const std::string& v) {
  auto it = ix.producer.find(v);
  return it == ix.producer.end() ? -1 : it->second;
}

// Node i is Transpose with exactly this perm.
bool is_transpose(const Graph& g, int i, std::initializer_list<int64_t> perm) {
  if (!is_onnx_op(g, i, "Transpose")) return false;
  const Node& n = g.nodes[static_cast<size_t>(i)];
  return n.inputs.size() == 1 && n.attr_ints("perm") == std::vector<int64_t>(perm);
}

// A scalar constant of rank ≤ 4 (a higher one would broadcast the scores to more dims).
bool scalar_constant(const Graph& g, const GraphIndex& ix, const std::string& v, double* out) {
  if (!constant_scalar(g, ix, v, out)) return false;
  const Tensor* t = constant_tensor(g, ix, v);
  return !t || t->rank() <= 4;
}

// The scores chain ending at value v (read only by node `reader`): [Div | Mul by a
// scalar constant] ← MatMul(Transpose(Q, 0213), Transpose(K, 0231)).
struct Scores {
  float scale = 1.f;
  std::vector<int> nodes;  // the scale node (if any) and the MatMul
  int tq = -1, tk = -1;
};

bool scores_chain(const Graph& g, const GraphIndex& ix, std::string v, int reader, Scores* s) {
  int i = producer(ix, v);
  if (sole_consumer(ix, v) != reader) return false;
  if ((is_onnx_op(g, i, "Div") || is_onnx_op(g, i, "Mul")) && g.nodes[i].inputs.size() == 2) {
    const Node& n = g.nodes[i];
    double c = 0;
    int k = -1;
    if (scalar_constant(g, ix, n.inputs[1], &c))
      k = 0;
    else if (n.op_type == "Mul" && scalar_constant(g, ix, n.inputs[0], &c))
      k = 1;
    if (k < 0 || c == 0.0 || !std::isfinite(c)) return false;
    s->scale = static_cast<float>(n.op_type == "Div" ? 1.0 / c : c);
    s->nodes.push_back(i);
    v = n.inputs[k];
    if (sole_consumer(ix, v) != i) return false;
    i = producer(ix, v);
  }
  if (!is_onnx_op(g, i, "MatMul") || g.nodes[i].inputs.size() != 2) return false;
  s->nodes.push_back(i);
  s->tq = producer(ix, g.nodes[i].inputs[0]);
  s->tk = producer(ix, g.nodes[i].inputs[1]);
  return is_transpose(g, s->tq, {0, 2, 1, 3}) && is_transpose(g, s->tk, {0, 2, 3, 1});
}

bool fuse_one(Graph& g) {
  GraphIndex ix(g);
  for (size_t si = 0; si < g.nodes.size(); ++si) {
    const Node& sm = g.nodes[si];
    if (!is_onnx_op(g, static_cast<int>(si), "Softmax") || sm.inputs.size() != 1 || sm.outputs.size() != 1) continue;
    // Rank 4 (from the 4-perm Transposes): axis 3 is the last axis at every opset.
    const int64_t axis = sm.attr_int("axis", sm.opset >= 13 ? -1 : 1);
    if (axis != -1 && axis != 3) continue;
    std::vector<int> pat{static_cast<int>(si)};
    // Softmax's input back to the scores: [mask] ← [scale] ← MatMul.
    std::string mask, mode = "none";
    float fill = 0.f;
    bool fill_where = true;
    Scores sc;
    const int i = producer(ix, sm.inputs[0]);
    if (scores_chain(g, ix, sm.inputs[0], static_cast<int>(si), &sc)) {
    } else if (is_onnx_op(g, i, "Add") && g.nodes[i].inputs.size() == 2 && sole_consumer(ix, sm.inputs[0]) == int(si)) {
      const Node& add = g.nodes[i];
      for (int k = 0; k < 2 && mask.empty(); ++k)
        if (add.inputs[0] != add.inputs[1] && scores_chain(g, ix, add.inputs[k], i, &(sc = Scores{})))
          mask = add.inputs[1 - k];
      if (mask.empty()) continue;
      mode = "add";
      pat.push_back(i);
    } else if (is_onnx_op(g, i, "Where") && g.nodes[i].inputs.size() == 3 &&
               sole_consumer(ix, sm.inputs[0]) == int(si)) {
      const Node& w = g.nodes[i];
      double f = 0;
      for (int k = 1; k <= 2 && mask.empty(); ++k)
        if (scalar_constant(g, ix, w.inputs[k], &f) && w.inputs[3 - k] != w.inputs[0] &&
            scores_chain(g, ix, w.inputs[3 - k], i, &(sc = Scores{}))) {
          fill_where = k == 1;  // Where(c, fill, scores): the fill where c is true
          mask = w.inputs[0];
        }
      if (mask.empty()) continue;
      fill = static_cast<float>(f);
      mode = "where";
      pat.push_back(i);
    } else {
      continue;
    }
    // Softmax → MatMul(P, Transpose(V, 0213)) → Transpose(0213).
    const int pv = sole_consumer(ix, sm.outputs[0]);
    if (!is_onnx_op(g, pv, "MatMul") || g.nodes[pv].inputs.size() != 2 || g.nodes[pv].inputs[0] != sm.outputs[0])
      continue;
    const int tv = producer(ix, g.nodes[pv].inputs[1]);
    if (!is_transpose(g, tv, {0, 2, 1, 3})) continue;
    const int to = sole_consumer(ix, g.nodes[pv].outputs[0]);
    if (!is_transpose(g, to, {0, 2, 1, 3})) continue;
    pat.insert(pat.end(), sc.nodes.begin(), sc.nodes.end());
    pat.insert(pat.end(), {pv, to});
    // The head transposes go with the pattern when nothing else reads them.
    for (int t : {sc.tq, sc.tk, tv})
      if (sole_consumer(ix, g.nodes[t].outputs[0]) >= 0) pat.push_back(t);
    const Node& last = g.nodes[static_cast<size_t>(to)];
    std::vector<std::string> inputs{g.nodes[sc.tq].inputs[0], g.nodes[sc.tk].inputs[0], g.nodes[tv].inputs[0]};
    if (!mask.empty()) inputs.push_back(mask);
    Node f = normrt_node("Attention", last.name, inputs, {last.outputs[0]}, nullptr, 0.f);
    f.attrs.erase("epsilon");
    f.attrs["scale"] = float_attr(sc.scale);
    f.attrs["mask_mode"] = string_attr(mode);
    if (mode == "where") {
      f.attrs["fill"] = float_attr(fill);
      f.attrs["fill_where"] = int_attr(fill_where ? 1 : 0);
    }
    replace_with_fused(g, pat, std::move(f));
    return true;
  }
  return false;
}

}  // namespace

int fuse_attention(Graph& g) {
  int fused = 0;
  while (fuse_one(g)) ++fused;
  return fused;
}

}  // namespace normrt
