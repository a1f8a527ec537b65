// Session: model → graph → (per input-shape set) plan → executor, inside one
// task arena sized from the options.
#include "normrt/session.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "../loaders/onnx_loader.h"
#include "../ops/norm_kernels.h"
#include "plan.h"

namespace normrt {

struct Session::Impl {
  Graph graph;
  ValueIndex index;
  SessionOptions options;
  int threads = 1;
  std::unique_ptr<tbb::global_control> oversubscribe;  // only when asked for more threads than cores
  std::unique_ptr<tbb::task_arena> arena;
  mutable std::mutex plans_mutex;
  mutable std::map<std::string, std::shared_ptr<const Plan>> plans;

  mutable std::vector<char> value_keyed;  // graph inputs whose values (not just shapes) shape the plan

  // Plans are cached by input shapes, plus the bytes of value-keyed inputs.
  // `inputs[i]` may be null (planning at creation from declared shapes).
  std::shared_ptr<const Plan> plan_for(const std::vector<Shape>& shapes,
                                       const std::vector<const Tensor*>& inputs) const {
    std::lock_guard<std::mutex> lock(plans_mutex);
    while (true) {
      std::string key;
      std::vector<const Tensor*> values(inputs.size(), nullptr);
      for (size_t i = 0; i < inputs.size(); ++i) {
        key += shape_str(shapes[i]) + ";";
        if (value_keyed[i] && inputs[i]) {
          values[i] = inputs[i];
          key.append(static_cast<const char*>(inputs[i]->raw()), inputs[i]->nbytes());
          key += ";";
        }
      }
      auto it = plans.find(key);
      if (it != plans.end()) return it->second;
      try {
        std::shared_ptr<const Plan> p;
        arena->execute([&] { p = make_plan(graph, index, shapes, values); });
        if (plans.size() >= 16) plans.erase(plans.begin());  // bounded cache
        return plans.emplace(key, p).first->second;
      } catch (const NeedsInputValue& e) {
        size_t k = 0;
        while (k < graph.inputs.size() && graph.inputs[k].name != e.value()) ++k;
        if (k == graph.inputs.size() || value_keyed[k] || !inputs[k]) throw;
        value_keyed[k] = 1;  // plan again with this input's value known
        plans.clear();
      }
    }
  }
};

static bool fully_static(const ValueMeta& m) {
  if (!m.has_shape) return false;
  for (int64_t d : m.shape)
    if (d < 0) return false;
  return true;
}

Session::Session(const std::string& model_path, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.threads < 0)
    throw Error(ErrorCode::InvalidArgument, "threads must be >= 0, got " + std::to_string(options.threads));
  impl_->options = options;
  impl_->graph = load_onnx_model(model_path);
  for (const Node& n : impl_->graph.nodes) {
    std::string why = unsupported_reason(n.domain, n.op_type, n.opset);
    if (!why.empty()) throw Error(ErrorCode::UnsupportedOp, model_path + ": " + n.where() + ": " + why);
  }
  impl_->index = index_values(impl_->graph);
  int hw = static_cast<int>(std::thread::hardware_concurrency());
  impl_->threads = options.threads > 0 ? options.threads : (hw > 0 ? hw : 1);
  if (impl_->threads > hw)
    impl_->oversubscribe = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                                 static_cast<size_t>(impl_->threads));
  impl_->arena = std::make_unique<tbb::task_arena>(impl_->threads);
  impl_->arena->initialize();
  // Warm the arena so thread start-up is not paid by the first run.
  impl_->arena->execute([] { tbb::parallel_for(0, 256, [](int) {}); });
  norm_kernels();  // pick the ISA path now, not in the first run
  impl_->value_keyed.assign(impl_->graph.inputs.size(), 0);
  bool all_static = true;
  std::vector<Shape> shapes;
  for (auto& in : impl_->graph.inputs) {
    all_static = all_static && fully_static(in);
    shapes.push_back(in.shape);
  }
  if (all_static) {  // shape errors surface at load
    try {
      impl_->plan_for(shapes, std::vector<const Tensor*>(shapes.size(), nullptr));
    } catch (const NeedsInputValue&) {
      // Planned at the first run, when the input's value is known.
    }
  }
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const std::vector<ValueMeta>& Session::inputs() const { return impl_->graph.inputs; }
const std::vector<ValueMeta>& Session::outputs() const { return impl_->graph.outputs; }
int Session::threads() const { return impl_->threads; }

NamedTensors Session::run(const NamedTensors& inputs) const { return run(inputs, nullptr); }

