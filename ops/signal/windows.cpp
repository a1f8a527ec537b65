// Generated signal tensors (version 17), computed at planning time from
// their constant inputs (the planner keeps them as constants):
//   HannWindow      w[k] = 0.5 − 0.5·cos(2πk/N)
//   HammingWindow   w[k] = 25/46 − 21/46·cos(2πk/N)
//   BlackmanWindow  w[k] = 0.42 − 0.5·cos(2πk/N) + 0.08·cos(4πk/N)
// for k < size, N = size (periodic, the default) or size − 1 (symmetric; a
// symmetric window of one sample is [1]); output_datatype picks the dtype.
//   MelWeightMatrix [dft_length/2 + 1, num_mel_bins]: ONNX's triangles between
//   num_mel_bins + 2 points spaced evenly on mel(f) = 2595·log10(1 + f/700)
//   over [lower, upper] hertz (step (mel(upper) − mel(lower))/(num_mel_bins + 2),
//   as ONNX's reference), each point mapped to bin ⌊(dft_length + 1)·f / sample_rate⌋.
#include <cmath>
#include <vector>

#include "../dispatch.h"
#include "../fp16.h"
#include "../op.h"

namespace normrt {

namespace {

// The tensor of dtype `t` holding `v` (values in [−1, 1]: integer dtypes truncate to 0 or ±1).
Tensor tensor_from(const PlanCtx& c, DType t, const Shape& shape, const std::vector<double>& v) {
  Tensor out(t, shape);
  visit_numeric(t, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, half_t>) {
      for (size_t i = 0; i < v.size(); ++i) out.data<uint16_t>()[i] = float_to_half(static_cast<float>(v[i]));
    } else if constexpr (std::is_same_v<T, bool>) {
      c.fail("output_datatype bool is not allowed");
    } else if constexpr (std::is_unsigned_v<T>) {
      for (size_t i = 0; i < v.size(); ++i) out.data<T>()[i] = static_cast<T>(std::max(0.0, std::trunc(v[i])));
    } else {
      for (size_t i = 0; i < v.size(); ++i) out.data<T>()[i] = static_cast<T>(v[i]);
    }
  });
  return out;
}

DType output_datatype(const PlanCtx& c) {
  const int64_t code = c.node.attr_int("output_datatype", 1);
  DType t;
  if (code < 0 || code > 1000 || !dtype_from_onnx(static_cast<int>(code), &t) || t == DType::Bool)
    c.unsupported("output_datatype " + std::to_string(code) + " is not a numeric dtype normrt holds");
  return t;
}

int64_t scalar_int(const PlanCtx& c, size_t i, const char* what) {
  const std::vector<int64_t> v = int_values(c, i, what);
  if (v.size() != 1) c.fail(std::string(what) + " must hold one value");
  return v[0];
}

// Cosine-sum window a0 − a1·cos(2πk/N) + a2·cos(4πk/N).
template <int kind>
void plan_window(PlanCtx& c) {
  c.require_inputs(1, 1);
  const int64_t size = scalar_int(c, 0, "size");
  if (size <= 0) c.fail("size must be positive, got " + std::to_string(size));
  if (size > (int64_t{1} << 24)) c.fail("size " + std::to_string(size) + " is beyond 2^24");
  const bool periodic = c.node.attr_int("periodic", 1) != 0;
  const double a0 = kind == 0 ? 0.5 : kind == 1 ? 25.0 / 46.0 : 0.42;
  const double a1 = kind == 0 ? 0.5 : kind == 1 ? 21.0 / 46.0 : 0.5;
  const double a2 = kind == 2 ? 0.08 : 0.0;
  const double N = static_cast<double>(periodic ? size : size - 1);
  std::vector<double> w(static_cast<size_t>(size));
  for (int64_t k = 0; k < size; ++k) {
    const double t = N > 0 ? 2.0 * M_PI * static_cast<double>(k) / N : 0.0;
    w[static_cast<size_t>(k)] = a0 - a1 * std::cos(t) + a2 * std::cos(2 * t);
  }
  if (!periodic && size == 1) w[0] = 1.0;
  c.set_output_value(0, tensor_from(c, output_datatype(c), {size}, w));
}

