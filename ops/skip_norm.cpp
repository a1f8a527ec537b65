// com.microsoft SkipLayerNormalization and SkipSimplifiedLayerNormalization
// (the contrib ops of exported transformers; schemas as ONNX Runtime's
// bert_defs.cc). Per row of the hidden size H:
//   s = input + skip (+ bias);  y = LayerNorm(s)·gamma + beta
//   (simplified: y = s / sqrt(mean(s²) + eps)·gamma)
// input is (B,S,H) or 2-D; skip has the same shape or broadcasts over the batch
// ((1,S,H) or (S,H)); gamma, beta, bias have H elements. epsilon defaults to
// 1e-12. Outputs: output, mean (optional), inv_std_var (optional),
// input_skip_bias_sum (optional; s, also when it feeds another node). Mean is
// 0 for the simplified form, which has no mean (as ONNX Runtime).
// Fast path: one pass forming s (into the sum output, or into y's row), then
// LayerNorm's rows kernel or the RMS passes over s while it is in cache.
#include <cmath>
#include <vector>

#include "broadcast.h"
#include "fp16.h"
#include "kernel_set.h"
#include "normalization.h"
#include "op.h"
#include "parallel.h"
#include "scratch.h"

namespace normrt {

void skip_norm_reference(const SkipNormArgs& a) {
  std::vector<double> s(static_cast<size_t>(a.n));
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* skip = a.skip + (r % a.skip_rows) * a.n;
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < a.n; ++i) {
      // s is formed in fp32 like the fast path (it is also an output).
      float v = a.x[r * a.n + i] + skip[i];
      if (a.bias) v += a.bias[i];
      s[static_cast<size_t>(i)] = v;
      if (a.sum) a.sum[r * a.n + i] = v;
      sum += v;
    }
    const double mean = a.simplified ? 0.0 : sum / static_cast<double>(a.n);
    for (int64_t i = 0; i < a.n; ++i) sq += (s[static_cast<size_t>(i)] - mean) * (s[static_cast<size_t>(i)] - mean);
    const double inv = 1.0 / std::sqrt(sq / static_cast<double>(a.n) + a.eps);
    for (int64_t i = 0; i < a.n; ++i) {
      double v = (s[static_cast<size_t>(i)] - mean) * inv * a.gamma[i];
      if (a.beta) v += a.beta[i];
      a.y[r * a.n + i] = static_cast<float>(v);
    }
    if (a.mean) a.mean[r] = static_cast<float>(mean);
    if (a.inv_std) a.inv_std[r] = static_cast<float>(inv);
  }
}

void skip_norm_fast(const SkipNormArgs& a, const NormKernels& k) {
  const size_t n = static_cast<size_t>(a.n);
  parallel_rows(a.rows, 3 * a.n, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      // s goes to the sum output, or into y's row and is normalized in place.
      float* s = a.sum ? a.sum + r * a.n : a.y + r * a.n;
      k.add3(a.x + r * a.n, a.skip + (r % a.skip_rows) * a.n, a.bias, s, n);
      if (a.simplified) {
        const float inv = static_cast<float>(1.0 / std::sqrt(k.sum_squares(s, n) / static_cast<double>(n) + a.eps));
        k.scale_mul(s, a.y + r * a.n, n, inv, a.gamma);
        if (a.mean) a.mean[r] = 0.f;
        if (a.inv_std) a.inv_std[r] = inv;
      } else {
        k.layer_norm_rows(s, a.y + r * a.n, 1, n, a.gamma, 0, a.beta, 0, a.eps, StdMode::BiasedVarEps,
                          a.mean ? a.mean + r : nullptr, a.inv_std ? a.inv_std + r : nullptr);
      }
    }
  });
}

