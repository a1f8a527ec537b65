// The functions of vector_math.h over xsimd::batch<float, Arch>: xsimd's
// exp/erf/tanh (Cephes-style polynomials, float accuracy), scalar tails with
// the C library. One pass over memory per map; softmax rows take three
// (max, exp-and-sum into y, scale). Included by one TU per ISA.
#pragma once
#include <algorithm>
#include <cmath>
#include <xsimd/xsimd.hpp>

#include "vector_math.h"

namespace normrt {
namespace {

template <class Arch>
struct VectorMathImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr size_t W = B::size;

  template <class VF, class SF>
  static void map(const float* x, float* y, size_t n, VF vf, SF sf) {
    size_t i = 0;
    for (; i + W <= n; i += W) vf(B::load_unaligned(x + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = sf(x[i]);
  }

  static void exp(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::exp(v); }, [](float v) { return std::exp(v); });
  }
  static void erf(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::erf(v); }, [](float v) { return std::erf(v); });
  }
  static void tanh(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::tanh(v); }, [](float v) { return std::tanh(v); });
  }
  static void sigmoid(const float* x, float* y, size_t n) {
    // 1/(1 + e^−x), with e^−x computed on min(−x, 88) so it never overflows to inf·0.
    map(
        x, y, n, [](B v) { return B(1.f) / (B(1.f) + xsimd::exp(xsimd::min(-v, B(88.f)))); },
        [](float v) { return 1.f / (1.f + std::exp(std::min(-v, 88.f))); });
  }
  static void gelu(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return B(0.5f) * v * (B(1.f) + xsimd::erf(v * B(0.70710678118654752f))); },
        [](float v) { return 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f)); });
  }
  static void gelu_tanh(const float* x, float* y, size_t n) {
    map(
        x, y, n,
        [](B v) {
          return B(0.5f) * v * (B(1.f) + xsimd::tanh(B(0.7978845608028654f) * (v + B(0.044715f) * v * v * v)));
        },
        [](float v) { return 0.5f * v * (1.f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v))); });
  }
  static void relu(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::max(v, B(0.f)); }, [](float v) { return v > 0.f ? v : 0.f; });
  }

  static float row_max(const float* x, size_t n) {
    float m = -INFINITY;
    size_t i = 0;
    if (n >= W) {
      B vm = B::load_unaligned(x);
      for (i = W; i + W <= n; i += W) vm = xsimd::max(vm, B::load_unaligned(x + i));
      alignas(64) float lanes[W];
      vm.store_aligned(lanes);
      for (size_t k = 0; k < W; ++k) m = std::max(m, lanes[k]);
    }
    for (; i < n; ++i) m = std::max(m, x[i]);
    return m;
  }

  // y = exp(x − m); returns Σ y (summed in fp32 vectors, lanes added in fp64).
  static double exp_sum(const float* x, float* y, size_t n, float m) {
    const B vm(m);
    B s(0.f);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      const B e = xsimd::exp(B::load_unaligned(x + i) - vm);
      e.store_unaligned(y + i);
      s += e;
    }
    alignas(64) float lanes[W];
    s.store_aligned(lanes);
    double sum = 0;
    for (size_t k = 0; k < W; ++k) sum += lanes[k];
    for (; i < n; ++i) {
      y[i] = std::exp(x[i] - m);
      sum += y[i];
    }
    return sum;
  }

  static void softmax_row(const float* x, float* y, size_t n) {
    if (n == 0) return;
    const float m = row_max(x, n);
    const float inv = static_cast<float>(1.0 / exp_sum(x, y, n, m));
    const B vi(inv);
    size_t i = 0;
    for (; i + W <= n; i += W) (B::load_unaligned(y + i) * vi).store_unaligned(y + i);
    for (; i < n; ++i) y[i] *= inv;
  }

  static void softmax_scaled_row(float* x, const float* add, float scale, size_t n) {
    if (n == 0) return;
    const B vs(scale);
    B vm(-INFINITY);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      B v = B::load_unaligned(x + i) * vs;
      if (add) v += B::load_unaligned(add + i);
      v.store_unaligned(x + i);
      vm = xsimd::max(vm, v);
    }
    alignas(64) float lanes[W];
    vm.store_aligned(lanes);
    float m = -INFINITY;
    for (size_t k = 0; k < W; ++k) m = std::max(m, lanes[k]);
    for (; i < n; ++i) {
      x[i] = x[i] * scale + (add ? add[i] : 0.f);
      m = std::max(m, x[i]);
    }
    const float inv = static_cast<float>(1.0 / exp_sum(x, x, n, m));
    const B vi(inv);
    for (i = 0; i + W <= n; i += W) (B::load_unaligned(x + i) * vi).store_unaligned(x + i);
    for (; i < n; ++i) x[i] *= inv;
  }

  static void log_softmax_row(const float* x, float* y, size_t n) {
    if (n == 0) return;
    const float m = row_max(x, n);
    const float shift = m + static_cast<float>(std::log(exp_sum(x, y, n, m)));
    const B vs(shift);
    size_t i = 0;
    for (; i + W <= n; i += W) (B::load_unaligned(x + i) - vs).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = x[i] - shift;
  }

  static VectorMath table(const char* isa) {
    return VectorMath{isa,
                      &exp,
                      &erf,
                      &tanh,
                      &sigmoid,
                      &gelu,
                      &gelu_tanh,
                      &relu,
                      &softmax_row,
                      &log_softmax_row,
                      &softmax_scaled_row};
  }
};

}  // namespace
}  // namespace normrt
