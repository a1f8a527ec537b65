// The op registry: a (domain, op_type) → plan-function table with the ONNX
// since-versions each op implements. Each op family adds its ops here.
#include <algorithm>
#include <cstring>

#include "fp16.h"
#include "op.h"
#include "tensor_limit.h"

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
void register_attention_ops(OpRegistry& r);
void register_unary_ops(OpRegistry& r);
void register_logic_ops(OpRegistry& r);
void register_softmax_ops(OpRegistry& r);
void register_data_movement_ops(OpRegistry& r);
void register_search_scan_ops(OpRegistry& r);
void register_conv_ops(OpRegistry& r);
void register_pool_ops(OpRegistry& r);
void register_pad_ops(OpRegistry& r);
void register_resize_ops(OpRegistry& r);
void register_lstm(OpRegistry& r);
void register_gru(OpRegistry& r);
void register_rnn(OpRegistry& r);
void register_quantize_linear_ops(OpRegistry& r);
void register_integer_matmul_ops(OpRegistry& r);
void register_integer_conv_ops(OpRegistry& r);
void register_loss_ops(OpRegistry& r);
void register_scatter_ops(OpRegistry& r);
void register_rearrange_ops(OpRegistry& r);
void register_shrink_ops(OpRegistry& r);
void register_bitshift_ops(OpRegistry& r);
void register_eye_like_ops(OpRegistry& r);
void register_det_ops(OpRegistry& r);
void register_einsum_ops(OpRegistry& r);
void register_control_flow_ops(OpRegistry& r);
void register_scan_ops(OpRegistry& r);
void register_data_dependent_ops(OpRegistry& r);
void register_nms_ops(OpRegistry& r);
void register_lrn(OpRegistry& r);
void register_unpool_ops(OpRegistry& r);
void register_grid_sample(OpRegistry& r);
void register_roi_align(OpRegistry& r);
void register_dft_ops(OpRegistry& r);
void register_signal_generators(OpRegistry& r);
void register_random_ops(OpRegistry& r);
void register_tfidf(OpRegistry& r);
void register_string_ops(OpRegistry& r);
void register_sequence_ops(OpRegistry& r);

std::vector<int64_t> int_values(const PlanCtx& c, size_t i, const char* what) {
  const Tensor& t = c.constant_input(i);
  if (t.rank() > 1) c.fail(std::string(what) + " must be a 1-D tensor");
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::Int64)
    std::memcpy(v.data(), t.raw(), v.size() * sizeof(int64_t));
  else if (t.dtype() == DType::Int32)
    for (size_t k = 0; k < v.size(); ++k) v[k] = t.data<int32_t>()[k];
  else
    c.fail(std::string(what) + " must be int64 or int32");
  return v;
}

double float_scalar(const PlanCtx& c, size_t i, const char* what) {
  const Tensor& t = c.constant_input(i);
  if (t.numel() != 1) c.fail(std::string(what) + " must hold one value");
  switch (t.dtype()) {
    case DType::Float32:
      return t.data<float>()[0];
    case DType::Float64:
      return t.data<double>()[0];
    case DType::Float16:
      return half_to_float(t.data<uint16_t>()[0]);
    case DType::BFloat16:
      return bfloat16_to_float(t.data<uint16_t>()[0]);
    default:
      c.fail(std::string(what) + " must be a float tensor");
  }
}

int64_t checked_add(const PlanCtx& c, int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    c.fail(std::string(what) + " overflows int64 (" + std::to_string(a) + " + " + std::to_string(b) + ")");
  return r;
}

int64_t checked_mul(const PlanCtx& c, int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    c.fail(std::string(what) + " overflows int64 (" + std::to_string(a) + " · " + std::to_string(b) + ")");
  return r;
}

