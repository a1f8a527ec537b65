// LayerNormalization-17 (Ba, Kiros & Hinton 2016): statistics over the
// normalized dims [axis, rank) of each row.
//   mean = Σx/n, var = Σ(x - mean)²/n, y = (x - mean)/sqrt(var + eps)·Scale + B
// Reference: scalar, fp64 statistics, 3 passes. Fast path: per row one pass
// of shifted sums for mean and centred variance (a second, centred pass only
// when the shift was far from the mean — see norm_kernels.h), then one pass
// writing y while the row is in cache; vectorised, rows spread over threads.
#include <cmath>
#include <vector>

#include "broadcast.h"
#include "fp16.h"
#include "normalization.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

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
    const double inv = 1.0 / std::sqrt(var + a.eps);
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
                      static_cast<float>(a.eps), mean ? mean + begin : nullptr, inv_std ? inv_std + begin : nullptr);
  });
}

namespace {

// Scale or B as the kernel reads it: n values per row, shared by all rows
// (stride 0) when the tensor does not vary over the leading dims, else
// expanded to the whole of X (stride n).
struct RowParam {
  Tensor values;
  int64_t stride = 0;
};

RowParam row_param(const Tensor& t_in, const Shape& x_shape, int64_t axis) {
  const Tensor t = to_float32(t_in);
  const size_t lead = static_cast<size_t>(axis);
  Shape norm_shape(x_shape.begin() + axis, x_shape.end());
  size_t off = x_shape.size() - t.shape().size();
  bool per_row_same = true;
  for (size_t i = 0; i < t.shape().size(); ++i)
    if (off + i < lead && t.shape()[i] != 1) per_row_same = false;
  if (per_row_same) {
    Shape trimmed;
    for (size_t i = 0; i < t.shape().size(); ++i)
      if (off + i >= lead) trimmed.push_back(t.shape()[i]);
    Tensor v = t.reshaped(trimmed);
    if (trimmed != norm_shape) v = expand_to(v, norm_shape);
    return {v, 0};
  }
  Tensor v = t.shape() == x_shape ? t : expand_to(t, x_shape);
  int64_t n = 1;
  for (int64_t d : norm_shape) n *= d;
  return {v, n};
}

void plan_layer_norm(PlanCtx& c) {
  c.require_inputs(2, 3);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Float16});
  const ValueDesc& X = c.input(0);
  const int64_t r = static_cast<int64_t>(X.shape.size());
  int64_t axis = c.node.attr_int("axis", -1);
  if (axis < -r || axis >= r || r == 0)
    c.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  const double eps = c.node.attr_float("epsilon", 1e-5f);
  if (!(eps >= 0)) c.fail("epsilon must be >= 0");
  const int64_t stash = c.node.attr_int("stash_type", 1);
  if (stash != 1 && stash != 11) c.unsupported("stash_type " + std::to_string(stash) + " (float or double only)");
  for (size_t i = 1; i < 3; ++i) {
    if (!c.has_input(i)) continue;
    if (c.in[i].dtype != X.dtype) c.fail("input " + std::to_string(i) + " must have the dtype of X");
    if (!broadcasts_to(c.in[i].shape, X.shape))
      c.fail("input " + std::to_string(i) + " of shape " + shape_str(c.in[i].shape) + " does not broadcast to X " +
             shape_str(X.shape));
  }
  int64_t rows = 1, n = 1;
  for (int64_t d = 0; d < r; ++d) (d < axis ? rows : n) *= X.shape[static_cast<size_t>(d)];
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
  c.kernel = [=](KernelIO& io) {
    RowParam scale = scale0 ? *scale0 : row_param(*io.in[1], x_shape, axis);
    RowParam bias;
    if (bias0)
      bias = *bias0;
    else if (io.in.size() > 2 && io.in[2])
      bias = row_param(*io.in[2], x_shape, axis);
    Tensor* mean_t = io.out.size() > 1 ? io.out[1] : nullptr;
    Tensor* inv_t = io.out.size() > 2 ? io.out[2] : nullptr;
    if (fast) {
      const Tensor x = to_float32(*io.in[0]);
      Tensor y = float32_target(*io.out[0]);
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
      layer_norm_fast(a, norm_kernels(), mean_t ? mean_t->data<float>() : nullptr,
                      inv_t ? inv_t->data<float>() : nullptr);
      store_from_float32(y, *io.out[0]);
      return;
    }
    // Reference path: float64 data, or fp64 statistics (stash_type=11).
    std::vector<double> mean(static_cast<size_t>(rows)), inv(static_cast<size_t>(rows));
    auto run = [&](auto tag, const Tensor& x, Tensor& y) {
      using T = decltype(tag);
      LayerNormArgs<T> a;
      a.x = x.data<T>();
      a.y = y.data<T>();
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
      const Tensor x = to_float32(*io.in[0]);
      Tensor y = float32_target(*io.out[0]);
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

}  // namespace

void register_layer_norm(OpRegistry& r) { r.add("", "LayerNormalization", {17}, plan_layer_norm); }

}  // namespace normrt
