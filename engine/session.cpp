// Session: model → graph → (per input-shape set) plan → executor, inside one
// task arena (the session's own, sized from the options, or the host's).
#include "normrt/session.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../core/boxed_value.h"
#include "../loaders/onnx_loader.h"
#include "../loaders/onnx_writer.h"
#include "../ops/kernel_set.h"
#include "../ops/parallel.h"
#include "../passes/optimizer.h"
#include "../plan/dynamic_executor.h"
#include "../plan/plan.h"

namespace normrt {

// Hidden: Session is exported, and its members (this one too) would be by default.
struct __attribute__((visibility("hidden"))) Session::Impl {
  Graph graph;
  ValueIndex index;
  std::string value_io;  // a graph input or output that is a sequence or optional (run_values only), or ""
  std::unique_ptr<DynamicGraph> node_by_node;  // for input signatures whose shapes depend on data
  SessionOptions options;
  const KernelSet* kernels = nullptr;  // chosen once: planning and constant folding both use it
  int threads = 1;
  std::unique_ptr<tbb::global_control> oversubscribe;  // only when asked for more threads than cores
  std::unique_ptr<tbb::task_arena> own_arena;
  tbb::task_arena* arena = nullptr;  // own_arena or the host's; null: one thread, the caller's

  // Runs f in the session's arena, or inline on the calling thread for a
  // single-threaded session (no TBB hand-off at all).
  template <class F>
  void in_arena(F&& f) const {
    if (arena) {
      run_in_arena(*arena, f);
    } else {
      RunInlineScope inline_scope;
      f();
    }
  }
  mutable std::mutex plans_mutex;
  mutable std::map<std::string, std::shared_ptr<const Plan>> plans;

  // Per-run state kept between runs so that a steady-state run reuses it:
  // the workspace the memory plan places intermediates in, the value slots,
  // the executor's counters, and the last plan with the shapes it was for.
  struct Workspace {
    std::unique_ptr<char, void (*)(void*)> arena{nullptr, std::free};
    uint64_t arena_capacity = 0;
    std::vector<Tensor> values;
    std::vector<Tensor*> bound;
    std::vector<const Tensor*> given;
    std::vector<Shape> shapes;
    RunScratch scratch;
    std::shared_ptr<const Plan> last_plan;
    std::vector<Shape> last_shapes;
    char* reserve(uint64_t bytes) {
      if (bytes > arena_capacity) {
        void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!p)
          throw Error(ErrorCode::InvalidArgument, "cannot allocate a " + std::to_string(bytes) + "-byte workspace");
        arena.reset(static_cast<char*>(p));
        arena_capacity = bytes;
      }
      return arena.get();
    }
  };
  mutable std::mutex workspace_mutex;
  mutable std::vector<std::unique_ptr<Workspace>> free_workspaces;
  std::unique_ptr<Workspace> take_workspace() const {
    std::lock_guard<std::mutex> lock(workspace_mutex);
    if (free_workspaces.empty()) return std::make_unique<Workspace>();
    auto w = std::move(free_workspaces.back());
    free_workspaces.pop_back();
    return w;
  }
  void give_back(std::unique_ptr<Workspace> w) const {
    std::lock_guard<std::mutex> lock(workspace_mutex);
    free_workspaces.push_back(std::move(w));
  }
  mutable std::vector<char> value_keyed;  // graph inputs whose values (not just shapes) shape the plan
  mutable std::atomic<bool> any_value_keyed{false};
  mutable std::atomic<uint64_t> last_workspace{0}, last_intermediates{0};
  mutable std::atomic<size_t> last_steps{0};
  void note_plan(const Plan& p) const {
    last_workspace.store(p.arena_bytes, std::memory_order_relaxed);
    last_intermediates.store(p.intermediate_bytes, std::memory_order_relaxed);
    last_steps.store(p.steps.size(), std::memory_order_relaxed);
  }

