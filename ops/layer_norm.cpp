// LayerNormalization-17 (Ba, Kiros & Hinton 2016): statistics over the
// normalized dims [axis, rank) of each row.
//   mean = Σx/n, var = Σ(x - mean)²/n, y = (x - mean)/sqrt(var + eps)·Scale + B
// Reference: scalar, fp64 statistics, 3 passes. Fast path: per row one pass
// of shifted sums for mean and centred variance (a second, centred pass only
// when the shift was far from the mean — see norm_kernels.h), then one pass
// writing y while the row is in cache; vectorised, rows spread over threads.
#include <cmath>
#include <vector>

#include "fp16.h"
#include "kernel_set.h"
#include "norm_common.h"
#include "normalization.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

// 1/σ from the population variance of n values, per StdMode.
static double inv_sigma_reference(double var, int64_t n, double eps, StdMode mode) {
  if (mode == StdMode::BiasedVarEps) return 1.0 / std::sqrt(var + eps);
  const double unbiased = n > 1 ? var * static_cast<double>(n) / static_cast<double>(n - 1) : 0.0;
  return 1.0 / (std::sqrt(unbiased) + eps);
}

template <class T>
void layer_norm_reference(const LayerNormArgs<T>& a) {
  for (int64_t r = 0; r < a.rows; ++r) {
    const T* x = a.x + r * a.n;
    T* y = a.y + r * a.n;
    double sum = 0;
    for (int64_t i = 0; i < a.n; ++i) sum += static_cast<double>(x[i]);
    const double mean = a.n ? sum / static_cast<double>(a.n) : 0.0;
    double sq = 0;
    for (int64_t i = 0; i < a.n; ++i) {
      double d = static_cast<double>(x[i]) - mean;
      sq += d * d;
    }
    const double var = a.n ? sq / static_cast<double>(a.n) : 0.0;
    const double inv = inv_sigma_reference(var, a.n, a.eps, a.std_mode);
    const T* sc = a.scale ? a.scale + r * a.scale_stride : nullptr;
    const T* b = a.bias ? a.bias + r * a.bias_stride : nullptr;
    for (int64_t i = 0; i < a.n; ++i) {
      double v = (static_cast<double>(x[i]) - mean) * inv;
      if (sc) v *= static_cast<double>(sc[i]);
      if (b) v += static_cast<double>(b[i]);
      y[i] = static_cast<T>(v);
    }
    if (a.mean) a.mean[r] = mean;
    if (a.inv_std) a.inv_std[r] = inv;
  }
}
template void layer_norm_reference<float>(const LayerNormArgs<float>&);
template void layer_norm_reference<double>(const LayerNormArgs<double>&);

void layer_norm_fast(const LayerNormArgs<float>& a, const NormKernels& k, float* mean, float* inv_std) {
  parallel_rows(a.rows, 2 * a.n, [&](int64_t begin, int64_t end) {
    k.layer_norm_rows(a.x + begin * a.n, a.y + begin * a.n, static_cast<size_t>(end - begin), static_cast<size_t>(a.n),
                      a.scale ? a.scale + begin * a.scale_stride : nullptr, static_cast<size_t>(a.scale_stride),
                      a.bias ? a.bias + begin * a.bias_stride : nullptr, static_cast<size_t>(a.bias_stride),
                      static_cast<float>(a.eps), a.std_mode, mean ? mean + begin : nullptr,
                      inv_std ? inv_std + begin : nullptr);
  });
}

void adanorm_reference(const float* x, float* y, int64_t rows, int64_t n, double eps, StdMode mode, double k,
                       double C) {
  std::vector<double> t(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> xd(x + r * n, x + (r + 1) * n);
    LayerNormArgs<double> a;
    a.x = xd.data();
    a.y = t.data();
    a.rows = 1;
    a.n = n;
    a.eps = eps;
    a.std_mode = mode;
    layer_norm_reference(a);
    for (int64_t i = 0; i < n; ++i) {
      const double v = t[static_cast<size_t>(i)];
      y[r * n + i] = static_cast<float>(C * (1.0 - k * v) * v);
    }
  }
}

