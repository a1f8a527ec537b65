// The row kernels of norm_kernels.h, written once over xsimd::batch<float, Arch>.
// Included by exactly one translation unit per ISA; everything here is in an
// anonymous namespace or templated on Arch so that no AVX code can leak into
// another ISA's table through the linker (the ODR pitfall of per-arch TUs).
// Tails are scalar loops (xsimd 8.1 has no masked loads); four accumulators
// hide the add latency. No xsimd::rsqrt (it is a 12-bit estimate on x86).
#pragma once
#include <xsimd/xsimd.hpp>

#include "norm_kernels.h"

namespace normrt {
namespace {

template <class Arch>
struct NormImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr size_t W = B::size;

  // Rows are summed in blocks of kBlock elements with fp32 vector accumulators,
  // and the block sums are added in fp64: the error stays that of a short sum
  // even for rows far larger than the cache.
  static constexpr size_t kBlock = 4096;

  // Σ (x - shift) over one block.
  static float block_sum(const float* x, size_t n, float shift) {
    const B vs(shift);
    B a0(0.f), a1(0.f), a2(0.f), a3(0.f);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      a0 += B::load_unaligned(x + i) - vs;
      a1 += B::load_unaligned(x + i + W) - vs;
      a2 += B::load_unaligned(x + i + 2 * W) - vs;
      a3 += B::load_unaligned(x + i + 3 * W) - vs;
    }
    for (; i + W <= n; i += W) a0 += B::load_unaligned(x + i) - vs;
    float s = xsimd::hadd((a0 + a1) + (a2 + a3));
    for (; i < n; ++i) s += x[i] - shift;
    return s;
  }

  // Σ d² and Σ d over one block, d = (x - shift) - delta.
  static void block_sq(const float* x, size_t n, float shift, float delta, float* sq, float* sum) {
    const B vs(shift), vd(delta);
    B q0(0.f), q1(0.f), q2(0.f), q3(0.f), c0(0.f), c1(0.f);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      B d0 = (B::load_unaligned(x + i) - vs) - vd;
      B d1 = (B::load_unaligned(x + i + W) - vs) - vd;
      B d2 = (B::load_unaligned(x + i + 2 * W) - vs) - vd;
      B d3 = (B::load_unaligned(x + i + 3 * W) - vs) - vd;
      q0 = xsimd::fma(d0, d0, q0);
      q1 = xsimd::fma(d1, d1, q1);
      q2 = xsimd::fma(d2, d2, q2);
      q3 = xsimd::fma(d3, d3, q3);
      c0 += d0 + d1;
      c1 += d2 + d3;
    }
    for (; i + W <= n; i += W) {
      B d = (B::load_unaligned(x + i) - vs) - vd;
      q0 = xsimd::fma(d, d, q0);
      c0 += d;
    }
    float q = xsimd::hadd((q0 + q1) + (q2 + q3));
    float c = xsimd::hadd(c0 + c1);
    for (; i < n; ++i) {
      float d = (x[i] - shift) - delta;
      q += d * d;
      c += d;
    }
    *sq = q;
    *sum = c;
  }

  static RowMoments moments(const float* x, size_t n) {
    RowMoments m;
    if (n == 0) return m;
    const float shift = x[0];
    // Pass 1: delta = mean(x - shift).
    double s = 0;
    for (size_t i = 0; i < n; i += kBlock) s += block_sum(x + i, n - i < kBlock ? n - i : kBlock, shift);
    const double inv_n = 1.0 / static_cast<double>(n);
    const float delta = static_cast<float>(s * inv_n);
    // Pass 2: centred sum of squares, and the residual sum Σd that corrects
    // both the mean and the variance: var = (Σd² - (Σd)²/n)/n.
    double q = 0, c = 0;
    for (size_t i = 0; i < n; i += kBlock) {
      float bq, bc;
      block_sq(x + i, n - i < kBlock ? n - i : kBlock, shift, delta, &bq, &bc);
      q += bq;
      c += bc;
    }
    const double var = (q - c * c * inv_n) * inv_n;
    m.shift = shift;
    m.delta = static_cast<float>(static_cast<double>(delta) + c * inv_n);
    m.var = var > 0 ? static_cast<float>(var) : 0.f;
    return m;
  }

  template <bool HasBias>
  static void normalize_impl(const float* x, float* y, size_t n, RowMoments m, float inv, const float* scale,
                             const float* bias) {
    const B vs(m.shift), vd(m.delta), vi(inv);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      B t = ((B::load_unaligned(x + i) - vs) - vd) * vi;
      B sc = B::load_unaligned(scale + i);
      B r = HasBias ? xsimd::fma(t, sc, B::load_unaligned(bias + i)) : t * sc;
      r.store_unaligned(y + i);
    }
    for (; i < n; ++i) {
      float t = ((x[i] - m.shift) - m.delta) * inv;
      y[i] = HasBias ? t * scale[i] + bias[i] : t * scale[i];
    }
  }

  static void normalize(const float* x, float* y, size_t n, RowMoments m, float inv, const float* scale,
                        const float* bias) {
    if (bias)
      normalize_impl<true>(x, y, n, m, inv, scale, bias);
    else
      normalize_impl<false>(x, y, n, m, inv, scale, bias);
  }

  static void normalize_affine(const float* x, float* y, size_t n, RowMoments m, float a, float b) {
    const B vs(m.shift), vd(m.delta), va(a), vb(b);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      xsimd::fma((B::load_unaligned(x + i) - vs) - vd, va, vb).store_unaligned(y + i);
      xsimd::fma((B::load_unaligned(x + i + W) - vs) - vd, va, vb).store_unaligned(y + i + W);
    }
    for (; i + W <= n; i += W) xsimd::fma((B::load_unaligned(x + i) - vs) - vd, va, vb).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = ((x[i] - m.shift) - m.delta) * a + b;
  }

  static void scale_shift(const float* x, float* y, size_t n, float a, float b) {
    const B va(a), vb(b);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      xsimd::fma(B::load_unaligned(x + i), va, vb).store_unaligned(y + i);
      xsimd::fma(B::load_unaligned(x + i + W), va, vb).store_unaligned(y + i + W);
    }
    for (; i + W <= n; i += W) xsimd::fma(B::load_unaligned(x + i), va, vb).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = x[i] * a + b;
  }

  static NormKernels table(const char* isa) {
    return NormKernels{isa, &moments, &normalize, &normalize_affine, &scale_shift};
  }
};

}  // namespace
}  // namespace normrt
