// Planner: walks the sorted graph once with concrete input shapes, asks each
// op for its output shapes and kernel, and folds every node whose inputs are
// all known (constants, shapes of inputs) by running its kernel right away.
// An If whose condition is known then is replaced by its branch, planned in
// line (its values in the branch's own namespace of ids, its outputs computed
// straight into the If's), so the plan keeps one static memory plan.
#include "plan.h"

#include <algorithm>
#include <set>

#include "../ops/tensor_limit.h"
#include "dynamic_executor.h"

namespace normrt {

namespace {

bool is_if(const Node& n) { return n.domain.empty() && n.op_type == "If"; }

// Ids for the values an If branch makes (its initializers and node outputs),
// recursively through the Ifs inside it.
void index_branches(const Node& node, ValueIndex& ix, const std::string& prefix) {
  if (!is_if(node)) return;
  for (const char* key : {"then_branch", "else_branch"}) {
    auto it = node.attrs.find(key);
    if (it == node.attrs.end() || it->second.kind != Attribute::Kind::Graph || !it->second.g) continue;
    const Graph* b = it->second.g.get();
    const std::string p = prefix + node.name + "/" + key + "/";
    auto add = [&](const std::string& n) {
      if (n.empty() || ix.scoped.count({b, n})) return;
      ix.scoped.emplace(std::make_pair(b, n), static_cast<int>(ix.name.size()));
      ix.name.push_back(p + n);
    };
    for (auto& [n, t] : b->initializers) add(n);
    for (const Node& inner : b->nodes)
      for (auto& o : inner.outputs) add(o);
    for (const Node& inner : b->nodes) index_branches(inner, ix, p);
  }
}

}  // namespace

ValueIndex index_values(const Graph& g) {
  ValueIndex ix;
  auto add = [&](const std::string& n) {
    if (n.empty() || ix.id.count(n)) return;
    ix.id.emplace(n, static_cast<int>(ix.name.size()));
    ix.name.push_back(n);
  };
  for (auto& in : g.inputs) add(in.name);
  for (auto& n : g.outer_reads) add(n);
  for (auto& [n, t] : g.initializers) add(n);
  for (auto& node : g.nodes) {
    for (auto& n : node.inputs) add(n);
    for (auto& n : node.implicit_inputs) add(n);
    for (auto& n : node.outputs) add(n);
  }
  for (auto& o : g.outputs) add(o.name);
  for (auto& node : g.nodes) index_branches(node, ix, "");
  return ix;
}

namespace {

// "Conv (opset 17, inputs float64, float64): node 'c' (Conv): input 0 has dtype float64; ..."
std::string describe_refusal(const Node& node, const std::vector<ValueDesc>& in, const Error& e) {
  std::string dtypes;
  for (const ValueDesc& d : in)
    if (d.present) dtypes += std::string(dtypes.empty() ? "" : ", ") + dtype_name(d.dtype);
  return op_key(node.domain, node.op_type) + " (opset " + std::to_string(node.opset) + ", inputs " + dtypes +
         "): " + e.what();
}

// Where names resolve: the graph being planned, or an inlined branch inside it.
struct Scope {
  const Graph* graph;
  const Scope* parent;                              // null for the planned graph itself
  std::unordered_map<std::string, int> to_outputs;  // branch outputs computed straight into the If's
};

struct Planner {
  const ValueIndex& ix;
  const KernelSet& kernels;
  const PlanOptions& options;
  const std::string& source;
  Plan& plan;
  std::vector<ValueDesc> desc;
  std::vector<int> producer_step;
  std::vector<char> poisoned;   // partial plans: values known only at run time
  std::vector<Tensor> scratch;  // for running folded nodes
  SubgraphPlannerImpl subgraphs;
  DerivedConstants derived;  // packed weights shared by the nodes reading one constant