void adanorm_fast(const float* x, float* y, int64_t rows, int64_t n, float eps, StdMode mode, float k, float C,
                  const NormKernels& kern) {
  const size_t len = static_cast<size_t>(n);
  parallel_rows(rows, 2 * n, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const RowMoments m = kern.moments(x + r * n, len);
      const double inv = inv_sigma_reference(m.var, n, eps, mode);
      kern.adanorm(x + r * n, y + r * n, len, m, static_cast<float>(inv), k, C);
    }
  });
}

namespace {

void plan_layer_norm(PlanCtx& c) {
  c.require_inputs(2, 3);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Float16});
  const ValueDesc& X = c.input(0);
  const int64_t r = static_cast<int64_t>(X.shape.size());
  const RowLayout layout = row_layout(c, X.shape);
  const int64_t axis = layout.axis, rows = layout.rows, n = layout.n;
  const double eps = epsilon_attr(c, 1e-5f);
  const int64_t stash = c.node.attr_int("stash_type", 1);
  if (stash != 1 && stash != 11) c.unsupported("stash_type " + std::to_string(stash) + " (float or double only)");
  for (size_t i = 1; i < 3; ++i) check_row_param_input(c, i, X.shape, X.dtype);
  Shape stat_shape(X.shape.begin(), X.shape.begin() + axis);
  stat_shape.resize(static_cast<size_t>(r), 1);
  const DType stat_dtype = stash == 11 ? DType::Float64 : DType::Float32;
  c.set_output(0, X.dtype, X.shape);
  if (c.has_output(1)) c.set_output(1, stat_dtype, stat_shape);
  if (c.has_output(2)) c.set_output(2, stat_dtype, stat_shape);

  // Scale and B known now are laid out once here, not per run.
  auto known = [&](size_t i) -> std::shared_ptr<RowParam> {
    if (!c.has_input(i) || !c.in[i].value) return nullptr;
    return std::make_shared<RowParam>(row_param(*c.in[i].value, X.shape, axis));
  };
  std::shared_ptr<RowParam> scale0 = known(1), bias0 = known(2);
  const Shape x_shape = X.shape;
  // float32 (and float16, computed in float32) with float statistics take the fast path.
  const bool fast = X.dtype != DType::Float64 && stash == 1;
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    // Constant Scale/B were prepared at planning (used in place: no copy per run).
    RowParam scale_run, bias_run;
    if (!scale0) scale_run = row_param(*io.in[1], x_shape, axis);
    if (!bias0 && io.in.size() > 2 && io.in[2]) bias_run = row_param(*io.in[2], x_shape, axis);
    const RowParam& scale = scale0 ? *scale0 : scale_run;
    const RowParam& bias = bias0 ? *bias0 : bias_run;
    Tensor* mean_t = io.out.size() > 1 ? io.out[1] : nullptr;
    Tensor* inv_t = io.out.size() > 2 ? io.out[2] : nullptr;
    if (fast) {
      const Float32View x = to_float32(*io.in[0]);
      const Float32View y = float32_target(*io.out[0]);
      LayerNormArgs<float> a;
      a.x = x.data<float>();
      a.y = y.data<float>();
      a.rows = rows;
      a.n = n;
      a.scale = scale.values.data<float>();
      a.scale_stride = scale.stride;
      a.bias = bias.values.defined() ? bias.values.data<float>() : nullptr;
      a.bias_stride = bias.stride;
      a.eps = eps;
      layer_norm_fast(a, kern, mean_t ? mean_t->data<float>() : nullptr, inv_t ? inv_t->data<float>() : nullptr);
      store_from_float32(y, *io.out[0]);
      return;
    }
    // Reference path: float64 data, or fp64 statistics (stash_type=11).
    std::vector<double> mean(static_cast<size_t>(rows)), inv(static_cast<size_t>(rows));
    auto run = [&](auto tag, const auto& x, auto&& y) {
      using T = decltype(tag);
      LayerNormArgs<T> a;
      a.x = x.template data<T>();
      a.y = y.template data<T>();
      a.rows = rows;
      a.n = n;
      a.scale = scale.values.data<T>();
      a.scale_stride = scale.stride;
      a.bias = bias.values.defined() ? bias.values.data<T>() : nullptr;
      a.bias_stride = bias.stride;
      a.eps = eps;
      a.mean = mean.data();
      a.inv_std = inv.data();
      layer_norm_reference(a);
    };
    if (io.in[0]->dtype() == DType::Float64) {
      run(double{}, *io.in[0], *io.out[0]);
    } else {
      const Float32View x = to_float32(*io.in[0]);
      const Float32View y = float32_target(*io.out[0]);
      run(float{}, x, y);
      store_from_float32(y, *io.out[0]);
    }
    for (auto [t, src] : {std::pair{mean_t, &mean}, std::pair{inv_t, &inv}}) {
      if (!t) continue;
      for (int64_t i = 0; i < rows; ++i) {
        if (t->dtype() == DType::Float64)
          t->data<double>()[i] = (*src)[static_cast<size_t>(i)];
        else
          t->data<float>()[i] = static_cast<float>((*src)[static_cast<size_t>(i)]);
      }
    }
  };
}

