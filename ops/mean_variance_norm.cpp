// MeanVarianceNormalization (versions 9, 13): statistics over `axes`
// (default [0, 2, 3]), y = (x - mean) / (sqrt(var) + 1e-9) — the epsilon
// sits outside the square root, as in the ONNX function body.
// Trailing axes [k, rank) make rows: the fast path's one-pass moments (centred
// second pass when ill-conditioned) and one fused normalise pass per row.
// Any other set of axes takes the reference: three strided passes, fp64 sums.
#include <cmath>
#include <vector>

#include "fp16.h"
#include "kernel_set.h"
#include "normalization.h"
#include "op.h"
#include "parallel.h"
#include "reduced_walk.h"

namespace normrt {

namespace {

constexpr double kMvnEpsilon = 1e-9;

template <class T>
void mvn_reference(const T* x, T* y, const Shape& shape, const std::vector<char>& reduced) {
  int64_t groups = 1, count = 1;
  for (size_t d = 0; d < shape.size(); ++d) (reduced[d] ? count : groups) *= shape[d];
  std::vector<double> mean(static_cast<size_t>(groups), 0.0), sq(static_cast<size_t>(groups), 0.0);
  for_each_reduced(shape, reduced,
                   [&](int64_t i, int64_t g) { mean[static_cast<size_t>(g)] += static_cast<double>(x[i]); });
  for (auto& m : mean) m /= static_cast<double>(count ? count : 1);
  for_each_reduced(shape, reduced, [&](int64_t i, int64_t g) {
    const double d = static_cast<double>(x[i]) - mean[static_cast<size_t>(g)];
    sq[static_cast<size_t>(g)] += d * d;
  });
  for_each_reduced(shape, reduced, [&](int64_t i, int64_t g) {
    const size_t k = static_cast<size_t>(g);
    const double sd = std::sqrt(sq[k] / static_cast<double>(count ? count : 1));
    y[i] = static_cast<T>((static_cast<double>(x[i]) - mean[k]) / (sd + kMvnEpsilon));
  });
}

void mvn_fast_rows(const float* x, float* y, int64_t rows, int64_t len, const NormKernels& k) {
  parallel_rows(rows, 2 * len, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const RowMoments m = k.moments(x + r * len, static_cast<size_t>(len));
      const double a = 1.0 / (std::sqrt(static_cast<double>(m.var)) + kMvnEpsilon);
      k.normalize_affine(x + r * len, y + r * len, static_cast<size_t>(len), m, static_cast<float>(a), 0.f);
    }
  });
}

void plan_mvn(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  const ValueDesc& X = c.input(0);
  const int64_t r = static_cast<int64_t>(X.shape.size());
  std::vector<int64_t> axes = c.node.has_attr("axes") ? c.node.attr_ints("axes") : std::vector<int64_t>{0, 2, 3};
  std::vector<char> reduced(static_cast<size_t>(r), 0);
  for (int64_t a : axes) {
    if (a < -r || a >= r) c.fail("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r));
    reduced[static_cast<size_t>(a < 0 ? a + r : a)] = 1;
  }
  // Trailing reduced axes → rows.
  int64_t first = r;
  while (first > 0 && reduced[static_cast<size_t>(first - 1)]) --first;
  bool trailing = first < r;
  for (int64_t d = 0; d < first; ++d) trailing = trailing && !reduced[static_cast<size_t>(d)];
  int64_t rows = 1, len = 1;
  for (int64_t d = 0; d < r; ++d) (d < first ? rows : len) *= X.shape[static_cast<size_t>(d)];
  c.set_output(0, X.dtype, X.shape);
  const Shape shape = X.shape;
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    if (io.in[0]->dtype() == DType::Float64)
      return mvn_reference(io.in[0]->data<double>(), io.out[0]->data<double>(), shape, reduced);
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    if (trailing)
      mvn_fast_rows(x.data<float>(), y.data<float>(), rows, len, kern);
    else
      mvn_reference(x.data<float>(), y.data<float>(), shape, reduced);
    store_from_float32(y, *io.out[0]);
  };
}

}  // namespace

void register_mean_variance_norm(OpRegistry& r) { r.add("", "MeanVarianceNormalization", {9, 13}, plan_mvn); }

}  // namespace normrt
