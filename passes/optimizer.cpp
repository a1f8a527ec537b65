// The pass pipeline (order documented in optimizer.h), the cleanup passes and
// the matching helpers the fusion passes share.
#include "optimizer.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace normrt {

GraphIndex::GraphIndex(const Graph& g) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (auto& o : g.nodes[i].outputs)
      if (!o.empty()) producer[o] = static_cast<int>(i);
    for (auto& in : g.nodes[i].inputs)
      if (!in.empty()) consumers[in].push_back(static_cast<int>(i));
    // A value a subgraph reads is a use of it by the subgraph's node: no
    // fusion takes it away (nothing is fused across a subgraph boundary).
    for (auto& in : g.nodes[i].implicit_inputs) consumers[in].push_back(static_cast<int>(i));
  }
  for (auto& o : g.outputs) is_graph_output[o.name] = true;
}

const Node* GraphIndex::producer_of(const Graph& g, const std::string& value, const char* op_type) const {
  auto it = producer.find(value);
  if (it == producer.end()) return nullptr;
  const Node& n = g.nodes[static_cast<size_t>(it->second)];
  return n.op_type == op_type && n.domain.empty() ? &n : nullptr;
}

int GraphIndex::uses(const std::string& value) const {
  auto it = consumers.find(value);
  int n = it == consumers.end() ? 0 : static_cast<int>(it->second.size());
  return n + (is_graph_output.count(value) ? 1 : 0);
}

const Tensor* constant_tensor(const Graph& g, const GraphIndex& ix, const std::string& value) {
  auto it = g.initializers.find(value);
  if (it != g.initializers.end()) return &it->second;
  const Node* c = ix.producer_of(g, value, "Constant");
  if (c && c->attrs.size() == 1 && c->attrs.begin()->first == "value" &&
      c->attrs.begin()->second.kind == Attribute::Kind::Tensor)
    return &c->attrs.begin()->second.t;
  return nullptr;
}

bool constant_scalar(const Graph& g, const GraphIndex& ix, const std::string& value, double* out) {
  const Node* c = ix.producer_of(g, value, "Constant");
  if (c && c->has_attr("value_float")) {
    if (c->attrs.at("value_float").kind != Attribute::Kind::Float) return false;
    *out = c->attrs.at("value_float").f;
    return true;
  }
  const Tensor* t = constant_tensor(g, ix, value);
  if (!t || t->numel() != 1) return false;
  if (t->dtype() == DType::Float32)
    *out = t->data<float>()[0];
  else if (t->dtype() == DType::Float64)
    *out = t->data<double>()[0];
  else if (t->dtype() == DType::Float16)
    *out = half_to_float(t->data<uint16_t>()[0]);
  else if (t->dtype() == DType::BFloat16)
    *out = bfloat16_to_float(t->data<uint16_t>()[0]);
  else
    return false;
  return true;
}

std::vector<int64_t> reduce_mean_axes(const Graph& g, const GraphIndex& ix, const Node& n) {
  try {  // a malformed attribute means "no match"; planning reports it
    if (n.attr_int("keepdims", 1) != 1) return {};
    if (n.has_attr("axes")) return n.attr_ints("axes");
  } catch (const Error&) {
    return {};
  }
  if (n.inputs.size() > 1 && !n.inputs[1].empty()) {
    const Tensor* t = constant_tensor(g, ix, n.inputs[1]);
    if (t && t->dtype() == DType::Int64)
      return std::vector<int64_t>(t->data<int64_t>(), t->data<int64_t>() + t->numel());
  }
  return {};
}

int trailing_axes(std::vector<int64_t> axes) {
  if (axes.empty()) return 0;
  std::sort(axes.begin(), axes.end());
  const int k = static_cast<int>(axes.size());
  for (int i = 0; i < k; ++i)
    if (axes[static_cast<size_t>(i)] != -k + i) return 0;
  return k;
}

int sole_consumer(const GraphIndex& ix, const std::string& value) {
  if (ix.uses(value) != 1 || !ix.consumers.count(value)) return -1;
  return ix.consumers.at(value)[0];
}

bool is_onnx_op(const Graph& g, int i, const char* op) {
  return i >= 0 && g.nodes[static_cast<size_t>(i)].domain.empty() && g.nodes[static_cast<size_t>(i)].op_type == op;
}

