// Node-by-node executor (see dynamic_executor.h) and subgraph preparation.
//   per node   key = dtype and shape of every input (+ the bytes of small
//              int32/int64 run-time inputs); a cache miss plans the node with
//              those (small values given as known values, copied into the
//              cache entry, so kernels may keep pointers to them)
//   run        the node's kernel (outputs allocated from the planned shapes,
//              or by the kernel for data-dependent ops), then inputs whose
//              last reader it was are released
#include "dynamic_executor.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace normrt {

namespace {

constexpr int64_t kMaxKnownElements = 64;  // run-time int tensors up to this size are given to plans as values
constexpr size_t kPlansPerNode = 8;

bool small_int(const Tensor& t) {
  return (t.dtype() == DType::Int64 || t.dtype() == DType::Int32) && t.numel() <= kMaxKnownElements;
}

// A static plan of a subgraph, run with a workspace of its own per run.
class StaticSubgraph final : public PreparedSubgraph {
 public:
  StaticSubgraph(const Graph& body, const KernelSet& kernels, const std::vector<ValueDesc>& inputs) {
    const ValueIndex ix = index_values(body);
    plan_ = make_plan(body, ix, inputs, kernels);
    static_shapes = true;
    for (int id : plan_->output_ids) {
      out_dtype.push_back(plan_->value_dtype[static_cast<size_t>(id)]);
      out_shape.push_back(plan_->value_shape[static_cast<size_t>(id)]);
    }
  }

  void run(const std::vector<const Tensor*>& inputs, const std::vector<const Tensor*>& outer,
           std::vector<Tensor>& outputs) const override {
    const Plan& p = *plan_;
    std::unique_ptr<char, void (*)(void*)> arena(nullptr, std::free);
    if (p.arena_bytes) {
      arena.reset(static_cast<char*>(std::aligned_alloc(64, (p.arena_bytes + 63) / 64 * 64)));
      if (!arena) throw Error(ErrorCode::InvalidArgument, "cannot allocate a subgraph workspace");
    }
    std::vector<Tensor> values(static_cast<size_t>(p.num_values));
    size_t k = 0;
    for (const Tensor* t : inputs) values[static_cast<size_t>(p.input_ids.at(k++))] = *t;
    for (const Tensor* t : outer) values[static_cast<size_t>(p.input_ids.at(k++))] = *t;
    outputs.resize(p.output_ids.size());
    std::vector<Tensor*> bound(static_cast<size_t>(p.num_values), nullptr);
    for (size_t o = 0; o < p.output_ids.size(); ++o) {
      Tensor*& b = bound[static_cast<size_t>(p.output_ids[o])];
      if (outputs[o].defined() && !b) b = &outputs[o];
    }
    execute_plan(p, values, false, nullptr, &bound, arena.get(), nullptr);
    for (size_t o = 0; o < p.output_ids.size(); ++o) {
      const Tensor& v = values[static_cast<size_t>(p.output_ids[o])];
      if (!outputs[o].defined()) {
        outputs[o] = v;
      } else if (outputs[o].raw() != v.raw()) {
        if (outputs[o].nbytes() != v.nbytes())
          throw Error(ErrorCode::Internal, "a subgraph output came out with another size");
        v.copy_elements_to(outputs[o].raw());
      }
    }
  }

 private:
  std::shared_ptr<const Plan> plan_;
};

}  // namespace

std::shared_ptr<const PreparedSubgraph> SubgraphPlannerImpl::prepare(const Graph& body,
                                                                     const std::vector<ValueDesc>& inputs,
                                                                     const std::vector<ValueDesc>& outer,
                                                                     bool fixed_shapes) const {
  if (fixed_shapes) {
    std::vector<ValueDesc> all = inputs;
    all.insert(all.end(), outer.begin(), outer.end());
    try {
      return std::make_shared<StaticSubgraph>(body, kernels_, all);
    } catch (const Error&) {
      // Shapes known only at run time, a value it needs, or a branch that
      // fails for these shapes (reported only if it runs): node by node.
    }
  }
  return std::make_shared<DynamicGraph>(body, kernels_);
}

struct DynamicGraph::NodePlan {
  std::vector<Tensor> kept;       // the small run-time values the plan saw
  PlanStep step;                  // kernel; in/out are this graph's value ids
  std::vector<Tensor> out_value;  // outputs known when planning (Shape, Constant…)
};