  Planner(const ValueIndex& i, const KernelSet& k, const PlanOptions& o, const std::string& src, Plan& p)
      : ix(i), kernels(k), options(o), source(src), plan(p), subgraphs(k) {
    const size_t nv = ix.name.size();
    desc.resize(nv);
    producer_step.assign(nv, -1);
    poisoned.assign(nv, 0);
    scratch.resize(nv);
  }

  int id(const Scope& s, const std::string& name) const {
    if (name.empty()) return -1;
    for (const Scope* sc = &s; sc; sc = sc->parent) {
      if (!sc->parent) return ix.get(name);
      auto r = sc->to_outputs.find(name);
      if (r != sc->to_outputs.end()) return r->second;
      auto it = ix.scoped.find({sc->graph, name});
      if (it != ix.scoped.end()) return it->second;
    }
    return ix.get(name);
  }

  [[noreturn]] void fail(const Node& node, const std::string& msg) const {
    throw Error(ErrorCode::InvalidModel, source + ": " + node.where() + ": " + msg);
  }

  void set_constant(int id, Tensor t) {
    plan.constants[static_cast<size_t>(id)] = std::move(t);
    const Tensor& c = plan.constants[static_cast<size_t>(id)];
    desc[static_cast<size_t>(id)] = ValueDesc{true, c.dtype(), c.shape(), &c};
  }

  void plan_nodes(const Graph& g, const Scope& s) {
    for (const Node& node : g.nodes) plan_node(node, s);
  }

  // Partial plans: the node's outputs (and so whatever reads them) are left out.
  void leave_out(const Node& node, const Scope& s) {
    for (auto& n : node.outputs)
      if (!n.empty()) poisoned[static_cast<size_t>(id(s, n))] = 1;
  }

  // Folds the step (all inputs known) or schedules it.
  void add_step(PlanStep step, bool all_known, const Scope& s) {
    if (all_known) {  // constant folding: run now, keep the results
      try {
        run_plan_step(step, plan.constants, scratch);
      } catch (const Error&) {
        if (!options.refused) throw;
        return leave_out(*step.node, s);
      }
      for (int id : step.out)
        if (id >= 0) set_constant(id, std::move(scratch[static_cast<size_t>(id)]));
      return;
    }
    int step_index = static_cast<int>(plan.steps.size());
    for (size_t i = 0; i < step.out.size(); ++i) {
      int id = step.out[i];
      if (id < 0) continue;
      desc[static_cast<size_t>(id)] = ValueDesc{true, step.out_dtype[i], step.out_shape[i], nullptr};
      producer_step[static_cast<size_t>(id)] = step_index;
    }
    std::vector<int> preds;
    for (int id : step.in) {
      if (id < 0 || plan.constants[static_cast<size_t>(id)].defined()) continue;
      plan.reads[static_cast<size_t>(id)]++;
      int p = producer_step[static_cast<size_t>(id)];
      if (p >= 0 && std::find(preds.begin(), preds.end(), p) == preds.end()) preds.push_back(p);
    }
    step.num_predecessors = static_cast<int>(preds.size());
    for (int p : preds) plan.steps[static_cast<size_t>(p)].successors.push_back(step_index);
    plan.steps.push_back(std::move(step));
  }

