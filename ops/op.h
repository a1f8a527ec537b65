// What an operator provides: one plan function per op. At session creation the
// planner calls it with the node, the concrete input dtypes/shapes (and the
// values of inputs known then); it checks the node, sets each output's dtype and
// shape, and returns the kernel that runs it — with anything it could
// precompute (folded BatchNorm scale/shift, broadcast strides) captured inside.
#pragma once
#include <functional>
#include <string>
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
};

class OpRegistry {
 public:
  void add(std::string domain, std::string op_type, std::vector<int64_t> since_versions, PlanFn plan);
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

// Explains why (domain, op_type) at `opset` cannot run, or "" if it can.
std::string unsupported_reason(const std::string& domain, const std::string& op_type, int64_t opset);

}  // namespace normrt
