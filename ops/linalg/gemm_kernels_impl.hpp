// The GEMM register tile written once over xsimd::batch<float, Arch>: MR = 6
// (or 4) rows × NR = 2 vectors of C stay in 12 (or 8) accumulators while kc
// rank-1 updates stream packed A (MR values per step, broadcast) and packed B
// (2 vectors per step). The 4-row tile serves products whose M is a multiple
// of 4 but not of 6 (M = 4, 16, 32: 2×2 conv planes, 16-channel convs,
// 32-token sequences), where 6 rows would waste a third to a ninth of the
// work; B's panels are the same for both. Included by one translation unit per
// ISA (anonymous namespace).
#pragma once
#include <algorithm>
#include <xsimd/xsimd.hpp>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "gemm.h"

namespace normrt {
namespace linalg {
namespace {

#ifdef __AVX2__
// Depthwise 3×3, stride 2, padding 1 at the start of both axes, on one channel
// plane, read straight from x (no padded copy): y[o1, j] = clamp(bias +
// Σ_{k1,k2} w[k1·3 + k2]·x[2·o1 − 1 + k1, 2·j − 1 + k2]), x zero outside.
// Eight outputs take the 16 columns from 2·j of each input row, split in
// registers into even (tap k2 = 1) and odd columns (tap 2); tap 0 is the odd
// columns one lane over, with column 2·j − 1 in lane 0. Columns too close to
// the right edge for 16 reads are scalar. One pass over x, one write of y.
inline void dw3x3s2_avx2(const float* x, int64_t in1, int64_t in2, int64_t out1, int64_t out2, const float* w,
                         float bias, float lo, float hi, float* y) {
  const __m256i one_over = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  const __m256 w0 = _mm256_set1_ps(w[0]), w1 = _mm256_set1_ps(w[1]), w2 = _mm256_set1_ps(w[2]);
  const __m256 w3 = _mm256_set1_ps(w[3]), w4 = _mm256_set1_ps(w[4]), w5 = _mm256_set1_ps(w[5]);
  const __m256 w6 = _mm256_set1_ps(w[6]), w7 = _mm256_set1_ps(w[7]), w8 = _mm256_set1_ps(w[8]);
  // One input row's three taps for outputs j … j + 7 (s = the row + 2·j).
  const auto row_taps = [one_over](const float* s, bool first, __m256 wl, __m256 wm, __m256 wr) {
    const __m256 a = _mm256_loadu_ps(s), b = _mm256_loadu_ps(s + 8);
    // even = s0 s2 … s14, odd = s1 s3 … s15: in-lane shuffles, then the 64-bit halves into order
    const __m256 even = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), 0xD8));
    const __m256 odd = _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), 0xD8));
    const __m256 left =
        _mm256_blend_ps(_mm256_permutevar8x32_ps(odd, one_over), _mm256_set1_ps(first ? 0.f : s[-1]), 0x01);
    return _mm256_fmadd_ps(wr, odd, _mm256_fmadd_ps(wl, left, _mm256_mul_ps(wm, even)));
  };
  // Blocks of 8 outputs whose 16 columns from 2·j lie inside the row.
  int64_t vec_end = 0;
  while (vec_end + 8 <= out2 && 2 * vec_end + 16 <= in2) vec_end += 8;
  for (int64_t o1 = 0; o1 < out1; ++o1) {
    const int64_t r = 2 * o1 - 1;  // the input row of taps k1 = 0 (then r + 1, r + 2); null when outside
    const float* x0 = r >= 0 && r < in1 ? x + r * in2 : nullptr;
    const float* x1 = r + 1 < in1 ? x + (r + 1) * in2 : nullptr;
    const float* x2 = r + 2 < in1 ? x + (r + 2) * in2 : nullptr;
    float* yr = y + o1 * out2;
    for (int64_t j = 0; j < vec_end; j += 8) {
      __m256 sum = _mm256_set1_ps(bias);
      if (x0) sum = _mm256_add_ps(sum, row_taps(x0 + 2 * j, j == 0, w0, w1, w2));
      if (x1) sum = _mm256_add_ps(sum, row_taps(x1 + 2 * j, j == 0, w3, w4, w5));
      if (x2) sum = _mm256_add_ps(sum, row_taps(x2 + 2 * j, j == 0, w6, w7, w8));
      _mm256_storeu_ps(yr + j, _mm256_min_ps(vhi, _mm256_max_ps(vlo, sum)));  // max/min keep a NaN sum
    }
    const float* rows[3] = {x0, x1, x2};
    for (int64_t j = vec_end; j < out2; ++j) {
      float sum = bias;
      for (int k1 = 0; k1 < 3; ++k1)
        for (int k2 = 0; k2 < 3 && rows[k1]; ++k2) {
          const int64_t c = 2 * j - 1 + k2;
          if (c >= 0 && c < in2) sum += w[3 * k1 + k2] * rows[k1][c];
        }
      sum = sum < lo ? lo : sum;
      yr[j] = sum > hi ? hi : sum;
    }
  }
}
#endif

