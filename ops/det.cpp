// Det (float32/float64): the determinant of each [M, M] matrix of an input
// [..., M, M], by LU decomposition with partial pivoting in double:
//   det = (−1)^swaps · Π U[i, i]  (0 when a pivot column is all zeros).
// One copy of each matrix, O(M³) per matrix.
#include <cmath>
#include <utility>
#include <vector>

#include "op.h"

namespace normrt {

namespace {

double determinant(std::vector<double>& a, int64_t M) {
  double det = 1;
  for (int64_t col = 0; col < M; ++col) {
    int64_t piv = col;
    for (int64_t r = col + 1; r < M; ++r)
      if (std::fabs(a[r * M + col]) > std::fabs(a[piv * M + col])) piv = r;
    const double p = a[piv * M + col];
    if (p == 0) return 0.0;
    if (piv != col) {
      for (int64_t j = 0; j < M; ++j) std::swap(a[piv * M + j], a[col * M + j]);
      det = -det;
    }
    det *= p;
    for (int64_t r = col + 1; r < M; ++r) {
      const double f = a[r * M + col] / p;
      if (f == 0) continue;
      for (int64_t j = col; j < M; ++j) a[r * M + j] -= f * a[col * M + j];
    }
  }
  return det;
}

template <class T>
void det_kernel(const T* x, T* y, int64_t batches, int64_t M) {
  if (batches == 0) return;  // else M·M ≤ the input's element count: no overflow
  std::vector<double> a(static_cast<size_t>(M * M));
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t i = 0; i < M * M; ++i) a[static_cast<size_t>(i)] = static_cast<double>(x[b * M * M + i]);
    y[b] = static_cast<T>(determinant(a, M));
  }
}

void plan_det(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const Shape& s = c.input(0).shape;
  if (s.size() < 2 || s[s.size() - 1] != s[s.size() - 2])
    c.fail("input must be [..., M, M] (square matrices), got " + shape_str(s));
  const int64_t M = s.back();
  const Shape out(s.begin(), s.end() - 2);
  const DType dt = c.input(0).dtype;
  c.set_output(0, dt, out);
  const int64_t batches = shape_numel(out);
  c.kernel = [=](KernelIO& io) {
    if (dt == DType::Float32)
      det_kernel<float>(io.in[0]->data<float>(), io.out[0]->data<float>(), batches, M);
    else
      det_kernel<double>(io.in[0]->data<double>(), io.out[0]->data<double>(), batches, M);
  };
}

}  // namespace

void register_det_ops(OpRegistry& r) { r.add("", "Det", {11, 22}, plan_det); }

}  // namespace normrt
