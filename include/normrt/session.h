// Session: load an ONNX model once, run it many times (concurrently if wanted).
#pragma once
#include <tbb/task_arena.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "normrt/export.h"
#include "normrt/model_types.h"
#include "normrt/tensor.h"
#include "normrt/value.h"

namespace normrt {

enum class LogLevel { Debug, Info, Warning, Error };
using LogCallback = std::function<void(LogLevel, const std::string&)>;

struct SessionOptions {
  // Intra-op threads; 0 = hardware concurrency. Ignored when `arena` is given.
  int threads = 0;
  // Run independent operators concurrently (within the same threads).
  bool inter_op = true;
  OptimizationLevel optimization = OptimizationLevel::All;
  // Vector instruction set of the kernels: "" = the best this CPU runs, or
  // "sse2", "avx2", "avx512" (an Error if the CPU lacks it). Overrides the
  // NORMRT_ISA environment variable for this session.
  std::string isa;
  // Run inside a task arena the host application owns (and keeps alive
  // longer than the session) instead of one the session creates.
  tbb::task_arena* arena = nullptr;
  // Receives the session's log lines (creation, planning); none if empty.
  LogCallback log;
};

// What `normrt info` prints; made without requiring every op to be supported.
struct ModelSummary {
  std::string path;
  int64_t ir_version = 0;
  std::string producer;
  std::vector<std::pair<std::string, int64_t>> opsets;  // domain ("" = ai.onnx), version
  std::vector<ValueMeta> inputs, outputs;
  size_t initializer_count = 0;
  std::vector<std::pair<std::string, int>> op_counts;       // "domain::Op" or "Op", count
  std::vector<std::string> unsupported;                     // "Op (domain ai.onnx, opset 11) ..."
  std::vector<std::pair<std::string, int>> passes_applied;  // with `optimized`: pass → times it fired
};

// With `optimized`, the op counts are those after the optimizer's passes
// (level All) and passes_applied says what fired; the model must then be valid.
NORMRT_API ModelSummary summarize_model(const std::string& path, bool optimized = false);

// Loads a model, runs the optimizer's passes (level All) and writes the result
// as an ONNX file that normrt (and any runtime knowing ai.normrt) can load.
NORMRT_API void save_optimized_model(const std::string& path, const std::string& out_path);

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Per-node timings of one run (Session::run with a profile). Nodes folded
// into constants at planning time do not appear.
struct NodeProfile {
  std::string name;
  std::string op_type;         // "Op" or "domain::Op"
  double start_us = 0;         // from the start of the run
  double duration_us = 0;      // output allocation + kernel
  int thread = 0;              // arena slot that ran it
  uint64_t bytes_read = 0;     // all inputs (weights included); 0 for ops that only re-view their input
  uint64_t bytes_written = 0;  // all outputs
  std::string detail;          // how the node runs, e.g. Conv's path ("im2col"); may be empty
};
struct RunProfile {
  double total_us = 0;
  std::vector<NodeProfile> nodes;  // in plan (topological) order
};

class NORMRT_API Session {
 public:
  // Loads a model file; external data is read from the file's folder.
  explicit Session(const std::string& model_path, SessionOptions options = {});
  // Loads a model from memory; external data, if any, is read from `base_dir`
  // ("" forbids external data). `data` may be freed once this returns.
  static Session from_memory(const void* data, size_t size, const std::string& base_dir, SessionOptions options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  const std::vector<ValueMeta>& inputs() const;
  const std::vector<ValueMeta>& outputs() const;
  int threads() const;
  const char* isa() const;  // the kernels' ISA path

  // The static memory plan of the most recent plan (made at creation when all
  // input shapes are static, else at the first run): the per-run workspace
  // that holds every intermediate, and what those intermediates would take
  // without sharing. Zeros before any plan exists.
  struct PlannedMemory {
    uint64_t workspace_bytes = 0, intermediate_bytes = 0;
    size_t steps = 0;
  };
  PlannedMemory planned_memory() const;

  // Runs the model. Every graph input must be given by name with the declared
  // dtype and a shape that fits the declared one; inputs may be views of
  // caller memory (Tensor::view), which is not copied. Returns the graph
  // outputs in declaration order. Safe to call from several threads at once:
  // each run has its own intermediate tensors. Once the plan for these input
  // shapes exists, it allocates only what it returns: the vector, and per
  // output its buffer, shared state, shape and name — at most 1 + 4 per output
  // (tests/test_alloc.cpp); run_into allocates nothing.
  NamedTensors run(const NamedTensors& inputs) const;
  // The same, also recording per-node timings into `profile` (if not null).
  NamedTensors run(const NamedTensors& inputs, RunProfile* profile) const;
  // Writes outputs straight into caller tensors (typically Tensor::view of
  // caller memory): each entry of `outputs` names a graph output and must have
  // its dtype and this run's shape (an Error otherwise, before anything runs).
  // Outputs not named are computed and dropped.
  void run_into(const NamedTensors& inputs, NamedTensors& outputs) const;
  // Runs a model whose inputs or outputs may be sequences or optionals
  // (inputs()/outputs() give each one's ValueMeta::kind); tensor models run
  // here too. run and run_into refuse such models with an Error naming the
  // value. Graphs with sequence or optional values run node by node.
  NamedValues run_values(const NamedValues& inputs) const;

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The ISA path the kernels use by default (NORMRT_ISA or the best available).
NORMRT_API const char* active_isa();
NORMRT_API const char* version();
// "Release", "Debug", ... as built.
NORMRT_API const char* build_type();

}  // namespace normrt