namespace {

void plan_skip(PlanCtx& c, bool simplified) {
  // SkipLayerNormalization: input, skip, gamma, beta?, bias?
  // SkipSimplifiedLayerNormalization: input, skip, gamma, bias?
  c.require_inputs(3, simplified ? 4 : 5);
  c.require_dtype(0, {DType::Float32, DType::Float16});
  const ValueDesc& X = c.input(0);
  const ValueDesc& S = c.input(1);
  if (S.dtype != X.dtype) c.fail("skip must have the input's dtype");
  // ai.normrt's form (made by the optimizer from Add → LayerNormalization)
  // takes any two inputs that broadcast; the contrib form the layouts above.
  const bool general = c.node.domain == "ai.normrt";
  Shape out_shape = X.shape;
  if (general) {
    if (!broadcast_shapes(X.shape, S.shape, &out_shape) || out_shape.empty())
      c.fail("inputs of shapes " + shape_str(X.shape) + " and " + shape_str(S.shape) + " do not broadcast");
  } else if (X.shape.size() != 2 && X.shape.size() != 3) {
    c.fail("input must be 2-D or 3-D, got " + shape_str(X.shape));
  }
  const int64_t H = out_shape.back();
  const int64_t rows = shape_numel(out_shape) / (H ? H : 1);
  if (S.shape.empty() || (!general && S.shape.back() != H))
    c.fail("skip must end in the hidden size " + std::to_string(H));
  const int64_t skip_rows = general ? rows : shape_numel(S.shape) / (H ? H : 1);
  // contrib form: skip is input-shaped or broadcasts over the leading (batch) dim.
  const bool same = S.shape == X.shape;
  const bool batch_broadcast = X.shape.size() == 3 && skip_rows == X.shape[1] &&
                               ((S.shape.size() == 3 && S.shape[0] == 1) || S.shape.size() == 2);
  if (!general && !same && !batch_broadcast)
    c.fail("skip of shape " + shape_str(S.shape) + " does not fit input " + shape_str(X.shape));
  const bool expand_x = general && X.shape != out_shape, expand_s = general && S.shape != out_shape;
  const size_t beta_i = simplified ? 99 : 3, bias_i = simplified ? 3 : 4;
  for (size_t i = 2; i < c.num_inputs(); ++i) {
    if (!c.has_input(i)) continue;
    if (c.in[i].dtype != X.dtype) c.fail("input " + std::to_string(i) + " must have the input's dtype");
    if (shape_numel(c.in[i].shape) != H)
      c.fail("input " + std::to_string(i) + " must have " + std::to_string(H) + " elements");
  }
  const float eps = static_cast<float>(c.node.attr_float("epsilon", 1e-12f));
  if (!(eps >= 0)) c.fail("epsilon must be >= 0");
  c.set_output(0, X.dtype, out_shape);
  Shape stat_shape = out_shape;
  stat_shape.back() = 1;
  if (c.has_output(1)) c.set_output(1, DType::Float32, stat_shape);
  if (c.has_output(2)) c.set_output(2, DType::Float32, stat_shape);
  if (c.has_output(3)) c.set_output(3, X.dtype, out_shape);
  if (c.out.size() > 4) c.fail("has more than 4 outputs");
  const bool has_beta = c.has_input(beta_i), has_bias = c.has_input(bias_i);
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    // float32 inputs are used in place (Float32View: no copy per run).
    // A broadcast float32 operand is expanded into thread scratch (float16 via a copy).
    const int64_t total = shape_numel(out_shape);
    const bool f32 = io.in[0]->dtype() == DType::Float32;
    Scratch<float> xs(expand_x && f32 ? static_cast<size_t>(total) : 0);
    Scratch<float> ss(expand_s && f32 ? static_cast<size_t>(total) : 0);
    if (expand_x && f32) expand_into(*io.in[0], out_shape, xs.data());
    if (expand_s && f32) expand_into(*io.in[1], out_shape, ss.data());
    const Float32View x = expand_x && !f32 ? to_float32(expand_to(*io.in[0], out_shape)) : to_float32(*io.in[0]);
    const Float32View skip = expand_s && !f32 ? to_float32(expand_to(*io.in[1], out_shape)) : to_float32(*io.in[1]);
    const Float32View gamma = to_float32(*io.in[2]);
    const Float32View beta = has_beta ? to_float32(*io.in[beta_i]) : Float32View(io.in[2]);
    const Float32View bias = has_bias ? to_float32(*io.in[bias_i]) : Float32View(io.in[2]);
    const Float32View y = float32_target(*io.out[0]);
    Tensor* sum_out = io.out.size() > 3 ? io.out[3] : nullptr;
    const Float32View sum = sum_out ? float32_target(*sum_out) : Float32View(io.out[0]);
    SkipNormArgs a;
    a.x = expand_x && f32 ? xs.data() : x.data<float>();
    a.skip = expand_s && f32 ? ss.data() : skip.data<float>();
    a.skip_rows = skip_rows;
    a.gamma = gamma.data<float>();
    a.beta = has_beta ? beta.data<float>() : nullptr;
    a.bias = has_bias ? bias.data<float>() : nullptr;
    a.y = y.data<float>();
    a.sum = sum_out ? sum.data<float>() : nullptr;
    a.mean = io.out.size() > 1 && io.out[1] ? io.out[1]->data<float>() : nullptr;
    a.inv_std = io.out.size() > 2 && io.out[2] ? io.out[2]->data<float>() : nullptr;
    a.rows = rows;
    a.n = H;
    a.eps = eps;
    a.simplified = simplified;
    skip_norm_fast(a, kern);
    store_from_float32(y, *io.out[0]);
    if (sum_out) store_from_float32(sum, *sum_out);
  };
}

void plan_skip_layer_norm(PlanCtx& c) { plan_skip(c, false); }
void plan_skip_simplified_layer_norm(PlanCtx& c) { plan_skip(c, true); }

}  // namespace

void register_skip_norm(OpRegistry& r) {
  r.add("com.microsoft", "SkipLayerNormalization", {1}, plan_skip_layer_norm);
  r.add("com.microsoft", "SkipSimplifiedLayerNormalization", {1}, plan_skip_simplified_layer_norm);
  r.add("ai.normrt", "SkipLayerNormalization", {1}, plan_skip_layer_norm);
}

}  // namespace normrt
