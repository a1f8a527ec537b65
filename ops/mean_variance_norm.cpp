// MeanVarianceNormalization (versions 9, 13): statistics over `axes`
// (default [0, 2, 3]), y = (x - mean) / (sqrt(var) + 1e-9) — the epsilon
// sits outside the square root, as in the ONNX function body.
// Trailing axes [k, rank) make rows: the fast path's one-pass moments (centred
// second pass when ill-conditioned) and one fused normalise pass per row.
// Any other set of axes takes the reference: three strided passes, fp64 sums.
#include <cmath>
#include <vector>

#include "fp16.h"
#include "normalization.h"
#include "kernel_set.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

constexpr double kMvnEpsilon = 1e-9;

// Walks x in order, giving each element's group (its index with the reduced
// dims dropped).
struct GroupWalker {
  std::vector<int64_t> shape, gstride, idx;
  int64_t off = 0;
  GroupWalker(const Shape& s, const std::vector<char>& reduced) : shape(s), gstride(s.size(), 0), idx(s.size(), 0) {
    int64_t st = 1;
    for (size_t d = s.size(); d-- > 0;)
      if (!reduced[d]) {
        gstride[d] = st;
        st *= s[d];
      }
  }
  void next() {
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) {
        off += gstride[d];
        return;
      }
      off -= gstride[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
};

template <class T>
void mvn_reference(const T* x, T* y, const Shape& shape, const std::vector<char>& reduced) {
  const int64_t n = shape_numel(shape);
  int64_t groups = 1, count = 1;
  for (size_t d = 0; d < shape.size(); ++d) (reduced[d] ? count : groups) *= shape[d];
  std::vector<double> mean(static_cast<size_t>(groups), 0.0), sq(static_cast<size_t>(groups), 0.0);
  GroupWalker w1(shape, reduced);
  for (int64_t i = 0; i < n; ++i, w1.next()) mean[static_cast<size_t>(w1.off)] += static_cast<double>(x[i]);
  for (auto& m : mean) m /= static_cast<double>(count ? count : 1);
  GroupWalker w2(shape, reduced);
  for (int64_t i = 0; i < n; ++i, w2.next()) {
    const double d = static_cast<double>(x[i]) - mean[static_cast<size_t>(w2.off)];
    sq[static_cast<size_t>(w2.off)] += d * d;
  }
  GroupWalker w3(shape, reduced);
  for (int64_t i = 0; i < n; ++i, w3.next()) {
    const size_t g = static_cast<size_t>(w3.off);
    const double sd = std::sqrt(sq[g] / static_cast<double>(count ? count : 1));
    y[i] = static_cast<T>((static_cast<double>(x[i]) - mean[g]) / (sd + kMvnEpsilon));
  }
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
