// The depthwise convolution kernels written once over xsimd::batch<float, Arch>
// (the in-place 3×3 ones in intrinsics: depthwise_3x3_impl.hpp). Included by one
// translation unit per ISA (anonymous namespace); the table is depthwise_kernels.h.
#pragma once
#include <algorithm>
#include <xsimd/xsimd.hpp>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "depthwise_3x3_impl.hpp"
#include "depthwise_kernels.h"

namespace normrt {
namespace {

template <class Arch>
struct DepthwiseImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(B::size);
  static_assert(W <= kDepthwiseReadSlack, "dw_rows reads a whole vector past a row's end");

  // Channels-last depthwise point: 4 vectors of channels stay in registers
  // across all taps (one load of x and of w per FMA), then 1 vector, then the
  // scalar tail.
  static void dw_point(int64_t C, int taps, const float* const* x, const float* const* w, const float* bias, float* y) {
    int64_t c = 0;
    for (; c + 4 * W <= C; c += 4 * W) {
      B a0 = bias ? B::load_unaligned(bias + c) : B(0.f), a1 = bias ? B::load_unaligned(bias + c + W) : B(0.f),
        a2 = bias ? B::load_unaligned(bias + c + 2 * W) : B(0.f),
        a3 = bias ? B::load_unaligned(bias + c + 3 * W) : B(0.f);
      for (int t = 0; t < taps; ++t) {
        const float *xt = x[t] + c, *wt = w[t] + c;
        a0 = xsimd::fma(B::load_unaligned(wt), B::load_unaligned(xt), a0);
        a1 = xsimd::fma(B::load_unaligned(wt + W), B::load_unaligned(xt + W), a1);
        a2 = xsimd::fma(B::load_unaligned(wt + 2 * W), B::load_unaligned(xt + 2 * W), a2);
        a3 = xsimd::fma(B::load_unaligned(wt + 3 * W), B::load_unaligned(xt + 3 * W), a3);
      }
      a0.store_unaligned(y + c);
      a1.store_unaligned(y + c + W);
      a2.store_unaligned(y + c + 2 * W);
      a3.store_unaligned(y + c + 3 * W);
    }
    for (; c + W <= C; c += W) {
      B a = bias ? B::load_unaligned(bias + c) : B(0.f);
      for (int t = 0; t < taps; ++t) a = xsimd::fma(B::load_unaligned(w[t] + c), B::load_unaligned(x[t] + c), a);
      a.store_unaligned(y + c);
    }
    for (; c < C; ++c) {
      float a = bias ? bias[c] : 0.f;
      for (int t = 0; t < taps; ++t) a += w[t][c] * x[t][c];
      y[c] = a;
    }
  }

  // NB output vectors of a depthwise convolution, each at its own place:
  // ys[j][0, W) = clamp(bias + Σ_t w[t]·xs[j][offs[t] + (0, W)]), NB accumulators
  // in registers across all taps.
  template <int NB>
  static void dw_vectors(const float* const* xs, float* const* ys, int taps, const int64_t* offs, const float* w,
                         float bias, B vlo, B vhi) {
    B acc[NB];
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) acc[j] = B(bias);
    for (int t = 0; t < taps; ++t) {
      const B wt(w[t]);
      const int64_t o = offs[t];
#pragma GCC unroll 8
      for (int j = 0; j < NB; ++j) acc[j] = xsimd::fma(wt, B::load_unaligned(xs[j] + o), acc[j]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) xsimd::min(vhi, xsimd::max(vlo, acc[j])).store_unaligned(ys[j]);
  }

  // Output rows of a depthwise convolution on a channel plane:
  // y[r·n + i] = clamp(bias + Σ_t w[t]·x[r·x_row + offs[t] + i], lo, hi) for r < rows,
  // i < n. The rows' vectors go eight at a time (across rows when a row is
  // short: 8×8 and 16×16 planes keep eight FMA chains busy); a row's last
  // n mod W outputs are a whole vector too, stored into `tail` and copied
  // (it reads up to W − 1 floats past the row: kDepthwiseReadSlack).
  static void dw_rows(int64_t rows, int64_t n, int64_t x_row, int taps, const float* x, const int64_t* offs,
                      const float* w, float bias, float lo, float hi, float* y) {
    const B vlo(lo), vhi(hi);
    const int64_t nv = n / W, rem = n % W;
    alignas(64) float tail[8][W];
    const float* xs[8];
    float* ys[8];
    float* tail_to[8];
    int cnt = 0;
    const auto flush = [&](int count) {
      int j = 0;
      if (count == 8) {
        dw_vectors<8>(xs, ys, taps, offs, w, bias, vlo, vhi);
        j = 8;
      } else if (count >= 4) {
        dw_vectors<4>(xs, ys, taps, offs, w, bias, vlo, vhi);
        j = 4;
      }
      for (int i = j; i < count; ++i) dw_vectors<1>(xs + i, ys + i, taps, offs, w, bias, vlo, vhi);
      for (int i = 0; i < count; ++i)
        if (tail_to[i]) std::copy_n(tail[i], rem, tail_to[i]);
    };
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < nv + (rem != 0); ++v) {
        xs[cnt] = x + r * x_row + v * W;
        const bool part = v == nv;
        ys[cnt] = part ? tail[cnt] : y + r * n + v * W;
        tail_to[cnt] = part ? y + r * n + v * W : nullptr;
        if (++cnt == 8) {
          flush(8);
          cnt = 0;
        }
      }
    flush(cnt);
  }

