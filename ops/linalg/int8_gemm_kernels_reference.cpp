// The scalar reference of the int8 tile table (int8_gemm.h): plain loops over
// the same packed layouts as the ISA tile of the same MR and NR,
//   C[r, j] (+)= Σ_g Σ_t Ap[g·MR·4 + r·4 + t]·Bp[g·NR·4 + j·4 + t]   (int32)
// one pass over the panels; the epilogue one element at a time. Compiled at
// the library's baseline flags; the sse2 path runs the (4, 8) table, and the
// kernel tester compares every ISA's tiles with these.
#include <cmath>

#include "int8_gemm_epilogue.hpp"

namespace normrt {
namespace linalg {
namespace {

template <int MR, int NR>
struct Int8Reference {
  static void tile(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, int32_t* C, int64_t ldc, int mr, int nr,
                   bool accumulate, const int8_t* /*prefetch*/, int64_t /*pf_lines*/) {
    for (int r = 0; r < mr; ++r)
      for (int j = 0; j < nr; ++j) {
        int32_t s = accumulate ? C[r * ldc + j] : 0;
        for (int64_t g = 0; g < kc4; ++g)
          for (int t = 0; t < 4; ++t) s += int32_t{Ap[(g * MR + r) * 4 + t]} * int32_t{Bp[(g * NR + j) * 4 + t]};
        C[r * ldc + j] = s;
      }
  }
  static void finish_row(const int32_t* acc, int64_t n, const Int8RowEpilogue& e, void* out) {
    for (int64_t j = 0; j < n; ++j) finish_one(acc, j, e, out);
  }
  static bool min_max(const float* x, int64_t n, float* lo, float* hi) {
    float mn = 0.f, mx = 0.f;
    bool finite = true;
    for (int64_t i = 0; i < n; ++i) {
      finite = finite && std::isfinite(x[i]);
      mn = x[i] < mn ? x[i] : mn;
      mx = x[i] > mx ? x[i] : mx;
    }
    *lo = mn;
    *hi = mx;
    return finite;
  }
  static void quantize_u8(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* y) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i] / scale;
      const double r = v == v ? std::nearbyint(static_cast<double>(v)) + zero_point : zero_point;
      y[i] = static_cast<uint8_t>(r < 0 ? 0 : r > 255 ? 255 : static_cast<int32_t>(r));
    }
  }
  static const Int8GemmKernels* table() {
    static const Int8GemmKernels k{"reference", MR, NR, 1, &tile, &finish_row, nullptr, &min_max, &quantize_u8};
    return &k;
  }
};

}  // namespace

const Int8GemmKernels* int8_gemm_kernels_reference(int mr, int nr) {
  if (mr == 4 && nr == 8) return Int8Reference<4, 8>::table();
  if (mr == 8 && nr == 32) return Int8Reference<8, 32>::table();
  if (mr == 6 && nr == 8) return Int8Reference<6, 8>::table();
  if (mr == 12 && nr == 32) return Int8Reference<12, 32>::table();
  return nullptr;
}

}  // namespace linalg
}  // namespace normrt
