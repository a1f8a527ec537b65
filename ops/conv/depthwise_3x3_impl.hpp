// Depthwise 3×3 kernels on one channel plane read in place (no padded copy),
// in intrinsics. Included by depthwise_kernels_impl.hpp.
//
// Stride 1, padded by 1 on each side (avx2, avx512):
//   y[o1, o2] = clamp(bias + Σ_{k1,k2} w[3·k1 + k2]·x[o1 − 1 + k1, o2 − 1 + k2]), x zero outside.
// A row is cut into blocks of one vector of columns; up to four blocks walk
// down the plane together. Each input row is loaded once per block as its
// left, centre and right neighbours (masked loads at the row's ends: nothing
// outside the plane is read, and a lane whose column is outside the row is
// zero) and added into the three output rows it touches (tap row 2 of row
// i − 1, 1 of row i, 0 of row i + 1); an output row is stored (masked to the
// row) once its last input row is in. Passes: one read of x, one write of y;
// 3 loads for 9 FMAs.
//
// Stride 2, padded by 1 before each axis (MobileNet's downsampling):
//   y[o1, o2] = clamp(bias + Σ w[3·k1 + k2]·x[2·o1 − 1 + k1, 2·o2 − 1 + k2]), x zero outside.
// avx512: blocks of 16 outputs take their 32 columns from 2·o2 of each input
// row by two loads, split by two permutes into even (tap column 1) and odd
// columns (tap 2); tap 0 is the odd columns one lane over, the column before
// the block in lane 0. Up to four blocks go down the plane together; input
// row 2·o1 + 1 is loaded once for output rows o1 (tap row 2) and o1 + 1 (tap
// row 0). avx2: dw3x3s2_avx2 below, 8 outputs from 16 columns. Passes: one read of x, one write of y.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "../simd_lanes_impl.hpp"

