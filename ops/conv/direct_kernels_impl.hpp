// The direct convolution kernel (direct_kernels.h) written once over
// xsimd::batch<float, Arch>: a register tile of CO output channels × NV
// vectors of one output row,
//   acc[j][v] = bias[j] + Σ_t w[t][j] · x[offs[t] + v·W, +W)
// one load of x per vector and tap, shared by the CO channels (the weights
// broadcast once per tap). Passes: x (a band of input rows, in cache) once
// per CO channels, y written once. Included by one translation unit per ISA
// (anonymous namespace).
#pragma once
#include <algorithm>
#include <cstring>
#include <xsimd/xsimd.hpp>

#include "../simd_lanes_impl.hpp"
#include "direct_kernels.h"

namespace normrt {
namespace {

template <class Arch, int CO, int NVMAX>
struct DirectImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(B::size);
  static_assert(W <= kDirectReadSlack, "a row's last vector is read whole");

  // NV vectors of outputs from x (the row's first at x), n_valid of them kept
  // (the last vector may be partial).
  template <int NV>
  static void tile(const float* x, int taps, const int64_t* offs, const float* w, const float* bias, int co, B vlo,
                   B vhi, const float* z, float* y, int64_t y_plane, int64_t n_valid) {
    B acc[CO][NV];
#pragma GCC unroll 8
    for (int j = 0; j < CO; ++j) {
      const B b(bias[j]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[j][v] = b;
    }
    for (int t = 0; t < taps; ++t) {
      const float* xt = x + offs[t];
      const float* wt = w + t * CO;
      B wb[CO];
#pragma GCC unroll 8
      for (int j = 0; j < CO; ++j) wb[j] = B(wt[j]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        const B xv = B::load_unaligned(xt + v * W);
#pragma GCC unroll 8
        for (int j = 0; j < CO; ++j) acc[j][v] = xsimd::fma(wb[j], xv, acc[j][v]);
      }
    }
    // Unrolled whole (CO, NV known), so the accumulators stay in registers;
    // only the last vector may be partial (through a buffer).
    const int64_t last_keep = n_valid - (NV - 1) * W;
#pragma GCC unroll 8
    for (int j = 0; j < CO; ++j) {
      if (j >= co) break;
      float* yj = y + j * y_plane;
      const float* zj = z ? z + j * y_plane : nullptr;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        B s = acc[j][v];
        if (v < NV - 1 || last_keep >= W) {
          if (zj) s += B::load_unaligned(zj + v * W);
          xsimd::min(vhi, xsimd::max(vlo, s)).store_unaligned(yj + v * W);
        } else {
          alignas(64) float buf[W] = {};
          if (zj) std::memcpy(buf, zj + v * W, static_cast<size_t>(last_keep) * sizeof(float));
          if (zj) s += B::load_aligned(buf);
          xsimd::min(vhi, xsimd::max(vlo, s)).store_aligned(buf);
          std::memcpy(yj + v * W, buf, static_cast<size_t>(last_keep) * sizeof(float));
        }
      }
    }
  }

  template <int NV>
  static void tile_of(int nv, const float* x, int taps, const int64_t* offs, const float* w, const float* bias, int co,
                      B vlo, B vhi, const float* z, float* y, int64_t y_plane, int64_t n_valid) {
    if constexpr (NV > 1)
      if (nv < NV) return tile_of<NV - 1>(nv, x, taps, offs, w, bias, co, vlo, vhi, z, y, y_plane, n_valid);
    tile<NV>(x, taps, offs, w, bias, co, vlo, vhi, z, y, y_plane, n_valid);
  }

  // Each row's vectors in runs of at most NVMAX, as even as they go (7 → 4 + 3),
  // so that no run is left with too few accumulators for the FMA latency.
  static void rows(int64_t rows, int64_t n, const float* x, int64_t x_row, int taps, const int64_t* offs,
                   const float* w, const float* bias, int co, float lo, float hi, const float* z, float* y,
                   int64_t y_plane) {
    const B vlo(lo), vhi(hi);
    const int64_t nvec = (n + W - 1) / W, runs = (nvec + NVMAX - 1) / NVMAX;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t k = 0, v0 = 0; k < runs; ++k) {
        const int64_t nv = nvec / runs + (k < nvec % runs);
        const int64_t i0 = v0 * W;
        tile_of<NVMAX>(static_cast<int>(nv), x + r * x_row + i0, taps, offs, w, bias, co, vlo, vhi,
                       z ? z + r * n + i0 : nullptr, y + r * n + i0, y_plane, n - i0);
        v0 += nv;
      }
    }
  }

  // split_row (direct_kernels.h): per phase, the zeros before and after, the
  // inside copied (stride 1), gathered two vectors in at a time (stride 2), or
  // one by one.
  static void split_row(const float* src, int64_t n, int64_t pb, int64_t s, int64_t len, float* dst) {
    for (int64_t p = 0; p < s; ++p) {
      float* d = dst + p * len;
      // j in [lo, hi) reads src[j·s + p − pb] inside [0, n).
      const int64_t lo = std::min(len, std::max<int64_t>(0, (pb - p + s - 1) / s));
      const int64_t last = n - 1 + pb - p;  // the last padded column inside, of this phase or not
      const int64_t hi = last < 0 ? lo : std::max(lo, std::min(len, last / s + 1));
      for (int64_t j = 0; j < lo; ++j) d[j] = 0.f;
      const float* from = src + lo * s + p - pb;
      int64_t j = lo;
      if (s == 1) {
        for (; j + W <= hi; j += W) B::load_unaligned(from + (j - lo)).store_unaligned(d + j);
      } else if (s == 2) {  // reads 2W floats from the first even one: whole while they end inside the row
        for (; j + W <= hi && (j - lo) * 2 + 2 * W <= n - (lo * 2 + p - pb); j += W) {
          B even, odd;
          split_even_odd(B::load_unaligned(from + (j - lo) * 2), B::load_unaligned(from + (j - lo) * 2 + W), even, odd);
          even.store_unaligned(d + j);
        }
      }
      for (; j < hi; ++j) d[j] = from[(j - lo) * s];
      for (j = hi; j < len; ++j) d[j] = 0.f;
    }
  }

  static DirectConvKernels table(const char* isa) { return {isa, W, CO, rows, split_row}; }
};

}  // namespace
}  // namespace normrt