template <class Arch, int Rows = 6>
struct GemmImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(B::size);
  static constexpr int MR = Rows, NR = 2 * W;
  static_assert(MR == 4 || MR == 6, "the tile has 4 or 6 rows");

  // The biases of a tile's columns (nr of them, zero past nr) as two vectors.
  static void load_col_bias(const TileEpilogue* ep, int nr, B& cb0, B& cb1) {
    if (!ep || !ep->col_bias) {
      cb0 = cb1 = B(0.f);
    } else if (nr == NR) {
      cb0 = B::load_unaligned(ep->col_bias);
      cb1 = B::load_unaligned(ep->col_bias + W);
    } else {
      alignas(64) float cb[NR] = {};
      for (int j = 0; j < nr; ++j) cb[j] = ep->col_bias[j];
      cb0 = B::load_aligned(cb);
      cb1 = B::load_aligned(cb + W);
    }
  }

  // The tile over kc steps; a(k, r) gives A's value for row r at step k,
  // b(k) the NR values of B's row k. Without `accumulate`, the sums start from
  // the epilogue's biases, so that after the steps only the clamp is left and
  // the stores need no more registers than the 12 accumulators and lo, hi.
  // c_row(r) is where row r of the tile is stored.
  template <class AVal, class BRow, class CRow>
  static void tile(int64_t kc, AVal a_at, BRow b_row, CRow c_row, int mr, int nr, bool accumulate,
                   const TileEpilogue* ep) {
    B c00(0.f), c01(0.f), c10(0.f), c11(0.f), c20(0.f), c21(0.f), c30(0.f), c31(0.f), c40(0.f), c41(0.f), c50(0.f),
        c51(0.f);
    const bool bias_first = ep && !accumulate && (ep->col_bias || ep->row_bias);
    if (bias_first) {
      B cb0, cb1;
      load_col_bias(ep, nr, cb0, cb1);
      const auto rb = [&](int r) { return B(ep->row_bias && r < mr ? ep->row_bias[r] : 0.f); };
      c00 = cb0 + rb(0), c01 = cb1 + rb(0), c10 = cb0 + rb(1), c11 = cb1 + rb(1);
      c20 = cb0 + rb(2), c21 = cb1 + rb(2), c30 = cb0 + rb(3), c31 = cb1 + rb(3);
      if constexpr (MR > 4) c40 = cb0 + rb(4), c41 = cb1 + rb(4), c50 = cb0 + rb(5), c51 = cb1 + rb(5);
    }
    for (int64_t k = 0; k < kc; ++k) {
      const float* Bp = b_row(k);
      const B b0 = B::load_unaligned(Bp), b1 = B::load_unaligned(Bp + W);
      B a(a_at(k, 0));
      c00 = xsimd::fma(a, b0, c00);
      c01 = xsimd::fma(a, b1, c01);
      a = B(a_at(k, 1));
      c10 = xsimd::fma(a, b0, c10);
      c11 = xsimd::fma(a, b1, c11);
      a = B(a_at(k, 2));
      c20 = xsimd::fma(a, b0, c20);
      c21 = xsimd::fma(a, b1, c21);
      a = B(a_at(k, 3));
      c30 = xsimd::fma(a, b0, c30);
      c31 = xsimd::fma(a, b1, c31);
      if constexpr (MR > 4) {
        a = B(a_at(k, 4));
        c40 = xsimd::fma(a, b0, c40);
        c41 = xsimd::fma(a, b1, c41);
        a = B(a_at(k, 5));
        c50 = xsimd::fma(a, b0, c50);
        c51 = xsimd::fma(a, b1, c51);
      }
    }
    const B lo(ep ? ep->lo : 0.f), hi(ep ? ep->hi : 0.f);
    // The biases still to add (none when the sums started from them).
    const bool add_bias = ep && !bias_first && (ep->col_bias || ep->row_bias);
    B cb0(0.f), cb1(0.f);
    if (add_bias) load_col_bias(ep, nr, cb0, cb1);
    // Row r of the tile: (+ C) + biases, clamp, stored (the first nr columns, through a buffer when fewer than NR).
    alignas(64) float tile[NR];
    const auto store_row = [&](int r, B v0, B v1) {
      float* c = c_row(r);
      if (accumulate) {
        if (nr == NR) {
          v0 += B::load_unaligned(c);
          v1 += B::load_unaligned(c + W);
        } else {
          for (int j = 0; j < NR; ++j) tile[j] = j < nr ? c[j] : 0.f;
          v0 += B::load_aligned(tile);
          v1 += B::load_aligned(tile + W);
        }
      }
      if (add_bias) {
        const B rb(ep->row_bias ? ep->row_bias[r] : 0.f);
        v0 += rb + cb0;
        v1 += rb + cb1;
      }
      if (ep) {
        v0 = xsimd::min(hi, xsimd::max(lo, v0));  // max/min return v when it is NaN
        v1 = xsimd::min(hi, xsimd::max(lo, v1));
      }
      if (nr == NR) {
        v0.store_unaligned(c);
        v1.store_unaligned(c + W);
      } else {
        v0.store_aligned(tile);
        v1.store_aligned(tile + W);
        for (int j = 0; j < nr; ++j) c[j] = tile[j];
      }
    };
    if (mr == MR) {  // all rows: unrolled, the accumulators stay in registers
      store_row(0, c00, c01);
      store_row(1, c10, c11);
      store_row(2, c20, c21);
      store_row(3, c30, c31);
      if constexpr (MR > 4) {
        store_row(4, c40, c41);
        store_row(5, c50, c51);
      }
      return;
    }
    // Fewer rows (the bottom edge of C): copies, so no accumulator has its
    // address taken and none is kept in memory during the steps.
    const B acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < mr; ++r) store_row(r, acc[r][0], acc[r][1]);
  }

  // Rows [0, mr) of C, any number of them: one tile per MR rows, a_at(ir)
  // giving the A-value function of the tile at row ir, the biases of ep's rows
  // following. One call per column panel of a row block.
  template <class TileA, class BRow>
  static void tiles_down(int64_t kc, TileA a_at, BRow b_row, float* C, int64_t ldc, int mr, int nr, bool accumulate,
                         const TileEpilogue* ep) {
    for (int ir = 0; ir < mr; ir += MR) {
      TileEpilogue te{};
      if (ep) te = {ep->row_bias ? ep->row_bias + ir : nullptr, ep->col_bias, ep->lo, ep->hi};
      float* c = C + ir * ldc;
      tile(
          kc, a_at(ir), b_row, [c, ldc](int r) { return c + r * ldc; }, std::min(MR, mr - ir), nr, accumulate,
          ep ? &te : nullptr);
    }
  }

  // The A values of a packed panel (k-major, MR per step) at ap.
  static auto packed_a(const float* ap) {
    return [ap](int64_t k, int r) { return ap[k * MR + r]; };
  }

  // A packed in MR-high panels (k-major, kc·MR floats apart), any number of rows.
  static void micro(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                    bool accumulate, const TileEpilogue* ep) {
    tiles_down(
        kc, [Ap, kc](int ir) { return packed_a(Ap + ir * kc); }, [Bp](int64_t k) { return Bp + k * NR; }, C, ldc, mr,
        nr, accumulate, ep);
  }

  // B read in place (an indirect GEMM: Conv's input planes, no im2col): row k
  // of the panel at base + offs[k], NR contiguous values; A as in micro.
  static void micro_indirect(int64_t kc, const float* Ap, const float* base, const int64_t* offs, float* C, int64_t ldc,
                             int mr, int nr, bool accumulate, const TileEpilogue* ep) {
    tiles_down(
        kc, [Ap, kc](int ir) { return packed_a(Ap + ir * kc); }, [base, offs](int64_t k) { return base + offs[k]; }, C,
        ldc, mr, nr, accumulate, ep);
  }

  // A read in place: row r of the tile at rows[r] (MR pointers; rows past mr
  // may repeat row 0, their results are not stored), contiguous along k.
  static void micro_rows(int64_t kc, const float* const* rows, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                         bool accumulate, const TileEpilogue* ep) {
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const float *r4 = MR > 4 ? rows[4] : r0, *r5 = MR > 4 ? rows[5] : r0;
    tile(
        kc,
        [=](int64_t k, int r) {
          return r == 0 ? r0[k] : r == 1 ? r1[k] : r == 2 ? r2[k] : r == 3 ? r3[k] : r == 4 ? r4[k] : r5[k];
        },
        [Bp](int64_t k) { return Bp + k * NR; }, [C, ldc](int r) { return C + r * ldc; }, mr, nr, accumulate, ep);
  }

  // A read in place through offsets: A(r, k) = base[row_offs[r] + offs[k]]
  // for rows r < mr (any number: one tile per MR rows; a partial tile's
  // missing rows repeat its first, their results are not stored); B packed.
  static void micro_indirect_a(int64_t kc, const float* base, const int64_t* row_offs, int mr, const int64_t* offs,
                               const float* Bp, float* C, int64_t ldc, int nr, bool accumulate,
                               const TileEpilogue* ep) {
    tiles_down(
        kc, [=](int ir) { return gathered_a(base, row_offs + ir, std::min(MR, mr - ir), offs); },
        [Bp](int64_t k) { return Bp + k * NR; }, C, ldc, mr, nr, accumulate, ep);
  }

  // The A values of a tile of n ≤ MR rows read through offsets: A(r, k) =
  // base[row_offs[r] + offs[k]] (rows past n repeat row 0).
  static auto gathered_a(const float* base, const int64_t* row_offs, int n, const int64_t* offs) {
    const float* r0 = base + row_offs[0];
    const float *r1 = n > 1 ? base + row_offs[1] : r0, *r2 = n > 2 ? base + row_offs[2] : r0;
    const float *r3 = n > 3 ? base + row_offs[3] : r0, *r4 = n > 4 ? base + row_offs[4] : r0;
    const float* r5 = n > 5 ? base + row_offs[5] : r0;
    return [=](int64_t k, int r) {
      const int64_t o = offs[k];
      return r == 0 ? r0[o] : r == 1 ? r1[o] : r == 2 ? r2[o] : r == 3 ? r3[o] : r == 4 ? r4[o] : r5[o];
    };
  }

  // R (1 or 2) rows × P panels of C added to: 2·R·P ≤ 8 accumulators, as many
  // as a full tile keeps busy, for the one or two rows a tile would pad to MR.
  // A(r, k) = a_r[offs[k]]; B's P panels lie kc·NR floats apart; the first
  // ncols (≤ P·NR) columns of rows c0, c1 are stored.
  template <int R, int P>
  static void tile_wide(int64_t kc, const float* a0, const float* a1, const int64_t* offs, const float* Bp, float* c0,
                        float* c1, int ncols) {
    static_assert(R * P <= 4, "at most 8 accumulators");
    B acc[R][2 * P];
#pragma GCC unroll 8
    for (int j = 0; j < 2 * P; ++j) {
      acc[0][j] = B(0.f);
      acc[R - 1][j] = B(0.f);
    }
    const int64_t ps = kc * NR;
    for (int64_t k = 0; k < kc; ++k) {
      const int64_t o = offs[k];
      const float* b = Bp + k * NR;
      const B x0(a0[o]), x1(a1[o]);
#pragma GCC unroll 4
      for (int p = 0; p < P; ++p) {
        const B b0 = B::load_unaligned(b + p * ps), b1 = B::load_unaligned(b + p * ps + W);
        acc[0][2 * p] = xsimd::fma(x0, b0, acc[0][2 * p]);
        acc[0][2 * p + 1] = xsimd::fma(x0, b1, acc[0][2 * p + 1]);
        if constexpr (R > 1) {
          acc[1][2 * p] = xsimd::fma(x1, b0, acc[1][2 * p]);
          acc[1][2 * p + 1] = xsimd::fma(x1, b1, acc[1][2 * p + 1]);
        }
      }
    }
#pragma GCC unroll 2
    for (int r = 0; r < R; ++r) {
      float* c = r == 0 ? c0 : c1;
#pragma GCC unroll 8
      for (int j = 0; j < 2 * P; ++j) {
        if ((j + 1) * W <= ncols) {
          (B::load_unaligned(c + j * W) + acc[r][j]).store_unaligned(c + j * W);
        } else if (j * W < ncols) {
          alignas(64) float v[W];
          acc[r][j].store_aligned(v);
          for (int i = 0; i < ncols - j * W; ++i) c[j * W + i] += v[i];
        }
      }
    }
  }

  // C[c_rows[r]·ldc + j] += Σ_k base[row_offs[r] + offs[k]]·B[k, j] for r <
  // rows, j < ncols: B in ⌈ncols / NR⌉ packed panels kc·NR floats apart, A
  // gathered, C's rows scattered (one tap of Conv on a small plane: the output
  // positions the tap reaches). Tiles of MR rows, one panel each, while 3 or
  // more rows are left; the last one or two rows across several panels at once.
  static void micro_gather(int64_t kc, const float* base, const int64_t* row_offs, const int64_t* c_rows, int rows,
                           const int64_t* offs, const float* Bp, float* C, int64_t ldc, int ncols) {
    const int panels = (ncols + NR - 1) / NR;
    const int64_t ps = kc * NR;
    int r0 = 0;
    while (rows - r0 >= 3) {
      const int n = std::min(MR, rows - r0);
      const auto a_at = gathered_a(base, row_offs + r0, n, offs);
      const int64_t* cr = c_rows + r0;
      for (int p = 0; p < panels; ++p) {
        const float* bp = Bp + p * ps;
        float* cp = C + p * NR;
        tile(
            kc, a_at, [bp](int64_t k) { return bp + k * NR; }, [cp, cr, ldc](int r) { return cp + cr[r] * ldc; }, n,
            std::min(NR, ncols - p * NR), true, nullptr);
      }
      r0 += n;
    }
    if (r0 == rows) return;
    const bool two = rows - r0 == 2;
    const float* a0 = base + row_offs[r0];
    const float* a1 = two ? base + row_offs[r0 + 1] : a0;
    float* c0 = C + c_rows[r0] * ldc;
    float* c1 = two ? C + c_rows[r0 + 1] * ldc : c0;
    for (int p = 0; p < panels;) {
      const int left = panels - p, nc = ncols - p * NR;
      const float* bp = Bp + p * ps;
      float *d0 = c0 + p * NR, *d1 = c1 + p * NR;
      if (two && left >= 2) {
        tile_wide<2, 2>(kc, a0, a1, offs, bp, d0, d1, std::min(nc, 2 * NR)), p += 2;
      } else if (two) {
        tile_wide<2, 1>(kc, a0, a1, offs, bp, d0, d1, nc), p += 1;
      } else if (left >= 4) {
        tile_wide<1, 4>(kc, a0, a0, offs, bp, d0, d0, std::min(nc, 4 * NR)), p += 4;
      } else if (left >= 2) {
        tile_wide<1, 2>(kc, a0, a0, offs, bp, d0, d0, std::min(nc, 2 * NR)), p += 2;
      } else {
        tile_wide<1, 1>(kc, a0, a0, offs, bp, d0, d0, nc), p += 1;
      }
    }
  }

  // Rows of B are streamed contiguously, four at a time (one load and one
  // store of y per four FMAs); y (n ≤ a few KB) stays in L1.
  static void gemv_n(int64_t K, const float* a, int64_t as, const float* Bm, int64_t ldb, float* y, int64_t n) {
    for (int64_t j = 0; j < n; ++j) y[j] = 0.f;
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
      const float s0 = a[k * as], s1 = a[(k + 1) * as], s2 = a[(k + 2) * as], s3 = a[(k + 3) * as];
      const B a0(s0), a1(s1), a2(s2), a3(s3);
      const float *b0 = Bm + k * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
      int64_t j = 0;
      for (; j + W <= n; j += W) {
        B v = B::load_unaligned(y + j);
        v = xsimd::fma(a0, B::load_unaligned(b0 + j), v);
        v = xsimd::fma(a1, B::load_unaligned(b1 + j), v);
        v = xsimd::fma(a2, B::load_unaligned(b2 + j), v);
        v = xsimd::fma(a3, B::load_unaligned(b3 + j), v);
        v.store_unaligned(y + j);
      }
      for (; j < n; ++j) y[j] += s0 * b0[j] + s1 * b1[j] + s2 * b2[j] + s3 * b3[j];
    }
    for (; k < K; ++k) {
      const float s0 = a[k * as];
      const float* b0 = Bm + k * ldb;
      for (int64_t j = 0; j < n; ++j) y[j] += s0 * b0[j];
    }
  }

  static void gemv_t(int64_t K, const float* a, const float* Bm, int64_t ldb, float* y, int64_t n) {
    for (int64_t j = 0; j < n; ++j) {
      const float* b = Bm + j * ldb;
      B c0(0.f), c1(0.f);
      int64_t k = 0;
      for (; k + 2 * W <= K; k += 2 * W) {
        c0 = xsimd::fma(B::load_unaligned(a + k), B::load_unaligned(b + k), c0);
        c1 = xsimd::fma(B::load_unaligned(a + k + W), B::load_unaligned(b + k + W), c1);
      }
      for (; k + W <= K; k += W) c0 = xsimd::fma(B::load_unaligned(a + k), B::load_unaligned(b + k), c0);
      float sum = xsimd::hadd(c0 + c1);
      for (; k < K; ++k) sum += a[k] * b[k];
      y[j] = sum;
    }
  }

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
  // i < n. The rows' whole vectors go eight at a time (across rows when a row
  // is short: 8×8 and 16×16 planes keep eight FMA chains busy); a row's last
  // n mod W outputs are scalar.
  static void dw_rows(int64_t rows, int64_t n, int64_t x_row, int taps, const float* x, const int64_t* offs,
                      const float* w, float bias, float lo, float hi, float* y) {
    const B vlo(lo), vhi(hi);
    const int64_t nv = n / W;
    const float* xs[8];
    float* ys[8];
    int cnt = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < nv; ++v) {
        xs[cnt] = x + r * x_row + v * W;
        ys[cnt] = y + r * n + v * W;
        if (++cnt == 8) {
          dw_vectors<8>(xs, ys, taps, offs, w, bias, vlo, vhi);
          cnt = 0;
        }
      }
    int j = 0;
    if (cnt - j >= 4) {
      dw_vectors<4>(xs, ys, taps, offs, w, bias, vlo, vhi);
      j += 4;
    }
    for (; j < cnt; ++j) dw_vectors<1>(xs + j, ys + j, taps, offs, w, bias, vlo, vhi);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = nv * W; i < n; ++i) {
        float a = bias;
        for (int t = 0; t < taps; ++t) a += w[t] * x[r * x_row + offs[t] + i];
        a = a < lo ? lo : a;
        y[r * n + i] = a > hi ? hi : a;
      }
  }

  static GemmKernels table(const char* isa) {
#ifdef __AVX2__
    constexpr auto dw3x3s2 = &dw3x3s2_avx2;
#else
    constexpr decltype(GemmKernels::dw3x3s2) dw3x3s2 = nullptr;
#endif
    return GemmKernels{isa,           MR,      NR,      &micro,    &micro_rows, &micro_indirect, &micro_indirect_a,
                       &micro_gather, &gemv_n, &gemv_t, &dw_point, &dw_rows,    dw3x3s2};
  }
};

}  // namespace
}  // namespace linalg
}  // namespace normrt