  void log(LogLevel level, const std::string& msg) const {
    if (options.log) options.log(level, msg);
  }

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
        const auto t0 = std::chrono::steady_clock::now();
        in_arena([&] { p = make_plan(graph, index, shapes, values, *kernels); });
        if (options.log) {
          std::string s;
          for (auto& sh : shapes) {
            if (!s.empty()) s += ' ';
            s += shape_str(sh);
          }
          log(LogLevel::Debug,
              "planned input shapes " + s + ": " + std::to_string(p->steps.size()) + " steps (of " +
                  std::to_string(graph.nodes.size()) + " nodes) in " +
                  std::to_string(
                      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()) +
                  " ms");
        }
        note_plan(*p);
        if (plans.size() >= 16) plans.erase(plans.begin());  // bounded cache
        return plans.emplace(key, p).first->second;
      } catch (const OutputShapeAtRunTime& e) {
        // Some output shape depends on data: these inputs run node by node.
        auto p = std::make_shared<Plan>();
        p->node_by_node = true;
        p->num_values = static_cast<int>(index.name.size());
        for (auto& in : graph.inputs) p->input_ids.push_back(index.get(in.name));
        for (auto& o : graph.outputs) p->output_ids.push_back(index.get(o.name));
        log(LogLevel::Info, std::string("running node by node: ") + e.what());
        note_plan(*p);
        if (plans.size() >= 16) plans.erase(plans.begin());
        return plans.emplace(key, p).first->second;
      } catch (const NeedsInputValue& e) {
        // Plan again with the values of the (small) graph inputs that the
        // needed value is computed from known: directly (a Reshape shape fed
        // as an input) or through other ops (a window length → Range).
        bool keyed = false;
        for (const std::string& name : input_ancestors(e.value())) {
          size_t k = 0;
          while (k < graph.inputs.size() && graph.inputs[k].name != name) ++k;
          if (k == graph.inputs.size() || value_keyed[k] || !inputs[k] || inputs[k]->numel() > 4096) continue;
          value_keyed[k] = 1;
          any_value_keyed.store(true, std::memory_order_release);
          keyed = true;
          log(LogLevel::Info, "input '" + name + "' shapes the graph: plans are made per value of it");
        }
        if (!keyed) throw;
        plans.clear();
      }
    }
  }

  // The graph inputs that `value` is computed from (itself if it is one).
  std::vector<std::string> input_ancestors(const std::string& value) const {
    std::vector<std::string> found, todo{value};
    std::set<std::string> seen;
    while (!todo.empty()) {
      const std::string v = todo.back();
      todo.pop_back();
      if (!seen.insert(v).second) continue;
      bool produced = false;
      for (const Node& n : graph.nodes)
        for (const std::string& o : n.outputs)
          if (o == v) {
            produced = true;
            for (const std::string& i : n.inputs)
              if (!i.empty()) todo.push_back(i);
          }
      if (!produced) found.push_back(v);
    }
    return found;
  }

  // Checks the inputs against the model and returns them in graph-input order.
  void check_inputs(const NamedTensors& inputs, std::vector<const Tensor*>& given) const;
};

static std::unique_ptr<Session::Impl> make_impl(Graph graph, SessionOptions options) {
  auto impl = std::make_unique<Session::Impl>();
  if (options.threads < 0)
    throw Error(ErrorCode::InvalidArgument, "threads must be >= 0, got " + std::to_string(options.threads));
  impl->options = std::move(options);
  impl->graph = std::move(graph);
  visit_nodes(impl->graph, [](const Node& n, const Graph& owner) {
    std::string why = unsupported_reason(n.domain, n.op_type, n.opset);
    if (!why.empty()) throw Error(ErrorCode::UnsupportedOp, owner.where() + ": " + n.where() + ": " + why);
  });
  impl->kernels = &kernel_set_for(impl->options.isa);
  const size_t loaded_nodes = impl->graph.nodes.size();
  OptimizeStats stats;
  optimize_graph(impl->graph, impl->options.optimization, *impl->kernels, &stats);
  impl->index = index_values(impl->graph);
  impl->node_by_node = std::make_unique<DynamicGraph>(impl->graph, *impl->kernels);
  if (impl->options.arena) {
    impl->arena = impl->options.arena;
    impl->threads = impl->arena->max_concurrency();
  } else {
    const int hw = static_cast<int>(std::thread::hardware_concurrency());
    impl->threads = impl->options.threads > 0 ? impl->options.threads : (hw > 0 ? hw : 1);
    if (impl->threads > hw)
      impl->oversubscribe = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                                  static_cast<size_t>(impl->threads));
    if (impl->threads > 1) {
      impl->own_arena = std::make_unique<tbb::task_arena>(impl->threads);
      impl->own_arena->initialize();
      impl->arena = impl->own_arena.get();
    }
  }
  // Warm the arena so thread start-up is not paid by the first run.
#ifndef NORMRT_TSAN_THREADS  // (that build never hands work to TBB's workers)
  if (impl->arena) impl->arena->execute([] { tbb::parallel_for(0, 256, [](int) {}); });