  // An If whose condition is known: plan the branch it takes in its place.
  bool inline_if(const Node& node, const Scope& s) {
    if (node.inputs.size() != 1) return false;  // the op's own plan reports it
    const int cond_id = id(s, node.inputs[0]);
    if (cond_id < 0 || !desc[static_cast<size_t>(cond_id)].value) return false;
    const Tensor& cond = *desc[static_cast<size_t>(cond_id)].value;
    if (cond.numel() != 1 || cond.dtype() != DType::Bool) return false;  // reported by If's plan
    const Graph& then_b = node.subgraph("then_branch");
    const Graph& else_b = node.subgraph("else_branch");
    if (then_b.outputs.size() != else_b.outputs.size())
      fail(node, "then_branch has " + std::to_string(then_b.outputs.size()) + " outputs, else_branch " +
                     std::to_string(else_b.outputs.size()));
    if (!then_b.inputs.empty() || !else_b.inputs.empty()) fail(node, "If branches take no inputs");
    if (node.outputs.size() > then_b.outputs.size())
      fail(node, "has " + std::to_string(node.outputs.size()) + " outputs, its branches " +
                     std::to_string(then_b.outputs.size()));
    const Graph& branch = cond.data<uint8_t>()[0] ? then_b : else_b;
    Scope inner{&branch, &s, {}};
    std::set<std::string> made;
    for (const Node& n : branch.nodes) made.insert(n.outputs.begin(), n.outputs.end());
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      const std::string& name = branch.outputs[k].name;
      if (!node.outputs[k].empty() && made.count(name) && !inner.to_outputs.count(name))
        inner.to_outputs.emplace(name, id(s, node.outputs[k]));
    }
    for (auto& [name, t] : branch.initializers) set_constant(id(inner, name), t);
    plan_nodes(branch, inner);
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      const int dst = id(s, node.outputs[k]), src = id(inner, branch.outputs[k].name);
      if (dst < 0 || src == dst) continue;
      const ValueDesc& d = desc[static_cast<size_t>(src)];
      if (poisoned[static_cast<size_t>(src)]) {
        poisoned[static_cast<size_t>(dst)] = 1;
      } else if (d.value) {
        set_constant(dst, *d.value);
      } else {  // an input or an outer value, or one output twice: a re-view
        PlanStep step;
        step.node = &node;
        step.kernel = [](KernelIO& io) { io.out[0]->assign_view(*io.in[0], io.in[0]->shape()); };
        step.outputs_alias_inputs = true;
        step.detail = "branch output " + std::to_string(k);
        step.in = {src};
        step.out = {dst};
        step.out_dtype = {d.dtype};
        step.out_shape = {d.shape};
        add_step(std::move(step), false, inner);
      }
    }
    return true;
  }

  void plan_node(const Node& node, const Scope& s) {
    if (options.partial || options.refused) {  // nothing computed from a left-out value can be planned
      bool poison = false;
      for (const auto* list : {&node.inputs, &node.implicit_inputs})
        for (auto& n : *list) poison = poison || (!n.empty() && poisoned[static_cast<size_t>(id(s, n))]);
      if (poison) return leave_out(node, s);
    }
    std::string why = unsupported_reason(node.domain, node.op_type, node.opset);
    if (!why.empty()) {
      if (options.refused) return leave_out(node, s);  // the caller lists unimplemented ops itself
      throw Error(ErrorCode::UnsupportedOp, node.where() + ": " + why);
    }
    if (is_if(node) && inline_if(node, s)) return;
    const OpRegistry& reg = op_registry();
    const OpDef* def = reg.find(node.domain, node.op_type);
    PlanCtx ctx{node, reg.resolve(*def, node.opset), &kernels, {}, {}, {}, false, {}, {}, {}, &subgraphs, false, false,
                false};
    ctx.derived = &derived;
    bool all_known = true;
    for (auto& n : node.inputs) {
      if (n.empty()) {
        ctx.in.push_back(ValueDesc{});
        continue;
      }
      const ValueDesc& d = desc[static_cast<size_t>(id(s, n))];
      if (!d.value) all_known = false;
      ctx.in.push_back(d);
    }
    for (auto& n : node.implicit_inputs) {
      const ValueDesc& d = desc[static_cast<size_t>(id(s, n))];
      if (!d.value) all_known = false;
      ctx.implicit_in.push_back(d);
    }
    for (auto& n : node.outputs) {
      ValueDesc d;
      d.present = !n.empty();
      ctx.out.push_back(d);
    }
    const std::vector<ValueDesc> in_desc = options.refused ? ctx.in : std::vector<ValueDesc>{};
    try {
      ::normrt::plan_node(*def, ctx);  // narrow floats computed in float32 (narrow_floats.cpp)
    } catch (const NeedsInputValue& e) {
      if (options.refused) return leave_out(node, s);
      throw NeedsInputValue(e.value(), source + ": " + e.what());
    } catch (const OutputShapeAtRunTime& e) {
      if (options.partial || options.refused) return leave_out(node, s);
      throw OutputShapeAtRunTime(source + ": " + e.what());
    } catch (const Error& e) {
      if (options.refused) {
        if (e.code() == ErrorCode::UnsupportedOp) options.refused->push_back(describe_refusal(node, in_desc, e));
        return leave_out(node, s);
      }
      throw Error(e.code(), source + ": " + e.what());  // name the model file too
    }
    if (!ctx.out_value.empty()) {  // outputs known from shapes or attributes alone
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        if (!ctx.out[i].present) continue;
        if (i >= ctx.out_value.size() || !ctx.out_value[i].defined())
          throw Error(ErrorCode::Internal, node.where() + ": plan gave some output values but not all");
        set_constant(id(s, node.outputs[i]), std::move(ctx.out_value[i]));
      }
      return;
    }
    if (!ctx.kernel) throw Error(ErrorCode::Internal, node.where() + ": plan function set no kernel");
    if (ctx.outputs_sized_by_kernel)
      throw Error(ErrorCode::Internal, node.where() + ": run-time output shapes in a static plan");

