// The row kernels of norm_kernels.h, written once over xsimd::batch<float, Arch>.
// Included by exactly one translation unit per ISA; everything here is in an
// anonymous namespace or templated on Arch so that no AVX code can leak into
// another ISA's table through the linker (the ODR pitfall of per-arch TUs).
// Tails are scalar loops (xsimd 8.1 has no masked loads); several
// accumulators hide the add latency. No xsimd::rsqrt (a 12-bit estimate on x86).
#pragma once
#include <cmath>
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
  // Second (centred) pass when 1 + delta²/var exceeds this.
  static constexpr double kMaxAmplification = 4.0;

  // Σd and Σd² over one block, d = x - shift.
  // The accumulation order here and in normalize_and_sum_next is the same, so
  // a row's statistics do not depend on which of the two computed them (and
  // so not on where a thread's chunk of rows begins).
  static void block_shifted_sums(const float* x, size_t n, float shift, float* sum, float* sq) {
    const B vs(shift);
    // Four chains each: the add (3 cycles) and FMA (4 cycles) latencies would
    // otherwise bound the loop, not the loads.
    B s0(0.f), s1(0.f), s2(0.f), s3(0.f), q0(0.f), q1(0.f), q2(0.f), q3(0.f);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      const B d0 = B::load_unaligned(x + i) - vs, d1 = B::load_unaligned(x + i + W) - vs;
      const B d2 = B::load_unaligned(x + i + 2 * W) - vs, d3 = B::load_unaligned(x + i + 3 * W) - vs;
      s0 += d0;
      s1 += d1;
      s2 += d2;
      s3 += d3;
      q0 = xsimd::fma(d0, d0, q0);
      q1 = xsimd::fma(d1, d1, q1);
      q2 = xsimd::fma(d2, d2, q2);
      q3 = xsimd::fma(d3, d3, q3);
    }
    for (; i + W <= n; i += W) {
      const B d = B::load_unaligned(x + i) - vs;
      s0 += d;
      q0 = xsimd::fma(d, d, q0);
    }
    float s = xsimd::hadd((s0 + s1) + (s2 + s3)), q = xsimd::hadd((q0 + q1) + (q2 + q3));
    for (; i < n; ++i) {
      const float d = x[i] - shift;
      s += d;
      q += d * d;
    }
    *sum = s;
    *sq = q;
  }

  // Σe² and Σe over one block, e = (x - shift) - delta.
  static void block_centred_sums(const float* x, size_t n, float shift, float delta, float* sq, float* sum) {
    const B vs(shift), vd(delta);
    B q0(0.f), q1(0.f), c0(0.f), c1(0.f);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      const B e0 = (B::load_unaligned(x + i) - vs) - vd;
      const B e1 = (B::load_unaligned(x + i + W) - vs) - vd;
      q0 = xsimd::fma(e0, e0, q0);
      q1 = xsimd::fma(e1, e1, q1);
      c0 += e0;
      c1 += e1;
    }
    for (; i + W <= n; i += W) {
      const B e = (B::load_unaligned(x + i) - vs) - vd;
      q0 = xsimd::fma(e, e, q0);
      c0 += e;
    }
    float q = xsimd::hadd(q0 + q1), c = xsimd::hadd(c0 + c1);
    for (; i < n; ++i) {
      const float e = (x[i] - shift) - delta;
      q += e * e;
      c += e;
    }
    *sq = q;
    *sum = c;
  }

  // The shift: the mean of the first few elements, close to the row's mean
  // for all but unusual rows (those take the centred second pass).
  static float row_shift(const float* x, size_t n) {
    if (n >= 8) return (((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]))) * 0.125f;
    float shift = 0;
    for (size_t i = 0; i < n; ++i) shift += x[i];
    return shift / static_cast<float>(n);
  }

  // Statistics from the shifted sums S = Σd, Q = Σd²; the centred second
  // pass when 1 + delta²/var > kMaxAmplification.
  static RowMoments finish_moments(const float* x, size_t n, float shift, double S, double Q) {
    RowMoments m;
    const double inv_n = 1.0 / static_cast<double>(n);
    double delta, var;
    if (n <= kBlock) {
      // One block: S and Q are fp32 sums; when the check below passes,
      // Q/n <= 4 var, so fp32 loses at most 2 bits here (and is quicker).
      const float fi = 1.0f / static_cast<float>(n), fd = static_cast<float>(S) * fi;
      delta = fd;
      var = static_cast<float>(Q) * fi - fd * fd;
    } else {
      delta = S * inv_n;
      var = Q * inv_n - delta * delta;
    }
    if (!(delta * delta <= (kMaxAmplification - 1) * var)) {
      const float d32 = static_cast<float>(delta);
      double q = 0, c = 0;
      for (size_t i = 0; i < n; i += kBlock) {
        float bq, bc;
        block_centred_sums(x + i, n - i < kBlock ? n - i : kBlock, shift, d32, &bq, &bc);
        q += bq;
        c += bc;
      }
      var = (q - c * c * inv_n) * inv_n;
      delta = static_cast<double>(d32) + c * inv_n;
    }
    m.shift = shift;
    m.delta = static_cast<float>(delta);
    m.var = var > 0 ? static_cast<float>(var) : 0.f;
    return m;
  }

  static RowMoments moments(const float* x, size_t n) {
    if (n == 0) return RowMoments{};
    const float shift = row_shift(x, n);
    double S = 0, Q = 0;
    for (size_t i = 0; i < n; i += kBlock) {
      float bs, bq;
      block_shifted_sums(x + i, n - i < kBlock ? n - i : kBlock, shift, &bs, &bq);
      S += bs;
      Q += bq;
    }
    return finish_moments(x, n, shift, S, Q);
  }

  // Writes row `cur` normalized with m (scale/bias may be null) while
  // accumulating the shifted sums of row `next` (n <= kBlock; next may be null).
  template <bool HasScale, bool HasBias>
  static void normalize_and_sum_next(const float* cur, float* y, size_t n, RowMoments m, float inv, const float* scale,
                                     const float* bias, const float* next, float next_shift, float* S, float* Q) {
    const B vs(m.shift), vi(inv), vo(-m.delta * inv), vn(next_shift);
    B s0(0.f), s1(0.f), q0(0.f), q1(0.f);
    size_t i = 0;
    auto out = [&](size_t j) {
      B t = xsimd::fma(B::load_unaligned(cur + j) - vs, vi, vo);
      if constexpr (HasScale && HasBias) t = xsimd::fma(t, B::load_unaligned(scale + j), B::load_unaligned(bias + j));
      if constexpr (HasScale && !HasBias) t = t * B::load_unaligned(scale + j);
      if constexpr (!HasScale && HasBias) t = t + B::load_unaligned(bias + j);
      t.store_unaligned(y + j);
    };
    if (next) {
      B s2(0.f), s3(0.f), q2(0.f), q3(0.f);
      for (; i + 4 * W <= n; i += 4 * W) {
        const B d0 = B::load_unaligned(next + i) - vn, d1 = B::load_unaligned(next + i + W) - vn;
        const B d2 = B::load_unaligned(next + i + 2 * W) - vn, d3 = B::load_unaligned(next + i + 3 * W) - vn;
        s0 += d0;
        s1 += d1;
        s2 += d2;
        s3 += d3;
        q0 = xsimd::fma(d0, d0, q0);
        q1 = xsimd::fma(d1, d1, q1);
        q2 = xsimd::fma(d2, d2, q2);
        q3 = xsimd::fma(d3, d3, q3);
        out(i);
        out(i + W);
        out(i + 2 * W);
        out(i + 3 * W);
      }
      for (; i + W <= n; i += W) {
        const B d = B::load_unaligned(next + i) - vn;
        s0 += d;
        q0 = xsimd::fma(d, d, q0);
        out(i);
      }
      float s = xsimd::hadd((s0 + s1) + (s2 + s3)), q = xsimd::hadd((q0 + q1) + (q2 + q3));
      for (size_t j = i; j < n; ++j) {
        const float d = next[j] - next_shift;
        s += d;
        q += d * d;
      }
      *S = s;
      *Q = q;
    } else {
      for (; i + W <= n; i += W) out(i);
    }
    for (; i < n; ++i) {
      float t = (cur[i] - m.shift) * inv + (-m.delta * inv);
      if constexpr (HasScale) t *= scale[i];
      if constexpr (HasBias) t += bias[i];
      y[i] = t;
    }
  }

  static float inv_sigma(float var, size_t n, float eps, StdMode mode) {
    if (mode == StdMode::BiasedVarEps) return 1.0f / std::sqrt(var + eps);
    const float unbiased = n > 1 ? var * (static_cast<float>(n) / static_cast<float>(n - 1)) : 0.f;
    return 1.0f / (std::sqrt(unbiased) + eps);
  }

  template <bool HasScale, bool HasBias>
  static void layer_norm_rows_impl(const float* x, float* y, size_t rows, size_t n, const float* scale,
                                   size_t scale_stride, const float* bias, size_t bias_stride, float eps, StdMode mode,
                                   float* mean, float* inv_std) {
    if (rows == 0 || n == 0) return;
    RowMoments m = moments(x, n);
    for (size_t r = 0; r < rows; ++r) {
      const float* cur = x + r * n;
      const float inv = inv_sigma(m.var, n, eps, mode);
      if (mean) mean[r] = static_cast<float>(m.mean());
      if (inv_std) inv_std[r] = inv;
      const float* next = r + 1 < rows && n <= kBlock ? cur + n : nullptr;
      const float next_shift = next ? row_shift(next, n) : 0.f;
      float S = 0, Q = 0;
      normalize_and_sum_next<HasScale, HasBias>(cur, y + r * n, n, m, inv,
                                                HasScale ? scale + r * scale_stride : nullptr,
                                                HasBias ? bias + r * bias_stride : nullptr, next, next_shift, &S, &Q);
      if (next)
        m = finish_moments(next, n, next_shift, S, Q);
      else if (r + 1 < rows)
        m = moments(cur + n, n);  // rows longer than a block: separate pass
    }
  }

  static void layer_norm_rows(const float* x, float* y, size_t rows, size_t n, const float* scale, size_t scale_stride,
                              const float* bias, size_t bias_stride, float eps, StdMode mode, float* mean,
                              float* inv_std) {
    if (scale && bias)
      layer_norm_rows_impl<true, true>(x, y, rows, n, scale, scale_stride, bias, bias_stride, eps, mode, mean, inv_std);
    else if (scale)
      layer_norm_rows_impl<true, false>(x, y, rows, n, scale, scale_stride, bias, bias_stride, eps, mode, mean,
                                        inv_std);
    else if (bias)
      layer_norm_rows_impl<false, true>(x, y, rows, n, scale, scale_stride, bias, bias_stride, eps, mode, mean,
                                        inv_std);
    else
      layer_norm_rows_impl<false, false>(x, y, rows, n, scale, scale_stride, bias, bias_stride, eps, mode, mean,
                                         inv_std);
  }

  template <bool HasScale, bool HasBias>
  static void normalize_impl(const float* x, float* y, size_t n, RowMoments m, float inv, const float* scale,
                             const float* bias) {
    // (x - shift - delta) * inv as fma(x - shift, inv, -delta * inv): one op
    // fewer; x - shift is exact for x near the row, delta * inv is small.
    const B vs(m.shift), vi(inv), vo(-m.delta * inv);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      B t = xsimd::fma(B::load_unaligned(x + i) - vs, vi, vo);
      if constexpr (HasScale && HasBias) t = xsimd::fma(t, B::load_unaligned(scale + i), B::load_unaligned(bias + i));
      if constexpr (HasScale && !HasBias) t = t * B::load_unaligned(scale + i);
      if constexpr (!HasScale && HasBias) t = t + B::load_unaligned(bias + i);
      t.store_unaligned(y + i);
    }
    for (; i < n; ++i) {
      float t = (x[i] - m.shift) * inv + (-m.delta * inv);
      if constexpr (HasScale) t *= scale[i];
      if constexpr (HasBias) t += bias[i];
      y[i] = t;
    }
  }

  static void normalize(const float* x, float* y, size_t n, RowMoments m, float inv, const float* scale,
                        const float* bias) {
    if (scale && bias) return normalize_impl<true, true>(x, y, n, m, inv, scale, bias);
    if (scale) return normalize_impl<true, false>(x, y, n, m, inv, scale, bias);
    if (bias) return normalize_impl<false, true>(x, y, n, m, inv, scale, bias);
    normalize_impl<false, false>(x, y, n, m, inv, scale, bias);
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

  static inline void scale_shift(const float* x, float* y, size_t n, float a, float b) {
    const B va(a), vb(b);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      xsimd::fma(B::load_unaligned(x + i), va, vb).store_unaligned(y + i);
      xsimd::fma(B::load_unaligned(x + i + W), va, vb).store_unaligned(y + i + W);
      xsimd::fma(B::load_unaligned(x + i + 2 * W), va, vb).store_unaligned(y + i + 2 * W);
      xsimd::fma(B::load_unaligned(x + i + 3 * W), va, vb).store_unaligned(y + i + 3 * W);
    }
    for (; i + W <= n; i += W) xsimd::fma(B::load_unaligned(x + i), va, vb).store_unaligned(y + i);
    if (i < n && n >= W && (y + n <= x || x + n <= y)) {
      // Tail: one vector ending at n, overlapping elements already written
      // with the same values (x and y do not overlap, so x is unchanged).
      xsimd::fma(B::load_unaligned(x + n - W), va, vb).store_unaligned(y + n - W);
      return;
    }
    for (; i < n; ++i) y[i] = x[i] * a + b;
  }

  static void scale_shift_planes(const float* x, float* y, size_t planes, size_t plane, const float* a, const float* b,
                                 size_t first_channel, size_t channels) {
    size_t c = first_channel % channels;
    for (size_t p = 0; p < planes; ++p) {
      scale_shift(x + p * plane, y + p * plane, plane, a[c], b[c]);
      if (++c == channels) c = 0;
    }
  }

  static void copy(const float* x, float* y, size_t n) {
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      B::load_unaligned(x + i).store_unaligned(y + i);
      B::load_unaligned(x + i + W).store_unaligned(y + i + W);
      B::load_unaligned(x + i + 2 * W).store_unaligned(y + i + 2 * W);
      B::load_unaligned(x + i + 3 * W).store_unaligned(y + i + 3 * W);
    }
    for (; i + W <= n; i += W) B::load_unaligned(x + i).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = x[i];
  }

  static double sum_squares(const float* x, size_t n) {
    double total = 0;
    for (size_t start = 0; start < n; start += kBlock) {
      const float* p = x + start;
      const size_t len = n - start < kBlock ? n - start : kBlock;
      B q0(0.f), q1(0.f), q2(0.f), q3(0.f);
      size_t i = 0;
      for (; i + 4 * W <= len; i += 4 * W) {
        const B a = B::load_unaligned(p + i), b = B::load_unaligned(p + i + W);
        const B c = B::load_unaligned(p + i + 2 * W), d = B::load_unaligned(p + i + 3 * W);
        q0 = xsimd::fma(a, a, q0);
        q1 = xsimd::fma(b, b, q1);
        q2 = xsimd::fma(c, c, q2);
        q3 = xsimd::fma(d, d, q3);
      }
      for (; i + W <= len; i += W) {
        const B a = B::load_unaligned(p + i);
        q0 = xsimd::fma(a, a, q0);
      }
      float q = xsimd::hadd((q0 + q1) + (q2 + q3));
      for (; i < len; ++i) q += p[i] * p[i];
      total += q;
    }
    return total;
  }

  static void scale_mul(const float* x, float* y, size_t n, float a, const float* scale) {
    const B va(a);
    size_t i = 0;
    if (scale) {
      for (; i + W <= n; i += W) (B::load_unaligned(x + i) * va * B::load_unaligned(scale + i)).store_unaligned(y + i);
      for (; i < n; ++i) y[i] = x[i] * a * scale[i];
    } else {
      for (; i + W <= n; i += W) (B::load_unaligned(x + i) * va).store_unaligned(y + i);
      for (; i < n; ++i) y[i] = x[i] * a;
    }
  }

  static void add3(const float* a, const float* b, const float* c, float* y, size_t n) {
    size_t i = 0;
    if (c) {
      for (; i + W <= n; i += W)
        (B::load_unaligned(a + i) + B::load_unaligned(b + i) + B::load_unaligned(c + i)).store_unaligned(y + i);
      for (; i < n; ++i) y[i] = a[i] + b[i] + c[i];
    } else {
      for (; i + W <= n; i += W) (B::load_unaligned(a + i) + B::load_unaligned(b + i)).store_unaligned(y + i);
      for (; i < n; ++i) y[i] = a[i] + b[i];
    }
  }

  static void adanorm(const float* x, float* y, size_t n, RowMoments m, float inv, float k, float C) {
    const B vs(m.shift), vd(m.delta), vi(inv), vk(k), vc(C), one(1.f);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      const B t = ((B::load_unaligned(x + i) - vs) - vd) * vi;
      (vc * xsimd::fnma(vk, t, one) * t).store_unaligned(y + i);
    }
    for (; i < n; ++i) {
      const float t = ((x[i] - m.shift) - m.delta) * inv;
      y[i] = C * (1.f - k * t) * t;
    }
  }

  static NormKernels table(const char* isa) {
    return NormKernels{isa,
                       &moments,
                       &normalize,
                       &layer_norm_rows,
                       &normalize_affine,
                       &scale_shift,
                       &sum_squares,
                       &scale_mul,
                       &add3,
                       &scale_shift_planes,
                       &copy,
                       &adanorm};
  }
};

}  // namespace
}  // namespace normrt
