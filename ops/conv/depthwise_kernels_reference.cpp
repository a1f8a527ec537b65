// The scalar reference of depthwise_kernels.h: plain loops, fp64 sums, one
// float rounding per output; dw3x3s2 and dw3x3s1 on any plane (the ISA tables have it
// only where it pays). Compiled at the library's baseline flags; the kernel
// tester compares every ISA's table with this one entry by entry.
#include "depthwise_kernels.h"

namespace normrt {
namespace {

float clamp_ref(double v, float lo, float hi) {  // NaN stays NaN
  v = v < lo ? lo : v;
  return static_cast<float>(v > hi ? hi : v);
}

void dw_point_ref(int64_t C, int taps, const float* const* x, const float* const* w, const float* bias, float* y) {
  for (int64_t c = 0; c < C; ++c) {
    double a = bias ? bias[c] : 0.0;
    for (int t = 0; t < taps; ++t) a += static_cast<double>(w[t][c]) * x[t][c];
    y[c] = static_cast<float>(a);
  }
}

void dw_rows_ref(int64_t rows, int64_t n, int64_t x_row, int taps, const float* x, const int64_t* offs, const float* w,
                 float bias, float lo, float hi, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i) {
      double a = bias;
      for (int t = 0; t < taps; ++t) a += static_cast<double>(w[t]) * x[r * x_row + offs[t] + i];
      y[r * n + i] = clamp_ref(a, lo, hi);
    }
}

void dw3x3s2_ref(const float* x, int64_t in1, int64_t in2, int64_t out1, int64_t out2, const float* w, float bias,
                 float lo, float hi, float* y) {
  for (int64_t o1 = 0; o1 < out1; ++o1)
    for (int64_t o2 = 0; o2 < out2; ++o2) {
      double a = bias;
      for (int64_t k1 = 0; k1 < 3; ++k1)
        for (int64_t k2 = 0; k2 < 3; ++k2) {
          const int64_t i1 = 2 * o1 - 1 + k1, i2 = 2 * o2 - 1 + k2;
          if (i1 >= 0 && i1 < in1 && i2 >= 0 && i2 < in2) a += static_cast<double>(w[3 * k1 + k2]) * x[i1 * in2 + i2];
        }
      y[o1 * out2 + o2] = clamp_ref(a, lo, hi);
    }
}

void dw3x3s1_ref(const float* x, int64_t in1, int64_t in2, const float* w, float bias, float lo, float hi, float* y) {
  for (int64_t o1 = 0; o1 < in1; ++o1)
    for (int64_t o2 = 0; o2 < in2; ++o2) {
      double a = bias;
      for (int64_t k1 = 0; k1 < 3; ++k1)
        for (int64_t k2 = 0; k2 < 3; ++k2) {
          const int64_t i1 = o1 - 1 + k1, i2 = o2 - 1 + k2;
          if (i1 >= 0 && i1 < in1 && i2 >= 0 && i2 < in2) a += static_cast<double>(w[3 * k1 + k2]) * x[i1 * in2 + i2];
        }
      y[o1 * in2 + o2] = clamp_ref(a, lo, hi);
    }
}

void dw_flat_ref(int64_t count, int64_t n, int kh, int kw, int64_t tap_row, int64_t d2, int64_t pl, const float* x,
                 const float* w, float bias, float lo, float hi, float* y) {
  for (int64_t q = 0; q < count; ++q) {
    double a = bias;
    for (int k1 = 0; k1 < kh; ++k1)
      for (int k2 = 0; k2 < kw; ++k2) {
        const int64_t col = q % n + k2 * d2 - pl;
        if (col >= 0 && col < n) a += static_cast<double>(w[k1 * kw + k2]) * x[q + k1 * tap_row + k2 * d2 - pl];
      }
    y[q] = clamp_ref(a, lo, hi);
  }
}

}  // namespace

const DepthwiseKernels* depthwise_kernels_reference() {
  static const DepthwiseKernels k{"reference",  1,           &dw_point_ref, &dw_rows_ref, &dw3x3s2_ref,
                                  &dw3x3s1_ref, &dw_flat_ref};
  return &k;
}

}  // namespace normrt
