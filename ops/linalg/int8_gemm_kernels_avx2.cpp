// avx2 int8 tile (compiled with this ISA's flags only): MR = 6 rows × NR = 8
// columns of int32 sums, exact for every uint8 × int8 pair. Per group of 4 k:
// B's 32 bytes are sign-extended to int16 in two halves (columns 0–3, 4–7),
// each row's 4 a-values (packed as int16) broadcast, and vpmaddwd adds
// pairs of products straight into int32 (|a·b| ≤ 255·128: no int16
// saturation, unlike vpmaddubsw), so each column holds two partial lanes
// (k 0–1 and 2–3) until the store adds them:
//   C[r, j] (+)= Σ_g Σ_t Ap[g·MR·4 + r·4 + t]·Bp[g·NR·4 + j·4 + t]
// One pass over the A and B panels; C read (accumulate) and written once.
#include <immintrin.h>

#include <cstring>

#include "int8_gemm_epilogue.hpp"

namespace normrt {
namespace linalg {
namespace {

template <int MR>
struct Int8Avx2 {
  static constexpr int NR = 8;

  template <int R>
  static void tile_rows(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, int32_t* C, int64_t ldc, int nr,
                        bool accumulate, const int8_t* pf, int64_t pf_lines) {
    Int8PrefetchSpread prefetch(pf, pf_lines, kc4);
    __m256i lo[R], hi[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm256_setzero_si256();
    for (int64_t g = 0; g < kc4; ++g) {
      const int8_t* b = Bp + g * NR * 4;
      prefetch.at(g);
      const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
      const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16)));
      const uint8_t* a = Ap + g * MR * 8;
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        long long a4;  // 4 int16
        std::memcpy(&a4, a + 8 * r, 8);
        const __m256i aw = _mm256_set1_epi64x(a4);
        lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(b0, aw));
        hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(b1, aw));
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      // hadd gives columns [0 1 4 5 | 2 3 6 7]; the permute puts them in order.
      __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[r], hi[r]), 0xD8);
      int32_t* c = C + r * ldc;
      if (nr == NR) {
        if (accumulate) s = _mm256_add_epi32(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), s);
      } else {
        alignas(32) int32_t t[NR];
        _mm256_store_si256(reinterpret_cast<__m256i*>(t), s);
        for (int j = 0; j < nr; ++j) c[j] = (accumulate ? c[j] : 0) + t[j];
      }
    }
  }

  template <int R>
  static void dispatch(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, int32_t* C, int64_t ldc, int mr, int nr,
                       bool accumulate, const int8_t* pf, int64_t pf_lines) {
    if constexpr (R < MR) {
      if (mr > R) return dispatch<R + 1>(kc4, Ap, Bp, C, ldc, mr, nr, accumulate, pf, pf_lines);
    }
    tile_rows<R>(kc4, Ap, Bp, C, ldc, nr, accumulate, pf, pf_lines);
  }
  static void tile(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, int32_t* C, int64_t ldc, int mr, int nr,
                   bool accumulate, const int8_t* pf, int64_t pf_lines) {
    dispatch<1>(kc4, Ap, Bp, C, ldc, mr, nr, accumulate, pf, pf_lines);
  }
};

using Epi = Int8Epilogue<xsimd::fma3<xsimd::avx2>>;

}  // namespace

const Int8GemmKernels* int8_gemm_kernels_avx2() {
  static const Int8GemmKernels k{
      "avx2", 6, 8, 2, &Int8Avx2<6>::tile, &Epi::finish_row, nullptr, &Epi::min_max, &Epi::quantize_u8};
  return &k;
}

}  // namespace linalg
}  // namespace normrt