// ai.normrt LayerNormSimple (Xu et al. 2019: LayerNorm without gain and bias)
// and AdaNorm (z = C·(1 - k·y)·y on y = (x - mean)/σ), both over [axis, rank)
// with σ per the std_mode attribute.
void plan_xu_norm(PlanCtx& c, bool ada) {
  c.require_inputs(1, 1);
  c.require_dtype(0, ada ? std::initializer_list<DType>{DType::Float32, DType::Float16}
                         : std::initializer_list<DType>{DType::Float32, DType::Float16, DType::Float64});
  const ValueDesc& X = c.input(0);
  const RowLayout l = row_layout(c, X.shape);
  const double eps = epsilon_attr(c, 1e-5f);
  const StdMode mode = std_mode_attr(c);
  const float k = c.node.attr_float("k", 0.1f), C = c.node.attr_float("C", 1.0f);
  // Set by the optimizer when it fused an unbiased-std pattern whose n/(n−1)
  // factor was a constant: the rows must have that n.
  const int64_t fused_n = c.node.attr_int("row_size", l.n);
  if (fused_n != l.n)
    c.fail("was fused from a pattern with an unbiased-std factor for rows of " + std::to_string(fused_n) +
           " elements, but rows have " + std::to_string(l.n));
  c.set_output(0, X.dtype, X.shape);
  const NormKernels kern = *c.kernels->norm;  // the session's ISA path
  c.kernel = [=](KernelIO& io) {
    if (io.in[0]->dtype() == DType::Float64) {
      LayerNormArgs<double> a;
      a.x = io.in[0]->data<double>();
      a.y = io.out[0]->data<double>();
      a.rows = l.rows;
      a.n = l.n;
      a.eps = eps;
      a.std_mode = mode;
      return layer_norm_reference(a);
    }
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    if (ada) {
      adanorm_fast(x.data<float>(), y.data<float>(), l.rows, l.n, static_cast<float>(eps), mode, k, C, kern);
    } else {
      LayerNormArgs<float> a;
      a.x = x.data<float>();
      a.y = y.data<float>();
      a.rows = l.rows;
      a.n = l.n;
      a.eps = eps;
      a.std_mode = mode;
      layer_norm_fast(a, kern, nullptr, nullptr);
    }
    store_from_float32(y, *io.out[0]);
  };
}

void plan_layer_norm_simple(PlanCtx& c) { plan_xu_norm(c, false); }
void plan_adanorm(PlanCtx& c) { plan_xu_norm(c, true); }

}  // namespace

void register_layer_norm(OpRegistry& r) {
  r.add("", "LayerNormalization", {17}, plan_layer_norm);
  r.add("ai.normrt", "LayerNormalization", {1}, plan_layer_norm);  // made by the optimizer at any opset
  r.add("ai.normrt", "LayerNormSimple", {1}, plan_layer_norm_simple);
  r.add("ai.normrt", "AdaNorm", {1}, plan_adanorm);
}

}  // namespace normrt
