// LRN (versions 1, 13), local response normalization across channels of
// X = [N, C, spatial...]:
//   s[n, c, p] = Σ x[n, i, p]²  for i in [c − ⌊(size − 1)/2⌋, c + ⌈(size − 1)/2⌉] ∩ [0, C)
//   y = x / (bias + alpha / size · s)^beta
// Per (n, p) the window slides along c: one pass of squares per plane into an
// fp64 running sum, then one pass computing y. Batches split over threads.
#include <algorithm>
#include <cmath>
#include <vector>

#include "fp16.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

struct LrnParams {
  int64_t N = 0, C = 0, plane = 0;
  int64_t before = 0, after = 0;  // channels of the window before and after c
  double alpha_over_size = 0, beta = 0, bias = 0;
};

template <class T>
void lrn_reference(const T* x, T* y, const LrnParams& p) {
  // the window is at most C channels (size may be up to 2^63 − 1)
  const int64_t window = std::min(p.C, p.before + 1) + std::min(p.C, p.after + 1);
  parallel_rows(p.N, work_mul(p.C * p.plane, window), [&](int64_t first, int64_t last) {
    std::vector<double> sum(static_cast<size_t>(p.plane));
    for (int64_t n = first; n < last; ++n) {
      const T* xn = x + n * p.C * p.plane;
      T* yn = y + n * p.C * p.plane;
      for (int64_t c = 0; c < p.C; ++c) {
        std::fill(sum.begin(), sum.end(), 0.0);
        const int64_t lo = std::max<int64_t>(0, c - p.before), hi = std::min(p.C - 1, c + p.after);
        for (int64_t i = lo; i <= hi; ++i) {
          const T* xi = xn + i * p.plane;
          for (int64_t q = 0; q < p.plane; ++q) {
            const double v = static_cast<double>(xi[q]);
            sum[static_cast<size_t>(q)] += v * v;
          }
        }
        const T* xc = xn + c * p.plane;
        T* yc = yn + c * p.plane;
        for (int64_t q = 0; q < p.plane; ++q)
          yc[q] = static_cast<T>(static_cast<double>(xc[q]) /
                                 std::pow(p.bias + p.alpha_over_size * sum[static_cast<size_t>(q)], p.beta));
      }
    }
  });
}

void plan_lrn(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  const ValueDesc& X = c.input(0);
  if (X.shape.size() < 2) c.fail("X must be [N, C, spatial...]");
  if (!c.node.has_attr("size")) c.fail("missing required attribute 'size'");
  const int64_t size = c.node.attr_int("size", 0);
  if (size <= 0) c.fail("size must be positive, got " + std::to_string(size));
  LrnParams p;
  p.N = X.shape[0];
  p.C = X.shape[1];
  p.plane = 1;
  for (size_t d = 2; d < X.shape.size(); ++d) p.plane = checked_mul(c, p.plane, X.shape[d], "X's plane size");
  p.before = (size - 1) / 2;
  p.after = size / 2;  // ⌈(size − 1)/2⌉
  p.alpha_over_size = static_cast<double>(c.node.attr_float("alpha", 1e-4f)) / static_cast<double>(size);
  p.beta = c.node.attr_float("beta", 0.75f);
  p.bias = c.node.attr_float("bias", 1.0f);
  c.set_output(0, X.dtype, X.shape);
  c.kernel = [p](KernelIO& io) {
    if (io.in[0]->dtype() == DType::Float64)
      return lrn_reference(io.in[0]->data<double>(), io.out[0]->data<double>(), p);
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    lrn_reference(x.data<float>(), y.data<float>(), p);
    store_from_float32(y, *io.out[0]);
  };
}

}  // namespace

void register_lrn(OpRegistry& r) { r.add("", "LRN", {1, 13}, plan_lrn); }

}  // namespace normrt