#endif
  impl->value_keyed.assign(impl->graph.inputs.size(), 0);
  for (const auto* list : {&impl->graph.inputs, &impl->graph.outputs})
    for (const ValueMeta& m : *list)
      if (m.kind != ValueKind::Tensor && impl->value_io.empty())
        impl->value_io = std::string(list == &impl->graph.inputs ? "input" : "output") + " '" + m.name + "' is " +
                         type_str(m) + ": run this model with Session::run_values";
  impl->log(LogLevel::Info, "loaded " + impl->graph.source + ": " + std::to_string(loaded_nodes) + " nodes, " +
                                std::to_string(impl->graph.initializers.size()) + " initializers; isa " +
                                impl->kernels->isa + ", " + std::to_string(impl->threads) + " threads");
  for (auto& [pass, n] : stats.fired) impl->log(LogLevel::Info, pass + ": applied " + std::to_string(n) + " times");
  bool all_static = true;
  std::vector<Shape> shapes;
  for (auto& in : impl->graph.inputs) {
    all_static = all_static && fully_static(in);
    shapes.push_back(in.shape);
  }
  if (all_static) {  // shape errors surface at load
    try {
      impl->plan_for(shapes, std::vector<const Tensor*>(shapes.size(), nullptr));
    } catch (const NeedsInputValue&) {
      // Planned at the first run, when the input's value is known.
    }
  }
  return impl;
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::Session(const std::string& model_path, SessionOptions options)
    : impl_(make_impl(load_onnx_model(model_path), std::move(options))) {}