  // NB vectors of dw_flat at xs[j]·W from x, stored at ys[j]; col[j] holds
  // each lane's column q mod n. Per tap column k2 the kh taps sum apart, then
  // join the total where that column lies inside the row (a select, not a
  // multiply: a NaN read across the row's edge is dropped).
  template <int NB>
  static void dw_flat_vectors(const float* x, float* const* ys, const B* col, int64_t n, int kh, int kw,
                              int64_t tap_row, int64_t d2, int64_t pl, const float* w, float bias, B vlo, B vhi,
                              int last_lanes = W) {
    B acc[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) acc[j] = B(bias);
    for (int k2 = 0; k2 < kw; ++k2) {
      const int64_t off = k2 * d2 - pl;
      B s[NB];
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) s[j] = B(0.f);  // each column's chain apart from the others
      for (int k1 = 0; k1 < kh; ++k1) {
        const B wt(w[k1 * kw + k2]);
        const float* xt = x + k1 * tap_row + off;
#pragma GCC unroll 4
        for (int j = 0; j < NB; ++j) s[j] = xsimd::fma(wt, B::load_unaligned(xt + j * W), s[j]);
      }
      const B edge(static_cast<float>(off < 0 ? -off : n - off));
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j)
        acc[j] = acc[j] + (off == 0 ? s[j] : xsimd::select(off < 0 ? col[j] >= edge : col[j] < edge, s[j], B(0.f)));
    }
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      const B v = xsimd::min(vhi, xsimd::max(vlo, acc[j]));
      if (j < NB - 1 || last_lanes == W)
        v.store_unaligned(ys[j]);
      else
        store_lanes<B>(v, ys[j], last_lanes);
    }
  }

  // dw_flat (depthwise_kernels.h): blocks of four vectors, the last block
  // holding the rest with the final partial vector stored through a mask.
  static void dw_flat(int64_t count, int64_t n, int kh, int kw, int64_t tap_row, int64_t d2, int64_t pl, const float* x,
                      const float* w, float bias, float lo, float hi, float* y) {
    // Vector v's lane columns, (v·W + i) mod n, each from its own scalar base
    // (no chain from one vector to the next: the FMAs of a block need not wait
    // for a serial add-compare-subtract per vector).
    alignas(64) static const float kLanes[64] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                                 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                                 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                                                 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
    static_assert(W <= 64, "kLanes covers the widest vector");
    const B vlo(lo), vhi(hi), nf(static_cast<float>(n)), lanes = B::load_aligned(kLanes);
    const auto column = [&](int64_t v) {
      const int64_t base = v * W % n;
      B c = lanes + B(static_cast<float>(base));
      for (int64_t k = n - base; k < W; k += n) c = xsimd::select(c >= nf, c - nf, c);
      return c;
    };
    const int64_t whole = count / W, rem = count % W;
    B cols[4];
    float* ys[4];
    int64_t v = 0;
    for (; v + 4 <= whole; v += 4) {
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        cols[j] = column(v + j);
        ys[j] = y + (v + j) * W;
      }
      dw_flat_vectors<4>(x + v * W, ys, cols, n, kh, kw, tap_row, d2, pl, w, bias, vlo, vhi);
    }
    const int rest = static_cast<int>(whole - v) + (rem != 0);
    for (int j = 0; j < rest; ++j) {
      cols[j] = column(v + j);
      ys[j] = y + (v + j) * W;
    }
    const int last = rem ? static_cast<int>(rem) : W;
    const float* xv = x + v * W;
    switch (rest) {
      case 4:
        dw_flat_vectors<4>(xv, ys, cols, n, kh, kw, tap_row, d2, pl, w, bias, vlo, vhi, last);
        break;
      case 3:
        dw_flat_vectors<3>(xv, ys, cols, n, kh, kw, tap_row, d2, pl, w, bias, vlo, vhi, last);
        break;
      case 2:
        dw_flat_vectors<2>(xv, ys, cols, n, kh, kw, tap_row, d2, pl, w, bias, vlo, vhi, last);
        break;
      case 1:
        dw_flat_vectors<1>(xv, ys, cols, n, kh, kw, tap_row, d2, pl, w, bias, vlo, vhi, last);
        break;
      default:
        break;
    }
  }

  static DepthwiseKernels table(const char* isa) {
    decltype(DepthwiseKernels::dw3x3s2) dw3x3s2 = nullptr;
#ifdef __AVX2__
    dw3x3s2 = &dw3x3s2_avx2;
#endif
#if defined(__AVX512F__)
    if constexpr (W == 16) dw3x3s2 = &Dw3x3s2Avx512::run;
#endif
    decltype(DepthwiseKernels::dw3x3s1) dw3x3s1 = nullptr;
#if defined(__AVX512F__)
    if constexpr (W == 16) dw3x3s1 = &dw3x3s1_avx512;
#endif
#if defined(__AVX2__) && defined(__FMA__)
    if constexpr (W == 8) dw3x3s1 = &Dw3x3s1<Dw3x3Avx2>::run;
#endif
    return DepthwiseKernels{isa, W, &dw_point, &dw_rows, dw3x3s2, dw3x3s1, &dw_flat};
  }
};

}  // namespace
}  // namespace normrt
