// The GEMM register tile written once over xsimd::batch<float, Arch>: MR = 6
// rows × NR = 2 vectors of C stay in 12 accumulators while kc rank-1 updates
// stream packed A (6 values per step, broadcast) and packed B (2 vectors per
// step). Included by one translation unit per ISA (anonymous namespace).
#pragma once
#include <algorithm>
#include <xsimd/xsimd.hpp>

#include "gemm.h"

namespace normrt {
namespace linalg {
namespace {

template <class Arch>
struct GemmImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(B::size);
  static constexpr int MR = 6, NR = 2 * W;

  static void micro(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                    bool accumulate) {
    B c00(0.f), c01(0.f), c10(0.f), c11(0.f), c20(0.f), c21(0.f), c30(0.f), c31(0.f), c40(0.f), c41(0.f), c50(0.f),
        c51(0.f);
    for (int64_t k = 0; k < kc; ++k, Ap += MR, Bp += NR) {
      const B b0 = B::load_unaligned(Bp), b1 = B::load_unaligned(Bp + W);
      B a(Ap[0]);
      c00 = xsimd::fma(a, b0, c00);
      c01 = xsimd::fma(a, b1, c01);
      a = B(Ap[1]);
      c10 = xsimd::fma(a, b0, c10);
      c11 = xsimd::fma(a, b1, c11);
      a = B(Ap[2]);
      c20 = xsimd::fma(a, b0, c20);
      c21 = xsimd::fma(a, b1, c21);
      a = B(Ap[3]);
      c30 = xsimd::fma(a, b0, c30);
      c31 = xsimd::fma(a, b1, c31);
      a = B(Ap[4]);
      c40 = xsimd::fma(a, b0, c40);
      c41 = xsimd::fma(a, b1, c41);
      a = B(Ap[5]);
      c50 = xsimd::fma(a, b0, c50);
      c51 = xsimd::fma(a, b1, c51);
    }
    const B* acc[MR][2] = {{&c00, &c01}, {&c10, &c11}, {&c20, &c21}, {&c30, &c31}, {&c40, &c41}, {&c50, &c51}};
    if (nr == NR) {
      for (int r = 0; r < mr; ++r) {
        float* c = C + r * ldc;
        B v0 = *acc[r][0], v1 = *acc[r][1];
        if (accumulate) {
          v0 += B::load_unaligned(c);
          v1 += B::load_unaligned(c + W);
        }
        v0.store_unaligned(c);
        v1.store_unaligned(c + W);
      }
      return;
    }
    alignas(64) float tile[NR];
    for (int r = 0; r < mr; ++r) {
      acc[r][0]->store_aligned(tile);
      acc[r][1]->store_aligned(tile + W);
      float* c = C + r * ldc;
      for (int j = 0; j < nr; ++j) c[j] = accumulate ? c[j] + tile[j] : tile[j];
    }
  }

  static GemmKernels table(const char* isa) { return GemmKernels{isa, MR, NR, &micro}; }
};

}  // namespace
}  // namespace linalg
}  // namespace normrt
