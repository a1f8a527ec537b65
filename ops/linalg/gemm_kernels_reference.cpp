// The scalar reference of the register-tile table (gemm.h): plain loops in
// fp64 reading the same packed layouts as the ISA tile of the same MR and NR
// (Ap: kc columns of MR values per panel, panels kc·MR floats apart; Bp: kc
// rows of NR values, panels kc·NR apart), one float rounding per output.
// Compiled at the library's baseline flags; the kernel tester compares every
// ISA's tables with these entry by entry.
#include <algorithm>

#include "gemm.h"

namespace normrt {
namespace linalg {
namespace {

// The epilogue on one finished sum: + row and column bias, + residual, clamped (NaN stays NaN).
double finish(double v, const TileEpilogue* ep, int r, int j) {
  if (!ep) return v;
  if (ep->row_bias) v += ep->row_bias[r];
  if (ep->col_bias) v += ep->col_bias[j];
  if (ep->residual) v += ep->residual[r * ep->ldr + j];
  v = v < ep->lo ? ep->lo : v;
  return v > ep->hi ? ep->hi : v;
}

template <int MR, int NR>
struct GemmReference {
  // C[r, j] (+)= Σ_k A(r, k)·B(k, j) for r < mr, j < nr, then the epilogue.
  template <class AVal, class BVal>
  static void tile(int64_t kc, AVal a, BVal b, float* C, int64_t ldc, int mr, int nr, bool accumulate,
                   const TileEpilogue* ep) {
    for (int r = 0; r < mr; ++r)
      for (int j = 0; j < nr; ++j) {
        double s = accumulate ? C[r * ldc + j] : 0.0;
        for (int64_t k = 0; k < kc; ++k) s += static_cast<double>(a(r, k)) * b(k, j);
        C[r * ldc + j] = static_cast<float>(finish(s, ep, r, j));
      }
  }
  static auto packed_a(const float* Ap, int64_t kc) {
    return [=](int r, int64_t k) { return Ap[r / MR * kc * MR + k * MR + r % MR]; };
  }
  static auto packed_b(const float* Bp) {
    return [=](int64_t k, int j) { return Bp[k * NR + j]; };
  }

  static void micro(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                    bool accumulate, const TileEpilogue* ep, const float* /*next*/) {
    tile(kc, packed_a(Ap, kc), packed_b(Bp), C, ldc, mr, nr, accumulate, ep);
  }
  static void micro_rows(int64_t kc, const float* const* rows, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                         bool accumulate, const TileEpilogue* ep) {
    tile(
        kc, [=](int r, int64_t k) { return rows[r][k]; }, packed_b(Bp), C, ldc, mr, nr, accumulate, ep);
  }
  static void micro_lda(int64_t kc, const float* A, int64_t lda, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                        bool accumulate, const TileEpilogue* ep, const float* /*next*/) {
    tile(
        kc, [=](int r, int64_t k) { return A[r * lda + k]; }, packed_b(Bp), C, ldc, mr, nr, accumulate, ep);
  }
  static void micro_cols(int64_t kc, const float* A, int64_t lda, const float* Bp, float* C, int64_t ldc, int mr,
                         int nr, bool accumulate, const TileEpilogue* ep, const float* /*next*/) {
    tile(
        kc, [=](int r, int64_t k) { return A[k * lda + r]; }, packed_b(Bp), C, ldc, mr, nr, accumulate, ep);
  }
  static void micro_indirect(int64_t kc, const float* Ap, const float* base, const int64_t* offs, float* C, int64_t ldc,
                             int mr, int nr, bool accumulate, const TileEpilogue* ep) {
    tile(
        kc, packed_a(Ap, kc), [=](int64_t k, int j) { return base[offs[k] + j]; }, C, ldc, mr, nr, accumulate, ep);
  }
  static void micro_indirect_a(int64_t kc, const float* base, const int64_t* row_offs, int mr, const int64_t* offs,
                               const float* Bp, float* C, int64_t ldc, int nr, bool accumulate, const TileEpilogue* ep,
                               const float* /*next*/) {
    tile(
        kc, [=](int r, int64_t k) { return base[row_offs[r] + offs[k]]; }, packed_b(Bp), C, ldc, mr, nr, accumulate,
        ep);
  }
  static void micro_gather(int64_t kc, const float* base, const int64_t* row_offs, const int64_t* c_rows, int rows,
                           const int64_t* offs, const float* Bp, float* C, int64_t ldc, int ncols) {
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < ncols; ++j) {
        float* c = C + c_rows[r] * ldc + j;
        double s = *c;
        for (int64_t k = 0; k < kc; ++k)
          s += static_cast<double>(base[row_offs[r] + offs[k]]) * Bp[j / NR * kc * NR + k * NR + j % NR];
        *c = static_cast<float>(s);
      }
  }
  static void gemv_n(int64_t K, const float* a, int64_t as, const float* B, int64_t ldb, float* y, int64_t n) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a[k * as]) * B[k * ldb + j];
      y[j] = static_cast<float>(s);
    }
  }
  static void gemv_t(int64_t K, const float* a, const float* B, int64_t ldb, float* y, int64_t n) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a[k]) * B[j * ldb + k];
      y[j] = static_cast<float>(s);
    }
  }
  static const GemmKernels* table() {
    static const GemmKernels k{"reference",
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
    return &k;
  }
};

}  // namespace

const GemmKernels* gemm_kernels_reference(int mr, int nr) {
  // The ISA tiles: 4, 6 or 8 rows × 2 vectors of 4, 8 or 16 floats.
  if (mr == 8 && nr == 32) return GemmReference<8, 32>::table();
  if (mr == 6 && nr == 8) return GemmReference<6, 8>::table();
  if (mr == 6 && nr == 16) return GemmReference<6, 16>::table();
  if (mr == 6 && nr == 32) return GemmReference<6, 32>::table();
  if (mr == 4 && nr == 8) return GemmReference<4, 8>::table();
  if (mr == 4 && nr == 16) return GemmReference<4, 16>::table();
  if (mr == 4 && nr == 32) return GemmReference<4, 32>::table();
  return nullptr;
}

}  // namespace linalg
}  // namespace normrt
