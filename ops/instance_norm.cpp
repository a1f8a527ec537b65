// InstanceNormalization (versions 6, 22) on X = N×C×D1…Dn: statistics per
// (n, c) plane. y = (x - mean)/sqrt(var + eps)·scale[c] + B[c].
// Reference: scalar, fp64 statistics. Fast path: shifted two-pass moments
// (2 passes, plane in cache when it fits) and one fused normalise pass,
// planes spread over threads.
#include <cmath>

#include "fp16.h"
#include "kernel_set.h"
#include "normalization.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

template <class T>
void instance_norm_reference(const T* x, T* y, int64_t planes, int64_t channels, int64_t plane, const T* scale,
                             const T* bias, double eps) {
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * plane;
    T* yp = y + p * plane;
    double sum = 0;
    for (int64_t i = 0; i < plane; ++i) sum += static_cast<double>(xp[i]);
    const double mean = plane ? sum / static_cast<double>(plane) : 0.0;
    double sq = 0;
    for (int64_t i = 0; i < plane; ++i) sq += (static_cast<double>(xp[i]) - mean) * (static_cast<double>(xp[i]) - mean);
    const double inv = 1.0 / std::sqrt((plane ? sq / static_cast<double>(plane) : 0.0) + eps);
    const int64_t c = p % channels;
    for (int64_t i = 0; i < plane; ++i)
      yp[i] = static_cast<T>((static_cast<double>(xp[i]) - mean) * inv * static_cast<double>(scale[c]) +
                             static_cast<double>(bias[c]));
  }
}
template void instance_norm_reference<float>(const float*, float*, int64_t, int64_t, int64_t, const float*,
                                             const float*, double);
template void instance_norm_reference<double>(const double*, double*, int64_t, int64_t, int64_t, const double*,
                                              const double*, double);

void instance_norm_fast(const float* x, float* y, int64_t planes, int64_t channels, int64_t plane, const float* scale,
                        const float* bias, float eps, const NormKernels& k) {
  parallel_rows(planes, 3 * plane, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c = p % channels;
      RowMoments m = k.moments(x + p * plane, static_cast<size_t>(plane));
      const double inv = 1.0 / std::sqrt(static_cast<double>(m.var) + static_cast<double>(eps));
      k.normalize_affine(x + p * plane, y + p * plane, static_cast<size_t>(plane), m,
                         static_cast<float>(inv * static_cast<double>(scale[c])), bias[c]);
    }
  });
}

namespace {

void plan_instance_norm(PlanCtx& c) {
  c.require_inputs(3, 3);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Float16});
  const ValueDesc& X = c.input(0);
  if (X.shape.size() < 3) c.fail("input must have rank >= 3 (N×C×D…), got " + shape_str(X.shape));
  const int64_t N = X.shape[0], C = X.shape[1];
  int64_t plane = 1;
  for (size_t d = 2; d < X.shape.size(); ++d) plane *= X.shape[d];
  for (size_t i = 1; i < 3; ++i) {
    if (c.in[i].dtype != X.dtype) c.fail("scale and B must have the input's dtype");
    if (c.in[i].shape != Shape{C}) c.fail("scale and B must have shape [" + std::to_string(C) + "]");
  }
  const float eps = c.node.attr_float("epsilon", 1e-5f);
  c.set_output(0, X.dtype, X.shape);
  const DType T = X.dtype;
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    if (T != DType::Float64) {  // float32, or float16 computed in float32
      const Tensor x = to_float32(*io.in[0]), scale = to_float32(*io.in[1]), bias = to_float32(*io.in[2]);
      const Float32View y = float32_target(*io.out[0]);
      instance_norm_fast(x.data<float>(), y.data<float>(), N * C, C, plane, scale.data<float>(), bias.data<float>(),
                         eps, kern);
      store_from_float32(y, *io.out[0]);
    } else {
      instance_norm_reference(io.in[0]->data<double>(), io.out[0]->data<double>(), N * C, C, plane,
                              io.in[1]->data<double>(), io.in[2]->data<double>(), eps);
    }
  };
}

}  // namespace

void register_instance_norm(OpRegistry& r) { r.add("", "InstanceNormalization", {6, 22}, plan_instance_norm); }

}  // namespace normrt
