// RMSNormalization-23, SimplifiedLayerNormalization (ONNX Runtime's contrib
// schema, registered by ORT in the ai.onnx domain at version 1; accepted in
// com.microsoft too): over the dims [axis, rank) of each row,
//   y = x / sqrt(mean(x²) + eps) · scale
// Reference: scalar, fp64 sum of squares. Fast path: one pass for Σx² (fp32
// vector blocks added in fp64), one pass writing y while the row is in cache;
// rows spread over threads.
#include <cmath>
#include <vector>

#include "broadcast.h"
#include "fp16.h"
#include "kernel_set.h"
#include "norm_common.h"
#include "normalization.h"
#include "parallel.h"

namespace normrt {

template <class T>
void rms_norm_reference(const T* x, T* y, int64_t rows, int64_t n, const T* scale, int64_t scale_stride, double eps,
                        double* inv_rms) {
  for (int64_t r = 0; r < rows; ++r) {
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) sq += static_cast<double>(x[r * n + i]) * static_cast<double>(x[r * n + i]);
    const double inv = 1.0 / std::sqrt((n ? sq / static_cast<double>(n) : 0.0) + eps);
    for (int64_t i = 0; i < n; ++i) {
      double v = static_cast<double>(x[r * n + i]) * inv;
      if (scale) v *= static_cast<double>(scale[r * scale_stride + i]);
      y[r * n + i] = static_cast<T>(v);
    }
    if (inv_rms) inv_rms[r] = inv;
  }
}
template void rms_norm_reference<float>(const float*, float*, int64_t, int64_t, const float*, int64_t, double, double*);
template void rms_norm_reference<double>(const double*, double*, int64_t, int64_t, const double*, int64_t, double,
                                         double*);

void rms_norm_fast(const float* x, float* y, int64_t rows, int64_t n, const float* scale, int64_t scale_stride,
                   float eps, float* inv_rms, const NormKernels& k) {
  const size_t len = static_cast<size_t>(n);
  parallel_rows(rows, 2 * n, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const double ms = n ? k.sum_squares(x + r * n, len) / static_cast<double>(n) : 0.0;
      const float inv = static_cast<float>(1.0 / std::sqrt(ms + eps));
      k.scale_mul(x + r * n, y + r * n, len, inv, scale ? scale + r * scale_stride : nullptr);
      if (inv_rms) inv_rms[r] = inv;
    }
  });
}

namespace {

// `rms_output`: index of the optional 1/rms output (-1: none).
void plan_rms(PlanCtx& c, int rms_output, bool y_takes_scale_dtype) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  const ValueDesc& X = c.input(0);
  const ValueDesc& S = c.input(1);
  const bool dbl = X.dtype == DType::Float64;
  if (dbl != (S.dtype == DType::Float64) || !(dtype_is_float(S.dtype)))
    c.unsupported(std::string("scale of dtype ") + dtype_name(S.dtype) + " with X of dtype " + dtype_name(X.dtype));
  if (!y_takes_scale_dtype && S.dtype != X.dtype) c.fail("scale must have the dtype of X");
  if (!broadcasts_to(S.shape, X.shape))
    c.fail("scale of shape " + shape_str(S.shape) + " does not broadcast to X " + shape_str(X.shape));
  const RowLayout l = row_layout(c, X.shape);
  const double eps = epsilon_attr(c, 1e-5f);
  const int64_t stash = c.node.attr_int("stash_type", 1);
  if (stash != 1 && stash != 11) c.unsupported("stash_type " + std::to_string(stash));
  c.set_output(0, y_takes_scale_dtype ? S.dtype : X.dtype, X.shape);
  Shape stat_shape(X.shape.begin(), X.shape.begin() + l.axis);
  stat_shape.resize(X.shape.size(), 1);
  const bool want_rms = rms_output >= 0 && c.has_output(static_cast<size_t>(rms_output));
  if (want_rms) c.set_output(static_cast<size_t>(rms_output), DType::Float32, stat_shape);
  std::shared_ptr<RowParam> scale0;
  if (S.value) scale0 = std::make_shared<RowParam>(row_param(*S.value, X.shape, l.axis));
  const Shape x_shape = X.shape;
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    const RowParam scale = scale0 ? *scale0 : row_param(*io.in[1], x_shape, l.axis);
    Tensor* rms_t = want_rms ? io.out[static_cast<size_t>(rms_output)] : nullptr;
    if (dbl || stash == 11) {  // fp64 statistics
      std::vector<double> inv(static_cast<size_t>(l.rows));
      if (dbl) {
        rms_norm_reference(io.in[0]->data<double>(), io.out[0]->data<double>(), l.rows, l.n,
                           scale.values.data<double>(), scale.stride, eps, inv.data());
      } else {
        const Float32View x = to_float32(*io.in[0]);
        const Float32View y = float32_target(*io.out[0]);
        rms_norm_reference(x.data<float>(), y.data<float>(), l.rows, l.n, scale.data(), scale.stride, eps, inv.data());
        store_from_float32(y, *io.out[0]);
      }
      if (rms_t)
        for (int64_t r = 0; r < l.rows; ++r) rms_t->data<float>()[r] = static_cast<float>(inv[static_cast<size_t>(r)]);
      return;
    }
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    rms_norm_fast(x.data<float>(), y.data<float>(), l.rows, l.n, scale.data(), scale.stride, static_cast<float>(eps),
                  rms_t ? rms_t->data<float>() : nullptr, kern);
    store_from_float32(y, *io.out[0]);
  };
}

void plan_rms_normalization(PlanCtx& c) { plan_rms(c, -1, true); }
void plan_simplified_layer_norm(PlanCtx& c) { plan_rms(c, 1, false); }

}  // namespace

void register_rms_norm(OpRegistry& r) {
  r.add("", "RMSNormalization", {23}, plan_rms_normalization);
  r.add("", "SimplifiedLayerNormalization", {1}, plan_simplified_layer_norm);
  r.add("com.microsoft", "SimplifiedLayerNormalization", {1}, plan_simplified_layer_norm);
  r.add("ai.normrt", "RMSNormalization", {1}, plan_rms_normalization);  // made by the optimizer
}

}  // namespace normrt