NamedTensors Session::run(const NamedTensors& inputs, RunProfile* profile) const {
  const Graph& g = impl_->graph;
  std::vector<const Tensor*> given(g.inputs.size(), nullptr);
  for (auto& [name, t] : inputs) {
    size_t k = 0;
    while (k < g.inputs.size() && g.inputs[k].name != name) ++k;
    if (k == g.inputs.size()) {
      std::string names;
      for (auto& in : g.inputs) names += (names.empty() ? "" : ", ") + in.name;
      throw Error(ErrorCode::InvalidArgument, "unknown input '" + name + "'; the model's inputs are: " + names);
    }
    if (given[k]) throw Error(ErrorCode::InvalidArgument, "input '" + name + "' is given twice");
    const ValueMeta& m = g.inputs[k];
    if (t.dtype() != m.dtype)
      throw Error(ErrorCode::InvalidArgument, "input '" + name + "' has dtype " + dtype_name(t.dtype()) +
                                                  ", the model expects " + dtype_name(m.dtype));
    if (m.has_shape) {
      bool ok = t.rank() == static_cast<int>(m.shape.size());
      for (size_t d = 0; ok && d < m.shape.size(); ++d) ok = m.shape[d] < 0 || m.shape[d] == t.shape()[d];
      if (!ok)
        throw Error(ErrorCode::InvalidArgument, "input '" + name + "' has shape " + shape_str(t.shape()) +
                                                    ", the model expects " + shape_str(m.shape) + " (-1 = any size)");
    }
    given[k] = &t;
  }
  std::vector<Shape> shapes;
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    if (!given[k]) throw Error(ErrorCode::InvalidArgument, "input '" + g.inputs[k].name + "' is missing");
    shapes.push_back(given[k]->shape());
  }
  std::shared_ptr<const Plan> plan = impl_->plan_for(shapes, given);
  std::vector<Tensor> values(static_cast<size_t>(plan->num_values));
  for (size_t k = 0; k < g.inputs.size(); ++k) values[static_cast<size_t>(plan->input_ids[k])] = *given[k];
  if (!profile) {
    impl_->arena->execute([&] { execute_plan(*plan, values, impl_->options.inter_op); });
  } else {
    std::vector<StepTiming> timings(plan->steps.size());
    auto t0 = std::chrono::steady_clock::now();
    impl_->arena->execute([&] { execute_plan(*plan, values, impl_->options.inter_op, timings.data()); });
    profile->total_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    profile->nodes.clear();
    for (size_t i = 0; i < plan->steps.size(); ++i) {
      const PlanStep& s = plan->steps[i];
      NodeProfile n;
      n.name = s.node->name;
      n.op_type = op_key(s.node->domain, s.node->op_type);
      n.start_us = timings[i].start_us;
      n.duration_us = timings[i].duration_us;
      n.thread = timings[i].thread;
      if (!s.outputs_alias_inputs) {
        for (size_t k = 0; k < s.in.size(); ++k)
          if (s.in[k] >= 0) n.bytes_read += plan->value_bytes[static_cast<size_t>(s.in[k])];
        for (size_t k = 0; k < s.out.size(); ++k)
          if (s.out[k] >= 0) n.bytes_written += shape_numel(s.out_shape[k]) * dtype_size(s.out_dtype[k]);
      }
      profile->nodes.push_back(std::move(n));
    }
  }
  NamedTensors out;
  for (size_t k = 0; k < g.outputs.size(); ++k)
    out.emplace_back(g.outputs[k].name, std::move(values[static_cast<size_t>(plan->output_ids[k])]));
  return out;
}

ModelSummary summarize_model(const std::string& path) {
  Graph g = load_onnx_model(path, /*validate=*/false);
  ModelSummary s;
  s.path = path;
  s.ir_version = g.ir_version;
  s.producer = g.producer;
  s.opsets = g.opsets;
  s.inputs = g.inputs;
  s.outputs = g.outputs;
  s.initializer_count = g.initializers.size();
  std::map<std::string, int> counts;
  std::map<std::string, std::string> missing;
  for (const Node& n : g.nodes) {
    std::string key = op_key(n.domain, n.op_type);
    counts[key]++;
    std::string why = unsupported_reason(n.domain, n.op_type, n.opset);
    if (!why.empty()) missing.emplace(key, why);
  }
  s.op_counts.assign(counts.begin(), counts.end());
  for (auto& [k, why] : missing) s.unsupported.push_back(why);
  return s;
}

const char* active_isa() { return norm_kernels().isa; }
const char* version() { return NORMRT_VERSION; }
const char* build_type() { return NORMRT_BUILD_TYPE; }

}  // namespace normrt
