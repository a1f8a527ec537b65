// Narrow floats (float16, bfloat16) for every float op. An op that does not
// compute in the narrow type itself (OpDef::native_narrow_floats) is planned
// with its narrow inputs seen as float32: constant ones are widened once here,
// the others on every run; its float32 outputs that take the node's narrow
// type are rounded back after the kernel. That is the node wrapped in
// Cast(→float32) on its inputs and Cast(→narrow) on its outputs, so each op
// rounds its result once, as ONNX's per-op typing implies. Passes over memory
// per run: one widening read/write per runtime narrow input, one rounding
// read/write per narrow output, beside the op's own.
#include <algorithm>
#include <memory>

#include "op.h"

namespace normrt {

bool is_narrow_float(DType t) { return t == DType::Float16 || t == DType::BFloat16; }

namespace {

void widen(const Tensor& src, Tensor& dst) {
  const uint16_t* s = src.data<uint16_t>();
  float* d = dst.data<float>();
  const int64_t n = src.numel();
  if (src.dtype() == DType::Float16)
    for (int64_t i = 0; i < n; ++i) d[i] = half_to_float(s[i]);
  else
    for (int64_t i = 0; i < n; ++i) d[i] = bfloat16_to_float(s[i]);
}

void narrow(const Tensor& src, Tensor& dst) {
  const float* s = src.data<float>();
  uint16_t* d = dst.data<uint16_t>();
  const int64_t n = src.numel();
  if (dst.dtype() == DType::Float16)
    for (int64_t i = 0; i < n; ++i) d[i] = float_to_half(s[i]);
  else
    for (int64_t i = 0; i < n; ++i) d[i] = float_to_bfloat16(s[i]);
}

Tensor widened(const Tensor& t) {
  Tensor r = Tensor::uninitialized(DType::Float32, t.shape());
  widen(t, r);
  return r;
}

Tensor narrowed(const Tensor& t, DType to) {
  Tensor r = Tensor::uninitialized(to, t.shape());
  narrow(t, r);
  return r;
}

// The input whose type the node's float outputs have (ONNX's shared type
// constraint): input 0 when it is a float (X of Resize with float scales, the
// base of Pow), else the first narrow input (Where's X after its bool
// condition); OneHot's outputs take the type of its values, input 2.
DType output_narrow_type(const PlanCtx& c) {
  if (c.node.domain.empty() && c.node.op_type == "OneHot")
    return c.has_input(2) && is_narrow_float(c.in[2].dtype) ? c.in[2].dtype : DType::Undefined;
  if (c.has_input(0) && dtype_is_float(c.in[0].dtype))
    return is_narrow_float(c.in[0].dtype) ? c.in[0].dtype : DType::Undefined;
  for (const ValueDesc& d : c.in)
    if (d.present && is_narrow_float(d.dtype)) return d.dtype;
  return DType::Undefined;
}

// Outputs whose type is not the node's T: LayerNormalization's Mean and
// InvStdDev (and those of its fused forms) are float32 (stash_type).
bool keeps_float32(const Node& n, size_t output) {
  const std::string& op = n.op_type;
  if (op == "LayerNormalization" || op == "SkipLayerNormalization" || op == "SkipSimplifiedLayerNormalization")
    return output == 1 || output == 2;
  if (op == "SimplifiedLayerNormalization") return output == 1;
  return false;
}

struct Widening {
  std::vector<size_t> runtime_inputs;   // narrow inputs widened on every run
  std::vector<Tensor> constant_inputs;  // by input index: float32 copies made at planning (else undefined)
  std::vector<size_t> narrow_outputs;   // float32 outputs rounded to `narrow`
  DType narrow = DType::Undefined;
  bool outputs_alias_inputs = false;  // the op's kernel assigns its outputs itself
};

void run_widened(const Widening& w, const Kernel& inner, KernelIO& io) {
  KernelIO wio{io.in, io.out};
  std::vector<Tensor> in32(w.runtime_inputs.size());
  for (size_t k = 0; k < w.runtime_inputs.size(); ++k) {
    const size_t i = w.runtime_inputs[k];
    in32[k] = widened(*io.in[i]);
    wio.in[i] = &in32[k];
  }
  for (size_t i = 0; i < w.constant_inputs.size(); ++i)
    if (w.constant_inputs[i].defined()) wio.in[i] = &w.constant_inputs[i];
  if (w.outputs_alias_inputs) {  // the op assigns its outputs; round the narrow ones into new tensors
    std::vector<Tensor> out(io.out.size());
    for (size_t j = 0; j < io.out.size(); ++j) wio.out[j] = io.out[j] ? &out[j] : nullptr;
    inner(wio);
    for (size_t j = 0; j < io.out.size(); ++j)
      if (io.out[j]) *io.out[j] = std::move(out[j]);
    for (size_t j : w.narrow_outputs) *io.out[j] = narrowed(*io.out[j], w.narrow);
    return;
  }
  std::vector<Tensor> out32(w.narrow_outputs.size());
  for (size_t k = 0; k < w.narrow_outputs.size(); ++k) {
    const size_t j = w.narrow_outputs[k];
    out32[k] = Tensor::uninitialized(DType::Float32, io.out[j]->shape());
    wio.out[j] = &out32[k];
  }
  inner(wio);
  for (size_t k = 0; k < w.narrow_outputs.size(); ++k) narrow(out32[k], *io.out[w.narrow_outputs[k]]);
}

}  // namespace

namespace {
void plan_numeric(const OpDef& def, PlanCtx& c);
}

bool reads_strings(const PlanCtx& c) {
  for (const ValueDesc& d : c.in)
    if (d.present && d.dtype == DType::String) return true;
  for (const ValueDesc& d : c.implicit_in)
    if (d.present && d.dtype == DType::String) return true;
  return false;
}

void plan_node(const OpDef& def, PlanCtx& c) {
  if (reads_strings(c)) {
    if (!def.plan_strings) c.unsupported("string tensors are not supported by " + c.node.op_type);
    return def.plan_strings(c);
  }
  plan_numeric(def, c);
  if (!def.plan_strings)
    for (const ValueDesc& d : c.out)
      if (d.present && d.dtype == DType::String) c.unsupported("string tensors are not supported by " + c.node.op_type);
}

namespace {

void plan_numeric(const OpDef& def, PlanCtx& c) {
  if (!def.takes_sequences)
    for (size_t i = 0; i < c.in.size(); ++i)
      if (c.in[i].present && c.in[i].dtype == kBoxedDType)
        c.fail("input " + std::to_string(i) + " is a sequence or an optional; " + c.node.op_type + " takes tensors");
  bool widen_any = false;
  for (const ValueDesc& d : c.in)
    if (d.present && is_narrow_float(d.dtype) &&
        std::find(def.native_narrow_floats.begin(), def.native_narrow_floats.end(), d.dtype) ==
            def.native_narrow_floats.end())
      widen_any = true;
  if (!widen_any) return def.plan(c);

  auto w = std::make_shared<Widening>();
  w->narrow = output_narrow_type(c);
  DType from = DType::Undefined;  // for the profile note
  w->constant_inputs.resize(c.in.size());
  for (size_t i = 0; i < c.in.size(); ++i) {
    ValueDesc& d = c.in[i];
    if (!d.present || !is_narrow_float(d.dtype)) continue;
    from = d.dtype;
    d.dtype = DType::Float32;
    if (d.value) {
      w->constant_inputs[i] = widened(*d.value);
      d.value = &w->constant_inputs[i];
    } else {
      w->runtime_inputs.push_back(i);
    }
  }
  def.plan(c);
  w->outputs_alias_inputs = c.outputs_alias_inputs;
  for (size_t j = 0; j < c.out.size(); ++j) {
    if (!c.out[j].present || c.out[j].dtype != DType::Float32 || w->narrow == DType::Undefined ||
        keeps_float32(c.node, j))
      continue;
    c.out[j].dtype = w->narrow;
    w->narrow_outputs.push_back(j);
  }
  if (!c.out_value.empty()) {  // answered at planning time: round the values themselves
    for (size_t j : w->narrow_outputs)
      if (j < c.out_value.size() && c.out_value[j].defined()) c.out_value[j] = narrowed(c.out_value[j], w->narrow);
    return;
  }
  if (!c.kernel) return;
  c.detail = (c.detail.empty() ? "" : c.detail + "; ") + "computed in float32 from " + dtype_name(from);
  c.kernel = [w, inner = std::move(c.kernel)](KernelIO& io) { run_widened(*w, inner, io); };
}

}  // namespace

}  // namespace normrt
