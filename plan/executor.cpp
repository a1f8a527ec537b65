// Executor: runs a plan's steps inside the caller's task arena. With inter-op
// parallelism, every step whose predecessors are done is spawned as a task in
// a tbb::task_group (dependency counters, no flow-graph machinery); kernels
// split their own work with parallel_for in the same arena. A chain of steps
// runs in order on the calling thread.
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>

#include "../ops/parallel.h"
#include "plan.h"
#ifdef NORMRT_TSAN_THREADS
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace normrt {

namespace {
#ifdef NORMRT_TSAN_THREADS
// The ThreadSanitizer build's task group (ops/parallel.h says why): each task
// on its own std::thread; wait() joins them all, also those tasks started,
// and rethrows the first exception.
class TaskGroup {
 public:
  template <class F>
  void run(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.push_back(start_thread([this, f = std::forward<F>(f)] {
      try {
        f();
      } catch (...) {
        std::lock_guard<std::mutex> l(mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }));
  }
  void wait() {
    for (;;) {
      std::vector<std::thread> started;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        started.swap(threads_);
      }
      if (started.empty()) break;
      for (auto& t : started) t.join();
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::exception_ptr error_;
};
#else
using TaskGroup = tbb::task_group;
#endif

// KernelIO per nesting depth on this thread (a worker may run another step
// while waiting inside a kernel's parallel_for): reused, so no allocation.
struct IoStack {
  std::vector<std::unique_ptr<KernelIO>> ios;
  size_t depth = 0;
};
thread_local IoStack t_io;
struct IoSlot {
  KernelIO& io;
  IoSlot() : io(take()) {}
  ~IoSlot() { --t_io.depth; }
  static KernelIO& take() {
    if (t_io.depth == t_io.ios.size()) t_io.ios.push_back(std::make_unique<KernelIO>());
    return *t_io.ios[t_io.depth++];
  }
};
}  // namespace

void run_plan_step(const PlanStep& s, const std::vector<Tensor>& constants, std::vector<Tensor>& values,
                   const std::vector<Tensor*>* bound, const Plan* plan, char* arena) {
  IoSlot slot;
  KernelIO& io = slot.io;
  io.in.assign(s.in.size(), nullptr);
  for (size_t i = 0; i < s.in.size(); ++i) {
    int id = s.in[i];
    if (id < 0) continue;
    const Tensor& c = constants[static_cast<size_t>(id)];
    io.in[i] = c.defined() ? &c : &values[static_cast<size_t>(id)];
  }
  io.out.assign(s.out.size(), nullptr);
  for (size_t i = 0; i < s.out.size(); ++i) {
    if (s.out[i] < 0) continue;
    Tensor& t = values[static_cast<size_t>(s.out[i])];
    const Tensor* b = bound ? (*bound)[static_cast<size_t>(s.out[i])] : nullptr;
    if (s.outputs_sized_by_kernel) {
      t.release();
    } else if (!s.outputs_alias_inputs) {
      const int64_t off = plan && arena ? plan->arena_offset[static_cast<size_t>(s.out[i])] : -1;
      if (b)
        t = *b;
      else if (off >= 0)
        t.rebind(arena + off, s.out_dtype[i], s.out_shape[i]);
      else
        t = Tensor::uninitialized(s.out_dtype[i], s.out_shape[i]);
    }
    io.out[i] = &t;
  }
  try {
    s.kernel(io);
  } catch (const Error& e) {  // name the node (zero cost unless something throws)
    const std::string where = s.node->where();
    if (std::string(e.what()).find(where) != std::string::npos) throw;
    throw Error(e.code(), where + ": " + e.what());
  }
  if (bound && s.outputs_alias_inputs) {  // a re-view of an input: copy into the caller's buffer
    for (size_t i = 0; i < s.out.size(); ++i) {
      const Tensor* b = s.out[i] >= 0 ? (*bound)[static_cast<size_t>(s.out[i])] : nullptr;
      Tensor& t = values[static_cast<size_t>(s.out[i])];
      if (b && t.raw() != b->raw()) {
        t.copy_elements_to(const_cast<void*>(b->raw()));
        t = *b;
      }
    }
  }
  for (size_t i = 0; i < s.out.size(); ++i) {
    if (s.out[i] < 0) continue;
    const Tensor& t = values[static_cast<size_t>(s.out[i])];
    if (s.outputs_sized_by_kernel) {
      if (!t.defined())
        throw Error(ErrorCode::Internal, s.node->where() + ": output " + std::to_string(i) + " was not made");
      if (s.out_dtype[i] != DType::Undefined && t.dtype() != s.out_dtype[i])
        throw Error(ErrorCode::InvalidModel, s.node->where() + ": output " + std::to_string(i) + " came out as " +
                                                 dtype_name(t.dtype()) + ", declared " + dtype_name(s.out_dtype[i]));
      continue;
    }
    if (t.dtype() != s.out_dtype[i] || t.shape() != s.out_shape[i])
      throw Error(ErrorCode::Internal, s.node->where() + ": output " + std::to_string(i) + " came out as " +
                                           dtype_name(t.dtype()) + shape_str(t.shape()) + ", planned " +
                                           dtype_name(s.out_dtype[i]) + shape_str(s.out_shape[i]));
  }
}

namespace {

struct RunState {
  const Plan& plan;
  std::vector<Tensor>& values;
  StepTiming* timings;  // null unless profiling
  const std::vector<Tensor*>* bound;
  char* arena;
  std::chrono::steady_clock::time_point t0;
  std::unique_ptr<std::atomic<int>[]> own_pending, own_reads;
  std::atomic<int>* pending;     // predecessors not yet done, per step
  std::atomic<int>* reads_left;  // readers not yet done, per value
  std::atomic<bool> failed{false};

  RunState(const Plan& p, std::vector<Tensor>& v, StepTiming* t, const std::vector<Tensor*>* b, char* a,
           RunScratch* scratch)
      : plan(p), values(v), timings(t), bound(b), arena(a), t0(std::chrono::steady_clock::now()) {
    const size_t ns = p.steps.size(), nv = static_cast<size_t>(p.num_values);
    if (scratch) {  // arrays that only grow, kept across runs
      if (scratch->pending_size < ns) {
        scratch->pending.reset(new std::atomic<int>[ns]);
        scratch->pending_size = ns;
      }
      if (scratch->reads_size < nv) {
        scratch->reads_left.reset(new std::atomic<int>[nv]);
        scratch->reads_size = nv;
      }
      pending = scratch->pending.get();
      reads_left = scratch->reads_left.get();
    } else {
      own_pending.reset(new std::atomic<int>[ns]);
      own_reads.reset(new std::atomic<int>[nv]);
      pending = own_pending.get();
      reads_left = own_reads.get();
    }
    for (size_t i = 0; i < ns; ++i) pending[i].store(p.steps[i].num_predecessors, std::memory_order_relaxed);
    for (size_t i = 0; i < nv; ++i) reads_left[i].store(p.reads[i], std::memory_order_relaxed);
  }

  void run(size_t index) {
    const PlanStep& s = plan.steps[index];
    if (timings) {
      auto start = std::chrono::steady_clock::now();
      run_plan_step(s, plan.constants, values, bound, &plan, arena);
      auto end = std::chrono::steady_clock::now();
      StepTiming& t = timings[index];
      t.start_us = std::chrono::duration<double, std::micro>(start - t0).count();
      t.duration_us = std::chrono::duration<double, std::micro>(end - start).count();
      t.thread = tbb::this_task_arena::current_thread_index();
    } else {
      run_plan_step(s, plan.constants, values, bound, &plan, arena);
    }
    // Release intermediates whose last reader this was.
    for (int id : s.in) {
      if (id < 0 || plan.constants[static_cast<size_t>(id)].defined()) continue;
      if (reads_left[id].fetch_sub(1, std::memory_order_acq_rel) == 1 && !plan.is_graph_output[static_cast<size_t>(id)])
        values[static_cast<size_t>(id)].release();
    }
  }
};

void spawn(RunState& st, TaskGroup& tg, size_t index);

// A step worth a task of its own when it becomes ready beside others: one
// that writes at least kParallelMinWork elements. Smaller ones (the unrolled
// RNN's Slice, Sigmoid, Mul on a few hundred values) cost less than a task
// and the trip of their inputs to another core, so they run on this thread.
bool worth_a_task(const PlanStep& s) {
  int64_t n = 0;
  for (const Shape& sh : s.out_shape) n += shape_numel(sh);
  return n >= kParallelMinWork;
}

// Runs step `index`, then goes on with the first successor it made ready on
// this same thread (a chain never leaves its thread or pays for a task);
// other ready successors are spawned when worth a task, else run here first
// (nested at most kInlineDepth deep, then spawned).
void run_from(RunState& st, TaskGroup& tg, size_t index, int depth) {
  constexpr int kInlineDepth = 32;
  const size_t none = st.plan.steps.size();
  for (;;) {
    if (st.failed.load(std::memory_order_relaxed)) return;
    try {
      st.run(index);
    } catch (...) {
      st.failed.store(true);
      throw;  // task_group::wait rethrows it in the caller
    }
    size_t next = none;
    for (int succ : st.plan.steps[index].successors) {
      if (st.pending[succ].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
      const size_t ready = static_cast<size_t>(succ);
      if (next == none)
        next = ready;
      else if (worth_a_task(st.plan.steps[ready]) || depth >= kInlineDepth)
        spawn(st, tg, ready);
      else
        run_from(st, tg, ready, depth + 1);
    }
    if (next == none) return;
    index = next;
  }
}

void spawn(RunState& st, TaskGroup& tg, size_t index) {
  tg.run([&st, &tg, index] { run_from(st, tg, index, 0); });
}

}  // namespace

void execute_plan(const Plan& plan, std::vector<Tensor>& values, bool inter_op, StepTiming* timings,
                  const std::vector<Tensor*>* bound, char* arena, RunScratch* scratch) {
  RunState st(plan, values, timings, bound, arena, scratch);
  if (!inter_op || !plan.has_parallel_branches) {
    for (size_t i = 0; i < plan.steps.size(); ++i) st.run(i);
  } else {
    TaskGroup tg;
    // The first root and the small ones run here, the big ones as tasks.
    const size_t none = plan.steps.size();
    size_t first_root = none;
    for (size_t i = 0; i < none && first_root == none; ++i)
      if (plan.steps[i].num_predecessors == 0) first_root = i;
    const auto here = [&](size_t i) { return i == first_root || !worth_a_task(plan.steps[i]); };
    for (size_t i = 0; i < none; ++i)
      if (plan.steps[i].num_predecessors == 0 && !here(i)) spawn(st, tg, i);
    std::exception_ptr error;
    try {
      for (size_t i = 0; i < none; ++i)
        if (plan.steps[i].num_predecessors == 0 && here(i)) run_from(st, tg, i, 0);
    } catch (...) {
      st.failed.store(true);
      error = std::current_exception();
    }
    tg.wait();  // tasks read st: never leave before they are done
    if (error) std::rethrow_exception(error);
  }
  for (int id : plan.output_ids) {
    const Tensor& c = plan.constants[static_cast<size_t>(id)];
    if (!c.defined()) continue;
    const Tensor* b = bound ? (*bound)[static_cast<size_t>(id)] : nullptr;
    if (b) {
      c.copy_elements_to(const_cast<void*>(b->raw()));
      values[static_cast<size_t>(id)] = *b;
    } else {
      values[static_cast<size_t>(id)] = c;
    }
  }
}

}  // namespace normrt
