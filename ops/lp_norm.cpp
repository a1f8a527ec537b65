// LpNormalization (versions 1, 22): y = x / ||x||_p along one axis (p = 1 or 2),
// every other index independent. A zero vector gives 0 (not NaN).
// Layout [outer, len, inner]: for inner = 1 (the last axis) the fast path is
// one pass for the norm (Σx² vectorised, or Σ|x|) and one pass scaling the row
// while it is in cache; other axes take the strided reference loop. fp64 sums.
#include <cmath>

#include "fp16.h"
#include "kernel_set.h"
#include "normalization.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

template <class T>
void lp_norm_reference(const T* x, T* y, int64_t outer, int64_t len, int64_t inner, int p) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const T* xv = x + o * len * inner + in;
      T* yv = y + o * len * inner + in;
      double norm = 0;
      for (int64_t i = 0; i < len; ++i) {
        const double v = static_cast<double>(xv[i * inner]);
        norm += p == 1 ? std::fabs(v) : v * v;
      }
      if (p == 2) norm = std::sqrt(norm);
      const double inv = norm > 0 ? 1.0 / norm : 0.0;
      for (int64_t i = 0; i < len; ++i) yv[i * inner] = static_cast<T>(static_cast<double>(xv[i * inner]) * inv);
    }
}

void lp_norm_fast_last_axis(const float* x, float* y, int64_t rows, int64_t len, int p, const NormKernels& k) {
  const size_t n = static_cast<size_t>(len);
  parallel_rows(rows, 2 * len, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      double norm;
      if (p == 2) {
        norm = std::sqrt(k.sum_squares(x + r * len, n));
      } else {
        norm = 0;
        for (int64_t i = 0; i < len; ++i) norm += std::fabs(x[r * len + i]);
      }
      k.scale_mul(x + r * len, y + r * len, n, norm > 0 ? static_cast<float>(1.0 / norm) : 0.f, nullptr);
    }
  });
}

void plan_lp_norm(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  const ValueDesc& X = c.input(0);
  const int64_t r = static_cast<int64_t>(X.shape.size());
  int64_t axis = c.node.attr_int("axis", -1);
  if (r == 0 || axis < -r || axis >= r)
    c.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  const int64_t p_attr = c.node.attr_int("p", 2);
  if (p_attr != 1 && p_attr != 2) c.fail("p must be 1 or 2, got " + std::to_string(p_attr));
  const int p = static_cast<int>(p_attr);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= X.shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < r; ++d) inner *= X.shape[static_cast<size_t>(d)];
  const int64_t len = X.shape[static_cast<size_t>(axis)];
  c.set_output(0, X.dtype, X.shape);
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    if (io.in[0]->dtype() == DType::Float64)
      return lp_norm_reference(io.in[0]->data<double>(), io.out[0]->data<double>(), outer, len, inner, p);
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    if (inner == 1)
      lp_norm_fast_last_axis(x.data<float>(), y.data<float>(), outer, len, p, kern);
    else
      lp_norm_reference(x.data<float>(), y.data<float>(), outer, len, inner, p);
    store_from_float32(y, *io.out[0]);
  };
}

}  // namespace

void register_lp_norm(OpRegistry& r) { r.add("", "LpNormalization", {1, 22}, plan_lp_norm); }

}  // namespace normrt
