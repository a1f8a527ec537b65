// Planner: walks the sorted graph once with concrete input shapes, asks each
// op for its output shapes and kernel, and folds every node whose inputs are
// all known (constants, shapes of inputs) by running its kernel right away.
#include "plan.h"

#include <algorithm>

namespace normrt {

ValueIndex index_values(const Graph& g) {
  ValueIndex ix;
  auto add = [&](const std::string& n) {
    if (n.empty() || ix.id.count(n)) return;
    ix.id.emplace(n, static_cast<int>(ix.name.size()));
    ix.name.push_back(n);
  };
  for (auto& in : g.inputs) add(in.name);
  for (auto& [n, t] : g.initializers) add(n);
  for (auto& node : g.nodes) {
    for (auto& n : node.inputs) add(n);
    for (auto& n : node.outputs) add(n);
  }
  return ix;
}

std::shared_ptr<const Plan> make_plan(const Graph& g, const ValueIndex& ix, const std::vector<Shape>& input_shapes,
                                      const std::vector<const Tensor*>& input_values, const KernelSet& kernels) {
  auto plan = std::make_shared<Plan>();
  const size_t nv = ix.name.size();
  plan->num_values = static_cast<int>(nv);
  plan->constants.resize(nv);
  plan->reads.assign(nv, 0);
  plan->is_graph_output.assign(nv, 0);
  std::vector<ValueDesc> desc(nv);
  std::vector<int> producer_step(nv, -1);

  for (size_t i = 0; i < g.inputs.size(); ++i) {
    int id = ix.get(g.inputs[i].name);
    plan->input_ids.push_back(id);
    try {  // ops may multiply any of its dims: the product of the nonzero ones must fit (shape_numel)
      shape_numel(input_shapes.at(i), g.inputs[i].dtype);
    } catch (const Error& e) {
      throw Error(ErrorCode::InvalidModel, g.source + ": graph input '" + g.inputs[i].name + "': " + e.what());
    }
    desc[static_cast<size_t>(id)] = ValueDesc{true, g.inputs[i].dtype, input_shapes.at(i), nullptr};
    if (i < input_values.size() && input_values[i]) {
      plan->constants[static_cast<size_t>(id)] = input_values[i]->clone();
      desc[static_cast<size_t>(id)].value = &plan->constants[static_cast<size_t>(id)];
    }
  }
  for (auto& [n, t] : g.initializers) {
    int id = ix.get(n);
    plan->constants[static_cast<size_t>(id)] = t;
    desc[static_cast<size_t>(id)] = ValueDesc{true, t.dtype(), t.shape(), &plan->constants[static_cast<size_t>(id)]};
  }

  const OpRegistry& reg = op_registry();
  std::vector<Tensor> scratch(nv);  // for running folded nodes
  for (const Node& node : g.nodes) {
    std::string why = unsupported_reason(node.domain, node.op_type, node.opset);
    if (!why.empty()) throw Error(ErrorCode::UnsupportedOp, node.where() + ": " + why);
    const OpDef* def = reg.find(node.domain, node.op_type);
    PlanCtx ctx{node, reg.resolve(*def, node.opset), &kernels, {}, {}, {}, false, {}, {}};
    bool all_known = true;
    for (auto& n : node.inputs) {
      if (n.empty()) {
        ctx.in.push_back(ValueDesc{});
        continue;
      }
      const ValueDesc& d = desc[static_cast<size_t>(ix.get(n))];
      if (!d.value) all_known = false;
      ctx.in.push_back(d);
    }
    for (auto& n : node.outputs) {
      ValueDesc d;
      d.present = !n.empty();
      ctx.out.push_back(d);
    }
    try {
      def->plan(ctx);
    } catch (const NeedsInputValue& e) {
      throw NeedsInputValue(e.value(), g.source + ": " + e.what());
    } catch (const Error& e) {  // name the model file too
      throw Error(e.code(), g.source + ": " + e.what());
    }
    if (!ctx.out_value.empty()) {  // outputs known from shapes or attributes alone
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        if (!ctx.out[i].present) continue;
        if (i >= ctx.out_value.size() || !ctx.out_value[i].defined())
          throw Error(ErrorCode::Internal, node.where() + ": plan gave some output values but not all");
        size_t id = static_cast<size_t>(ix.get(node.outputs[i]));
        plan->constants[id] = std::move(ctx.out_value[i]);
        desc[id] = ValueDesc{true, plan->constants[id].dtype(), plan->constants[id].shape(), &plan->constants[id]};
      }
      continue;
    }
    if (!ctx.kernel) throw Error(ErrorCode::Internal, node.where() + ": plan function set no kernel");

    PlanStep step;
    step.node = &node;
    step.kernel = std::move(ctx.kernel);
    step.outputs_alias_inputs = ctx.outputs_alias_inputs;
    step.detail = std::move(ctx.detail);
    for (auto& n : node.inputs) step.in.push_back(ix.get(n));
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      step.out.push_back(ix.get(node.outputs[i]));
      if (ctx.out[i].present && ctx.out[i].dtype == DType::Undefined)
        throw Error(ErrorCode::Internal, node.where() + ": plan left output " + std::to_string(i) + " untyped");
      step.out_dtype.push_back(ctx.out[i].dtype);
      step.out_shape.push_back(ctx.out[i].shape);
    }

    if (all_known) {  // constant folding: run now, keep the results
      run_plan_step(step, plan->constants, scratch);
      for (int id : step.out) {
        if (id < 0) continue;
        plan->constants[static_cast<size_t>(id)] = std::move(scratch[static_cast<size_t>(id)]);
        const Tensor& t = plan->constants[static_cast<size_t>(id)];
        desc[static_cast<size_t>(id)] = ValueDesc{true, t.dtype(), t.shape(), &t};
      }
      continue;
    }
    int step_index = static_cast<int>(plan->steps.size());
    for (size_t i = 0; i < step.out.size(); ++i) {
      int id = step.out[i];
      if (id < 0) continue;
      desc[static_cast<size_t>(id)] = ValueDesc{true, step.out_dtype[i], step.out_shape[i], nullptr};
      producer_step[static_cast<size_t>(id)] = step_index;
    }
    std::vector<int> preds;
    for (int id : step.in) {
      if (id < 0 || plan->constants[static_cast<size_t>(id)].defined()) continue;
      plan->reads[static_cast<size_t>(id)]++;
      int p = producer_step[static_cast<size_t>(id)];
      if (p >= 0 && std::find(preds.begin(), preds.end(), p) == preds.end()) preds.push_back(p);
    }
    step.num_predecessors = static_cast<int>(preds.size());
    for (int p : preds) plan->steps[static_cast<size_t>(p)].successors.push_back(step_index);
    plan->steps.push_back(std::move(step));
  }
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
    if (!plan->constants[i].defined() && plan->value_bytes[i] > max_tensor_bytes())
      throw Error(ErrorCode::InvalidArgument, g.source + ": value '" + ix.name[i] + "' " + dtype_name(desc[i].dtype) +
                                                  shape_str(desc[i].shape) + " needs " +
                                                  std::to_string(plan->value_bytes[i]) + " bytes, over the limit of " +
                                                  std::to_string(max_tensor_bytes()));
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

}  // namespace normrt
