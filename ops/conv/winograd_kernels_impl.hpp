// The Winograd F(4×4, 3×3) transforms (winograd_kernels.h) written once over a
// vector type V (xsimd::batch<float, Arch>, or float for the tails and the
// reference table). Included by one translation unit per ISA (anonymous
// namespace). Each 2-D transform is a 1-D transform down the columns and then
// along the rows, in registers:
//   input:  one read of the 36 patch values per tile, one write of the 36 V
//   output: one read of the 36 products per tile, one write of 16 outputs
#pragma once
#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "winograd_kernels.h"

namespace normrt {
namespace {

template <class V>
struct WinogradIo {
  static V load(const float* p) { return V::load_unaligned(p); }
  static void store(float* p, const V& v) { v.store_unaligned(p); }
  // Fused wherever the TU has FMA: xsimd's sse2 fma multiplies and adds apart, and the avx2
  // table's 4-wide tails must round as its 8-wide vectors do (results then do not depend on
  // where the tiles' blocks, and so the thread count, cut the runs).
  static V madd(const V& a, const V& b, const V& c) {
#if defined(__FMA__)
    if constexpr (sizeof(typename V::register_type) == 16) return V(_mm_fmadd_ps(a, b, c));
#endif
    return xsimd::fma(a, b, c);
  }
};
template <>
struct WinogradIo<float> {
  static float load(const float* p) { return *p; }
  static void store(float* p, float v) { *p = v; }
  static float madd(float a, float b, float c) { return a * b + c; }
};

// v = Bᵀ·d for one column of 6 (the rows of Bᵀ above).
template <class V>
inline void winograd_bt(const V* d, V* v) {
  using Io = WinogradIo<V>;
  const V d31 = d[3] - d[1], d42 = d[4] - d[2];
  v[0] = Io::madd(V(1.5f), d31, Io::madd(V(-2.f), d[2], d[0] + d[4]));
  v[1] = Io::madd(V(2.5f), d[3], Io::madd(V(0.5f), d[2], d[4] - d[1]));
  v[2] = Io::madd(V(0.5f), d[3], Io::madd(V(-2.5f), d[2], d[4] + d[1]));
  v[3] = Io::madd(V(2.f), d31, d42);
  v[4] = Io::madd(V(-0.5f), d31, d42);
  v[5] = Io::madd(V(1.5f), d42, Io::madd(V(-2.f), d[3], d[1] + d[5]));
}

// y = Aᵀ·m for one column of 6 (the rows of Aᵀ above).
template <class V>
inline void winograd_at(const V* m, V* y) {
  using Io = WinogradIo<V>;
  const V s12 = m[1] + m[2], d12 = m[1] - m[2];
  y[0] = m[0] + s12 + (m[3] + m[4]);
  y[1] = Io::madd(V(-2.f), m[4], Io::madd(V(0.5f), m[3], d12));
  y[2] = Io::madd(V(4.f), m[4], Io::madd(V(0.25f), m[3], s12));
  y[3] = Io::madd(V(-8.f), m[4], Io::madd(V(0.125f), m[3], d12)) + m[5];
}

// Tiles [j, j + lanes of V) of winograd_kernels.h's input.
template <class V>
inline void winograd_input_at(const float* p, int64_t ps, int64_t j, float* v, int64_t vs) {
  using Io = WinogradIo<V>;
  V t[6][6];  // t[i][q] = (Bᵀ·d)[i][q]
  for (int q = 0; q < 6; ++q) {
    V d[6];
    for (int r = 0; r < 6; ++r) d[r] = Io::load(p + (r * 4 + (q & 3)) * ps + j + (q >> 2));
    V col[6];
    winograd_bt(d, col);
    for (int i = 0; i < 6; ++i) t[i][q] = col[i];
  }
  for (int i = 0; i < 6; ++i) {
    V row[6];
    winograd_bt(t[i], row);
    for (int k = 0; k < 6; ++k) Io::store(v + (i * 6 + k) * vs + j, row[k]);
  }
}

// Tiles [j, j + lanes of V) of winograd_kernels.h's output.
template <class V>
inline void winograd_output_at(const float* m, int64_t ms, int64_t j, float bias, float* o, int64_t os) {
  using Io = WinogradIo<V>;
  V t[4][6];  // t[i][k] = (Aᵀ·m)[i][k]
  for (int k = 0; k < 6; ++k) {
    V col[6], y[4];
    for (int i = 0; i < 6; ++i) col[i] = Io::load(m + (i * 6 + k) * ms + j);
    winograd_at(col, y);
    for (int i = 0; i < 4; ++i) t[i][k] = y[i];
  }
  for (int i = 0; i < 4; ++i) {
    V y[4];
    winograd_at(t[i], y);
    for (int k = 0; k < 4; ++k) Io::store(o + (i * 4 + k) * os + j, y[k] + V(bias));
  }
}

template <class V>
constexpr int64_t winograd_lanes() {
  if constexpr (std::is_same_v<V, float>)
    return 1;
  else
    return static_cast<int64_t>(V::size);
}

// V: the ISA's vector; H: a narrower one (or V itself) for a last few tiles
// that fit it (runs are short: 7 or 14 tiles a row on 28×28 and 56×56 planes).
template <class V, class H = V>
struct WinogradImpl {
  static void input(const float* p, int64_t ps, int64_t n, float* v, int64_t vs) {
    constexpr int64_t L = winograd_lanes<V>(), LH = winograd_lanes<H>();
    int64_t j = 0;
    for (; j + L <= n; j += L) winograd_input_at<V>(p, ps, j, v, vs);
    for (; j + LH < n; j += L) winograd_input_at<V>(p, ps, j, v, vs);
    if (j < n) winograd_input_at<H>(p, ps, j, v, vs);
  }
  static void output(const float* m, int64_t ms, int64_t n, float bias, float* o, int64_t os) {
    constexpr int64_t L = winograd_lanes<V>(), LH = winograd_lanes<H>();
    int64_t j = 0;
    for (; j + L <= n; j += L) winograd_output_at<V>(m, ms, j, bias, o, os);
    for (; j + LH < n; j += L) winograd_output_at<V>(m, ms, j, bias, o, os);
    if (j < n) winograd_output_at<H>(m, ms, j, bias, o, os);
  }
  static WinogradKernels table(const char* isa) { return WinogradKernels{isa, &input, &output}; }
};

}  // namespace
}  // namespace normrt