Session Session::from_memory(const void* data, size_t size, const std::string& base_dir, SessionOptions options) {
  if (!data && size) throw Error(ErrorCode::InvalidArgument, "Session::from_memory: null data");
  std::string bytes(static_cast<const char*>(data), size);
  return Session(make_impl(load_onnx_model_from_bytes(bytes, base_dir, "<model in memory>"), std::move(options)));
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const std::vector<ValueMeta>& Session::inputs() const { return impl_->graph.inputs; }
const std::vector<ValueMeta>& Session::outputs() const { return impl_->graph.outputs; }
int Session::threads() const { return impl_->threads; }
const char* Session::isa() const { return impl_->kernels->isa; }
Session::PlannedMemory Session::planned_memory() const {
  PlannedMemory m;
  m.workspace_bytes = impl_->last_workspace.load(std::memory_order_relaxed);
  m.intermediate_bytes = impl_->last_intermediates.load(std::memory_order_relaxed);
  m.steps = impl_->last_steps.load(std::memory_order_relaxed);
  return m;
}

void Session::Impl::check_inputs(const NamedTensors& inputs, std::vector<const Tensor*>& given) const {
  const Graph& g = graph;
  given.assign(g.inputs.size(), nullptr);
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
    if (m.kind != ValueKind::Tensor || is_boxed(t)) {  // run_values: a sequence or an optional
      const Value v = unbox(t);
      ValueMeta got;
      got.kind = v.kind();
      got.optional_of = v.optional_of();
      got.dtype = v.elem_dtype();
      const bool dtype_ok = m.dtype == DType::Undefined || got.dtype == DType::Undefined || got.dtype == m.dtype;
      if (got.kind != m.kind || (m.kind == ValueKind::Optional && got.optional_of != m.optional_of) || !dtype_ok)
        throw Error(ErrorCode::InvalidArgument,
                    "input '" + name + "' is " + type_str(got) + ", the model expects " + type_str(m));
      given[k] = &t;
      continue;
    }
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
  for (size_t k = 0; k < g.inputs.size(); ++k)
    if (!given[k]) throw Error(ErrorCode::InvalidArgument, "input '" + g.inputs[k].name + "' is missing");
}

// A run of an input signature whose shapes depend on data: no static plan,
// outputs copied into the caller's buffers (run_into) after the run.
static void run_node_by_node(const Session::Impl& impl, const Plan& plan, const std::vector<const Tensor*>& given,
                             std::vector<Tensor>& values, NamedTensors* outputs_into) {
  std::vector<Tensor> outs;
  impl.in_arena([&] { impl.node_by_node->run(given, {}, outs); });
  const Graph& g = impl.graph;
  for (size_t k = 0; k < g.outputs.size(); ++k) values[static_cast<size_t>(plan.output_ids[k])] = std::move(outs[k]);
  if (!outputs_into) return;
  for (auto& [name, t] : *outputs_into) {
    size_t k = 0;
    while (k < g.outputs.size() && g.outputs[k].name != name) ++k;
    if (k == g.outputs.size()) throw Error(ErrorCode::InvalidArgument, "unknown output '" + name + "'");
    const Tensor& v = values[static_cast<size_t>(plan.output_ids[k])];
    if (t.dtype() != v.dtype() || t.shape() != v.shape())
      throw Error(ErrorCode::InvalidArgument, "output '" + name + "' buffer is " + dtype_name(t.dtype()) +
                                                  shape_str(t.shape()) + ", this run produces " +
                                                  dtype_name(v.dtype()) + shape_str(v.shape()));
    if (t.nbytes() && !t.raw()) throw Error(ErrorCode::InvalidArgument, "output '" + name + "' has no memory");
    v.copy_elements_to(t.raw());
  }
}

// One run: plan lookup, caller output binding, execution in the arena, all
// in a workspace reused across runs (a steady-state run allocates nothing).
static std::shared_ptr<const Plan> run_once(const Session::Impl& impl, const NamedTensors& inputs,
                                            Session::Impl::Workspace& ws, NamedTensors* outputs_into,
                                            std::vector<StepTiming>* timings) {
  impl.check_inputs(inputs, ws.given);
  const std::vector<const Tensor*>& given = ws.given;
  ws.shapes.resize(given.size());
  for (size_t k = 0; k < given.size(); ++k) ws.shapes[k] = given[k]->shape();
  std::shared_ptr<const Plan> plan;
  if (ws.last_plan && ws.shapes == ws.last_shapes && !impl.any_value_keyed.load(std::memory_order_acquire)) {
    plan = ws.last_plan;  // same shapes as this workspace's last run: no cache lookup
  } else {
    plan = impl.plan_for(ws.shapes, given);
    ws.last_plan = plan;
    ws.last_shapes = ws.shapes;
  }
  std::vector<Tensor>& values = ws.values;
  values.resize(static_cast<size_t>(plan->num_values));
  for (size_t k = 0; k < given.size(); ++k) values[static_cast<size_t>(plan->input_ids[k])] = *given[k];
  if (plan->node_by_node) {
    run_node_by_node(impl, *plan, given, values, outputs_into);
    if (timings) timings->clear();
    return plan;
  }
  std::vector<Tensor*>& bound = ws.bound;
  bound.clear();
  if (outputs_into) {
    bound.assign(static_cast<size_t>(plan->num_values), nullptr);
    const Graph& g = impl.graph;
    for (auto& [name, t] : *outputs_into) {
      size_t k = 0;
      while (k < g.outputs.size() && g.outputs[k].name != name) ++k;
      if (k == g.outputs.size()) throw Error(ErrorCode::InvalidArgument, "unknown output '" + name + "'");
      const size_t id = static_cast<size_t>(plan->output_ids[k]);
      if (bound[id]) throw Error(ErrorCode::InvalidArgument, "output '" + name + "' is given twice");
      if (t.dtype() != plan->value_dtype[id] || t.shape() != plan->value_shape[id])
        throw Error(ErrorCode::InvalidArgument,
                    "output '" + name + "' buffer is " + dtype_name(t.dtype()) + shape_str(t.shape()) +
                        ", this run produces " + dtype_name(plan->value_dtype[id]) + shape_str(plan->value_shape[id]));
      if (t.nbytes() && !t.raw()) throw Error(ErrorCode::InvalidArgument, "output '" + name + "' has no memory");
      bound[id] = &t;
    }
  }
  if (timings) timings->assign(plan->steps.size(), StepTiming{});
  char* arena = ws.reserve(plan->arena_bytes);
  impl.in_arena([&] {
    execute_plan(*plan, values, impl.options.inter_op && impl.arena != nullptr, timings ? timings->data() : nullptr,
                 outputs_into ? &bound : nullptr, arena, &ws.scratch);
  });
  return plan;
}

// Returns the workspace to the pool when a run ends (also by an exception).
struct WorkspaceLease {
  const Session::Impl& impl;
  std::unique_ptr<Session::Impl::Workspace> ws;
  explicit WorkspaceLease(const Session::Impl& i) : impl(i), ws(i.take_workspace()) {}
  ~WorkspaceLease() {
    // Views into the workspace must not outlive the lease: drop every value slot's storage.
    for (Tensor& t : ws->values) t.release();
    impl.give_back(std::move(ws));
  }
};

NamedTensors Session::run(const NamedTensors& inputs) const { return run(inputs, nullptr); }

NamedTensors Session::run(const NamedTensors& inputs, RunProfile* profile) const {
  if (!impl_->value_io.empty()) throw Error(ErrorCode::InvalidArgument, impl_->value_io);
  WorkspaceLease lease(*impl_);
  std::vector<Tensor>& values = lease.ws->values;
  std::vector<StepTiming> timings;
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<const Plan> plan = run_once(*impl_, inputs, *lease.ws, nullptr, profile ? &timings : nullptr);
  if (profile) {
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
      n.detail = s.detail;
      if (!s.outputs_alias_inputs) {
        for (int id : s.in)
          if (id >= 0) n.bytes_read += plan->value_bytes[static_cast<size_t>(id)];
        for (int id : s.out)
          if (id >= 0) n.bytes_written += plan->value_bytes[static_cast<size_t>(id)];
      }
      profile->nodes.push_back(std::move(n));
    }
  }
  NamedTensors out;
  const Graph& g = impl_->graph;
  for (size_t k = 0; k < g.outputs.size(); ++k)
    out.emplace_back(g.outputs[k].name, std::move(values[static_cast<size_t>(plan->output_ids[k])]));
  return out;
}