std::string other_input(const Node& n, const std::string& value) {
  if (n.inputs.size() != 2) return "";
  if (n.inputs[0] == value) return n.inputs[1];
  if (n.inputs[1] == value) return n.inputs[0];
  return "";
}

Attribute float_attr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::Float;
  a.f = v;
  return a;
}

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
  return a;
}

Attribute string_attr(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::String;
  a.s = std::move(v);
  return a;
}

Node normrt_node(const std::string& op_type, const std::string& name, std::vector<std::string> inputs,
                 std::vector<std::string> outputs, const int64_t* axis, float epsilon) {
  Node f;
  f.domain = "ai.normrt";
  f.opset = 1;
  f.op_type = op_type;
  f.name = name + "/fused_" + op_type;
  f.inputs = std::move(inputs);
  f.outputs = std::move(outputs);
  if (axis) f.attrs["axis"] = int_attr(*axis);
  f.attrs["epsilon"] = float_attr(epsilon);
  return f;
}

void replace_with_fused(Graph& g, const std::vector<int>& pattern, Node fused) {
  std::vector<char> dead(g.nodes.size(), 0);
  for (int n : pattern) dead[static_cast<size_t>(n)] = 1;
  const size_t at = static_cast<size_t>(*std::max_element(pattern.begin(), pattern.end()));
  dead[at] = 0;
  g.nodes[at] = std::move(fused);
  erase_nodes(g, dead);
  if (g.opset_for("ai.normrt") < 0) g.opsets.emplace_back("ai.normrt", 1);
}

void erase_nodes(Graph& g, const std::vector<char>& dead) {
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!dead[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}

// Values that subgraphs read by name: passes that rename values keep them.
static std::set<std::string> read_by_subgraphs(const Graph& g) {
  std::set<std::string> r;
  for (const Node& n : g.nodes) r.insert(n.implicit_inputs.begin(), n.implicit_inputs.end());
  return r;
}

namespace {
// A Dropout that passes its input through: inference (training_mode absent or
// a constant false), or training mode with a constant ratio of 0 (scale 1,
// every element kept). Its mask (all true) must be unused.
bool dropout_is_identity(const Graph& g, const GraphIndex& ix, const Node& n) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty() && ix.uses(n.outputs[1]) != 0) return false;
  if (n.inputs.size() < 3 || n.inputs[2].empty()) return true;
  const Tensor* t = constant_tensor(g, ix, n.inputs[2]);
  if (!t || t->dtype() != DType::Bool || t->numel() != 1) return false;
  if (!t->data<uint8_t>()[0]) return true;
  double ratio = 0.5;  // the default when absent
  if (n.inputs.size() > 1 && !n.inputs[1].empty() && !constant_scalar(g, ix, n.inputs[1], &ratio)) return false;
  return ratio == 0.0;
}

// A Pad whose pads are all zero, in any mode the op implements.
bool pad_is_identity(const Graph& g, const GraphIndex& ix, const Node& n) {
  try {  // a malformed node is left for planning to report
    const std::string mode = n.attr_string("mode", "constant");
    if (mode != "constant" && mode != "reflect" && mode != "edge" && !(mode == "wrap" && g.opset_for("") >= 19))
      return false;
  } catch (const Error&) {
    return false;
  }
  const std::vector<int64_t> pads = constant_pads(g, ix, n);
  return !pads.empty() && std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
}
}  // namespace

std::vector<int64_t> constant_pads(const Graph& g, const GraphIndex& ix, const Node& pad) {
  std::vector<int64_t> pads;
  try {  // a malformed node is left for planning to report
    if (g.opset_for("") < 11) {
      if (pad.inputs.size() != 1) return {};
      pads = pad.attr_ints("pads");
    } else {
      if (pad.inputs.size() < 2 || pad.inputs.size() > 4 || pad.inputs[1].empty()) return {};
      const Tensor* p = constant_tensor(g, ix, pad.inputs[1]);
      if (!p || p->dtype() != DType::Int64 || p->shape().size() != 1) return {};
      pads.assign(p->data<int64_t>(), p->data<int64_t>() + p->numel());
    }
  } catch (const Error&) {
    return {};
  }
  if (pads.size() % 2) return {};
  return pads;
}

