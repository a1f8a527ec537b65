// What an operator provides: one plan function per op. At session creation the
// planner calls it with the node, the concrete input dtypes/shapes (and the
// values of inputs known then); it checks the node, sets each output's dtype and
// shape, and returns the kernel that runs it — with anything it could
// precompute (folded BatchNorm scale/shift, broadcast strides) captured inside.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/graph.h"

namespace normrt {

struct ValueDesc {
  bool present = false;
  DType dtype = DType::Undefined;
  Shape shape;
  const Tensor* value = nullptr;  // set when the value is known at planning time
};

// The tensors a kernel reads and writes; absent optional ones are nullptr.
// Outputs arrive allocated with their planned dtype and shape, except for ops
// that set `outputs_alias_inputs` (they assign the output tensors themselves).
struct KernelIO {
  std::vector<const Tensor*> in;
  std::vector<Tensor*> out;
};
using Kernel = std::function<void(KernelIO&)>;

struct KernelSet;
class SubgraphPlanner;

// Values derived from constants (packed weights) that nodes reading the same
// constant share: an unrolled recurrent net's steps all read one W_h, packed
// once instead of once per step. One store per plan (the planner owns it);
// an entry keeps its source's buffer alive, so no other constant can take
// the same address while the store lives.
class DerivedConstants {
 public:
  // What make() builds from `source` for `what` (naming the derivation and
  // its parameters), built on the first call with that source and key.
  template <class T, class Make>
  std::shared_ptr<const T> get(const Tensor& source, const std::string& what, Make&& make) {
    std::string key = what;
    key += '|';
    key += dtype_name(source.dtype());
    for (int64_t d : source.shape()) {
      key += ',';
      key += std::to_string(d);
    }
    Entry& e = entries_[{source.raw(), key}];
    if (!e.value) {
      e.pin = source;
      e.value = std::make_shared<const T>(make());
    }
    return std::static_pointer_cast<const T>(e.value);
  }

 private:
  struct Entry {
    Tensor pin;
    std::shared_ptr<const void> value;
  };
  std::map<std::pair<const void*, std::string>, Entry> entries_;
};

struct PlanCtx {
  const Node& node;
  int64_t version;           // the op version in force: the largest since-version <= the model's opset
  const KernelSet* kernels;  // the session's kernel tables (its ISA path; kernel_set.h)
  std::vector<ValueDesc> in;
  std::vector<ValueDesc> out;  // the op fills dtype and shape of each present output
  Kernel kernel;
  bool outputs_alias_inputs = false;
  // Ops whose outputs depend only on shapes (Shape, Size) or attributes
  // (Constant) give their values here; the planner then keeps them as
  // constants and schedules no kernel.
  std::vector<Tensor> out_value;
  // A short note on how this node runs, e.g. Conv's path; shown by profiles.
  std::string detail;
  // Nodes with subgraphs: descriptions of node.implicit_inputs (the values of
  // enclosing scopes their subgraphs read); the kernel finds them in
  // KernelIO::in after the node's own inputs, in the same order.
  std::vector<ValueDesc> implicit_in;
  const SubgraphPlanner* subgraphs = nullptr;  // prepares subgraphs to run (If, Loop, Scan)
  // Set by the node-by-node executor (plan/dynamic_executor.cpp): an op may
  // then leave its output shapes to the kernel (output_shapes_at_run_time).
  bool run_time_shapes_ok = false;
  bool outputs_sized_by_kernel = false;
  // Set by ops that draw random numbers: the planner never folds them (even
  // with every input known), so they run on every Session::run.
  bool draws_random = false;
  // The plan's store of derived constants (nullptr: each node derives its own).
  DerivedConstants* derived = nullptr;