namespace normrt {
namespace {

#ifdef __AVX2__
// Depthwise 3×3, stride 2, padding 1 at the start of both axes, on one channel
// plane, read straight from x (no padded copy): y[o1, j] = clamp(bias +
// Σ_{k1,k2} w[k1·3 + k2]·x[2·o1 − 1 + k1, 2·j − 1 + k2]), x zero outside.
// Eight outputs take the 16 columns from 2·j of each input row, split in
// registers into even (tap k2 = 1) and odd columns (tap 2); tap 0 is the odd
// columns one lane over, with column 2·j − 1 in lane 0. The last outputs of a
// row (fewer than 8, or too near its end for 16 reads) are the same block with
// the columns from in2 on loaded as zeros (masked loads: the padding) and only
// those outputs stored. One pass over x, one write of y.
inline void dw3x3s2_avx2(const float* x, int64_t in1, int64_t in2, int64_t out1, int64_t out2, const float* w,
                         float bias, float lo, float hi, float* y) {
  const __m256i one_over = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const __m256 w0 = _mm256_set1_ps(w[0]), w1 = _mm256_set1_ps(w[1]), w2 = _mm256_set1_ps(w[2]);
  const __m256 w3 = _mm256_set1_ps(w[3]), w4 = _mm256_set1_ps(w[4]), w5 = _mm256_set1_ps(w[5]);
  const __m256 w6 = _mm256_set1_ps(w[6]), w7 = _mm256_set1_ps(w[7]), w8 = _mm256_set1_ps(w[8]);
  // One input row's three taps for 8 outputs from its 16 columns a, b (from 2·j) and column 2·j − 1.
  const auto row_taps = [one_over](__m256 a, __m256 b, float left0, __m256 wl, __m256 wm, __m256 wr) {
    // even = s0 s2 … s14, odd = s1 s3 … s15: in-lane shuffles, then the 64-bit halves into order
    const __m256 even = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), 0xD8));
    const __m256 odd = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), 0xD8));
    const __m256 left = _mm256_blend_ps(_mm256_permutevar8x32_ps(odd, one_over), _mm256_set1_ps(left0), 0x01);
    return _mm256_fmadd_ps(wr, odd, _mm256_fmadd_ps(wl, left, _mm256_mul_ps(wm, even)));
  };
  // Blocks of 8 outputs whose 16 columns from 2·j lie inside the row.
  int64_t vec_end = 0;
  while (vec_end + 8 <= out2 && 2 * vec_end + 16 <= in2) vec_end += 8;
  // The rest (at most 8 outputs: 2·out2 ≤ in2 + 1): columns from 2·vec_end, `valid` of them inside the row.
  const int64_t valid = in2 - 2 * vec_end;
  const __m256i ma = avx2_lanes_below(valid), mb = avx2_lanes_below(valid - 8), my = avx2_lanes_below(out2 - vec_end);
  for (int64_t o1 = 0; o1 < out1; ++o1) {
    const int64_t r = 2 * o1 - 1;  // the input row of taps k1 = 0 (then r + 1, r + 2); null when outside
    const float* x0 = r >= 0 && r < in1 ? x + r * in2 : nullptr;
    const float* x1 = r + 1 < in1 ? x + (r + 1) * in2 : nullptr;
    const float* x2 = r + 2 < in1 ? x + (r + 2) * in2 : nullptr;
    float* yr = y + o1 * out2;
    const auto block = [&](int64_t j, bool tail) {
      __m256 sum = _mm256_set1_ps(bias);
      const float* rows[3] = {x0, x1, x2};
      const __m256 wts[3][3] = {{w0, w1, w2}, {w3, w4, w5}, {w6, w7, w8}};
      for (int k1 = 0; k1 < 3; ++k1) {
        if (!rows[k1]) continue;
        const float* s = rows[k1] + 2 * j;
        const __m256 a = tail ? _mm256_maskload_ps(s, ma) : _mm256_loadu_ps(s);
        const __m256 b = tail ? _mm256_maskload_ps(s + 8, mb) : _mm256_loadu_ps(s + 8);
        sum = _mm256_add_ps(sum, row_taps(a, b, j == 0 ? 0.f : s[-1], wts[k1][0], wts[k1][1], wts[k1][2]));
      }
      return _mm256_min_ps(vhi, _mm256_max_ps(vlo, sum));  // max/min keep a NaN sum
    };
    for (int64_t j = 0; j < vec_end; j += 8) _mm256_storeu_ps(yr + j, block(j, false));
    if (vec_end < out2) _mm256_maskstore_ps(yr + vec_end, my, block(vec_end, true));
  }
}
#endif

#if defined(__AVX512F__)
struct Dw3x3Avx512 {
  static constexpr int L = 16;
  using V = __m512;
  using M = __mmask16;
  static M lanes_below(int64_t n) {
    return n >= L ? static_cast<M>(0xFFFF) : n <= 0 ? static_cast<M>(0) : static_cast<M>((1u << n) - 1);
  }
  static M drop_lane0(M m) { return static_cast<M>(m & ~1u); }
  // Plain loads and stores where every lane is in (measured faster inside models than masked
  // ones with a full mask, on data the previous layer had just written).
  static V load(M m, const float* p) { return m == 0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p); }
  static void store(M m, float* p, V v) {
    if (m == 0xFFFF)
      _mm512_storeu_ps(p, v);
    else
      _mm512_mask_storeu_ps(p, m, v);
  }
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
  static M lanes_below(int64_t n) { return avx2_lanes_below(n); }
  static M drop_lane0(M m) { return _mm256_and_si256(m, _mm256_setr_epi32(0, -1, -1, -1, -1, -1, -1, -1)); }
  static bool full(M m) { return _mm256_movemask_ps(_mm256_castsi256_ps(m)) == 0xFF; }
  static V load(M m, const float* p) { return full(m) ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m); }
  static void store(M m, float* p, V v) {
    if (full(m))
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, m, v);
  }
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
struct Dw3x3s2Avx512 {
  using V = __m512;
  using M = __mmask16;

