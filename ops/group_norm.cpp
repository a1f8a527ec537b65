// GroupNormalization-18 and -21 on X = N×C×D1…Dn with num_groups G: the C/G
// channels of a group are contiguous, so each (n, group) is one row of
// (C/G)·D elements. y = (x - mean)/sqrt(var + eps)·scale + bias, where scale
// and bias are per channel (C elements, version 21 and PyTorch) or per group
// (G elements, version 18 — deprecated by ONNX for that reason).
// Reference: scalar, fp64 statistics. Fast path: the shifted one-pass moments
// over the group (centred second pass when ill-conditioned), then one pass per
// channel y = ((x - shift) - delta)·(inv·scale[c]) + bias[c]; groups spread over
// threads.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "fp16.h"
#include "kernel_set.h"
#include "norm_common.h"
#include "normalization.h"
#include "parallel.h"

namespace normrt {

template <class T>
void group_norm_reference(const T* x, T* y, int64_t N, int64_t C, int64_t plane, int64_t groups, const T* scale,
                          const T* bias, double eps) {
  const int64_t cg = C / groups, len = cg * plane;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      const T* xg = x + (n * C + g * cg) * plane;
      T* yg = y + (n * C + g * cg) * plane;
      double sum = 0;
      for (int64_t i = 0; i < len; ++i) sum += static_cast<double>(xg[i]);
      const double mean = len ? sum / static_cast<double>(len) : 0.0;
      double sq = 0;
      for (int64_t i = 0; i < len; ++i) sq += (static_cast<double>(xg[i]) - mean) * (static_cast<double>(xg[i]) - mean);
      const double inv = 1.0 / std::sqrt((len ? sq / static_cast<double>(len) : 0.0) + eps);
      for (int64_t i = 0; i < len; ++i) {
        const int64_t c = g * cg + i / plane;
        yg[i] = static_cast<T>((static_cast<double>(xg[i]) - mean) * inv * static_cast<double>(scale[c]) +
                               static_cast<double>(bias[c]));
      }
    }
}
template void group_norm_reference<float>(const float*, float*, int64_t, int64_t, int64_t, int64_t, const float*,
                                          const float*, double);
template void group_norm_reference<double>(const double*, double*, int64_t, int64_t, int64_t, int64_t, const double*,
                                           const double*, double);

void group_norm_fast(const float* x, float* y, int64_t N, int64_t C, int64_t plane, int64_t groups, const float* scale,
                     const float* bias, float eps, const NormKernels& k) {
  const int64_t cg = C / groups, len = cg * plane;
  parallel_rows(N * groups, 2 * len, [&](int64_t begin, int64_t end) {
    for (int64_t ng = begin; ng < end; ++ng) {
      const int64_t g = ng % groups;
      const float* xg = x + ng * len;
      float* yg = y + ng * len;
      const RowMoments m = k.moments(xg, static_cast<size_t>(len));
      const double inv = 1.0 / std::sqrt(static_cast<double>(m.var) + eps);
      for (int64_t j = 0; j < cg; ++j) {
        const int64_t c = g * cg + j;
        k.normalize_affine(xg + j * plane, yg + j * plane, static_cast<size_t>(plane), m,
                           static_cast<float>(inv * static_cast<double>(scale[c])), bias[c]);
      }
    }
  });
}

namespace {

// Per-group scale/bias (version 18) as per-channel (C) values.
Tensor per_channel(const Tensor& t, int64_t C, int64_t groups) {
  if (t.numel() == C) return t;
  Tensor r = Tensor::uninitialized(t.dtype(), {C});
  const size_t es = dtype_size(t.dtype());
  const int64_t cg = C / groups;
  for (int64_t c = 0; c < C; ++c)
    std::memcpy(static_cast<char*>(r.raw()) + static_cast<size_t>(c) * es,
                static_cast<const char*>(t.raw()) + static_cast<size_t>(c / cg) * es, es);
  return r;
}

void plan_group_norm(PlanCtx& c) {
  c.require_inputs(3, 3);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  const ValueDesc& X = c.input(0);
  if (X.shape.size() < 2) c.fail("X must have rank >= 2 (N×C×…), got " + shape_str(X.shape));
  const int64_t N = X.shape[0], C = X.shape[1];
  int64_t plane = 1;
  for (size_t d = 2; d < X.shape.size(); ++d) plane *= X.shape[d];
  if (!c.node.has_attr("num_groups")) c.fail("missing required attribute 'num_groups'");
  const int64_t G = c.node.attr_int("num_groups", 1);
  if (G <= 0 || C % G != 0)
    c.fail("num_groups " + std::to_string(G) + " must be positive and divide the " + std::to_string(C) + " channels");
  const int64_t want = c.version >= 21 ? C : G;  // scale/bias elements
  for (size_t i = 1; i < 3; ++i) {
    if (c.in[i].dtype != X.dtype) c.fail("scale and bias must have X's dtype");
    if (c.in[i].shape != Shape{want})
      c.fail(std::string(i == 1 ? "scale" : "bias") + " must have shape [" + std::to_string(want) + "] at version " +
             std::to_string(c.version) + ", got " + shape_str(c.in[i].shape));
  }
  const double eps = epsilon_attr(c, 1e-5f);
  const int64_t stash = c.version >= 21 ? c.node.attr_int("stash_type", 1) : 1;
  if (stash != 1 && stash != 11) c.unsupported("stash_type " + std::to_string(stash));
  c.set_output(0, X.dtype, X.shape);
  const bool reference = X.dtype == DType::Float64 || stash == 11;
  // Constant scale/bias are laid out per channel once, here.
  Tensor scale0, bias0;
  if (c.in[1].value) scale0 = to_float32(per_channel(*c.in[1].value, C, G));
  if (c.in[2].value) bias0 = to_float32(per_channel(*c.in[2].value, C, G));
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    const Tensor scale = scale0.defined() ? scale0 : to_float32(per_channel(*io.in[1], C, G));
    const Tensor bias = bias0.defined() ? bias0 : to_float32(per_channel(*io.in[2], C, G));
    if (io.in[0]->dtype() == DType::Float64)
      return group_norm_reference(io.in[0]->data<double>(), io.out[0]->data<double>(), N, C, plane, G,
                                  scale.data<double>(), bias.data<double>(), eps);
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    if (reference)
      group_norm_reference(x.data<float>(), y.data<float>(), N, C, plane, G, scale.data<float>(), bias.data<float>(),
                           eps);
    else
      group_norm_fast(x.data<float>(), y.data<float>(), N, C, plane, G, scale.data<float>(), bias.data<float>(),
                      static_cast<float>(eps), kern);
    store_from_float32(y, *io.out[0]);
  };
}

}  // namespace

void register_group_norm(OpRegistry& r) { r.add("", "GroupNormalization", {18, 21}, plan_group_norm); }

}  // namespace normrt
