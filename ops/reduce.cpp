// Reductions over any set of axes (as attribute, or as input from ReduceSum-13
// and the others' opset 18; keepdims; noop_with_empty_axes):
//   ReduceSum Σx   ReduceMean Σx/n   ReduceProd Πx   ReduceMax   ReduceMin
//   ReduceL1 Σ|x|   ReduceL2 √Σx²   ReduceSumSquare Σx²   ReduceLogSum log Σx
//   ReduceLogSumExp log Σ exp(x)  (max-shifted in a first pass)
// Floats accumulate in fp64, integers in 64-bit; an empty reduction gives the
// identity (0, 1, −inf/lowest for Max, +inf/max for Min).
// One pass over the input accumulating into the output, one over the output.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "dispatch.h"
#include "op.h"
#include "reduced_walk.h"

namespace normrt {

namespace {

enum class Red { Sum, Mean, Prod, Max, Min, L1, L2, SumSquare, LogSum, LogSumExp };

template <class T>
void reduce(const Tensor& X, Tensor& Y, const std::vector<char>& reduced, Red kind) {
  // Integers accumulate in uint64 (wrapping like numpy's int64, no signed-overflow UB).
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  const int64_t out_n = Y.numel();
  const T* x = X.data<T>();
  T* y = Y.data<T>();
  const int64_t n = X.numel();
  const int64_t count = out_n ? n / out_n : 0;
  if (kind == Red::Max || kind == Red::Min) {
    const bool is_max = kind == Red::Max;
    T init;
    if constexpr (std::is_floating_point_v<T>)
      init = is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else
      init = is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    std::fill(y, y + out_n, init);
    for_each_reduced(X.shape(), reduced, [&](int64_t k, int64_t o) {
      const T v = x[k];
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(v)) {
          y[o] = v;
          return;
        }
      if (is_max ? v > y[o] : v < y[o]) y[o] = v;
    });
    return;
  }
  std::vector<Acc> acc(static_cast<size_t>(out_n), kind == Red::Prod ? Acc(1) : Acc(0));
  std::vector<double> shift;
  if (kind == Red::LogSumExp) {
    shift.assign(static_cast<size_t>(out_n), -std::numeric_limits<double>::infinity());
    for_each_reduced(X.shape(), reduced,
                     [&](int64_t k, int64_t o) { shift[o] = std::max(shift[o], static_cast<double>(x[k])); });
    for (double& v : shift)
      if (!std::isfinite(v)) v = 0;
  }
  for_each_reduced(X.shape(), reduced, [&](int64_t k, int64_t o) {
    const Acc v = static_cast<Acc>(static_cast<std::conditional_t<std::is_floating_point_v<T>, double, int64_t>>(x[k]));
    Acc& a = acc[static_cast<size_t>(o)];
    switch (kind) {
      case Red::Prod:
        a *= v;
        break;
      case Red::L1:
        if constexpr (std::is_signed_v<Acc>)
          a += v < 0 ? -v : v;
        else
          a += v;
        break;
      case Red::L2:
      case Red::SumSquare:
        a += v * v;
        break;
      case Red::LogSumExp:
        if constexpr (std::is_floating_point_v<Acc>) a += std::exp(v - shift[o]);
        break;
      default:
        a += v;
    }
  });
  for (int64_t i = 0; i < out_n; ++i) {
    const Acc v = acc[static_cast<size_t>(i)];
    double d;
    if constexpr (std::is_floating_point_v<Acc>)
      d = v;
    else
      d = std::is_signed_v<T> ? static_cast<double>(static_cast<int64_t>(v)) : static_cast<double>(v);
    switch (kind) {
      case Red::Mean:
        if constexpr (std::is_floating_point_v<T>)
          d = d / static_cast<double>(count);
        else if (count)
          d = static_cast<double>(static_cast<int64_t>(v)) / static_cast<double>(count);
        break;
      case Red::L2:
        d = std::sqrt(d);
        break;
      case Red::LogSum:
        d = std::log(d);
        break;
      case Red::LogSumExp:
        d = std::log(d) + shift[static_cast<size_t>(i)];
        break;
      default:
        if constexpr (!std::is_floating_point_v<T>) {
          y[i] = static_cast<T>(v);  // exact integer result
          continue;
        }
    }
    if constexpr (std::is_floating_point_v<T>) {
      y[i] = static_cast<T>(d);
    } else {  // log(0) = −inf, NaN and out-of-range results have no integer value: saturate, NaN → 0
      if (!(d == d))
        y[i] = T(0);
      else if (d <= static_cast<double>(std::numeric_limits<T>::lowest()))
        y[i] = std::numeric_limits<T>::lowest();
      else if (d >= static_cast<double>(std::numeric_limits<T>::max()))
        y[i] = std::numeric_limits<T>::max();
      else
        y[i] = static_cast<T>(d);
    }
  }
}

template <Red kind>
void plan_reduce(PlanCtx& c) {
  c.require_inputs(1, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt32, DType::UInt64,
                      DType::Int8, DType::UInt8});
  const ValueDesc& X = c.input(0);
  const int64_t r = static_cast<int64_t>(X.shape.size());
  const bool axes_as_input = c.version >= 18 || (kind == Red::Sum && c.version >= 13);
  std::vector<int64_t> axes;
  if (axes_as_input) {
    if (c.node.has_attr("axes")) c.fail("takes axes as an input at this opset, not as an attribute");
    if (c.has_input(1)) {
      const Tensor& a = c.constant_input(1);
      if (a.dtype() != DType::Int64) c.fail("axes must be int64");
      axes.assign(a.data<int64_t>(), a.data<int64_t>() + a.numel());
    }
  } else {
    if (c.num_inputs() > 1) c.fail("takes axes as an attribute at this opset");
    axes = c.node.attr_ints("axes");
  }
  const bool keepdims = c.node.attr_int("keepdims", 1) != 0;
  const bool noop_empty = c.node.attr_int("noop_with_empty_axes", 0) != 0;
  std::vector<char> reduced(static_cast<size_t>(r), axes.empty() && !noop_empty ? 1 : 0);
  for (int64_t a : axes) {
    if (a < -r || a >= r) c.fail("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r));
    reduced[static_cast<size_t>(a < 0 ? a + r : a)] = 1;
  }
  Shape out_keep, out;
  for (int64_t d = 0; d < r; ++d) {
    const int64_t dim = X.shape[static_cast<size_t>(d)];
    out_keep.push_back(reduced[static_cast<size_t>(d)] ? 1 : dim);
    if (!reduced[static_cast<size_t>(d)])
      out.push_back(dim);
    else if (keepdims)
      out.push_back(1);
  }
  c.set_output(0, X.dtype, out);
  const DType t = X.dtype;
  c.kernel = [=](KernelIO& io) {
    Tensor y = io.out[0]->reshaped(out_keep);
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, half_t>) reduce<T>(*io.in[0], y, reduced, kind);
    });
  };
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  r.add("", "ReduceMean", {1, 11, 13, 18}, plan_reduce<Red::Mean>);
  r.add("", "ReduceSum", {1, 11, 13}, plan_reduce<Red::Sum>);
  r.add("", "ReduceProd", {1, 11, 13, 18}, plan_reduce<Red::Prod>);
  r.add("", "ReduceMax", {1, 11, 12, 13, 18, 20}, plan_reduce<Red::Max>);
  r.add("", "ReduceMin", {1, 11, 12, 13, 18, 20}, plan_reduce<Red::Min>);
  r.add("", "ReduceL1", {1, 11, 13, 18}, plan_reduce<Red::L1>);
  r.add("", "ReduceL2", {1, 11, 13, 18}, plan_reduce<Red::L2>);
  r.add("", "ReduceSumSquare", {1, 11, 13, 18}, plan_reduce<Red::SumSquare>);
  r.add("", "ReduceLogSum", {1, 11, 13, 18}, plan_reduce<Red::LogSum>);
  r.add("", "ReduceLogSumExp", {1, 11, 13, 18}, plan_reduce<Red::LogSumExp>);
}

}  // namespace normrt
