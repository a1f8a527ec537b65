// Plan: the graph specialised to one set of input shapes — every value's dtype
// and shape known, values computable from constants and shapes folded away,
// and the remaining nodes as steps with their kernels and dependencies.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../core/graph.h"
#include "../ops/op.h"

namespace normrt {

struct PlanStep {
  const Node* node = nullptr;
  Kernel kernel;
  bool outputs_alias_inputs = false;
  bool outputs_sized_by_kernel = false;  // only in node-by-node runs: the kernel allocates its outputs
  std::string detail;                    // how the node runs (PlanCtx::detail), for profiles
  std::vector<int> in, out;              // value ids; -1 = absent (in: the node's inputs, then its implicit inputs)
  std::vector<DType> out_dtype;
  std::vector<Shape> out_shape;
  std::vector<int> successors;  // step indices
  int num_predecessors = 0;
};

struct Plan {
  // Set when some output shape of this input signature is only known at run
  // time: the plan then has no steps and the session runs the graph node by
  // node (dynamic_executor.h); input_ids/output_ids are still filled.
  bool node_by_node = false;
  int num_values = 0;
  std::vector<Tensor> constants;  // by value id; defined() when known at planning time
  std::vector<PlanStep> steps;    // topological order
  std::vector<int> input_ids, output_ids;
  std::vector<int> reads;             // how many steps read each value
  std::vector<uint64_t> value_bytes;  // size of every value (for profiles)
  std::vector<DType> value_dtype;     // every value's planned dtype and shape
  std::vector<Shape> value_shape;
  std::vector<char> is_graph_output;
  bool has_parallel_branches = false;
  // Static memory plan (memory_plan.cpp): per value, its byte offset in the
  // run's workspace, or -1 when it is not placed there (graph outputs,
  // constants, re-views, buffers that escape to the caller).
  std::vector<int64_t> arena_offset;
  uint64_t arena_bytes = 0;         // the workspace: planned peak of intermediate memory
  uint64_t intermediate_bytes = 0;  // the same buffers without sharing
};

// Fills the plan's arena_offset / arena_bytes (called by make_plan).
void plan_memory(Plan& plan);

// Value names → dense ids, made once per session. The values of If branches
// (which the planner inlines when the condition is known) get ids of their own
// in `scoped`, keyed by (branch, name), named "If_node/then_branch/name".
struct ValueIndex {
  std::unordered_map<std::string, int> id;
  std::vector<std::string> name;
  std::map<std::pair<const Graph*, std::string>, int> scoped;
  int get(const std::string& n) const { return n.empty() ? -1 : id.at(n); }
};
// g's inputs come first (then g.outer_reads for a subgraph), in order.
ValueIndex index_values(const Graph& g);

// Throws Error naming the node when an op is unsupported or shapes do not fit.
// `input_values[i]`, when not null, makes graph input i a planning-time
// constant (the plan is then valid only for that value).
// `kernels` are the kernel tables (ISA path) the plan's kernels use.
// `refused` (for `normrt info`): instead of throwing, each node whose op
// refuses its inputs (UnsupportedOp: a dtype or variant normrt cannot run)
// adds a line there, and it and the nodes after it that read its outputs are
// left out; the plan is then incomplete and not for running.
std::shared_ptr<const Plan> make_plan(const Graph& g, const ValueIndex& index, const std::vector<Shape>& input_shapes,
                                      const std::vector<const Tensor*>& input_values, const KernelSet& kernels,
                                      std::vector<std::string>* refused = nullptr);

// What `normrt info` lists beside unimplemented ops: every (op, opset, input
// dtypes) that planning refuses, found by planning `g` with its declared input
// shapes (unknown dims as 1). Nodes that fail for other reasons are skipped.
std::vector<std::string> refused_nodes(Graph g, const KernelSet& kernels);

struct PlanOptions {
  // Constant folding's use: a node whose output shapes are known only at run
  // time (and everything computed from it) is left out instead of failing.
  bool partial = false;
  // `normrt info` (refused_nodes): each node whose op refuses its inputs adds
  // a line here and is left out with whatever reads it; nothing throws.
  std::vector<std::string>* refused = nullptr;
};
// The same for any graph or subgraph: `inputs` describes g.inputs followed by
// g.outer_reads (a value, where given, is shared, not copied).
// Throws OutputShapeAtRunTime when some output shape depends on data.
std::shared_ptr<const Plan> make_plan(const Graph& g, const ValueIndex& index, const std::vector<ValueDesc>& inputs,
                                      const KernelSet& kernels, const PlanOptions& options = {});

// Runs one step: allocates its outputs (unless it aliases inputs), runs the
// kernel and checks the outputs came out as planned.
// `bound` (optional, per value id) gives caller tensors that outputs are written into.
// `arena` (optional) is the run's workspace: outputs with an arena_offset are placed there.
void run_plan_step(const PlanStep& step, const std::vector<Tensor>& constants, std::vector<Tensor>& values,
                   const std::vector<Tensor*>* bound = nullptr, const Plan* plan = nullptr, char* arena = nullptr);

// Runs the plan's steps. `values` has num_values slots with the graph inputs
// filled; on return it holds the graph outputs. Intermediates are released as
// soon as their last reader finishes.
// `timings`, when given, has one slot per step and receives each step's start
// (from the run's start), duration and thread.
struct StepTiming {
  double start_us = 0, duration_us = 0;
  int thread = 0;
};
// `scratch` (optional) holds per-run state that only grows, reused across runs.
struct RunScratch;
void execute_plan(const Plan& plan, std::vector<Tensor>& values, bool inter_op, StepTiming* timings = nullptr,
                  const std::vector<Tensor*>* bound = nullptr, char* arena = nullptr, RunScratch* scratch = nullptr);

struct RunScratch {
  std::unique_ptr<std::atomic<int>[]> pending, reads_left;
  size_t pending_size = 0, reads_size = 0;
};

}  // namespace normrt
