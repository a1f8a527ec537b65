// avx512 int8 tile (compiled with avx512bw + avx512vnni): MR = 8 rows × NR = 32
// columns (two 16-lane vectors), 16 accumulators. Per group of 4 k, each row's
// 4 uint8 a-values are broadcast to every 32-bit lane and vpdpbusd adds the 4
// products with B's 4 int8 values of each column straight into int32:
//   C[r, j] (+)= Σ_g Σ_t Ap[g·MR·4 + r·4 + t]·Bp[g·NR·4 + j·4 + t]
// One pass over the A and B panels; C read (accumulate) and written once.
// tile_float (the last K block, per-tensor zero points): the sums go through
// the float epilogue in registers, float(acc + row_off[r] + col_off[j])·mult[j]
// (+ bias[j]), and are stored as floats: no int32 block written and read back.
// Tiles of 1 or 2 rows keep two sets of sums (even and odd groups) so that
// vpdpbusd's latency does not serialize them. Without avx512vnni on the CPU
// the avx512 path takes the avx2 int8 table.
#include <immintrin.h>

#include <cstring>

#include "int8_gemm_epilogue.hpp"

namespace normrt {
namespace linalg {
namespace {

// Where tile_float's rows go and the epilogue's terms (null for the int32 tile).
struct FloatOut {
  float* Y;
  int64_t ldy;
  const int32_t *row_off, *col_off;
  const float *mult, *bias;
};

template <int MR>
struct Int8Vnni {
  static constexpr int NR = 32;

  // Cin: the int32 tile read when accumulate; C: where it is written (null when fo is set).
  template <int R>
  static void tile_rows(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, const int32_t* Cin, int32_t* C, int64_t ldc,
                        int nr, bool accumulate, const int8_t* pf, const FloatOut* fo) {
    constexpr int S = R <= 2 ? 2 : 1;  // sets of sums
    __m512i c0[S][R], c1[S][R];
#pragma GCC unroll 16
    for (int s = 0; s < S; ++s)
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) c0[s][r] = c1[s][r] = _mm512_setzero_si512();
    const auto step = [&](int64_t g, int s) {
      const int8_t* b = Bp + g * NR * 4;
      if (pf) {  // the next panel's group g (two cache lines)
        __builtin_prefetch(pf + g * NR * 4);
        __builtin_prefetch(pf + g * NR * 4 + 64);
      }
      const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 64);
      const uint8_t* a = Ap + g * MR * 4;
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        int32_t a4;
        std::memcpy(&a4, a + 4 * r, 4);
        const __m512i av = _mm512_set1_epi32(a4);
        c0[s][r] = _mm512_dpbusd_epi32(c0[s][r], av, b0);
        c1[s][r] = _mm512_dpbusd_epi32(c1[s][r], av, b1);
      }
    };
    int64_t g = 0;
    if constexpr (S == 2)
      for (; g + 2 <= kc4; g += 2) {
        step(g, 0);
        step(g + 1, 1);
      }
    for (; g < kc4; ++g) step(g, 0);
    const __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : static_cast<__mmask16>((1u << (nr - 16)) - 1);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      __m512i v0 = c0[0][r], v1 = c1[0][r];
      if constexpr (S == 2) {
        v0 = _mm512_add_epi32(v0, c0[1][r]);
        v1 = _mm512_add_epi32(v1, c1[1][r]);
      }
      if (accumulate) {
        v0 = _mm512_add_epi32(v0, _mm512_maskz_loadu_epi32(m0, Cin + r * ldc));
        v1 = _mm512_add_epi32(v1, _mm512_maskz_loadu_epi32(m1, Cin + r * ldc + 16));
      }
      if (!fo) {
        _mm512_mask_storeu_epi32(C + r * ldc, m0, v0);
        _mm512_mask_storeu_epi32(C + r * ldc + 16, m1, v1);
        continue;
      }
      const __m512i roff = _mm512_set1_epi32(fo->row_off[r]);
      const auto finish = [&](__m512i v, __mmask16 m, int j) {
        v = _mm512_add_epi32(_mm512_add_epi32(v, roff), _mm512_maskz_loadu_epi32(m, fo->col_off + j));
        __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_maskz_loadu_ps(m, fo->mult + j));
        if (fo->bias) {
          __asm__("" : "+v"(y));  // two roundings, as finish_row: the compiler may not contract them into an fma
          y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(m, fo->bias + j));
        }
        _mm512_mask_storeu_ps(fo->Y + r * fo->ldy + j, m, y);
      };
      finish(v0, m0, 0);
      finish(v1, m1, 16);
    }
  }

  template <int R = 1>
  static void dispatch(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, const int32_t* Cin, int32_t* C, int64_t ldc,
                       int mr, int nr, bool accumulate, const int8_t* pf, const FloatOut* fo) {
    if constexpr (R < MR) {
      if (mr > R) return dispatch<R + 1>(kc4, Ap, Bp, Cin, C, ldc, mr, nr, accumulate, pf, fo);
    }
    tile_rows<R>(kc4, Ap, Bp, Cin, C, ldc, nr, accumulate, pf, fo);
  }
  static void tile(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, int32_t* C, int64_t ldc, int mr, int nr,
                   bool accumulate, const int8_t* pf) {
    dispatch<1>(kc4, Ap, Bp, C, C, ldc, mr, nr, accumulate, pf, nullptr);
  }
  static void tile_float(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, const int32_t* Cin, int64_t ldcin,
                         bool accumulate, float* Y, int64_t ldy, int mr, int nr, const int32_t* row_off,
                         const int32_t* col_off, const float* mult, const float* bias, const int8_t* pf) {
    const FloatOut fo{Y, ldy, row_off, col_off, mult, bias};
    dispatch<1>(kc4, Ap, Bp, Cin, nullptr, ldcin, mr, nr, accumulate, pf, &fo);
  }
};

using Epi = Int8Epilogue<xsimd::avx512bw>;

}  // namespace

const Int8GemmKernels* int8_gemm_kernels_avx512() {
  static const Int8GemmKernels vnni{
      "avx512",         8, 32, 1, &Int8Vnni<8>::tile, &Epi::finish_row, &Int8Vnni<8>::tile_float, &Epi::min_max,
      &Epi::quantize_u8};
  static const Int8GemmKernels* k = __builtin_cpu_supports("avx512vnni") ? &vnni : int8_gemm_kernels_avx2();
  return k;
}

}  // namespace linalg
}  // namespace normrt
