// What the quantized ops share: the saturating round-half-to-even quantize
//   q = saturate(rint(v) + zero_point)            (NaN → saturate(zero_point))
// the values of scale and zero-point tensors, their checks, and the integer
// GEMM reference
//   C[m, n] = Σ_k (A[m, k] − za[m])·(B[k, n] − zb[n])   (int32, exact for K ≤ kMaxExactK)
// one pass over A and, per row of A, one over B.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../kernel_set.h"
#include "../op.h"

namespace normrt::quant {

// The integer range of a quantized dtype.
struct QRange {
  int32_t lo, hi;
};
inline QRange qrange(DType t) {
  switch (t) {
    case DType::UInt8:
      return {0, 255};
    case DType::Int8:
      return {-128, 127};
    case DType::UInt16:
      return {0, 65535};
    case DType::Int16:
      return {-32768, 32767};
    default:
      return {INT32_MIN, INT32_MAX};
  }
}

// saturate(rint(v) + zp) into [lo, hi], rounding half to even (the default
// rounding mode); NaN quantizes to the zero point. The sum is taken in double,
// so huge |v| (and ±inf) saturate instead of overflowing.
inline int32_t quantize_value(double v, int32_t zp, QRange r) {
  const double q = v == v ? std::nearbyint(v) + zp : static_cast<double>(zp);
  return q < r.lo ? r.lo : q > r.hi ? r.hi : static_cast<int32_t>(q);
}

// The elements of a zero-point tensor (uint8, int8, uint16, int16, int32) as int32.
inline std::vector<int32_t> int32_values(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t.dtype()) {
      case DType::UInt8:
        v[i] = t.data<uint8_t>()[i];
        break;
      case DType::Int8:
        v[i] = t.data<int8_t>()[i];
        break;
      case DType::UInt16:
        v[i] = t.data<uint16_t>()[i];
        break;
      case DType::Int16:
        v[i] = t.data<int16_t>()[i];
        break;
      case DType::Int32:
        v[i] = t.data<int32_t>()[i];
        break;
      default:
        throw Error(ErrorCode::Internal, std::string("zero point of dtype ") + dtype_name(t.dtype()));
    }
  }
  return v;
}

// The elements of a scale tensor (float32 or float16) as float.
inline std::vector<float> float_values(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = t.dtype() == DType::Float16 ? half_to_float(t.data<uint16_t>()[i]) : t.data<float>()[i];
  return v;
}

// "" when every scale is finite (and > 0 with `positive`), else what is wrong.
inline std::string bad_scale(const std::vector<float>& s, bool positive) {
  for (float v : s) {
    if (!std::isfinite(v)) return "holds " + std::to_string(v) + " (scales must be finite)";
    if (positive && !(v > 0.f)) return "holds " + std::to_string(v) + " (scales that divide must be > 0)";
  }
  return "";
}

// Fails at planning when scale input i is a constant with a bad value; the
// kernel checks values known only at run time (check_scales).
inline void check_constant_scale(const PlanCtx& c, size_t i, const char* what, bool positive) {
  if (!c.has_input(i) || !c.in[i].value) return;
  const std::string bad = bad_scale(float_values(*c.in[i].value), positive);
  if (!bad.empty()) c.fail(std::string(what) + " " + bad);
}
inline std::vector<float> checked_scales(const Tensor& t, const std::string& where, const char* what, bool positive) {
  std::vector<float> s = float_values(t);
  const std::string bad = bad_scale(s, positive);
  if (!bad.empty()) throw Error(ErrorCode::InvalidArgument, where + ": " + what + " " + bad);
  return s;
}

// DynamicQuantizeLinear's parameters for n floats (ONNX's reference):
// s = (max(0, max x) − min(0, min x)) / 255, or 1 when that range is empty
// (x all zero), zp = rint(clamp(0 − min(0, min x) / s, 0, 255)). NaN or ±inf
// in x has no meaningful range: Error(InvalidArgument) naming `where`.
inline void dynamic_quant_params(const float* x, int64_t n, const std::string& where, float* scale, uint8_t* zp) {
  float lo = 0.f, hi = 0.f;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]))
      throw Error(ErrorCode::InvalidArgument, where + ": x holds " + std::to_string(x[i]) + " at element " +
                                                  std::to_string(i) + " (dynamic quantization needs finite values)");
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  const float s = hi == lo ? 1.f : (hi - lo) / 255.f;
  float z = 0.f - lo / s;
  z = z < 0.f ? 0.f : z > 255.f ? 255.f : z;
  *scale = s;
  *zp = static_cast<uint8_t>(std::nearbyint(z));
}

// The same with the ISA's vectorized min/max pass (one pass over x; the
// reference above names the first non-finite element when there is one).
inline void dynamic_quant_params(const linalg::Int8GemmKernels& k, const float* x, int64_t n, const std::string& where,
                                 float* scale, uint8_t* zp) {
  float lo, hi;
  if (!k.min_max(x, n, &lo, &hi)) return dynamic_quant_params(x, n, where, scale, zp);
  const float s = hi == lo ? 1.f : (hi - lo) / 255.f;
  float z = 0.f - lo / s;
  z = z < 0.f ? 0.f : z > 255.f ? 255.f : z;
  *scale = s;
  *zp = static_cast<uint8_t>(std::nearbyint(z));
}

// y[i] = saturate(rint(x[i] / s) + zp) into uint8.
inline void quantize_u8(const float* x, int64_t n, float s, uint8_t zp, uint8_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<uint8_t>(quantize_value(x[i] / s, zp, QRange{0, 255}));
}

// Σ_k (a − za)(b − zb) over 8-bit values, |a − za| and |b − zb| ≤ 255, stays
// inside int32 for any values when K·255² < 2^31: K ≤ 33025. Ops refuse a
// larger K (UnsupportedOp) rather than let the sum wrap.
inline constexpr int64_t kMaxExactK = 33025;

// C[m, n] = Σ_k (A[m·lda + k] − za[m·za_step])·(B[k·ldb + n] − zb[n·zb_step])
// for m < M, n < N (za_step / zb_step 0: one zero point for all rows / columns).
template <class TA, class TB>
void gemm_i32_reference(int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda, const int32_t* za, int64_t za_step,
                        const TB* B, int64_t ldb, const int32_t* zb, int64_t zb_step, int32_t* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m) {
    int32_t* c = C + m * ldc;
    for (int64_t n = 0; n < N; ++n) c[n] = 0;
    const int32_t a_zero = za[m * za_step];
    for (int64_t k = 0; k < K; ++k) {
      const int32_t a = static_cast<int32_t>(A[m * lda + k]) - a_zero;
      const TB* b = B + k * ldb;
      if (zb_step == 0) {
        const int32_t b_zero = zb[0];
        for (int64_t n = 0; n < N; ++n) c[n] += a * (static_cast<int32_t>(b[n]) - b_zero);
      } else {
        for (int64_t n = 0; n < N; ++n) c[n] += a * (static_cast<int32_t>(b[n]) - zb[n * zb_step]);
      }
    }
  }
}

}  // namespace normrt::quant
