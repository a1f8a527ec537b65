// Lane helpers shared by the per-ISA kernel headers (pools, depthwise,
// direct-rows): part of a vector loaded or stored without touching memory
// past its lanes, and the even/odd de-interleave of two vectors. Each is one
// masked instruction or permute on AVX-512 and AVX2, shuffles or a buffer on
// SSE2. Included by *_impl.hpp headers that are compiled once per ISA, so the
// helpers live in an anonymous namespace (one copy per ISA's object file).
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <xsimd/xsimd.hpp>

namespace normrt {
namespace {

#ifdef __AVX2__
// The 8-lane mask of lanes i < n (n may be ≤ 0 or ≥ 8), for maskload/maskstore.
inline __m256i avx2_lanes_below(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::max<int64_t>(-1, std::min<int64_t>(n, 8)))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

// p[0 … lanes) with the other lanes 0 (lanes ≤ 0: none); nothing else is read.
template <class B>
B load_lanes(const float* p, int64_t lanes) {
  constexpr int W = static_cast<int>(B::size);
  lanes = std::max<int64_t>(0, std::min<int64_t>(lanes, W));
#if defined(__AVX512F__)
  if constexpr (W == 16) return B(_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << lanes) - 1), p));
#endif
#if defined(__AVX2__)
  if constexpr (W == 8) return B(_mm256_maskload_ps(p, avx2_lanes_below(lanes)));
#endif
  alignas(64) float t[W] = {};
  for (int64_t i = 0; i < lanes; ++i) t[i] = p[i];
  return B::load_aligned(t);
}

// v's lanes [0, lanes) to p (0 < lanes ≤ W); nothing else is written.
template <class B>
void store_lanes(const B& v, float* p, int64_t lanes) {
  constexpr int W = static_cast<int>(B::size);
#if defined(__AVX512F__)
  if constexpr (W == 16) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << lanes) - 1), v);
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (W == 8) {
    _mm256_maskstore_ps(p, avx2_lanes_below(lanes), v);
    return;
  }
#endif
  alignas(64) float t[W];
  v.store_aligned(t);
  for (int64_t i = 0; i < lanes; ++i) p[i] = t[i];
}

// The even (a0 a2 … b0 b2 …) and odd (a1 a3 … b1 b3 …) lanes of the 2·W
// floats a, b (AVX-512: one two-source permute each; AVX2: in-lane shuffle,
// then the 64-bit quarters into order; SSE2: one shuffle each).
template <class B>
void split_even_odd(const B& a, const B& b, B& even, B& odd) {
  constexpr int W = static_cast<int>(B::size);
  static_assert(W == 4 || W == 8 || W == 16, "sse2, avx2 or avx512 lanes");
#if defined(__AVX512F__)
  if constexpr (W == 16) {
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    even = B(_mm512_permutex2var_ps(a, ie, b));
    odd = B(_mm512_permutex2var_ps(a, io, b));
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (W == 8) {
    even = B(_mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), 0xD8)));
    odd = B(_mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), 0xD8)));
    return;
  }
#endif
  if constexpr (W == 4) {
    even = B(_mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    odd = B(_mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  }
}

}  // namespace
}  // namespace normrt