    PlanStep step;
    step.node = &node;
    step.kernel = std::move(ctx.kernel);
    step.outputs_alias_inputs = ctx.outputs_alias_inputs;
    step.detail = std::move(ctx.detail);
    for (auto& n : node.inputs) step.in.push_back(id(s, n));
    for (auto& n : node.implicit_inputs) step.in.push_back(id(s, n));
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      step.out.push_back(id(s, node.outputs[i]));
      if (ctx.out[i].present && ctx.out[i].dtype == DType::Undefined)
        throw Error(ErrorCode::Internal, node.where() + ": plan left output " + std::to_string(i) + " untyped");
      step.out_dtype.push_back(ctx.out[i].dtype);
      step.out_shape.push_back(ctx.out[i].shape);
    }
    add_step(std::move(step), all_known && !ctx.draws_random, s);  // random draws run on every run
  }
};

}  // namespace

std::shared_ptr<const Plan> make_plan(const Graph& g, const ValueIndex& ix, const std::vector<ValueDesc>& inputs,
                                      const KernelSet& kernels, const PlanOptions& options) {
  auto plan = std::make_shared<Plan>();
  const size_t nv = ix.name.size();
  plan->num_values = static_cast<int>(nv);
  plan->constants.resize(nv);
  plan->reads.assign(nv, 0);
  plan->is_graph_output.assign(nv, 0);
  Planner pl(ix, kernels, options, g.source, *plan);

  const size_t n_in = g.inputs.size() + g.outer_reads.size();
  if (inputs.size() != n_in)
    throw Error(ErrorCode::Internal, g.where() + ": planned with " + std::to_string(inputs.size()) +
                                         " input descriptions for " + std::to_string(n_in) + " inputs");
  for (size_t i = 0; i < n_in; ++i) {
    const std::string& name = i < g.inputs.size() ? g.inputs[i].name : g.outer_reads[i - g.inputs.size()];
    int id = ix.get(name);
    plan->input_ids.push_back(id);
    try {  // ops may multiply any of its dims: the product of the nonzero ones must fit (shape_numel)
      shape_numel(inputs[i].shape, inputs[i].dtype);
    } catch (const Error& e) {
      throw Error(ErrorCode::InvalidModel, g.source + ": graph input '" + name + "': " + e.what());
    }
    if (inputs[i].dtype == kBoxedDType)  // a sequence or optional (core/boxed_value.h)
      throw OutputShapeAtRunTime(g.where() + ": graph input '" + name +
                                 "' is a sequence or an optional: the graph runs node by node");
    if (inputs[i].value) {
      pl.set_constant(id, *inputs[i].value);
    } else {
      pl.desc[static_cast<size_t>(id)] = ValueDesc{true, inputs[i].dtype, inputs[i].shape, nullptr};
    }
  }
  for (auto& [n, t] : g.initializers) pl.set_constant(ix.get(n), t);

  Scope top{&g, nullptr, {}};
  pl.plan_nodes(g, top);
  if (options.refused) return plan;  // incomplete: only what it refused matters
  const std::vector<ValueDesc>& desc = pl.desc;

  plan->value_bytes.assign(nv, 0);
  plan->value_dtype.assign(nv, DType::Undefined);
  plan->value_shape.assign(nv, Shape{});
  for (size_t i = 0; i < nv; ++i) {
    plan->value_dtype[i] = desc[i].dtype;
    plan->value_shape[i] = desc[i].shape;
  }
  for (size_t i = 0; i < nv; ++i) {
    if (!desc[i].present) continue;
    plan->value_bytes[i] = static_cast<uint64_t>(shape_numel(desc[i].shape, desc[i].dtype)) * dtype_size(desc[i].dtype);
    // Intermediates share one workspace instead of being allocated one by one,
    // so the per-tensor limit is checked here, when planning.
    if (!plan->constants[i].defined())
      require_within_tensor_limit(plan->value_bytes[i], g.source + ": value '" + ix.name[i] + "'", desc[i].dtype,
                                  desc[i].shape);
  }
  for (auto& o : g.outputs) {
    int id = ix.get(o.name);
    plan->output_ids.push_back(id);
    plan->is_graph_output[static_cast<size_t>(id)] = 1;
  }
  // Parallel branches exist when some step's predecessors don't chain it to the previous step.
  for (size_t i = 1; i < plan->steps.size(); ++i) {
    const PlanStep& prev = plan->steps[i - 1];
    bool chained =
        std::find(prev.successors.begin(), prev.successors.end(), static_cast<int>(i)) != prev.successors.end();
    if (!chained) plan->has_parallel_branches = true;
  }
  plan_memory(*plan);
  return plan;
}