int64_t normalize_axis(const PlanCtx& c, int64_t axis, int64_t rank, const char* what) {
  if (axis < -rank || axis >= rank)
    c.fail(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

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

void require_within_tensor_limit(uint64_t bytes, const std::string& what, DType dtype, const Shape& shape) {
  if (bytes > max_tensor_bytes())
    throw Error(ErrorCode::InvalidArgument, what + " " + dtype_name(dtype) + shape_str(shape) + " needs " +
                                                std::to_string(bytes) + " bytes, over the limit of " +
                                                std::to_string(max_tensor_bytes()));
}

void PlanCtx::set_output(size_t i, DType dtype, Shape shape) {
  if (i >= out.size()) fail("has no output " + std::to_string(i));
  uint64_t bytes = 0;
  try {
    bytes = static_cast<uint64_t>(shape_numel(shape, dtype)) * dtype_size(dtype);  // rejects negative dims, overflow
  } catch (const Error& e) {
    fail(std::string("output ") + std::to_string(i) + ": " + e.what());
  }
  // The per-tensor limit now, before the op builds tables the size of its
  // output (Resize's taps); the plan checks every value again.
  require_within_tensor_limit(bytes, node.where() + ": output " + std::to_string(i), dtype, shape);
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

void PlanCtx::output_shapes_at_run_time() {
  if (!run_time_shapes_ok)
    throw OutputShapeAtRunTime(node.where() + ": output shapes depend on input values (known only at run time)");
  outputs_sized_by_kernel = true;
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
  ops_.push_back(OpDef{std::move(domain), std::move(op_type), std::move(since), plan, {}});
}

void OpRegistry::set_native_narrow_floats(const std::string& domain, std::initializer_list<const char*> op_types,
                                          std::vector<DType> dtypes) {
  for (const char* op : op_types) {
    auto it =
        std::find_if(ops_.begin(), ops_.end(), [&](const OpDef& d) { return d.domain == domain && d.op_type == op; });
    if (it == ops_.end()) throw Error(ErrorCode::Internal, std::string("set_native_narrow_floats: no op ") + op);
    it->native_narrow_floats = dtypes;
  }
}

void OpRegistry::set_string_plan(const std::string& domain, std::initializer_list<const char*> op_types, PlanFn plan) {
  for (const char* op : op_types) {
    auto it =
        std::find_if(ops_.begin(), ops_.end(), [&](const OpDef& d) { return d.domain == domain && d.op_type == op; });
    if (it == ops_.end()) throw Error(ErrorCode::Internal, std::string("set_string_plan: no op ") + op);
    it->plan_strings = plan ? plan : it->plan;
  }
}

void OpRegistry::set_takes_sequences(const std::string& domain, std::initializer_list<const char*> op_types) {
  for (const char* op : op_types) {
    auto it =
        std::find_if(ops_.begin(), ops_.end(), [&](const OpDef& d) { return d.domain == domain && d.op_type == op; });
    if (it == ops_.end()) throw Error(ErrorCode::Internal, std::string("set_takes_sequences: no op ") + op);
    it->takes_sequences = true;
  }
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
    register_attention_ops(r);
    register_unary_ops(r);
    register_logic_ops(r);
    register_softmax_ops(r);
    register_data_movement_ops(r);
    register_search_scan_ops(r);
    register_conv_ops(r);
    register_pool_ops(r);
    register_pad_ops(r);
    register_resize_ops(r);
    register_lstm(r);
    register_gru(r);
    register_rnn(r);
    register_quantize_linear_ops(r);
    register_integer_matmul_ops(r);
    register_integer_conv_ops(r);
    register_loss_ops(r);
    register_scatter_ops(r);
    register_rearrange_ops(r);
    register_shrink_ops(r);
    register_bitshift_ops(r);
    register_eye_like_ops(r);
    register_det_ops(r);
    register_einsum_ops(r);
    register_control_flow_ops(r);
    register_scan_ops(r);
    register_data_dependent_ops(r);
    register_nms_ops(r);
    register_lrn(r);
    register_unpool_ops(r);
    register_grid_sample(r);
    register_roi_align(r);
    register_dft_ops(r);
    register_signal_generators(r);
    register_random_ops(r);
    register_tfidf(r);
    register_sequence_ops(r);
    register_string_ops(r);  // also lets the ops above that can take string tensors (after them)
    // Ops that move float16/bfloat16 elements as they are (by size), and ops
    // that compute float16 themselves; every other op computes narrow floats
    // in float32 (plan_node).
    const std::vector<DType> both{DType::Float16, DType::BFloat16};
    r.set_native_narrow_floats("", {"Constant", "Shape",           "Size",         "Cast",         "CastLike",
                                    "Reshape",  "Flatten",         "Squeeze",      "Unsqueeze",    "Slice",
                                    "Concat",   "ConstantOfShape", "Identity",     "Dropout",      "Transpose",
                                    "Gather",   "GatherElements",  "GatherND",     "Split",        "Expand",
                                    "Tile",     "Trilu",           "DepthToSpace", "SpaceToDepth", "ReverseSequence",
                                    "Where",    "EyeLike",         "Pad",          "If",           "Loop",
                                    "Scan"},
                               both);
    const std::vector<DType> f16{DType::Float16};
    r.set_native_narrow_floats("",
                               {"QuantizeLinear", "DequantizeLinear", "LayerNormalization", "BatchNormalization",
                                "InstanceNormalization", "RMSNormalization", "SimplifiedLayerNormalization",
                                "GroupNormalization", "LpNormalization", "MeanVarianceNormalization"},
                               f16);
    r.set_native_narrow_floats("ai.normrt",
                               {"LayerNormalization", "LayerNormSimple", "AdaNorm", "BatchNormalization",
                                "RMSNormalization", "SkipLayerNormalization"},
                               f16);
    r.set_native_narrow_floats(
        "com.microsoft", {"SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "SimplifiedLayerNormalization"},
        f16);
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