  size_t num_inputs() const { return in.size(); }
  bool has_input(size_t i) const { return i < in.size() && in[i].present; }
  bool has_output(size_t i) const { return i < out.size() && out[i].present; }
  const ValueDesc& input(size_t i) const;        // throws if a required input is absent
  const Tensor& constant_input(size_t i) const;  // throws unless known at planning time
  void set_output(size_t i, DType dtype, Shape shape);
  void set_output_value(size_t i, Tensor value);
  [[noreturn]] void fail(const std::string& msg) const;         // Error(InvalidModel) naming the node
  [[noreturn]] void unsupported(const std::string& msg) const;  // Error(UnsupportedOp)
  void require_inputs(size_t min, size_t max) const;
  void require_dtype(size_t input, std::initializer_list<DType> allowed) const;
  // For ops whose output shapes depend on input values (NonZero, Unique, Loop…):
  // the kernel allocates its outputs (assigns the KernelIO::out tensors) and the
  // op sets only the outputs' dtypes. Throws OutputShapeAtRunTime when planning
  // a static plan, so that the session runs such inputs node by node.
  void output_shapes_at_run_time();
};

// make() once per (source, what) in the plan's store, or afresh without one.
template <class T, class Make>
std::shared_ptr<const T> derived_constant(const PlanCtx& c, const Tensor& source, const std::string& what,
                                          Make&& make) {
  if (!c.derived) return std::make_shared<const T>(make());
  return c.derived->get<T>(source, what, std::forward<Make>(make));
}

// Thrown while making a static plan when some output shape is only known at
// run time (it depends on data). The session then runs that input signature
// node by node (plan/dynamic_executor.cpp).
class OutputShapeAtRunTime : public Error {
 public:
  explicit OutputShapeAtRunTime(const std::string& message) : Error(ErrorCode::UnsupportedOp, message) {}
};

// ---- Subgraphs (If, Loop, Scan) ------------------------------------------
// ops/ may not include plan/: the planner gives control-flow ops a
// SubgraphPlanner in PlanCtx, and they run their subgraphs through it.

// A subgraph ready to run.
class PreparedSubgraph {
 public:
  virtual ~PreparedSubgraph() = default;
  // True when every output's dtype and shape was known when it was prepared
  // (a static plan of the subgraph): out_dtype/out_shape hold them. Otherwise
  // it runs node by node and the outputs are what comes out.
  bool static_shapes = false;
  std::vector<DType> out_dtype;
  std::vector<Shape> out_shape;
  // `inputs`: the subgraph's inputs in order; `outer`: the values of
  // body.outer_reads in order. `outputs` gets one tensor per subgraph output;
  // an output that arrives defined (its planned dtype and shape) is written in place.
  virtual void run(const std::vector<const Tensor*>& inputs, const std::vector<const Tensor*>& outer,
                   std::vector<Tensor>& outputs) const = 0;
};

class SubgraphPlanner {
 public:
  virtual ~SubgraphPlanner() = default;
  // `inputs` describes body.inputs, `outer` body.outer_reads (dtype, shape, and
  // the value where known). With `fixed_shapes` the subgraph will always run
  // with these shapes and a static plan of it is tried first; otherwise (a Loop
  // body whose state may change shape) it runs node by node.
  virtual std::shared_ptr<const PreparedSubgraph> prepare(const Graph& body, const std::vector<ValueDesc>& inputs,
                                                          const std::vector<ValueDesc>& outer,
                                                          bool fixed_shapes) const = 0;
};

// Thrown when an op needs the value of an input that is not known at planning
// time. When that value is a graph input, the session re-plans with the
// input's value as part of the plan key (ONNX tests feed Reshape shapes and
// Slice starts as inputs); otherwise it stays an UnsupportedOp error.
class NeedsInputValue : public Error {
 public:
  NeedsInputValue(const std::string& value, const std::string& message)
      : Error(ErrorCode::UnsupportedOp, message), value_(value) {}
  const std::string& value() const { return value_; }

