// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear (one pass over x
// each, reference loops; DynamicQuantizeLinear's min/max pass and quantize pass
// are the ISA's vector loops, KernelSet::int8):
//   QuantizeLinear:   y = saturate(rint(x / s) + zp)   rint half to even; NaN → zp
//   DequantizeLinear: y = (x − zp) · s
//   DynamicQuantizeLinear: s = (max(0, max x) − min(0, min x)) / 255 (1 when that
//     range is empty: x all zero), zp = rint(clamp(−min(0, min x) / s, 0, 255)),
//     y = QuantizeLinear(x, s, zp) as uint8.
// s and zp are per tensor (one value), per axis (1-D along `axis`) or, from
// opset 21, blocked (x's rank, `block_size` consecutive elements along `axis`
// sharing a value). Element (o, a, i) of x viewed as [outer, x[axis], inner]
// takes parameter o·s_outer + (a / block)·s_axis + i·s_inner.
// Scales must be finite; QuantizeLinear's (it divides) also > 0.
#include <algorithm>
#include <cmath>
#include <limits>

#include "../op.h"
#include "quant_common.h"

namespace normrt {

namespace {

using quant::QRange;

// Where each element of x finds its scale and zero point.
struct ParamLayout {
  int64_t outer = 1, axis_len = 1, inner = 1, block = 1;
  int64_t s_outer = 0, s_axis = 0, s_inner = 0;
};

ParamLayout param_layout(const PlanCtx& c, const Shape& x, const Shape& s) {
  ParamLayout p;
  const int64_t n = shape_numel(x);
  if (c.has_input(2)) {
    const Shape& z = c.input(2).shape;
    const bool both_single = shape_numel(z) == 1 && shape_numel(s) == 1 && z.size() <= 1 && s.size() <= 1;
    if (z != s && !both_single) c.fail("zero point " + shape_str(z) + " must have the scale's shape " + shape_str(s));
  }
  if (shape_numel(s) == 1 && s.size() <= 1) {  // per tensor
    p.outer = n;
    return p;
  }
  const int64_t block_size = c.version >= 21 ? c.node.attr_int("block_size", 0) : 0;
  if (block_size < 0) c.fail("block_size " + std::to_string(block_size) + " must be >= 0");
  if (c.version < 13) c.fail("the scale must be a scalar before opset 13 (got " + shape_str(s) + ")");
  const int64_t rank = static_cast<int64_t>(x.size());
  const int64_t axis = normalize_axis(c, c.node.attr_int("axis", 1), rank);
  p.axis_len = x[axis];
  for (int64_t d = 0; d < axis; ++d) p.outer *= x[d];
  for (int64_t d = axis + 1; d < rank; ++d) p.inner *= x[d];
  if (block_size == 0) {
    if (s.size() != 1 || s[0] != x[axis])
      c.fail("a per-axis scale must be 1-D with x's dim " + std::to_string(axis) + " (" + std::to_string(x[axis]) +
             " values), got " + shape_str(s));
    p.s_axis = 1;
    return p;
  }
  Shape expect = x;
  expect[axis] = x[axis] / block_size + (x[axis] % block_size != 0);  // ⌈dim / block_size⌉, no overflow
  if (s != expect)
    c.fail("a blocked scale for x " + shape_str(x) + ", axis " + std::to_string(axis) + " and block_size " +
           std::to_string(block_size) + " must have shape " + shape_str(expect) + ", got " + shape_str(s));
  p.block = block_size;
  p.s_axis = p.inner;
  p.s_outer = expect[axis] * p.inner;
  p.s_inner = 1;
  return p;
}

// Calls f(element, parameter) for every element of x in order.
template <class F>
void for_each_param(const ParamLayout& p, F&& f) {
  int64_t e = 0;
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t a = 0; a < p.axis_len; ++a) {
      const int64_t base = o * p.s_outer + (a / p.block) * p.s_axis;
      for (int64_t i = 0; i < p.inner; ++i, ++e) f(e, base + i * p.s_inner);
    }
}

// The zero points of input 2 as int32 (zeros when absent), `count` of them.
std::vector<int32_t> zero_points(const KernelIO& io, size_t count) {
  if (io.in.size() > 2 && io.in[2]) return quant::int32_values(*io.in[2]);
  return std::vector<int32_t>(count, 0);
}

// A quantized dtype normrt holds at this version, or c.unsupported naming it.
void check_quant_dtype(const PlanCtx& c, DType t, const char* what) {
  const bool wide = t == DType::UInt16 || t == DType::Int16;
  if (t == DType::UInt8 || t == DType::Int8 || (wide && c.version >= 21)) return;
  c.unsupported(std::string(what) + " of dtype " + dtype_name(t) + " (supported: uint8, int8" +
                (c.version >= 21 ? ", uint16, int16)" : "; uint16 and int16 from opset 21)"));
}

template <class TX, class TY>
void quantize(const TX* x, const float* s, const int32_t* zp, const ParamLayout& p, bool half_scale, TY* y) {
  const QRange r{std::numeric_limits<TY>::min(), std::numeric_limits<TY>::max()};
  for_each_param(p, [&](int64_t e, int64_t k) {
    double v;
    if constexpr (std::is_same_v<TX, int32_t>) {
      v = static_cast<double>(x[e]) / s[k];  // numpy promotes int32 / float32 to float64
    } else if constexpr (std::is_same_v<TX, uint16_t>) {
      const float q = half_to_float(x[e]) / s[k];
      v = half_scale ? half_to_float(float_to_half(q)) : q;  // float16 / float16 rounds to float16
    } else {
      v = x[e] / s[k];
    }
    y[e] = static_cast<TY>(quant::quantize_value(v, zp[k], r));
  });
}

template <class TX>
void quantize_to(DType yt, const TX* x, const float* s, const int32_t* zp, const ParamLayout& p, bool half_scale,
                 void* y) {
  switch (yt) {
    case DType::UInt8:
      return quantize(x, s, zp, p, half_scale, static_cast<uint8_t*>(y));
    case DType::Int8:
      return quantize(x, s, zp, p, half_scale, static_cast<int8_t*>(y));
    case DType::UInt16:
      return quantize(x, s, zp, p, half_scale, static_cast<uint16_t*>(y));
    default:
      return quantize(x, s, zp, p, half_scale, static_cast<int16_t*>(y));
  }
}

void plan_quantize_linear(PlanCtx& c) {
  c.require_inputs(2, 3);
  const ValueDesc& X = c.input(0);
  const ValueDesc& S = c.input(1);
  if (c.version >= 19)
    c.require_dtype(0, {DType::Float32, DType::Float16, DType::Int32});
  else
    c.require_dtype(0, {DType::Float32, DType::Int32});
  if (c.version >= 19)
    c.require_dtype(1, {DType::Float32, DType::Float16});
  else
    c.require_dtype(1, {DType::Float32});
  DType yt = DType::UInt8;
  if (c.has_input(2)) yt = c.input(2).dtype;
  const int64_t out_attr = c.version >= 21 ? c.node.attr_int("output_dtype", 0) : 0;
  if (out_attr != 0) {
    DType t;
    if (!dtype_from_onnx(onnx_type_attr(out_attr), &t))
      c.unsupported(std::string("output_dtype ") + onnx_type_name(onnx_type_attr(out_attr)) +
                    " (normrt has no float8 or 4-bit types)");
    if (c.has_input(2) && t != yt)
      c.fail(std::string("output_dtype ") + dtype_name(t) + " differs from the zero point's " + dtype_name(yt));
    yt = t;
  }
  check_quant_dtype(c, yt, "output");
  const ParamLayout p = param_layout(c, X.shape, S.shape);
  quant::check_constant_scale(c, 1, "y_scale", true);
  c.set_output(0, yt, X.shape);
  const DType xt = X.dtype;
  const bool half_scale = xt == DType::Float16 && S.dtype == DType::Float16;
  const int64_t nparams = shape_numel(S.shape);
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    const std::vector<float> s = quant::checked_scales(*io.in[1], where, "y_scale", true);
    const std::vector<int32_t> zp = zero_points(io, static_cast<size_t>(nparams));
    void* y = io.out[0]->raw();
    if (xt == DType::Float32)
      quantize_to(yt, io.in[0]->data<float>(), s.data(), zp.data(), p, half_scale, y);
    else if (xt == DType::Float16)
      quantize_to(yt, io.in[0]->data<uint16_t>(), s.data(), zp.data(), p, half_scale, y);
    else
      quantize_to(yt, io.in[0]->data<int32_t>(), s.data(), zp.data(), p, half_scale, y);
  };
}