// Identity, Dropout that passes its input through (dropout_is_identity) and
// Pad by zero: readers of the output read the input instead. Kept when the
// output is a graph output or read by a subgraph.
int remove_identities(Graph& g) {
  GraphIndex ix(g);
  const std::set<std::string> pinned = read_by_subgraphs(g);
  std::map<std::string, std::string> rename;
  std::vector<char> dead(g.nodes.size(), 0);
  int removed = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!n.domain.empty() || n.inputs.empty() || n.outputs.empty()) continue;
    const bool identity = n.op_type == "Identity" || (n.op_type == "Dropout" && dropout_is_identity(g, ix, n)) ||
                          (n.op_type == "Pad" && pad_is_identity(g, ix, n));
    if (!identity || n.inputs[0].empty()) continue;
    if (ix.is_graph_output.count(n.outputs[0]) || pinned.count(n.outputs[0])) continue;
    std::string src = n.inputs[0];
    while (rename.count(src)) src = rename[src];
    rename[n.outputs[0]] = src;
    dead[i] = 1;
    ++removed;
  }
  if (!removed) return 0;
  for (auto& n : g.nodes)
    for (auto& in : n.inputs)
      while (rename.count(in)) in = rename[in];
  erase_nodes(g, dead);
  return removed;
}

// A node's identity for common-subexpression merging: op, inputs, attributes.
static std::string node_key(const Node& n) {
  std::string k = n.domain + "::" + n.op_type + "(";
  for (auto& in : n.inputs) k += in + ",";
  k += ")";
  for (auto& [name, a] : n.attrs) {
    k += name + "=" + std::to_string(static_cast<int>(a.kind)) + ":";
    char buf[40];
    switch (a.kind) {
      case Attribute::Kind::Float:
        std::snprintf(buf, sizeof buf, "%a", static_cast<double>(a.f)), k += buf;
        break;
      case Attribute::Kind::Int:
        k += std::to_string(a.i);
        break;
      case Attribute::Kind::String:
        k += a.s;
        break;
      case Attribute::Kind::Tensor:
        k += std::to_string(static_cast<int>(a.t.dtype())) + shape_str(a.t.shape());
        if (a.t.dtype() == DType::String)  // the strings, not their objects' bytes
          for (const std::string& e : a.t.span<std::string>()) k += std::to_string(e.size()) + ":" + e;
        else
          k.append(static_cast<const char*>(a.t.raw()), a.t.nbytes());
        break;
      case Attribute::Kind::Floats:
        for (float f : a.floats) std::snprintf(buf, sizeof buf, "%a,", static_cast<double>(f)), k += buf;
        break;
      case Attribute::Kind::Ints:
        for (int64_t i : a.ints) k += std::to_string(i) + ",";
        break;
      case Attribute::Kind::Strings:
        for (auto& x : a.strings) k += x + ",";
        break;
      case Attribute::Kind::Graph:
      case Attribute::Kind::Graphs:
      case Attribute::Kind::Unsupported:
        return "";  // never merged
    }
    k += ";";
  }
  return k;
}

// Common-subexpression merging: a node identical to an earlier one (same op,
// inputs and attributes — exporters repeat Shape and Constant subgraphs) is
// dropped and its readers read the earlier node's outputs. Random ops and
// nodes producing graph outputs are kept.
int merge_duplicates(Graph& g) {
  GraphIndex ix(g);
  const std::set<std::string> pinned = read_by_subgraphs(g);
  std::map<std::string, size_t> seen;
  std::map<std::string, std::string> rename;
  std::vector<char> dead(g.nodes.size(), 0);
  int merged = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    for (auto& in : n.inputs)
      if (rename.count(in)) in = rename[in];
    if (n.op_type.rfind("Random", 0) == 0 || n.op_type == "Multinomial" || n.op_type == "Bernoulli") continue;
    bool feeds_output = false;
    for (auto& o : n.outputs) feeds_output = feeds_output || ix.is_graph_output.count(o) || pinned.count(o);
    const std::string key = node_key(n);
    if (key.empty() || feeds_output) continue;
    auto [it, fresh] = seen.emplace(key, i);
    if (fresh) continue;
    const Node& first = g.nodes[it->second];
    if (first.outputs.size() != n.outputs.size()) continue;
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (!n.outputs[o].empty()) rename[n.outputs[o]] = first.outputs[o];
    dead[i] = 1;
    ++merged;
  }
  if (merged) erase_nodes(g, dead);
  return merged;
}

