// Depthwise 3×3, stride 1, padded by 1 on each side, on one in1×in2 channel
// plane read in place (no padded copy), avx512 and avx2:
//   y[o1, o2] = clamp(bias + Σ_{k1,k2} w[3·k1 + k2]·x[o1 − 1 + k1, o2 − 1 + k2]), x zero outside.
// A row is cut into blocks of one vector of columns; up to four blocks walk
// down the plane together. Each input row is loaded once per block as its
// left, centre and right neighbours (masked loads: nothing outside the plane
// is read, and a lane whose column is outside the row is zero) and added into
// the three output rows it touches (tap row 2 of row i − 1, 1 of row i, 0 of
// row i + 1); an output row is stored (masked to the row) once its last input
// row is in. Passes: one read of x, one write of y; 3 loads for 9 FMAs.
// Included by depthwise_kernels_impl.hpp.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace normrt {
namespace {

#if defined(__AVX512F__)
struct Dw3x3Avx512 {
  static constexpr int L = 16;
  using V = __m512;
  using M = __mmask16;
  static M lanes_below(int64_t n) {
    return n >= L ? static_cast<M>(0xFFFF) : n <= 0 ? static_cast<M>(0) : static_cast<M>((1u << n) - 1);
  }
  static M drop_lane0(M m) { return static_cast<M>(m & ~1u); }
  static V load(M m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(M m, float* p, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  // NaN stays NaN (maximum and minimum return their second operand then). The
  // masked forms: GCC 12's plain _mm512_max_ps trips a false -Wuninitialized.
  static V clamp(V v, V lo, V hi) { return _mm512_mask_min_ps(v, 0xFFFF, hi, _mm512_mask_max_ps(v, 0xFFFF, lo, v)); }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct Dw3x3Avx2 {
  static constexpr int L = 8;
  using V = __m256;
  using M = __m256i;
  static M lanes_below(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::max<int64_t>(-1, std::min<int64_t>(n, 8)))),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static M drop_lane0(M m) { return _mm256_and_si256(m, _mm256_setr_epi32(0, -1, -1, -1, -1, -1, -1, -1)); }
  static V load(M m, const float* p) { return _mm256_maskload_ps(p, m); }
  static void store(M m, float* p, V v) { _mm256_maskstore_ps(p, m, v); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V clamp(V v, V lo, V hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, v)); }
};
#endif

template <class S>
struct Dw3x3s1 {
  using V = typename S::V;
  using M = typename S::M;

  // NB blocks of columns from c0, every row of the plane.
  template <int NB>
  static void blocks(const float* x, int64_t in1, int64_t in2, int64_t c0, const float* w, float bias, V lo, V hi,
                     float* y) {
    M mc[NB], ml[NB], mr[NB];
    for (int j = 0; j < NB; ++j) {
      const int64_t c = c0 + j * S::L;
      mc[j] = S::lanes_below(in2 - c);                // the block's columns inside the row
      ml[j] = c == 0 ? S::drop_lane0(mc[j]) : mc[j];  // column c + i − 1 inside
      mr[j] = S::lanes_below(in2 - c - 1);            // column c + i + 1 inside
    }
    V wt[9];
    for (int t = 0; t < 9; ++t) wt[t] = S::set1(w[t]);
    const V vb = S::set1(bias);
    V above[NB], here[NB];  // output rows i − 1 and i, partly summed (above: from row 1 on)
    for (int j = 0; j < NB; ++j) here[j] = above[j] = vb;
    for (int64_t i = 0; i < in1; ++i) {
      const float* xr = x + i * in2 + c0;
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) {
        const float* p = xr + j * S::L;
        const V l = S::load(ml[j], p - 1), m = S::load(mc[j], p), r = S::load(mr[j], p + 1);
        if (i > 0) {  // row i − 1 is complete with its tap row 2
          const V a = S::fma(wt[8], r, S::fma(wt[7], m, S::fma(wt[6], l, above[j])));
          S::store(mc[j], y + (i - 1) * in2 + c0 + j * S::L, S::clamp(a, lo, hi));
        }
        above[j] = S::fma(wt[5], r, S::fma(wt[4], m, S::fma(wt[3], l, here[j])));
        here[j] = S::fma(wt[2], r, S::fma(wt[1], m, S::fma(wt[0], l, vb)));
      }
    }
    for (int j = 0; j < NB; ++j)  // the last row: its tap row 2 is the padding
      S::store(mc[j], y + (in1 - 1) * in2 + c0 + j * S::L, S::clamp(above[j], lo, hi));
  }

  static void run(const float* x, int64_t in1, int64_t in2, const float* w, float bias, float lo, float hi, float* y) {
    if (in1 <= 0 || in2 <= 0) return;
    const V vlo = S::set1(lo), vhi = S::set1(hi);
    const int64_t nb = (in2 + S::L - 1) / S::L;
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) blocks<4>(x, in1, in2, b * S::L, w, bias, vlo, vhi, y);
    switch (nb - b) {
      case 3:
        blocks<3>(x, in1, in2, b * S::L, w, bias, vlo, vhi, y);
        break;
      case 2:
        blocks<2>(x, in1, in2, b * S::L, w, bias, vlo, vhi, y);
        break;
      case 1:
        blocks<1>(x, in1, in2, b * S::L, w, bias, vlo, vhi, y);
        break;
      default:
        break;
    }
  }
};

#if defined(__AVX512F__)
// avx512's entry: rows of at most 8 columns (7×7 planes) as 8-lane blocks, 16-lane ones otherwise.
inline void dw3x3s1_avx512(const float* x, int64_t in1, int64_t in2, const float* w, float bias, float lo, float hi,
                           float* y) {
  if (in2 <= 8)
    Dw3x3s1<Dw3x3Avx2>::run(x, in1, in2, w, bias, lo, hi, y);
  else
    Dw3x3s1<Dw3x3Avx512>::run(x, in1, in2, w, bias, lo, hi, y);
}
#endif

}  // namespace
}  // namespace normrt