template <class TX>
void dequantize(const TX* x, const float* s, const int32_t* zp, const ParamLayout& p, bool half_out, void* y) {
  for_each_param(p, [&](int64_t e, int64_t k) {
    const float v = static_cast<float>(static_cast<int64_t>(x[e]) - zp[k]) * s[k];
    if (half_out)
      static_cast<uint16_t*>(y)[e] = float_to_half(v);
    else
      static_cast<float*>(y)[e] = v;
  });
}

void plan_dequantize_linear(PlanCtx& c) {
  c.require_inputs(2, 3);
  const ValueDesc& X = c.input(0);
  const ValueDesc& S = c.input(1);
  const DType xt = X.dtype;
  if (xt != DType::Int32) check_quant_dtype(c, xt, "x");
  if (c.version >= 19)
    c.require_dtype(1, {DType::Float32, DType::Float16});
  else
    c.require_dtype(1, {DType::Float32});
  if (c.has_input(2) && c.input(2).dtype != xt)
    c.fail(std::string("zero point of dtype ") + dtype_name(c.input(2).dtype) + " differs from x's " + dtype_name(xt));
  DType yt = S.dtype;
  const int64_t out_attr = c.version >= 23 ? c.node.attr_int("output_dtype", 0) : 0;
  if (out_attr != 0) {
    DType t;
    if (!dtype_from_onnx(onnx_type_attr(out_attr), &t) || (t != DType::Float32 && t != DType::Float16))
      c.unsupported(std::string("output_dtype ") + onnx_type_name(onnx_type_attr(out_attr)) +
                    " (supported: float32, float16)");
    yt = t;
  }
  const ParamLayout p = param_layout(c, X.shape, S.shape);
  quant::check_constant_scale(c, 1, "x_scale", false);
  const bool int32_input = xt == DType::Int32;
  if (int32_input && c.has_input(2) && c.in[2].value)
    for (int32_t z : quant::int32_values(*c.in[2].value))
      if (z != 0) c.fail("an int32 x takes no zero point (it must be 0), got " + std::to_string(z));
  c.set_output(0, yt, X.shape);
  const bool half_out = yt == DType::Float16;
  const int64_t nparams = shape_numel(S.shape);
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    const std::vector<float> s = quant::checked_scales(*io.in[1], where, "x_scale", false);
    const std::vector<int32_t> zp = zero_points(io, static_cast<size_t>(nparams));
    if (int32_input && std::any_of(zp.begin(), zp.end(), [](int32_t z) { return z != 0; }))
      throw Error(ErrorCode::InvalidArgument, where + ": an int32 x takes no zero point (it must be 0)");
    void* y = io.out[0]->raw();
    switch (xt) {
      case DType::UInt8:
        return dequantize(io.in[0]->data<uint8_t>(), s.data(), zp.data(), p, half_out, y);
      case DType::Int8:
        return dequantize(io.in[0]->data<int8_t>(), s.data(), zp.data(), p, half_out, y);
      case DType::UInt16:
        return dequantize(io.in[0]->data<uint16_t>(), s.data(), zp.data(), p, half_out, y);
      case DType::Int16:
        return dequantize(io.in[0]->data<int16_t>(), s.data(), zp.data(), p, half_out, y);
      default:
        return dequantize(io.in[0]->data<int32_t>(), s.data(), zp.data(), p, half_out, y);
    }
  };
}