struct DynamicGraph::NodeCache {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::shared_ptr<const NodePlan>>> entries;
  size_t next = 0;  // the entry a new plan replaces once full
};

DynamicGraph::~DynamicGraph() = default;

DynamicGraph::DynamicGraph(const Graph& g, const KernelSet& kernels)
    : g_(g), kernels_(kernels), subgraphs_(kernels), ix_(index_values(g)) {
  const size_t nv = ix_.name.size();
  constants_.resize(nv);
  reads_.assign(nv, 0);
  is_output_.assign(nv, 0);
  for (auto& [name, t] : g.initializers) constants_[static_cast<size_t>(ix_.get(name))] = t;
  for (auto& in : g.inputs) input_ids_.push_back(ix_.get(in.name));
  for (auto& name : g.outer_reads) input_ids_.push_back(ix_.get(name));
  for (auto& o : g.outputs) {
    output_ids_.push_back(ix_.get(o.name));
    is_output_[static_cast<size_t>(output_ids_.back())] = 1;
  }
  for (const Node& node : g.nodes) {
    std::vector<int> in, out;
    for (auto& n : node.inputs) in.push_back(ix_.get(n));
    for (auto& n : node.implicit_inputs) in.push_back(ix_.get(n));
    for (auto& n : node.outputs) out.push_back(ix_.get(n));
    for (int id : in)
      if (id >= 0) reads_[static_cast<size_t>(id)]++;
    node_in_.push_back(std::move(in));
    node_out_.push_back(std::move(out));
    caches_.push_back(std::make_unique<NodeCache>());
  }
}

std::shared_ptr<const DynamicGraph::NodePlan> DynamicGraph::plan_node(size_t n, const std::vector<Tensor>& values,
                                                                      std::string key) const {
  const Node& node = g_.nodes[n];
  std::string why = unsupported_reason(node.domain, node.op_type, node.opset);
  if (!why.empty()) throw Error(ErrorCode::UnsupportedOp, g_.where() + ": " + node.where() + ": " + why);
  const OpRegistry& reg = op_registry();
  const OpDef* def = reg.find(node.domain, node.op_type);
  auto np = std::make_shared<NodePlan>();
  const std::vector<int>& in = node_in_[n];
  np->kept.reserve(in.size());  // pointers to them go to the plan: no reallocation
  PlanCtx ctx{node, reg.resolve(*def, node.opset), &kernels_, {}, {}, {}, false, {}, {}, {}, &subgraphs_, true, false,
              false};
  for (size_t i = 0; i < in.size(); ++i) {
    ValueDesc d;
    const int id = in[i];
    if (id >= 0) {
      const Tensor& c = constants_[static_cast<size_t>(id)];
      const Tensor& t = c.defined() ? c : values[static_cast<size_t>(id)];
      d = ValueDesc{true, t.dtype(), t.shape(), nullptr};
      if (c.defined()) {
        d.value = &c;
      } else if (small_int(t)) {
        np->kept.push_back(t.clone());
        d.value = &np->kept.back();
      }
    }
    (i < node.inputs.size() ? ctx.in : ctx.implicit_in).push_back(d);
  }
  for (auto& o : node.outputs) {
    ValueDesc d;
    d.present = !o.empty();
    ctx.out.push_back(d);
  }
  try {
    ::normrt::plan_node(*def, ctx);  // narrow floats computed in float32 (narrow_floats.cpp)
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(g_.source, 0) == 0) throw;
    throw Error(e.code(), g_.where() + ": " + msg);
  }
  if (!ctx.out_value.empty()) {
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (ctx.out[i].present && (i >= ctx.out_value.size() || !ctx.out_value[i].defined()))
        throw Error(ErrorCode::Internal, node.where() + ": plan gave some output values but not all");
    np->out_value = std::move(ctx.out_value);
  } else {
    if (!ctx.kernel) throw Error(ErrorCode::Internal, node.where() + ": plan function set no kernel");
    PlanStep& step = np->step;
    step.node = &node;
    step.kernel = std::move(ctx.kernel);
    step.outputs_alias_inputs = ctx.outputs_alias_inputs;
    step.outputs_sized_by_kernel = ctx.outputs_sized_by_kernel;
    step.detail = std::move(ctx.detail);
    step.in = in;
    step.out = node_out_[n];
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (ctx.out[i].present && ctx.out[i].dtype == DType::Undefined && !ctx.outputs_sized_by_kernel)
        throw Error(ErrorCode::Internal, node.where() + ": plan left output " + std::to_string(i) + " untyped");
      step.out_dtype.push_back(ctx.out[i].dtype);
      step.out_shape.push_back(ctx.out[i].shape);
    }
  }
  NodeCache& cache = *caches_[n];
  std::lock_guard<std::mutex> lock(cache.mutex);
  if (cache.entries.size() < kPlansPerNode) {
    cache.entries.emplace_back(std::move(key), np);
  } else {
    cache.entries[cache.next] = {std::move(key), np};
    cache.next = (cache.next + 1) % kPlansPerNode;
  }
  return np;
}

