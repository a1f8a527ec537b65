// The scalar reference of direct_kernels.h: plain loops, fp64 sums, one float
// rounding per output (after Z). Compiled at the library's baseline flags; the
// kernel tester compares every ISA's table with this one.
#include "direct_kernels.h"

namespace normrt {
namespace {

constexpr int kCoTile = 4;

void rows_ref(int64_t rows, int64_t n, const float* x, int64_t x_row, int taps, const int64_t* offs, const float* w,
              const float* bias, int co, float lo, float hi, const float* z, float* y, int64_t y_plane) {
  for (int j = 0; j < co; ++j)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < n; ++i) {
        double a = bias[j];
        for (int t = 0; t < taps; ++t) a += static_cast<double>(w[t * kCoTile + j]) * x[r * x_row + offs[t] + i];
        if (z) a += z[j * y_plane + r * n + i];
        a = a < lo ? lo : a;  // NaN stays NaN
        y[j * y_plane + r * n + i] = static_cast<float>(a > hi ? hi : a);
      }
}

void split_row_ref(const float* src, int64_t n, int64_t pb, int64_t s, int64_t len, float* dst) {
  for (int64_t p = 0; p < s; ++p)
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = j * s + p - pb;
      dst[p * len + j] = i >= 0 && i < n ? src[i] : 0.f;
    }
}

}  // namespace

const DirectConvKernels* direct_kernels_reference() {
  static const DirectConvKernels k{"reference", 1, kCoTile, rows_ref, split_row_ref};
  return &k;
}

}  // namespace normrt