  // One input row's three taps for block j: left (column 2·c − 1 + 2·i), centre (2·c + 2·i), right (2·c + 2·i + 1).
  struct Taps {
    V l, m, r;
  };
  static Taps row_taps(const float* p, M ma, M mb, V before, __m512i even, __m512i odd) {
    const V a = Dw3x3Avx512::load(ma, p), b = Dw3x3Avx512::load(mb, p + 16);
    const V m = _mm512_permutex2var_ps(a, even, b), r = _mm512_permutex2var_ps(a, odd, b);
    const V l = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(r), _mm512_castps_si512(before), 15));
    return {l, m, r};
  }

  // NB blocks of 16 outputs from column c0, every output row.
  template <int NB>
  static void blocks(const float* x, int64_t in1, int64_t in2, int64_t out1, int64_t out2, int64_t c0, const float* w,
                     float bias, V lo, V hi, float* y) {
    M ma[NB], mb[NB], my[NB];
    for (int j = 0; j < NB; ++j) {
      const int64_t c = c0 + 16 * j;
      ma[j] = Dw3x3Avx512::lanes_below(in2 - 2 * c);
      mb[j] = Dw3x3Avx512::lanes_below(in2 - 2 * c - 16);
      my[j] = Dw3x3Avx512::lanes_below(out2 - c);
    }
    V wt[9];
    for (int t = 0; t < 9; ++t) wt[t] = _mm512_set1_ps(w[t]);
    const V vb = _mm512_set1_ps(bias), zero = _mm512_setzero_ps();
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    // Input row r's taps for every block, handed to f(j, taps); the column before the first
    // block is the padding, or the last odd column of the blocks before.
    const auto each_block = [&](int64_t r, auto&& f) {
      const float* xr = x + r * in2;
      V before = c0 == 0 ? zero : _mm512_set1_ps(xr[2 * c0 - 1]);
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) {
        const Taps t = row_taps(xr + 2 * (c0 + 16 * j), ma[j], mb[j], before, even, odd);
        f(j, t);
        before = t.r;
      }
    };
    // acc + w[0]·l + w[1]·m + w[2]·r for one tap row's weights w.
    const auto tap_row = [](const V* w, const Taps& t, V acc) {
      return _mm512_fmadd_ps(w[2], t.r, _mm512_fmadd_ps(w[1], t.m, _mm512_fmadd_ps(w[0], t.l, acc)));
    };
    V next[NB];                                 // output row o1 + 1's tap row 0 (from input row 2·o1 + 1)
    for (int j = 0; j < NB; ++j) next[j] = vb;  // row 0's tap row 0 is the padding
    for (int64_t o1 = 0; o1 < out1; ++o1) {
      const int64_t r1 = 2 * o1, r2 = 2 * o1 + 1;
      V acc[NB];
      for (int j = 0; j < NB; ++j) acc[j] = next[j];
      if (r1 < in1) each_block(r1, [&](int j, const Taps& t) { acc[j] = tap_row(wt + 3, t, acc[j]); });
      if (r2 < in1) {
        each_block(r2, [&](int j, const Taps& t) {
          acc[j] = tap_row(wt + 6, t, acc[j]);
          next[j] = tap_row(wt, t, vb);
        });
      } else {
        for (int j = 0; j < NB; ++j) next[j] = vb;
      }
      for (int j = 0; j < NB; ++j)
        Dw3x3Avx512::store(my[j], y + o1 * out2 + c0 + 16 * j, Dw3x3Avx512::clamp(acc[j], lo, hi));
    }
  }

  static void run(const float* x, int64_t in1, int64_t in2, int64_t out1, int64_t out2, const float* w, float bias,
                  float lo, float hi, float* y) {
    if (out1 <= 0 || out2 <= 0) return;
    const V vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const int64_t nb = (out2 + 15) / 16;
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) blocks<4>(x, in1, in2, out1, out2, b * 16, w, bias, vlo, vhi, y);
    switch (nb - b) {
      case 3:
        blocks<3>(x, in1, in2, out1, out2, b * 16, w, bias, vlo, vhi, y);
        break;
      case 2:
        blocks<2>(x, in1, in2, out1, out2, b * 16, w, bias, vlo, vhi, y);
        break;
      case 1:
        blocks<1>(x, in1, in2, out1, out2, b * 16, w, bias, vlo, vhi, y);
        break;
      default:
        break;
    }
  }
};

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