 private:
  std::string value_;
};

// The int64/int32 values of a 1-D input known at planning time (shape, axes,
// pads, repeats...); fails naming `what` otherwise.
std::vector<int64_t> int_values(const PlanCtx& c, size_t input, const char* what);
// The value of a one-element float input (float32/64/16, bfloat16) known at
// planning time; fails naming `what` otherwise.
double float_scalar(const PlanCtx& c, size_t input, const char* what);
// a + b and a · b on int64 values that come from the model (attributes,
// constant inputs, shapes): Error(InvalidModel) naming the node and `what`
// when the result does not fit in int64 (never signed-overflow UB).
int64_t checked_add(const PlanCtx& c, int64_t a, int64_t b, const char* what);
int64_t checked_mul(const PlanCtx& c, int64_t a, int64_t b, const char* what);
// An ONNX data type code from an int64 attribute (Cast's to, output_dtype):
// a value outside int's range is -1 (no type), never truncated into a valid code.
inline int onnx_type_attr(int64_t code) { return code >= 0 && code <= 0x7fffffff ? static_cast<int>(code) : -1; }
// axis in [-rank, rank) → [0, rank); fails naming `what` otherwise.
int64_t normalize_axis(const PlanCtx& c, int64_t axis, int64_t rank, const char* what = "axis");

using PlanFn = void (*)(PlanCtx&);

struct OpDef {
  std::string domain;
  std::string op_type;
  std::vector<int64_t> since_versions;  // ascending: the spec versions normrt implements
  PlanFn plan;
  // The narrow floats (float16, bfloat16) the op reads and writes itself. For
  // any other, the planner widens its inputs to float32 and rounds its float
  // outputs back (plan_node, narrow_floats.cpp).
  std::vector<DType> native_narrow_floats;
  // Plans the node when it reads string tensors; also lets the op make them.
  // nullptr: the op refuses string inputs and outputs (plan_node; strings.cpp).
  PlanFn plan_strings = nullptr;
  // Whether the op takes sequences and optionals (boxed values, core/boxed_value.h);
  // plan_node refuses them for every other op.
  bool takes_sequences = false;
};

class OpRegistry {
 public:
  void add(std::string domain, std::string op_type, std::vector<int64_t> since_versions, PlanFn plan);
  // Declares the narrow floats that already-added ops handle natively.
  void set_native_narrow_floats(const std::string& domain, std::initializer_list<const char*> op_types,
                                std::vector<DType> dtypes);
  // Lets already-added ops read and make string tensors: planned by `plan`,
  // or by their own plan function when `plan` is nullptr.
  void set_string_plan(const std::string& domain, std::initializer_list<const char*> op_types, PlanFn plan);
  // Marks already-added ops as taking sequences and optionals (OpDef::takes_sequences).
  void set_takes_sequences(const std::string& domain, std::initializer_list<const char*> op_types);
  const OpDef* find(const std::string& domain, const std::string& op_type) const;
  // The version in force for `opset`, or -1 when the opset predates every
  // implemented version or is newer than normrt knows for that domain.
  int64_t resolve(const OpDef& def, int64_t opset) const;
  std::vector<const OpDef*> all() const;

 private:
  std::vector<OpDef> ops_;
};

// The one registry: every op family registers itself in registry.cpp.
const OpRegistry& op_registry();

// Newest ai.onnx opset whose operator versions normrt tracks.
inline constexpr int64_t kMaxOnnxOpset = 23;

// Plans one node: def.plan(c), except that when the node reads float16 or
// bfloat16 values the op does not compute in (OpDef::native_narrow_floats),
// those inputs are widened to float32 (constants once, here) and its float32
// outputs are rounded to the narrow type after every run — per-op rounding,
// as if the node were wrapped in Casts.
void plan_node(const OpDef& def, PlanCtx& c);
bool is_narrow_float(DType t);  // float16 or bfloat16
// String tensors: a node that reads one is planned by OpDef::plan_strings,
// and a node of an op without one that would make one is refused.
bool reads_strings(const PlanCtx& c);

// Explains why (domain, op_type) at `opset` cannot run, or "" if it can.
std::string unsupported_reason(const std::string& domain, const std::string& op_type, int64_t opset);

}  // namespace normrt
