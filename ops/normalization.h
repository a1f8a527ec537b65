// Row/plane-level entry points of the normalization ops: the plain scalar
// reference (fp64 statistics — the oracle the tests trust) and the fast path
// (vectorised row kernels, parallel over rows). The ONNX ops call these.
#pragma once
#include <cstdint>

#include "norm_kernels.h"

namespace normrt {

// LayerNorm over `rows` rows of `n` elements:
//   y = (x - mean) / sqrt(var + eps) * scale + bias,  var centred, population.
// scale/bias advance by *_stride per row (0 = the same for every row, n = per row).
template <class T>
struct LayerNormArgs {
  const T* x = nullptr;
  T* y = nullptr;
  int64_t rows = 0, n = 0;
  const T* scale = nullptr;  // may be null (LayerNorm-simple): scale 1
  int64_t scale_stride = 0;
  const T* bias = nullptr;  // may be null
  int64_t bias_stride = 0;
  double eps = 1e-5;
  double* mean = nullptr;     // optional, per row
  double* inv_std = nullptr;  // optional, per row
};
template <class T>
void layer_norm_reference(const LayerNormArgs<T>& a);
// Fast path: float only; mean/inv_std written as float.
void layer_norm_fast(const LayerNormArgs<float>& a, const NormKernels& k, float* mean, float* inv_std);

// Per-channel affine of N×C planes of `plane` elements:
//   y = x * a[c] + b[c]   (BatchNorm inference after folding; `planes` = N*C)
void channel_affine_fast(const float* x, float* y, int64_t planes, int64_t channels, int64_t plane, const float* a,
                         const float* b, const NormKernels& k);

// InstanceNorm: per (n, c) plane, y = (x - mean)/sqrt(var + eps) * scale[c] + bias[c].
template <class T>
void instance_norm_reference(const T* x, T* y, int64_t planes, int64_t channels, int64_t plane, const T* scale,
                             const T* bias, double eps);
void instance_norm_fast(const float* x, float* y, int64_t planes, int64_t channels, int64_t plane, const float* scale,
                        const float* bias, float eps, const NormKernels& k);

}  // namespace normrt
