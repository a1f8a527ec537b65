// Reductions: ReduceMean, ReduceSum (axes as attribute, or as input from
// ReduceMean-18 / ReduceSum-13; keepdims; noop_with_empty_axes).
// One pass over the input accumulating into the output in fp64 (int64 for
// integers), then one pass over the output.
#include <algorithm>
#include <vector>

#include "op.h"

namespace normrt {

namespace {

enum class Red { Mean, Sum };

template <class T, class Acc>
void reduce(const Tensor& X, Tensor& Y, const std::vector<char>& reduced, Red kind) {
  const Shape& in = X.shape();
  const size_t r = in.size();
  // Strides of each input dim in the (keepdims) output; 0 on reduced dims.
  std::vector<int64_t> ost(r, 0);
  int64_t s = 1;
  for (size_t d = r; d-- > 0;) {
    if (!reduced[d]) {
      ost[d] = s;
      s *= in[d];
    }
  }
  const int64_t out_n = Y.numel();
  std::vector<Acc> acc(static_cast<size_t>(out_n), Acc(0));
  const T* x = X.data<T>();
  const int64_t n = X.numel();
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (int64_t k = 0; k < n; ++k) {
    acc[static_cast<size_t>(off)] += static_cast<Acc>(x[k]);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < in[d]) {
        off += ost[d];
        break;
      }
      off -= ost[d] * (in[d] - 1);
      idx[d] = 0;
    }
  }
  const int64_t count = out_n ? n / out_n : 0;
  T* y = Y.data<T>();
  for (int64_t i = 0; i < out_n; ++i) {
    Acc v = acc[static_cast<size_t>(i)];
    if (kind == Red::Mean) v = count ? v / static_cast<Acc>(count) : v;
    y[i] = static_cast<T>(v);
  }
}

template <Red kind>
void plan_reduce(PlanCtx& c) {
  c.require_inputs(1, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int32, DType::Int64});
  const ValueDesc& X = c.input(0);
  const int64_t r = static_cast<int64_t>(X.shape.size());
  const bool axes_as_input = (kind == Red::Mean && c.version >= 18) || (kind == Red::Sum && c.version >= 13);
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
    switch (t) {
      case DType::Float32:
        reduce<float, double>(*io.in[0], y, reduced, kind);
        break;
      case DType::Float64:
        reduce<double, double>(*io.in[0], y, reduced, kind);
        break;
      case DType::Int32:
        reduce<int32_t, int64_t>(*io.in[0], y, reduced, kind);
        break;
      default:
        reduce<int64_t, int64_t>(*io.in[0], y, reduced, kind);
        break;
    }
  };
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  r.add("", "ReduceMean", {1, 11, 13, 18}, plan_reduce<Red::Mean>);
  r.add("", "ReduceSum", {1, 11, 13}, plan_reduce<Red::Sum>);
}

}  // namespace normrt
