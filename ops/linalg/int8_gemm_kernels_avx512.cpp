// avx512 int8 tile (compiled with avx512bw + avx512vnni): MR = 8 rows × NR = 32
// columns (two 16-lane vectors), 16 accumulators. Per group of 4 k, each row's
// 4 uint8 a-values are broadcast to every 32-bit lane and vpdpbusd adds the 4
// products with B's 4 int8 values of each column straight into int32:
//   C[r, j] (+)= Σ_g Σ_t Ap[g·MR·4 + r·4 + t]·Bp[g·NR·4 + j·4 + t]
// One pass over the A and B panels; C read (accumulate) and written once.
// tile_float (a single K block, per-tensor zero points): the tile's sums go
// through the float epilogue, float(acc + row_off[r] + col_off[j])·mult[j]
// (+ bias[j]), from a 1 KB stack tile (L1) and are stored as floats: the task's
// int32 block is not written and read back.
// Tiles of 1 or 2 rows keep two sets of sums (even and odd groups) so that
// vpdpbusd's latency does not serialize them. Without avx512vnni on the CPU
// the avx512 path takes the avx2 int8 table.
#include <immintrin.h>

#include <cstring>

#include "int8_gemm_epilogue.hpp"

namespace normrt {
namespace linalg {
namespace {

template <int MR>
struct Int8Vnni {
  static constexpr int NR = 32;

  // Cin: the int32 tile read when accumulate (row stride ldin); C: where it is written.
  template <int R>
  static void tile_rows(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, const int32_t* Cin, int64_t ldin, int32_t* C,
                        int64_t ldc, int nr, bool accumulate, const int8_t* pf, int64_t pf_lines) {
    constexpr int S = R <= 2 ? 2 : 1;  // sets of sums
    Int8PrefetchSpread prefetch(pf, pf_lines, kc4);
    __m512i c0[S][R], c1[S][R];
#pragma GCC unroll 16
    for (int s = 0; s < S; ++s)
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) c0[s][r] = c1[s][r] = _mm512_setzero_si512();
    const auto step = [&](int64_t g, int s) {
      const int8_t* b = Bp + g * NR * 4;
      prefetch.at(g);
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
        v0 = _mm512_add_epi32(v0, _mm512_maskz_loadu_epi32(m0, Cin + r * ldin));
        v1 = _mm512_add_epi32(v1, _mm512_maskz_loadu_epi32(m1, Cin + r * ldin + 16));
      }
      _mm512_mask_storeu_epi32(C + r * ldc, m0, v0);
      _mm512_mask_storeu_epi32(C + r * ldc + 16, m1, v1);
    }
  }

  template <int R = 1>
  static void dispatch(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, const int32_t* Cin, int64_t ldin, int32_t* C,
                       int64_t ldc, int mr, int nr, bool accumulate, const int8_t* pf, int64_t pf_lines) {
    if constexpr (R < MR) {
      if (mr > R) return dispatch<R + 1>(kc4, Ap, Bp, Cin, ldin, C, ldc, mr, nr, accumulate, pf, pf_lines);
    }
    tile_rows<R>(kc4, Ap, Bp, Cin, ldin, C, ldc, nr, accumulate, pf, pf_lines);
  }
  static void tile(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, int32_t* C, int64_t ldc, int mr, int nr,
                   bool accumulate, const int8_t* pf, int64_t pf_lines) {
    dispatch<1>(kc4, Ap, Bp, C, ldc, C, ldc, mr, nr, accumulate, pf, pf_lines);
  }
  // The sums into a 1 KB tile on the stack (in L1; the loop is the int32 tile's),
  // then the float epilogue from there into Y.
  static void tile_float(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, float* Y, int64_t ldy, int mr, int nr,
                         const int32_t* row_off, const int32_t* col_off, const float* mult, const float* bias,
                         const int8_t* pf, int64_t pf_lines) {
    alignas(64) int32_t sums[MR * NR];
    dispatch<1>(kc4, Ap, Bp, sums, NR, sums, NR, mr, nr, false, pf, pf_lines);
    const __mmask16 m0 = nr >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : static_cast<__mmask16>((1u << (nr - 16)) - 1);
    const __m512i off0 = _mm512_maskz_loadu_epi32(m0, col_off), off1 = _mm512_maskz_loadu_epi32(m1, col_off + 16);
    const __m512 mul0 = _mm512_maskz_loadu_ps(m0, mult), mul1 = _mm512_maskz_loadu_ps(m1, mult + 16);
    const __m512 add0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 add1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
    for (int r = 0; r < mr; ++r) {
      const __m512i roff = _mm512_set1_epi32(row_off[r]);
      const auto finish = [&](const int32_t* acc, __m512i off, __m512 mul, __m512 add, __mmask16 m, float* y) {
        const __m512i v = _mm512_add_epi32(_mm512_add_epi32(_mm512_load_si512(acc), roff), off);
        __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(v), mul);
        if (bias) {
          __asm__("" : "+v"(x));  // two roundings, as finish_row: the compiler may not contract them into an fma
          x = _mm512_add_ps(x, add);
        }
        _mm512_mask_storeu_ps(y, m, x);
      };
      finish(sums + r * NR, off0, mul0, add0, m0, Y + r * ldy);
      finish(sums + r * NR + 16, off1, mul1, add1, m1, Y + r * ldy + 16);
    }
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