void plan_dynamic_quantize_linear(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32});
  c.set_output(0, DType::UInt8, c.input(0).shape);
  if (c.has_output(1)) c.set_output(1, DType::Float32, {});
  if (c.has_output(2)) c.set_output(2, DType::UInt8, {});
  const std::string where = c.node.where();
  const linalg::Int8GemmKernels* k = c.kernels->int8;
  c.kernel = [where, k](KernelIO& io) {
    const Tensor& x = *io.in[0];
    float scale;
    uint8_t zp;
    quant::dynamic_quant_params(*k, x.data<float>(), x.numel(), where, &scale, &zp);
    k->quantize_u8(x.data<float>(), x.numel(), scale, zp, io.out[0]->data<uint8_t>());
    if (io.out.size() > 1 && io.out[1]) *io.out[1]->data<float>() = scale;
    if (io.out.size() > 2 && io.out[2]) *io.out[2]->data<uint8_t>() = zp;
  };
}

}  // namespace

void register_quantize_linear_ops(OpRegistry& r) {
  r.add("", "QuantizeLinear", {10, 13, 19, 21, 23}, plan_quantize_linear);
  r.add("", "DequantizeLinear", {10, 13, 19, 21, 23}, plan_dequantize_linear);
  r.add("", "DynamicQuantizeLinear", {11}, plan_dynamic_quantize_linear);
}

}  // namespace normrt
