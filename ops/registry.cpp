// The op registry: a (domain, op_type) → plan-function table with the ONNX
// since-versions each op implements. Each op family adds its ops here.
#include <algorithm>

#include "op.h"

namespace normrt {

void register_layer_norm(OpRegistry& r);
void register_batch_norm(OpRegistry& r);
void register_instance_norm(OpRegistry& r);
void register_rms_norm(OpRegistry& r);
void register_skip_norm(OpRegistry& r);
void register_group_norm(OpRegistry& r);
void register_lp_norm(OpRegistry& r);
void register_mean_variance_norm(OpRegistry& r);
void register_elementwise_ops(OpRegistry& r);
void register_reduce_ops(OpRegistry& r);
void register_shape_ops(OpRegistry& r);
void register_matmul_ops(OpRegistry& r);

const ValueDesc& PlanCtx::input(size_t i) const {
  if (!has_input(i)) fail("required input " + std::to_string(i) + " is missing");
  return in[i];
}

const Tensor& PlanCtx::constant_input(size_t i) const {
  const ValueDesc& d = input(i);
  if (!d.value)
    throw NeedsInputValue(node.inputs[i], node.where() + ": input " + std::to_string(i) + " ('" + node.inputs[i] +
                                              "') must be known at session creation (a constant, a value computed "
                                              "from shapes, or a graph input)");
  return *d.value;
}

void PlanCtx::set_output(size_t i, DType dtype, Shape shape) {
  if (i >= out.size()) fail("has no output " + std::to_string(i));
  try {
    shape_numel(shape, dtype);  // rejects negative dims and overflow
  } catch (const Error& e) {
    fail(std::string("output ") + std::to_string(i) + ": " + e.what());
  }
  out[i].dtype = dtype;
  out[i].shape = std::move(shape);
}

void PlanCtx::set_output_value(size_t i, Tensor value) {
  set_output(i, value.dtype(), value.shape());
  out_value.resize(out.size());
  out_value[i] = std::move(value);
}

void PlanCtx::fail(const std::string& msg) const { throw Error(ErrorCode::InvalidModel, node.where() + ": " + msg); }

void PlanCtx::unsupported(const std::string& msg) const {
  throw Error(ErrorCode::UnsupportedOp, node.where() + ": " + msg);
}

void PlanCtx::require_inputs(size_t min, size_t max) const {
  if (in.size() < min || in.size() > max)
    fail("takes " + std::to_string(min) + (min == max ? "" : " to " + std::to_string(max)) + " inputs, got " +
         std::to_string(in.size()));
  for (size_t i = 0; i < min; ++i) input(i);
}

void PlanCtx::require_dtype(size_t i, std::initializer_list<DType> allowed) const {
  DType t = input(i).dtype;
  std::string names;
  for (DType a : allowed) {
    if (a == t) return;
    names += std::string(names.empty() ? "" : ", ") + dtype_name(a);
  }
  unsupported("input " + std::to_string(i) + " has dtype " + dtype_name(t) + "; supported: " + names);
}

void OpRegistry::add(std::string domain, std::string op_type, std::vector<int64_t> since, PlanFn plan) {
  ops_.push_back(OpDef{std::move(domain), std::move(op_type), std::move(since), plan});
}

const OpDef* OpRegistry::find(const std::string& domain, const std::string& op_type) const {
  const std::string& d = domain == "ai.onnx" ? std::string() : domain;
  for (auto& op : ops_)
    if (op.domain == d && op.op_type == op_type) return &op;
  return nullptr;
}

int64_t OpRegistry::resolve(const OpDef& def, int64_t opset) const {
  if (def.domain.empty() && opset > kMaxOnnxOpset) return -1;
  int64_t v = -1;
  for (int64_t s : def.since_versions)
    if (s <= opset) v = s;
  return v;
}

std::vector<const OpDef*> OpRegistry::all() const {
  std::vector<const OpDef*> v;
  for (auto& op : ops_) v.push_back(&op);
  return v;
}

const OpRegistry& op_registry() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_layer_norm(r);
    register_batch_norm(r);
    register_instance_norm(r);
    register_rms_norm(r);
    register_skip_norm(r);
    register_group_norm(r);
    register_lp_norm(r);
    register_mean_variance_norm(r);
    register_elementwise_ops(r);
    register_reduce_ops(r);
    register_shape_ops(r);
    register_matmul_ops(r);
    return r;
  }();
  return registry;
}

std::string unsupported_reason(const std::string& domain, const std::string& op_type, int64_t opset) {
  const std::string dname = domain.empty() ? "ai.onnx" : domain;
  const OpRegistry& r = op_registry();
  const OpDef* def = r.find(domain, op_type);
  if (!def) return op_type + " (domain " + dname + ", opset " + std::to_string(opset) + ") is not implemented";
  if (opset < 0) return op_type + ": the model does not import domain " + dname;
  if (r.resolve(*def, opset) < 0) {
    if (def->domain.empty() && opset > kMaxOnnxOpset)
      return op_type + " (domain " + dname + ", opset " + std::to_string(opset) +
             "): normrt knows ai.onnx opsets up to " + std::to_string(kMaxOnnxOpset);
    return op_type + " (domain " + dname + ", opset " + std::to_string(opset) + "): normrt implements versions from " +
           std::to_string(def->since_versions.front());
  }
  return "";
}

}  // namespace normrt
