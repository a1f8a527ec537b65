// The int8 GEMM's row epilogue and DynamicQuantizeLinear's two passes over
// xsimd::batch<_, Arch>, included by one translation unit per ISA (anonymous
// namespace). Per finished row of C, one pass (int8_gemm.h):
//   v = acc + row_off + col_off[j] − row_sum·col_zb[j] − row_za·col_c[j]   (int32, wrapping)
//   int32: v;  float: float(v)·mult[j] (+ bias[j]);  requant: saturate(rint(float(v)·mult[j]) + zy)
// min_max: one pass over x; quantize_u8: one pass over x.
#pragma once
#include <cmath>
#include <cstdint>
#include <xsimd/xsimd.hpp>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "int8_gemm.h"

namespace normrt {
namespace linalg {
namespace {

// The scalar epilogue of one element (the vector loop's tail and the reference).
inline void finish_one(const int32_t* acc, int64_t j, const Int8RowEpilogue& e, void* out) {
  uint32_t v = static_cast<uint32_t>(acc[j]) + static_cast<uint32_t>(e.row_off);
  if (e.col_off) v += static_cast<uint32_t>(e.col_off[j]);
  if (e.col_zb) v -= static_cast<uint32_t>(e.row_sum) * static_cast<uint32_t>(e.col_zb[j]);
  if (e.col_c) v -= static_cast<uint32_t>(e.row_za) * static_cast<uint32_t>(e.col_c[j]);
  const int32_t s = static_cast<int32_t>(v);
  if (e.kind == 0) {
    static_cast<int32_t*>(out)[j] = s;
    return;
  }
  const float x = static_cast<float>(s) * e.mult[j];
  if (e.kind == 1) {
    static_cast<float*>(out)[j] = e.bias ? x + e.bias[j] : x;
    return;
  }
  const int32_t lo = e.kind == 2 ? 0 : -128, hi = e.kind == 2 ? 255 : 127;
  const double q = x == x ? std::nearbyint(static_cast<double>(x)) + e.y_zero_point : e.y_zero_point;
  const int32_t r = q < lo ? lo : q > hi ? hi : static_cast<int32_t>(q);
  if (e.kind == 2)
    static_cast<uint8_t*>(out)[j] = static_cast<uint8_t>(r);
  else
    static_cast<int8_t*>(out)[j] = static_cast<int8_t>(r);
}

// W int32 values already in [−128, 127] (is_signed) or [0, 255] as W bytes.
template <class Arch>
inline void store_bytes(const xsimd::batch<int32_t, Arch>& q, bool is_signed, void* y) {
  constexpr size_t W = xsimd::batch<int32_t, Arch>::size;
  (void)is_signed;  // (only the avx2 packs need it)
#if defined(__AVX512F__)
  if constexpr (W == 16) {
    _mm_storeu_si128(static_cast<__m128i*>(y), _mm512_mask_cvtepi32_epi8(_mm_setzero_si128(), 0xFFFF, q));  // truncates
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (W == 8) {
    const __m256i w = _mm256_packs_epi32(q, q);  // int16, per 128-bit lane: q0..3 q0..3 | q4..7 q4..7
    const __m256i b = is_signed ? _mm256_packs_epi16(w, w) : _mm256_packus_epi16(w, w);
    const __m256i lo = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
    _mm_storel_epi64(static_cast<__m128i*>(y), _mm256_castsi256_si128(lo));
    return;
  }
#endif
  alignas(64) int32_t t[W];
  q.store_aligned(t);
  for (size_t i = 0; i < W; ++i) static_cast<uint8_t*>(y)[i] = static_cast<uint8_t>(t[i]);
}

template <class Arch>
struct Int8Epilogue {
  using I = xsimd::batch<int32_t, Arch>;
  using F = xsimd::batch<float, Arch>;
  static constexpr int64_t W = static_cast<int64_t>(I::size);

  static void finish_row(const int32_t* acc, int64_t n, const Int8RowEpilogue& e, void* out) {
    const I roff(e.row_off), rsum(e.row_sum), rza(e.row_za);
    const auto value = [&](int64_t j) {
      I v = I::load_unaligned(acc + j) + roff;
      if (e.col_off) v += I::load_unaligned(e.col_off + j);
      if (e.col_zb) v -= rsum * I::load_unaligned(e.col_zb + j);
      if (e.col_c) v -= rza * I::load_unaligned(e.col_c + j);
      return v;
    };
    int64_t j = 0;
    if (e.kind == 0) {
      for (; j + W <= n; j += W) value(j).store_unaligned(static_cast<int32_t*>(out) + j);
    } else if (e.kind == 1) {
      float* y = static_cast<float*>(out);
      for (; j + W <= n; j += W) {
        F x = xsimd::to_float(value(j)) * F::load_unaligned(e.mult + j);
        if (e.bias) x += F::load_unaligned(e.bias + j);
        x.store_unaligned(y + j);
      }
    } else {
      const F lo(e.kind == 2 ? 0.f : -128.f), hi(e.kind == 2 ? 255.f : 127.f), zp(static_cast<float>(e.y_zero_point));
      for (; j + W <= n; j += W) {
        F x = xsimd::to_float(value(j)) * F::load_unaligned(e.mult + j);
        // |x| < 2^24 rounds and adds exactly in float; larger values saturate either way. NaN → zero point.
        x = xsimd::nearbyint(x) + zp;
        x = xsimd::select(x != x, zp, xsimd::min(hi, xsimd::max(lo, x)));
        store_bytes<Arch>(xsimd::to_int(x), e.kind == 3, static_cast<char*>(out) + j);
      }
    }
    for (; j < n; ++j) finish_one(acc, j, e, out);
  }

  static bool min_max(const float* x, int64_t n, float* lo, float* hi) {
    // Four independent chains, so the loop runs at load speed, not at the add latency.
    F vlo[4] = {F(0.f), F(0.f), F(0.f), F(0.f)}, vhi[4] = {F(0.f), F(0.f), F(0.f), F(0.f)};
    F bad[4] = {F(0.f), F(0.f), F(0.f), F(0.f)};
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W)
      for (int u = 0; u < 4; ++u) {
        const F v = F::load_unaligned(x + i + u * W);
        vlo[u] = xsimd::min(vlo[u], v);
        vhi[u] = xsimd::max(vhi[u], v);
        bad[u] += v * F(0.f);  // NaN once any element is NaN or ±inf
      }
    for (; i + W <= n; i += W) {
      const F v = F::load_unaligned(x + i);
      vlo[0] = xsimd::min(vlo[0], v);
      vhi[0] = xsimd::max(vhi[0], v);
      bad[0] += v * F(0.f);
    }
    alignas(64) float ls[4][W], hs[4][W];
    float mn = 0.f, mx = 0.f, nb = xsimd::hadd((bad[0] + bad[1]) + (bad[2] + bad[3]));
    for (int u = 0; u < 4; ++u) {
      vlo[u].store_aligned(ls[u]);
      vhi[u].store_aligned(hs[u]);
      for (int64_t t = 0; t < W; ++t) {
        mn = ls[u][t] < mn ? ls[u][t] : mn;
        mx = hs[u][t] > mx ? hs[u][t] : mx;
      }
    }
    for (; i < n; ++i) {
      mn = x[i] < mn ? x[i] : mn;
      mx = x[i] > mx ? x[i] : mx;
      nb += x[i] * 0.f;
    }
    *lo = mn;
    *hi = mx;
    return nb == 0.f;
  }

  static void quantize_u8(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* y) {
    const F s(scale), zp(static_cast<float>(zero_point)), lo(0.f), hi(255.f);
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      F v = xsimd::nearbyint(F::load_unaligned(x + i) / s) + zp;
      v = xsimd::select(v != v, zp, xsimd::min(hi, xsimd::max(lo, v)));
      store_bytes<Arch>(xsimd::to_int(v), false, y + i);
    }
    for (; i < n; ++i) {
      const float v = x[i] / scale;
      const double r = v == v ? std::nearbyint(static_cast<double>(v)) + zero_point : zero_point;
      y[i] = static_cast<uint8_t>(r < 0 ? 0 : r > 255 ? 255 : static_cast<int32_t>(r));
    }
  }
};

}  // namespace
}  // namespace linalg
}  // namespace normrt