void Session::run_into(const NamedTensors& inputs, NamedTensors& outputs) const {
  if (!impl_->value_io.empty()) throw Error(ErrorCode::InvalidArgument, impl_->value_io);
  WorkspaceLease lease(*impl_);
  run_once(*impl_, inputs, *lease.ws, &outputs, nullptr);
}

NamedValues Session::run_values(const NamedValues& inputs) const {
  NamedTensors boxed;  // sequences and optionals travel boxed (core/boxed_value.h)
  boxed.reserve(inputs.size());
  for (const auto& [name, v] : inputs) boxed.emplace_back(name, box(v));
  WorkspaceLease lease(*impl_);
  std::shared_ptr<const Plan> plan = run_once(*impl_, boxed, *lease.ws, nullptr, nullptr);
  NamedValues out;
  const Graph& g = impl_->graph;
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    Value v = unbox(lease.ws->values[static_cast<size_t>(plan->output_ids[k])]);
    const ValueMeta& m = g.outputs[k];
    // An op that returns a tensor where an optional is declared gives the optional holding it.
    if (m.kind == ValueKind::Optional && !v.is_optional()) v = Value::optional(std::move(v));
    if (v.kind() != m.kind)
      throw Error(ErrorCode::InvalidModel,
                  g.where() + ": output '" + m.name + "' came out as " + v.type_str() + ", declared " + type_str(m));
    out.emplace_back(m.name, std::move(v));
  }
  return out;
}

ModelSummary summarize_model(const std::string& path, bool optimized) {
  Graph g = load_onnx_model(path, /*validate=*/optimized);
  ModelSummary s;
  if (optimized) {
    OptimizeStats stats;
    optimize_graph(g, OptimizationLevel::All, default_kernel_set(), &stats);
    s.passes_applied.assign(stats.fired.begin(), stats.fired.end());
  }
  s.path = path;
  s.ir_version = g.ir_version;
  s.producer = g.producer;
  s.opsets = g.opsets;
  s.inputs = g.inputs;
  s.outputs = g.outputs;
  s.initializer_count = g.initializers.size();
  std::map<std::string, int> counts;
  std::map<std::string, std::string> missing;
  for (const Node& n : g.nodes) counts[op_key(n.domain, n.op_type)]++;
  // Unsupported ops anywhere, subgraphs included (named by where they sit).
  visit_nodes(g, [&](const Node& n, const Graph& owner) {
    std::string why = unsupported_reason(n.domain, n.op_type, n.opset);
    if (why.empty()) return;
    if (!owner.scope.empty()) why += " (in subgraph '" + owner.scope + "')";
    missing.emplace(op_key(n.domain, n.op_type) + "\n" + owner.scope, why);
  });
  s.op_counts.assign(counts.begin(), counts.end());
  for (auto& [k, why] : missing) s.unsupported.push_back(why);
  for (std::string& why : refused_nodes(g, default_kernel_set())) s.unsupported.push_back(std::move(why));
  return s;
}

void save_optimized_model(const std::string& path, const std::string& out_path) {
  Graph g = load_onnx_model(path);
  OptimizeStats stats;
  optimize_graph(g, OptimizationLevel::All, default_kernel_set(), &stats);
  save_onnx_model(g, out_path);
}

const char* active_isa() { return default_kernel_set().isa; }
const char* version() { return NORMRT_VERSION; }
const char* build_type() { return NORMRT_BUILD_TYPE; }

}  // namespace normrt
