// Session: load an ONNX model once, run it many times (concurrently if wanted).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "normrt/tensor.h"

namespace normrt {

struct SessionOptions {
  int threads = 0;       // intra-op threads; 0 = hardware concurrency
  bool inter_op = true;  // run independent operators concurrently
};

// A graph input or output as the model declares it. Unknown dims are -1 and
// carry their symbolic name (dim_param) where the model gives one.
struct ValueMeta {
  std::string name;
  DType dtype = DType::Undefined;
  bool has_shape = false;
  Shape shape;
  std::vector<std::string> dim_names;
};

// What `normrt info` prints; made without requiring every op to be supported.
struct ModelSummary {
  std::string path;
  int64_t ir_version = 0;
  std::string producer;
  std::vector<std::pair<std::string, int64_t>> opsets;  // domain ("" = ai.onnx), version
  std::vector<ValueMeta> inputs, outputs;
  size_t initializer_count = 0;
  std::vector<std::pair<std::string, int>> op_counts;  // "domain::Op" or "Op", count
  std::vector<std::string> unsupported;                // "Op (domain ai.onnx, opset 11)"
};

ModelSummary summarize_model(const std::string& path);

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
};
struct RunProfile {
  double total_us = 0;
  std::vector<NodeProfile> nodes;  // in plan (topological) order
};

class Session {
 public:
  explicit Session(const std::string& model_path, SessionOptions options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  const std::vector<ValueMeta>& inputs() const;
  const std::vector<ValueMeta>& outputs() const;
  int threads() const;

  // Runs the model. Every graph input must be given by name with the declared
  // dtype and a shape that fits the declared one. Returns the graph outputs in
  // declaration order. Safe to call from several threads at once.
  NamedTensors run(const NamedTensors& inputs) const;
  // The same, also recording per-node timings into `profile` (if not null).
  NamedTensors run(const NamedTensors& inputs, RunProfile* profile) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Name of the vector instruction set the normalization kernels use now.
// "Release", "Debug", ... as built.
const char* build_type();
const char* active_isa();
const char* version();

}  // namespace normrt