std::shared_ptr<const Plan> make_plan(const Graph& g, const ValueIndex& ix, const std::vector<Shape>& input_shapes,
                                      const std::vector<const Tensor*>& input_values, const KernelSet& kernels,
                                      std::vector<std::string>* refused) {
  std::vector<Tensor> copies(g.inputs.size());  // the caller's values may change after planning
  std::vector<ValueDesc> inputs;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    ValueDesc d{true, planning_dtype(g.inputs[i]), input_shapes.at(i), nullptr};
    if (i < input_values.size() && input_values[i]) {
      copies[i] = input_values[i]->clone();
      d.value = &copies[i];
    }
    inputs.push_back(d);
  }
  PlanOptions options;
  options.refused = refused;
  return make_plan(g, ix, inputs, kernels, options);
}

std::vector<std::string> refused_nodes(Graph g, const KernelSet& kernels) {
  std::vector<std::string> refused;
  try {
    validate_and_sort(g);
  } catch (const Error&) {
    return refused;  // an invalid graph: the session says why
  }
  std::vector<Shape> shapes;
  for (const ValueMeta& m : g.inputs) {
    Shape s;
    for (int64_t d : m.shape) s.push_back(d >= 0 ? d : 1);
    shapes.push_back(s);
  }
  try {
    make_plan(g, index_values(g), shapes, std::vector<const Tensor*>(shapes.size(), nullptr), kernels, &refused);
  } catch (const Error&) {  // a shape limit or the like: nothing more to say about dtypes
  }
  std::sort(refused.begin(), refused.end());
  refused.erase(std::unique(refused.begin(), refused.end()), refused.end());
  return refused;
}

}  // namespace normrt
