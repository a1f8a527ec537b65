// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (float32/float64)
// over input [N, C, d1..dk] and target [N, d1..dk], viewed as [N, C, D] and
// [N, D]. With t = target[n, d] and w = weight[t] (1 without weights):
//   l[n, d] = −w · x[n, t, d]   (l = 0 and w = 0 when t == ignore_index)
//   reduction none: l (target's shape); sum: Σ l; mean: Σ l / Σ w
// SoftmaxCrossEntropyLoss first takes log_prob = x − max − log Σ exp(x − max)
// over C (its optional second output), then the same loss on log_prob. Sums
// run in double. One pass over the targets; the log-softmax makes three passes
// over the scores. A target outside [0, C) that is not ignore_index is an
// error thrown at run time.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "op.h"

namespace normrt {

namespace {

enum class Reduction { None, Sum, Mean };

struct LossPlan {
  int64_t N = 0, C = 0, D = 1;
  Reduction reduction = Reduction::Mean;
  bool has_ignore = false;
  int64_t ignore_index = 0;
  bool has_weight = false;
  DType target_dtype = DType::Int64;
  std::string where;  // the node, for run-time errors
};

int64_t target_at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::Int64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
}

template <class T>
void nll_loss(const T* x, const Tensor& target, const T* weight, T* out, const LossPlan& p) {
  const int64_t N = p.N, C = p.C, D = p.D;
  double total = 0, weight_sum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t t = target_at(target, n * D + d);
      double l = 0, w = 0;
      if (!(p.has_ignore && t == p.ignore_index)) {
        if (t < 0 || t >= C)
          throw Error(ErrorCode::InvalidArgument, p.where + ": target " + std::to_string(t) + " is out of range for " +
                                                      std::to_string(C) + " classes");
        w = weight ? static_cast<double>(weight[t]) : 1.0;
        l = -w * static_cast<double>(x[(n * C + t) * D + d]);
      }
      if (p.reduction == Reduction::None)
        out[n * D + d] = static_cast<T>(l);
      else
        total += l, weight_sum += w;
    }
  if (p.reduction == Reduction::Sum) out[0] = static_cast<T>(total);
  if (p.reduction == Reduction::Mean) out[0] = static_cast<T>(total / weight_sum);  // 0/0 = NaN: all ignored
}

// y[n, :, d] = log softmax of x[n, :, d] (C values D apart).
template <class T>
void log_softmax_axis1(const T* x, T* y, int64_t N, int64_t C, int64_t D) {
  std::vector<double> mx(static_cast<size_t>(D)), sum(static_cast<size_t>(D));
  for (int64_t n = 0; n < N; ++n) {
    const T* xn = x + n * C * D;
    T* yn = y + n * C * D;
    std::fill(mx.begin(), mx.end(), -std::numeric_limits<double>::infinity());
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t d = 0; d < D; ++d) mx[d] = std::max(mx[d], static_cast<double>(xn[c * D + d]));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t d = 0; d < D; ++d) sum[d] += std::exp(static_cast<double>(xn[c * D + d]) - mx[d]);
    for (int64_t d = 0; d < D; ++d) sum[d] = mx[d] + std::log(sum[d]);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t d = 0; d < D; ++d) yn[c * D + d] = static_cast<T>(static_cast<double>(xn[c * D + d]) - sum[d]);
  }
}

// Checks input [N, C, d...], target [N, d...] and weight [C]; sets output 0.
LossPlan plan_loss_common(PlanCtx& c) {
  c.require_inputs(2, 3);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  c.require_dtype(1, {DType::Int64, DType::Int32});
  const Shape& x = c.input(0).shape;
  const Shape& t = c.input(1).shape;
  if (x.size() < 2) c.fail("input must have rank >= 2 ([N, C, d1..dk]), got " + shape_str(x));
  if (t.size() + 1 != x.size() || t[0] != x[0] || !std::equal(t.begin() + 1, t.end(), x.begin() + 2))
    c.fail("target " + shape_str(t) + " does not match input " + shape_str(x) + " (expected [N, d1..dk])");
  LossPlan p;
  p.N = x[0];
  p.C = x[1];
  for (size_t d = 2; d < x.size(); ++d) p.D = checked_mul(c, p.D, x[d], "the input's size");
  if (c.has_input(2)) {
    if (c.input(2).dtype != c.input(0).dtype) c.fail("weight differs in dtype from the input");
    if (c.input(2).shape != Shape{p.C}) c.fail("weight must have shape [C] = [" + std::to_string(p.C) + "]");
    p.has_weight = true;
  }
  const std::string red = c.node.attr_string("reduction", "mean");
  if (red == "none")
    p.reduction = Reduction::None;
  else if (red == "sum")
    p.reduction = Reduction::Sum;
  else if (red == "mean")
    p.reduction = Reduction::Mean;
  else
    c.fail("reduction '" + red + "' is not none, sum or mean");
  p.has_ignore = c.node.has_attr("ignore_index");
  p.ignore_index = c.node.attr_int("ignore_index", 0);
  p.target_dtype = c.input(1).dtype;
  p.where = c.node.where();
  c.set_output(0, c.input(0).dtype, p.reduction == Reduction::None ? t : Shape{});
  return p;
}

void plan_nll_loss(PlanCtx& c) {
  const LossPlan p = plan_loss_common(c);
  const DType dt = c.input(0).dtype;
  c.kernel = [p, dt](KernelIO& io) {
    const bool w = io.in.size() > 2 && io.in[2];
    if (dt == DType::Float32)
      nll_loss<float>(io.in[0]->data<float>(), *io.in[1], w ? io.in[2]->data<float>() : nullptr,
                      io.out[0]->data<float>(), p);
    else
      nll_loss<double>(io.in[0]->data<double>(), *io.in[1], w ? io.in[2]->data<double>() : nullptr,
                       io.out[0]->data<double>(), p);
  };
}

void plan_softmax_cross_entropy(PlanCtx& c) {
  const LossPlan p = plan_loss_common(c);
  const DType dt = c.input(0).dtype;
  if (c.has_output(1)) c.set_output(1, dt, c.input(0).shape);
  c.kernel = [p, dt](KernelIO& io) {
    const bool w = io.in.size() > 2 && io.in[2];
    Tensor* log_prob_out = io.out.size() > 1 ? io.out[1] : nullptr;
    const auto run = [&](auto tag) {
      using T = decltype(tag);
      Tensor scratch;
      T* log_prob;
      if (log_prob_out) {
        log_prob = log_prob_out->data<T>();
      } else {
        scratch = Tensor::uninitialized(dt, io.in[0]->shape());
        log_prob = scratch.data<T>();
      }
      log_softmax_axis1<T>(io.in[0]->data<T>(), log_prob, p.N, p.C, p.D);
      nll_loss<T>(log_prob, *io.in[1], w ? io.in[2]->data<T>() : nullptr, io.out[0]->data<T>(), p);
    };
    if (dt == DType::Float32)
      run(float{});
    else
      run(double{});
  };
}

}  // namespace

void register_loss_ops(OpRegistry& r) {
  r.add("", "NegativeLogLikelihoodLoss", {12, 13, 22}, plan_nll_loss);
  r.add("", "SoftmaxCrossEntropyLoss", {12, 13}, plan_softmax_cross_entropy);
}

}  // namespace normrt