// Nodes none of whose outputs is read (transitively) by a graph output.
int remove_dead_nodes(Graph& g) {
  std::set<std::string> live;
  for (auto& o : g.outputs) live.insert(o.name);
  std::vector<char> dead(g.nodes.size(), 1);
  for (size_t i = g.nodes.size(); i-- > 0;) {  // nodes are topologically sorted
    const Node& n = g.nodes[i];
    for (auto& o : n.outputs)
      if (!o.empty() && live.count(o)) dead[i] = 0;
    if (!dead[i]) {
      for (auto& in : n.inputs)
        if (!in.empty()) live.insert(in);
      live.insert(n.implicit_inputs.begin(), n.implicit_inputs.end());
    }
  }
  int removed = 0;
  for (char d : dead) removed += d;
  if (removed) erase_nodes(g, dead);
  return removed;
}

namespace {
// Whether every node of an op the passes match has the inputs and output they
// read (inputs[0], inputs[1], outputs[0], …). A malformed model (a Pow with
// one input) is left unoptimized, so the planner reports it by node name.
bool passes_can_read(const Graph& g) {
  static const std::map<std::string, size_t> min_inputs = {{"Add", 2},
                                                           {"Sub", 2},
                                                           {"Mul", 2},
                                                           {"Div", 2},
                                                           {"Pow", 2},
                                                           {"MatMul", 2},
                                                           {"Gemm", 2},
                                                           {"Conv", 2},
                                                           {"ConvTranspose", 2},
                                                           {"LayerNormalization", 2},
                                                           {"BatchNormalization", 5},
                                                           {"Where", 3},
                                                           {"ReduceMean", 1},
                                                           {"Sqrt", 1},
                                                           {"Reciprocal", 1},
                                                           {"Erf", 1},
                                                           {"Tanh", 1},
                                                           {"Relu", 1},
                                                           {"Clip", 1},
                                                           {"Cast", 1},
                                                           {"Identity", 1},
                                                           {"Dropout", 1},
                                                           {"Shape", 1}};
  for (const Node& n : g.nodes) {
    if (!n.domain.empty() && n.domain != "ai.onnx") continue;
    const auto it = min_inputs.find(n.op_type);
    if (it == min_inputs.end()) continue;
    if (n.inputs.size() < it->second || n.outputs.empty()) return false;
    for (size_t i = 0; i < it->second; ++i)
      if (n.inputs[i].empty() && !(n.op_type == "Clip" || n.op_type == "Dropout")) return false;
  }
  return true;
}
}  // namespace

void optimize_graph(Graph& g, OptimizationLevel level, const KernelSet& kernels, OptimizeStats* stats) {
  auto note = [&](const char* name, int n) {
    if (stats && n) stats->fired[name] += n;
  };
  if (level == OptimizationLevel::None || !passes_can_read(g)) return;
  note("identity-removal", remove_identities(g));
  note("constant-folding", fold_constants(g, kernels));
  note("identity-removal", remove_identities(g));  // Pads whose pads folding computed
  note("common-subexpression-merging", merge_duplicates(g));
  note("dead-node-removal", remove_dead_nodes(g));
  if (level == OptimizationLevel::All) {
    note("layer-norm-fusion", fuse_layer_norm(g));
    note("rms-norm-fusion", fuse_rms_norm(g));
    note("xu-norm-fusion", fuse_xu_norm(g));
    note("row-hoisting", hoist_gathered_rows(g));
    note("pad-fusion", fuse_pad(g));
    note("batch-norm-folding", fold_batch_norm(g));
    note("batch-norm-activation-fusion", fuse_batch_norm_activation(g));
    note("conv-residual-fusion", fuse_conv_residual(g));
    note("conv-activation-fusion", fuse_conv_activation(g));
    note("skip-layer-norm-fusion", fuse_skip_norm(g));
    note("gelu-fusion", fuse_gelu(g));
    note("swish-fusion", fuse_swish(g));
    note("matmul-bias-fusion", fuse_matmul_bias(g));
    note("attention-fusion", fuse_attention(g));
    note("dynamic-quant-matmul-fusion", fuse_dynamic_quant_matmul(g));
    note("sibling-matmul-merging", merge_sibling_matmuls(g));
    note("dead-node-removal", remove_dead_nodes(g));
  }
}

}  // namespace normrt
