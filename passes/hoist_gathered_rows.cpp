// Row-wise work moved in front of the Gathers that pick its rows. A model
// exported with its time loop unrolled (PyTorch tracing an RNN cell over
// x[:, t]) computes, for every step t,
//   f(Gather(X, t, axis=a))
// where f works on each row of its input alone (the contraction or the
// normalization is over the last axis, a is another axis). Then
//   f(Gather(X, t, axis=a)) = Gather(f(X), t, axis=a)
// and the steps' f become one f over all of X — for MatMul one GEMM of T rows
// that reads the weights once instead of T products of one row that read
// them T times. The rows f handles per group are those X holds; the rewrite
// happens only when the group's distinct indices cover at least half of axis
// a, so it never does more than twice the work it replaces.
// f here: MatMul by a constant 2-D matrix, LayerNormalization over the last
// axis with constant scale and bias (one output), and single-input
// elementwise activations. X's rank (and the length of axis a) must be known:
// a graph input's declared shape, carried through the nodes this pass makes.
#include <algorithm>
#include <map>
#include <set>

#include "optimizer.h"

namespace normrt {

namespace {

bool is_rowwise_unary(const Node& n) {
  static const std::set<std::string> ops = {"Relu", "Sigmoid", "Tanh", "Gelu", "Erf", "Exp", "Neg", "Abs"};
  return n.domain.empty() && n.inputs.size() == 1 && n.outputs.size() == 1 && ops.count(n.op_type);
}

// Whether n works row by row on inputs[0] (all its other inputs constant):
// its output row i depends on input row i only, over the last axis.
bool is_rowwise(const Graph& g, const GraphIndex& ix, const Node& n) {
  if (!n.domain.empty() || n.inputs.empty() || n.outputs.size() != 1) return false;
  if (n.op_type == "MatMul") {
    const Tensor* W = n.inputs.size() == 2 ? constant_tensor(g, ix, n.inputs[1]) : nullptr;
    return W && W->rank() == 2;
  }
  if (n.op_type == "LayerNormalization") {
    try {  // a malformed attribute means "no match"; planning reports it
      if (n.attr_int("axis", -1) != -1) return false;
    } catch (const Error&) {
      return false;
    }
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      const Tensor* t = n.inputs[i].empty() ? nullptr : constant_tensor(g, ix, n.inputs[i]);
      if (!n.inputs[i].empty() && (!t || t->rank() != 1)) return false;
    }
    return true;
  }
  return is_rowwise_unary(n) && n.attrs.empty();
}

// The constant integer indices of a Gather (scalar or any shape), or false.
bool gather_indices(const Graph& g, const GraphIndex& ix, const Node& gather, std::vector<int64_t>* out) {
  if (gather.inputs.size() != 2) return false;
  const Tensor* t = constant_tensor(g, ix, gather.inputs[1]);
  if (!t || t->numel() > 4096) return false;
  out->clear();
  for (int64_t i = 0; i < t->numel(); ++i) {
    if (t->dtype() == DType::Int64)
      out->push_back(t->data<int64_t>()[i]);
    else if (t->dtype() == DType::Int32)
      out->push_back(t->data<int32_t>()[i]);
    else
      return false;
  }
  return true;
}

struct Member {
  int node;    // the row-wise node
  int gather;  // the Gather feeding it
};

// One group rewritten: f over all of X, then one Gather per member. Returns
// false when no group qualifies.
bool hoist_one(Graph& g, std::map<std::string, Shape>& shapes) {
  GraphIndex ix(g);
  std::map<std::string, std::vector<Member>> groups;              // key → members, in node order
  std::map<std::string, std::pair<std::string, int64_t>> source;  // key → (X, axis)
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!is_rowwise(g, ix, n)) continue;
    auto p = ix.producer.find(n.inputs[0]);
    if (p == ix.producer.end() || !is_onnx_op(g, p->second, "Gather")) continue;
    const Node& gather = g.nodes[static_cast<size_t>(p->second)];
    auto s = shapes.find(gather.inputs[0]);
    if (s == shapes.end() || gather.outputs.size() != 1) continue;
    const int64_t rank = static_cast<int64_t>(s->second.size());
    int64_t axis = 0;
    try {
      axis = gather.attr_int("axis", 0);
    } catch (const Error&) {
      continue;
    }
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank - 1) continue;  // the last axis is the one f works along
    std::string key = gather.inputs[0] + "|" + std::to_string(axis) + "|" + n.op_type;
    for (size_t k = 1; k < n.inputs.size(); ++k) key += "|" + n.inputs[k];
    for (auto& [name, a] : n.attrs) key += "|" + name + "=" + std::to_string(a.i) + "/" + std::to_string(a.f);
    groups[key].push_back({static_cast<int>(i), p->second});
    source[key] = {gather.inputs[0], axis};
  }
  for (auto& [key, members] : groups) {
    const auto& [X, axis] = source[key];
    const Shape& xs = shapes.at(X);
    const int64_t length = xs[static_cast<size_t>(axis)];
    if (length <= 0 || members.size() < 2) continue;
    std::set<int64_t> distinct;
    bool ok = true;
    for (const Member& m : members) {
      std::vector<int64_t> idx;
      if (!gather_indices(g, ix, g.nodes[static_cast<size_t>(m.gather)], &idx)) ok = false;
      for (int64_t v : idx) distinct.insert(v < 0 ? v + length : v);
    }
    if (!ok || static_cast<int64_t>(distinct.size()) * 2 < length) continue;
    // f over all of X, placed where the first member was.
    const Node& first = g.nodes[static_cast<size_t>(members[0].node)];
    Node whole = first;
    whole.name = first.name + "/all_rows";
    whole.inputs[0] = X;
    whole.outputs = {whole.name + "_output"};
    Shape ys = xs;
    if (first.op_type == "MatMul") ys.back() = constant_tensor(g, ix, first.inputs[1])->dim(1);
    shapes[whole.outputs[0]] = ys;
    for (const Member& m : members) {
      Node& n = g.nodes[static_cast<size_t>(m.node)];
      const Node& gather = g.nodes[static_cast<size_t>(m.gather)];
      Node pick;
      pick.name = n.name + "/rows";
      pick.op_type = "Gather";
      pick.opset = gather.opset;
      pick.inputs = {whole.outputs[0], gather.inputs[1]};
      pick.outputs = n.outputs;
      pick.attrs["axis"] = int_attr(axis);
      n = std::move(pick);
    }
    g.nodes.insert(g.nodes.begin() + members[0].node, std::move(whole));
    return true;
  }
  return false;
}

}  // namespace

int hoist_gathered_rows(Graph& g) {
  std::map<std::string, Shape> shapes;  // values of known shape: the declared inputs
  for (const ValueMeta& m : g.inputs)
    if (m.has_shape && std::all_of(m.shape.begin(), m.shape.end(), [](int64_t d) { return d >= 0; }))
      shapes[m.name] = m.shape;
  int hoisted = 0;
  while (hoisted < 1024 && hoist_one(g, shapes)) ++hoisted;
  return hoisted;
}

}  // namespace normrt
