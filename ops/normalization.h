// Row/plane-level entry points of the normalization ops: for each, the plain
// scalar reference (fp64 statistics — the oracle the tests trust) and the fast
// path (vectorised row kernels, parallel over rows or planes). The ONNX ops
// call these; the tests compare each fast path with its reference on every
// ISA path the CPU runs.
#pragma once
#include <cstdint>

#include "norm_kernels.h"

namespace normrt {

// ---- LayerNorm family (layer_norm.cpp) -------------------------------------
// Over `rows` rows of `n` elements:
//   y = (x - mean) / σ * scale + bias,  var centred and population, σ per StdMode.
// scale/bias advance by *_stride per row (0 = the same for every row, n = per
// row) and may be null (LayerNorm-simple: no gain, no bias).
template <class T>
struct LayerNormArgs {
  const T* x = nullptr;
  T* y = nullptr;
  int64_t rows = 0, n = 0;
  const T* scale = nullptr;
  int64_t scale_stride = 0;
  const T* bias = nullptr;
  int64_t bias_stride = 0;
  double eps = 1e-5;
  StdMode std_mode = StdMode::BiasedVarEps;
  double* mean = nullptr;     // optional, per row (reference only)
  double* inv_std = nullptr;  // optional, per row (reference only)
};
template <class T>
void layer_norm_reference(const LayerNormArgs<T>& a);
// Fast path: float only; mean/inv_std written as float.
void layer_norm_fast(const LayerNormArgs<float>& a, const NormKernels& k, float* mean, float* inv_std);

// AdaNorm (Xu et al. 2019): t = (x - mean)/σ, y = C·(1 - k·t)·t per row.
void adanorm_reference(const float* x, float* y, int64_t rows, int64_t n, double eps, StdMode mode, double k, double C);
void adanorm_fast(const float* x, float* y, int64_t rows, int64_t n, float eps, StdMode mode, float k, float C,
                  const NormKernels& kern);

// ---- RMS family (rms_norm.cpp) ---------------------------------------------
// y = x / sqrt(mean(x²) + eps) * scale (scale may be null; stride as above).
template <class T>
void rms_norm_reference(const T* x, T* y, int64_t rows, int64_t n, const T* scale, int64_t scale_stride, double eps,
                        double* inv_rms);
void rms_norm_fast(const float* x, float* y, int64_t rows, int64_t n, const float* scale, int64_t scale_stride,
                   float eps, float* inv_rms, const NormKernels& k);

// ---- Skip LayerNorm (skip_norm.cpp) -----------------------------------------
// s = x + skip[r % skip_rows] (+ bias); y = LayerNorm(s)·gamma + beta, or with
// `simplified` y = s / sqrt(mean(s²) + eps)·gamma. `sum` (optional) receives s.
struct SkipNormArgs {
  const float* x = nullptr;
  const float* skip = nullptr;
  int64_t skip_rows = 0;  // skip broadcasts over rows when smaller than x
  const float* gamma = nullptr;
  const float* beta = nullptr;  // may be null
  const float* bias = nullptr;  // may be null
  float* y = nullptr;
  float* sum = nullptr;      // may be null
  float* mean = nullptr;     // may be null
  float* inv_std = nullptr;  // may be null
  int64_t rows = 0, n = 0;
  float eps = 1e-12f;
  bool simplified = false;
};
void skip_norm_reference(const SkipNormArgs& a);
void skip_norm_fast(const SkipNormArgs& a, const NormKernels& k);

// ---- GroupNorm (group_norm.cpp) ----------------------------------------------
// X = N×C×plane; statistics per (n, group) over its C/G channels × plane
// (contiguous); y = (x - mean)/sqrt(var + eps)·scale[c] + bias[c].
template <class T>
void group_norm_reference(const T* x, T* y, int64_t N, int64_t C, int64_t plane, int64_t groups, const T* scale,
                          const T* bias, double eps);
void group_norm_fast(const float* x, float* y, int64_t N, int64_t C, int64_t plane, int64_t groups, const float* scale,
                     const float* bias, float eps, const NormKernels& k);

// ---- BatchNorm / InstanceNorm (batch_norm.cpp, instance_norm.cpp) -----------
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