void DynamicGraph::run(const std::vector<const Tensor*>& inputs, const std::vector<const Tensor*>& outer,
                       std::vector<Tensor>& outputs) const {
  if (inputs.size() + outer.size() != input_ids_.size())
    throw Error(ErrorCode::Internal, g_.where() + ": run with " + std::to_string(inputs.size() + outer.size()) +
                                         " inputs, it has " + std::to_string(input_ids_.size()));
  std::vector<Tensor> values(ix_.name.size());
  for (size_t k = 0; k < input_ids_.size(); ++k) {
    const Tensor* t = k < inputs.size() ? inputs[k] : outer[k - inputs.size()];
    if (!t || !t->defined())
      throw Error(ErrorCode::Internal,
                  g_.where() + ": input '" + ix_.name[static_cast<size_t>(input_ids_[k])] + "' has no value");
    values[static_cast<size_t>(input_ids_[k])] = *t;
  }
  std::vector<int> reads_left = reads_;
  std::string key;
  for (size_t n = 0; n < g_.nodes.size(); ++n) {
    const std::vector<int>& in = node_in_[n];
    key.clear();
    for (int id : in) {
      if (id < 0) {
        key += "-;";
        continue;
      }
      const Tensor& c = constants_[static_cast<size_t>(id)];
      const Tensor& t = c.defined() ? c : values[static_cast<size_t>(id)];
      if (!t.defined())
        throw Error(ErrorCode::Internal,
                    g_.nodes[n].where() + ": input '" + ix_.name[static_cast<size_t>(id)] + "' was not computed");
      key += std::to_string(static_cast<int>(t.dtype()));
      key += shape_str(t.shape());
      if (!c.defined() && small_int(t)) key.append(static_cast<const char*>(t.raw()), t.nbytes());
      key += ';';
    }
    std::shared_ptr<const NodePlan> np;
    {
      NodeCache& cache = *caches_[n];
      std::lock_guard<std::mutex> lock(cache.mutex);
      for (auto& [k, p] : cache.entries)
        if (k == key) {
          np = p;
          break;
        }
    }
    if (!np) np = plan_node(n, values, key);
    if (!np->out_value.empty()) {
      for (size_t i = 0; i < node_out_[n].size(); ++i)
        if (node_out_[n][i] >= 0) values[static_cast<size_t>(node_out_[n][i])] = np->out_value[i];
    } else {
      run_plan_step(np->step, constants_, values);
    }
    for (int id : in)
      if (id >= 0 && --reads_left[static_cast<size_t>(id)] == 0 && !is_output_[static_cast<size_t>(id)])
        values[static_cast<size_t>(id)].release();
  }
  outputs.resize(output_ids_.size());
  for (size_t o = 0; o < output_ids_.size(); ++o) {
    const size_t id = static_cast<size_t>(output_ids_[o]);
    const Tensor& v = constants_[id].defined() ? constants_[id] : values[id];
    if (!outputs[o].defined()) {
      outputs[o] = v;
    } else if (outputs[o].dtype() == v.dtype() && outputs[o].shape() == v.shape()) {
      v.copy_elements_to(outputs[o].raw());
    } else {
      throw Error(ErrorCode::InvalidModel, g_.where() + ": output '" + g_.outputs[o].name + "' came out as " +
                                               dtype_name(v.dtype()) + shape_str(v.shape()) + ", expected " +
                                               dtype_name(outputs[o].dtype()) + shape_str(outputs[o].shape()));
    }
  }
}

}  // namespace normrt
