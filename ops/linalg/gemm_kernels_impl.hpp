// The GEMM register tile written once over xsimd::batch<float, Arch>: MR rows
// (6 on sse2/avx2, 8 on avx512, or 4) × NR = 2 vectors of C stay in 2·MR
// accumulators while kc rank-1 updates stream A (MR values per step,
// broadcast) and packed B (2 vectors per step). The 4-row tile serves products
// whose M is a multiple of 4 but not of MR (with 6 rows: M = 4, 16, 32: 2×2
// conv planes, 16-channel convs, 32-token sequences), where MR rows would
// waste a third to a ninth of the work; B's panels are the same for both.
// Included by one translation unit per ISA (anonymous namespace).
#pragma once
#include <algorithm>
#include <array>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "gemm.h"

namespace normrt {
namespace linalg {
namespace {

template <class Arch, int Rows = 6>
struct GemmImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(B::size);
  static constexpr int MR = Rows, NR = 2 * W;
  static_assert(MR >= 4 && MR <= kGemmMaxMR, "the tile has 4 to kGemmMaxMR rows");

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
  // the stores need no more registers than the 2·MR accumulators and lo, hi.
  // c_row(r) is where row r of the tile is stored. Every loop over the rows is
  // unrolled, so each accumulator is a register of its own (none is indexed at
  // run time, none is kept in memory).
  // ROWS < MR: only the first ROWS rows are computed (mr ≤ ROWS).
  template <int ROWS = MR, class AVal, class BRow, class CRow>
  static void tile(int64_t kc, AVal a_at, BRow b_row, CRow c_row, int mr, int nr, bool accumulate,
                   const TileEpilogue* ep, const float* prefetch = nullptr, int64_t prefetch_rows = 0,
                   int64_t prefetch_every = 1) {
    B c0[MR], c1[MR];
    const bool bias_first = ep && !accumulate && (ep->col_bias || ep->row_bias);
    if (bias_first) {
      B cb0, cb1;
      load_col_bias(ep, nr, cb0, cb1);
#pragma GCC unroll 16
      for (int r = 0; r < ROWS; ++r) {
        const B rb(ep->row_bias && r < mr ? ep->row_bias[r] : 0.f);
        c0[r] = cb0 + rb;
        c1[r] = cb1 + rb;
      }
    } else {
#pragma GCC unroll 16
      for (int r = 0; r < ROWS; ++r) c0[r] = c1[r] = B(0.f);
    }
    // A row of the next panel (NR floats) every prefetch_every steps into the cache while this one
    // computes: spread over the loop, not in a burst at its start.
    int64_t pf_at = 0;
    for (int64_t k = 0; k < kc; ++k) {
      const float* Bp = b_row(k);
      if (k == pf_at && prefetch_rows > 0) {
        __builtin_prefetch(prefetch);
        if constexpr (NR > 16) __builtin_prefetch(prefetch + 16);
        prefetch += NR;
        --prefetch_rows;
        pf_at += prefetch_every;
      }
      const B b0 = B::load_unaligned(Bp), b1 = B::load_unaligned(Bp + W);
#pragma GCC unroll 16
      for (int r = 0; r < ROWS; ++r) {
        const B a(a_at(k, r));
        c0[r] = xsimd::fma(a, b0, c0[r]);
        c1[r] = xsimd::fma(a, b1, c1[r]);
      }
    }
    const B lo(ep ? ep->lo : 0.f), hi(ep ? ep->hi : 0.f);
    // The biases still to add (none when the sums started from them).
    const bool add_bias = ep && !bias_first && (ep->col_bias || ep->row_bias);
    B cb0(0.f), cb1(0.f);
    if (add_bias) load_col_bias(ep, nr, cb0, cb1);
    // Row r of the tile: (+ C) + biases (+ residual), clamp, stored (the first nr columns, through a buffer when fewer
    // than NR).
    alignas(64) float tile[NR];
    // v0, v1 += a row's first nr values at p (through the buffer when fewer than NR).
    const auto add_row = [&](const float* p, B& v0, B& v1) {
      if (nr == NR) {
        v0 += B::load_unaligned(p);
        v1 += B::load_unaligned(p + W);
      } else {
        for (int j = 0; j < NR; ++j) tile[j] = j < nr ? p[j] : 0.f;
        v0 += B::load_aligned(tile);
        v1 += B::load_aligned(tile + W);
      }
    };
    const auto store_row = [&](int r, B v0, B v1) {
      float* c = c_row(r);
      if (accumulate) add_row(c, v0, v1);
      if (add_bias) {
        const B rb(ep->row_bias ? ep->row_bias[r] : 0.f);
        v0 += rb + cb0;
        v1 += rb + cb1;
      }
      if (ep && ep->residual) add_row(ep->residual + r * ep->ldr, v0, v1);
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
    // The first mr rows (fewer than MR at the bottom edge of C).
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
      if (r < mr) store_row(r, c0[r], c1[r]);
  }

  // f(std::integral_constant<int, rows>{}) for R ≤ rows ≤ MR.
  template <int R, class F>
  static void with_rows(int rows, const F& f) {
    if constexpr (R >= MR)
      f(std::integral_constant<int, MR>{});
    else if (rows == R)
      f(std::integral_constant<int, R>{});
    else
      with_rows<R + 1>(rows, f);
  }

  // Rows [0, mr) of C, any number of them: one tile per MR rows, a_at(ir, n)
  // giving the A-value function of the tile of n rows at row ir, the biases
  // of ep's rows following. One call per column panel of a row block.
  // next_panel: the packed panel the caller takes next, prefetched a share
  // by each tile, or nullptr.
  // Balanced (A read in place, so tiles may start at any row): the rows are
  // shared evenly by the ⌈mr / MR⌉ tiles (49 = 7 × 7, 17 = 6 + 6 + 5; not
  // 6 × 8 and a tile for 1 row). Otherwise (A packed in MR-row panels) the
  // last tile may be partial.
  template <bool Balanced = false, class TileA, class BRow>
  static void tiles_down(int64_t kc, TileA a_at, BRow b_row, float* C, int64_t ldc, int mr, int nr, bool accumulate,
                         const TileEpilogue* ep, const float* next_panel = nullptr) {
    const int tiles = (mr + MR - 1) / MR;
    const bool balanced = Balanced && mr % MR != 0;
    const int64_t share = next_panel ? (kc + tiles - 1) / tiles : 0;
    for (int t = 0, ir = 0; t < tiles; ++t) {
      const int rows = balanced ? (mr - ir) / (tiles - t) + ((mr - ir) % (tiles - t) != 0) : std::min(MR, mr - ir);
      TileEpilogue te{};
      if (ep)
        te = {ep->row_bias ? ep->row_bias + ir : nullptr,           ep->col_bias, ep->lo, ep->hi,
              ep->residual ? ep->residual + ir * ep->ldr : nullptr, ep->ldr};
      float* c = C + ir * ldc;
      // Each of the block's tiles prefetches its share of the next panel's kc rows.
      const int64_t pf_first = std::min(kc, t * share), pf_rows = std::min(share, kc - pf_first);
      const float* pf = next_panel ? next_panel + pf_first * NR : nullptr;
      const auto c_row = [c, ldc](int r) { return c + r * ldc; };
      const auto run = [&](auto rows_c) {
        tile<decltype(rows_c)::value>(kc, a_at(ir, rows), b_row, c_row, rows, nr, accumulate, ep ? &te : nullptr, pf,
                                      pf_rows, pf_rows > 0 ? std::max<int64_t>(1, kc / pf_rows) : 1);
      };
      // A tile of fewer rows computes only those, at least 4 (the FMA latency: 2 accumulators per
      // row, so 1 to 4 rows take as long as 4).
      if (rows == MR)
        run(std::integral_constant<int, MR>{});
      else
        with_rows<4>(std::max(rows, 4), run);
      ir += rows;
    }
  }

  // The A values of a packed panel (k-major, MR per step) at ap.
  static auto packed_a(const float* ap) {
    return [ap](int64_t k, int r) { return ap[k * MR + r]; };
  }

  // A packed in MR-high panels (k-major, kc·MR floats apart), any number of rows.
  static void micro(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                    bool accumulate, const TileEpilogue* ep, const float* next) {
    tiles_down(
        kc, [Ap, kc](int ir, int) { return packed_a(Ap + ir * kc); }, [Bp](int64_t k) { return Bp + k * NR; }, C, ldc,
        mr, nr, accumulate, ep, next);
  }

  // B read in place (an indirect GEMM: Conv's input planes, no im2col): row k
  // of the panel at base + offs[k], NR contiguous values; A as in micro.
  static void micro_indirect(int64_t kc, const float* Ap, const float* base, const int64_t* offs, float* C, int64_t ldc,
                             int mr, int nr, bool accumulate, const TileEpilogue* ep) {
    tiles_down(
        kc, [Ap, kc](int ir, int) { return packed_a(Ap + ir * kc); },
        [base, offs](int64_t k) { return base + offs[k]; }, C, ldc, mr, nr, accumulate, ep);
  }

  // A read in place: row r of the tile at rows[r] (MR pointers; rows past mr
  // may repeat row 0, their results are not stored), contiguous along k.
  static void micro_rows(int64_t kc, const float* const* rows, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                         bool accumulate, const TileEpilogue* ep) {
    const float* r[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) r[i] = rows[i];
    tile(
        kc, [&r](int64_t k, int i) { return r[i][k]; }, [Bp](int64_t k) { return Bp + k * NR; },
        [C, ldc](int i) { return C + i * ldc; }, mr, nr, accumulate, ep);
  }

  // A row-major, read in place: row r at A + r·lda, rows [0, mr) in tiles of
  // 4 to MR rows (tiles_down's balanced split; a tile's rows past mr repeat
  // its first, their results are not stored); B packed.
  static void micro_lda(int64_t kc, const float* A, int64_t lda, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                        bool accumulate, const TileEpilogue* ep, const float* next) {
    tiles_down<true>(
        kc,
        [A, lda](int ir, int n) {
          std::array<const float*, MR> r;
#pragma GCC unroll 16
          for (int i = 0; i < MR; ++i) r[i] = A + (ir + (i < n ? i : 0)) * lda;
          return [r](int64_t k, int i) { return r[i][k]; };
        },
        [Bp](int64_t k) { return Bp + k * NR; }, C, ldc, mr, nr, accumulate, ep, next);
  }

  // A column-major, read in place: A(r, k) = A[k·lda + r] (a tile's MR values
  // of step k side by side), rows [0, mr) in tiles as micro_lda's; B packed.
  static void micro_cols(int64_t kc, const float* A, int64_t lda, const float* Bp, float* C, int64_t ldc, int mr,
                         int nr, bool accumulate, const TileEpilogue* ep, const float* next) {
    tiles_down<true>(
        kc,
        [A, lda](int ir, int n) {
          std::array<const float*, MR> r;
#pragma GCC unroll 16
          for (int i = 0; i < MR; ++i) r[i] = A + ir + (i < n ? i : 0);
          return [r, lda](int64_t k, int i) { return r[i][k * lda]; };
        },
        [Bp](int64_t k) { return Bp + k * NR; }, C, ldc, mr, nr, accumulate, ep, next);
  }

  // A read in place through offsets: A(r, k) = base[row_offs[r] + offs[k]]
  // for rows r < mr (any number: tiles as micro_lda's; a partial tile's
  // missing rows repeat its first, their results are not stored); B packed.
  static void micro_indirect_a(int64_t kc, const float* base, const int64_t* row_offs, int mr, const int64_t* offs,
                               const float* Bp, float* C, int64_t ldc, int nr, bool accumulate, const TileEpilogue* ep,
                               const float* next) {
    tiles_down<true>(
        kc, [=](int ir, int n) { return gathered_a(base, row_offs + ir, n, offs); },
        [Bp](int64_t k) { return Bp + k * NR; }, C, ldc, mr, nr, accumulate, ep, next);
  }

  // The A values of a tile of n ≤ MR rows read through offsets: A(r, k) =
  // base[row_offs[r] + offs[k]] (rows past n repeat row 0).
  static auto gathered_a(const float* base, const int64_t* row_offs, int n, const int64_t* offs) {
    std::array<const float*, MR> r;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) r[i] = base + row_offs[i < n ? i : 0];
    return [=](int64_t k, int i) { return r[i][offs[k]]; };
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

  static GemmKernels table(const char* isa) {
    return GemmKernels{isa,
                       MR,
                       NR,
                       &micro,
                       &micro_rows,
                       &micro_lda,
                       &micro_cols,
                       &micro_indirect,
                       &micro_indirect_a,
                       &micro_gather,
                       &gemv_n,
                       &gemv_t};
  }
};

}  // namespace
}  // namespace linalg
}  // namespace normrt
