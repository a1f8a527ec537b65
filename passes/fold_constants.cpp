// Constant folding: every node whose inputs are all known before the first
// run becomes an initializer. Known means computed only from initializers and
// Constant nodes — and, when every graph input has a fully static shape, also
// from input shapes (Shape → Gather → Concat → Reshape subgraphs, the element
// counts behind an unbiased std). The values come from the planner itself:
// the graph (restricted to the constant part when shapes are dynamic) is
// planned once, and every value the plan knows is taken from it. So folding
// uses exactly the kernels a run would; nodes after an output shape known only
// at run time (NonZero, Loop…) are left alone. Values over 64 MiB and graph outputs
// are left alone; if planning fails, nothing is folded (the session reports
// the error when it plans for real).
#include <set>

#include "../plan/plan.h"
#include "optimizer.h"

namespace normrt {

namespace {
constexpr uint64_t kMaxFoldedBytes = uint64_t{64} << 20;
}  // namespace

int fold_constants(Graph& g, const KernelSet& kernels) {
  bool static_inputs = true;
  for (const ValueMeta& in : g.inputs) static_inputs = static_inputs && fully_static(in);
  // The part of the graph to plan: all of it when input shapes are static,
  // else only the nodes computed from constants alone.
  Graph part;
  part.source = g.source;
  part.opsets = g.opsets;
  part.initializers = g.initializers;
  std::set<std::string> known;
  for (const auto& [name, t] : g.initializers) known.insert(name);
  if (static_inputs) {
    part.inputs = g.inputs;
    part.nodes = g.nodes;
  } else {
    for (const Node& n : g.nodes) {
      bool all = true;
      for (const std::string& in : n.inputs) all = all && (in.empty() || known.count(in));
      for (const std::string& in : n.implicit_inputs) all = all && known.count(in);
      if (!all) continue;
      part.nodes.push_back(n);
      for (const std::string& o : n.outputs)
        if (!o.empty()) known.insert(o);
    }
  }
  if (part.nodes.empty()) return 0;
  // Every node output is a planning-visible value; make them all outputs so none is pruned.
  for (const Node& n : part.nodes)
    for (const std::string& o : n.outputs)
      if (!o.empty()) {
        ValueMeta meta;
        meta.name = o;
        part.outputs.push_back(meta);
      }
  std::shared_ptr<const Plan> plan;
  ValueIndex index;
  try {
    index = index_values(part);
    std::vector<ValueDesc> inputs;
    for (const ValueMeta& in : part.inputs) inputs.push_back(ValueDesc{true, planning_dtype(in), in.shape, nullptr});
    PlanOptions partial;
    partial.partial = true;  // what follows a data-dependent shape is left to run time
    plan = make_plan(part, index, inputs, kernels, partial);
  } catch (const Error&) {
    return 0;
  }
  GraphIndex ix(g);
  std::vector<char> dead(g.nodes.size(), 0);
  int folded = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.outputs.empty()) continue;
    bool all_known = true;
    for (const std::string& o : n.outputs) {
      if (o.empty()) continue;
      auto it = index.id.find(o);
      if (it == index.id.end() || ix.is_graph_output.count(o)) {
        all_known = false;
        break;
      }
      const Tensor& t = plan->constants[static_cast<size_t>(it->second)];
      if (!t.defined() || t.nbytes() > kMaxFoldedBytes) all_known = false;
    }
    if (!all_known) continue;
    if (n.op_type == "Constant" && n.domain.empty()) continue;  // already a constant; CSE merges duplicates
    for (const std::string& o : n.outputs)
      if (!o.empty()) g.initializers[o] = plan->constants[static_cast<size_t>(index.id.at(o))];
    dead[i] = 1;
    ++folded;
  }
  if (folded) erase_nodes(g, dead);
  return folded;
}

}  // namespace normrt
