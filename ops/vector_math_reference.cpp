// The scalar reference of vector_math.h: each function in fp64 with the C
// library, one float rounding per output. Compiled at the library's baseline
// flags; the kernel tester compares every ISA's table with this one.
#include <algorithm>
#include <cmath>
#include <limits>

#include "vector_math.h"

namespace normrt {
namespace {

template <double (*F)(double)>
void map_ref(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(F(static_cast<double>(x[i])));
}

double exp_d(double x) { return std::exp(x); }
double erf_d(double x) { return std::erf(x); }
double tanh_d(double x) { return std::tanh(x); }
double sigmoid_d(double x) { return 1.0 / (1.0 + std::exp(-x)); }
// ½·x·(1 + erf(x/√2)), as ½·x·erfc(−x/√2) (no cancellation for x < 0); 0 at −∞ (the limit).
double gelu_d(double x) {
  if (x == -std::numeric_limits<double>::infinity()) return 0.0;
  return 0.5 * x * std::erfc(-x * 0.70710678118654752440);
}
// ½·x·(1 + tanh z) = x / (1 + e^(−2z)), z = √(2/π)·(x + 0.044715·x³).
double gelu_tanh_d(double x) {
  const double z = 0.79788456080286535588 * (x + 0.044715 * x * x * x);
  return x / (1.0 + std::exp(-2.0 * z));
}
// x·σ(x); 0 at −∞ (the limit).
double silu_d(double x) { return x == -std::numeric_limits<double>::infinity() ? 0.0 : x / (1.0 + std::exp(-x)); }
// x·max(0, min(1, x/6 + ½)); −∞ gives −∞·0 = NaN, as the formula (and ONNX's reference) does.
double hard_swish_d(double x) {
  const double h = x / 6.0 + 0.5;
  return std::isnan(h) ? h : x * (h < 0 ? 0.0 : h > 1 ? 1.0 : h);
}
// max(x, 0); NaN gives 0, as every ISA's kernel does.
double relu_d(double x) { return x > 0 ? x : 0.0; }

void softmax_row_ref(const float* x, float* y, size_t n) {
  double m = -std::numeric_limits<double>::infinity(), s = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(x[i]));
  for (size_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::exp(x[i] - m) / s);
}

void log_softmax_row_ref(const float* x, float* y, size_t n) {
  double m = -std::numeric_limits<double>::infinity(), s = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(x[i]));
  for (size_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  const double shift = m + std::log(s);
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] - shift);
}

void softmax_scaled_row_ref(float* x, const float* add, float scale, size_t n) {
  double m = -std::numeric_limits<double>::infinity(), s = 0;
  const auto arg = [&](size_t i) { return static_cast<double>(x[i]) * scale + (add ? add[i] : 0.0); };
  for (size_t i = 0; i < n; ++i) m = std::max(m, arg(i));
  for (size_t i = 0; i < n; ++i) s += std::exp(arg(i) - m);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(arg(i) - m) / s);
}

}  // namespace

const VectorMath* vector_math_reference() {
  static const VectorMath k{
      "reference",      &map_ref<exp_d>,       &map_ref<erf_d>,        &map_ref<tanh_d>, &map_ref<sigmoid_d>,
      &map_ref<gelu_d>, &map_ref<gelu_tanh_d>, &map_ref<relu_d>,       &map_ref<silu_d>, &map_ref<hard_swish_d>,
      &softmax_row_ref, &log_softmax_row_ref,  &softmax_scaled_row_ref};
  return &k;
}

}  // namespace normrt