void plan_mel_weight_matrix(PlanCtx& c) {
  c.require_inputs(5, 5);
  const int64_t bins = scalar_int(c, 0, "num_mel_bins");
  const int64_t dft_length = scalar_int(c, 1, "dft_length");
  const int64_t sample_rate = scalar_int(c, 2, "sample_rate");
  const double lower = float_scalar(c, 3, "lower_edge_hertz");
  const double upper = float_scalar(c, 4, "upper_edge_hertz");
  if (bins <= 0) c.fail("num_mel_bins must be positive, got " + std::to_string(bins));
  if (dft_length <= 0) c.fail("dft_length must be positive, got " + std::to_string(dft_length));
  if (sample_rate <= 0) c.fail("sample_rate must be positive, got " + std::to_string(sample_rate));
  if (!(lower >= 0 && lower <= upper && std::isfinite(upper)))
    c.fail("the hertz edges must satisfy 0 <= lower_edge_hertz <= upper_edge_hertz (finite)");
  if (bins > (int64_t{1} << 20) || dft_length > (int64_t{1} << 24))
    c.fail("num_mel_bins (at most 2^20) or dft_length (at most 2^24) is too large");
  const int64_t spectrum = dft_length / 2 + 1;
  if (checked_mul(c, spectrum, bins, "the matrix size") > (int64_t{1} << 26))
    c.fail("the matrix of " + std::to_string(spectrum) + " × " + std::to_string(bins) + " is beyond 2^26 values");
  // ONNX's reference computes the mel edges in float32, the rest in float64.
  const float low_mel = 2595.f * std::log10(1.f + static_cast<float>(lower) / 700.f);
  const float high_mel = 2595.f * std::log10(1.f + static_cast<float>(upper) / 700.f);
  const float mel_step = (high_mel - low_mel) / static_cast<float>(bins + 2);
  std::vector<int64_t> point(static_cast<size_t>(bins + 2));
  for (int64_t i = 0; i < bins + 2; ++i) {
    const double mel = static_cast<double>(i) * static_cast<double>(mel_step) + static_cast<double>(low_mel);
    const double hz = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    const double b = std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate));
    if (!(b >= 0 && b < static_cast<double>(spectrum)))
      c.fail("upper_edge_hertz maps past the last of the " + std::to_string(spectrum) +
             " spectrogram bins (keep it at most sample_rate / 2)");
    point[static_cast<size_t>(i)] = static_cast<int64_t>(b);
  }
  std::vector<double> m(static_cast<size_t>(spectrum * bins), 0.0);
  auto at = [&](int64_t j, int64_t i) -> double& { return m[static_cast<size_t>(j * bins + i)]; };
  for (int64_t i = 0; i < bins; ++i) {
    const int64_t lo = point[static_cast<size_t>(i)], mid = point[static_cast<size_t>(i + 1)],
                  hi = point[static_cast<size_t>(i + 2)];
    if (mid == lo)
      at(mid, i) = 1;
    else
      for (int64_t j = lo; j <= mid; ++j) at(j, i) = static_cast<double>(j - lo) / static_cast<double>(mid - lo);
    if (hi > mid)
      for (int64_t j = mid; j < hi; ++j) at(j, i) = static_cast<double>(hi - j) / static_cast<double>(hi - mid);
  }
  c.set_output_value(0, tensor_from(c, output_datatype(c), {spectrum, bins}, m));
}

}  // namespace

void register_signal_generators(OpRegistry& r) {
  r.add("", "HannWindow", {17}, plan_window<0>);
  r.add("", "HammingWindow", {17}, plan_window<1>);
  r.add("", "BlackmanWindow", {17}, plan_window<2>);
  r.add("", "MelWeightMatrix", {17}, plan_mel_weight_matrix);
}

}  // namespace normrt
