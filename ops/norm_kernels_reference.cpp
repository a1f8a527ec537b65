// The scalar reference of norm_kernels.h: plain loops, fp64 arithmetic, one
// float rounding per output. Compiled at the library's baseline flags; the
// kernel tester (tests/test_kernel_tables.cpp) compares every ISA's table with
// this one entry by entry.
#include <cmath>
#include <vector>

#include "norm_kernels.h"
#include "normalization.h"

namespace normrt {
namespace {

// fp64 mean and population variance, as the kernels' RowMoments: shift is the
// mean rounded to float, delta what rounding lost.
RowMoments moments_ref(const float* x, size_t n) {
  if (n == 0) return RowMoments{};
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]);
  const double mean = sum / static_cast<double>(n);
  double sq = 0;
  for (size_t i = 0; i < n; ++i) sq += (static_cast<double>(x[i]) - mean) * (static_cast<double>(x[i]) - mean);
  RowMoments m;
  m.shift = static_cast<float>(mean);
  m.delta = static_cast<float>(mean - static_cast<double>(m.shift));
  m.var = static_cast<float>(sq / static_cast<double>(n));
  return m;
}

// (x - mean) with the mean of m, in fp64.
double centred(float x, RowMoments m) { return static_cast<double>(x) - m.mean(); }

void normalize_ref(const float* x, float* y, size_t n, RowMoments m, float inv, const float* scale, const float* bias) {
  for (size_t i = 0; i < n; ++i) {
    double v = centred(x[i], m) * inv;
    if (scale) v *= scale[i];
    if (bias) v += bias[i];
    y[i] = static_cast<float>(v);
  }
}

// LayerNorm rows through the ops' own fp64 reference (normalization.h).
void layer_norm_rows_ref(const float* x, float* y, size_t rows, size_t n, const float* scale, size_t scale_stride,
                         const float* bias, size_t bias_stride, float eps, StdMode mode, float* mean, float* inv_std) {
  std::vector<double> md(rows), id(rows);
  LayerNormArgs<float> a;
  a.x = x;
  a.y = y;
  a.rows = static_cast<int64_t>(rows);
  a.n = static_cast<int64_t>(n);
  a.scale = scale;
  a.scale_stride = static_cast<int64_t>(scale_stride);
  a.bias = bias;
  a.bias_stride = static_cast<int64_t>(bias_stride);
  a.eps = eps;
  a.std_mode = mode;
  a.mean = md.data();
  a.inv_std = id.data();
  if (n > 0) layer_norm_reference(a);
  for (size_t r = 0; r < rows && n > 0; ++r) {
    if (mean) mean[r] = static_cast<float>(md[r]);
    if (inv_std) inv_std[r] = static_cast<float>(id[r]);
  }
}

void normalize_affine_ref(const float* x, float* y, size_t n, RowMoments m, float a, float b) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(centred(x[i], m) * a + b);
}

void scale_shift_ref(const float* x, float* y, size_t n, float a, float b) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<double>(x[i]) * a + b);
}

double sum_squares_ref(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

void scale_mul_ref(const float* x, float* y, size_t n, float a, const float* scale) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<double>(x[i]) * a * (scale ? scale[i] : 1.f));
}

void add3_ref(const float* a, const float* b, const float* c, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i)
    y[i] = static_cast<float>(static_cast<double>(a[i]) + b[i] + (c ? static_cast<double>(c[i]) : 0.0));
}

void scale_shift_planes_ref(const float* x, float* y, size_t planes, size_t plane, const float* a, const float* b,
                            size_t first_channel, size_t channels) {
  for (size_t p = 0; p < planes; ++p) {
    const size_t c = (first_channel + p) % channels;
    scale_shift_ref(x + p * plane, y + p * plane, plane, a[c], b[c]);
  }
}

void copy_ref(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i];
}

void adanorm_ref(const float* x, float* y, size_t n, RowMoments m, float inv, float k, float C) {
  for (size_t i = 0; i < n; ++i) {
    const double t = centred(x[i], m) * inv;
    y[i] = static_cast<float>(C * (1.0 - k * t) * t);
  }
}

}  // namespace

const NormKernels* norm_kernels_reference() {
  static const NormKernels k{"reference",
                             &moments_ref,
                             &normalize_ref,
                             &layer_norm_rows_ref,
                             &normalize_affine_ref,
                             &scale_shift_ref,
                             &sum_squares_ref,
                             &scale_mul_ref,
                             &add3_ref,
                             &scale_shift_planes_ref,
                             &copy_ref,
                             &adanorm_ref};
  return &k;
}

}  // namespace normrt
