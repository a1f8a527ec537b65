#include "norm_common.h"

#include "broadcast.h"
#include "fp16.h"

namespace normrt {

RowLayout row_layout(const PlanCtx& c, const Shape& shape) {
  const int64_t r = static_cast<int64_t>(shape.size());
  int64_t axis = c.node.attr_int("axis", -1);
  if (r == 0 || axis < -r || axis >= r)
    c.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  RowLayout l;
  l.axis = axis;
  for (int64_t d = 0; d < r; ++d) (d < axis ? l.rows : l.n) *= shape[static_cast<size_t>(d)];
  return l;
}

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

void check_row_param_input(const PlanCtx& c, size_t i, const Shape& x_shape, DType x_dtype) {
  if (!c.has_input(i)) return;
  if (c.in[i].dtype != x_dtype) c.fail("input " + std::to_string(i) + " must have the dtype of X");
  if (!broadcasts_to(c.in[i].shape, x_shape))
    c.fail("input " + std::to_string(i) + " of shape " + shape_str(c.in[i].shape) + " does not broadcast to X " +
           shape_str(x_shape));
}

double epsilon_attr(const PlanCtx& c, float fallback) {
  const double eps = c.node.attr_float("epsilon", fallback);
  if (!(eps >= 0)) c.fail("epsilon must be >= 0");
  return eps;
}

StdMode std_mode_attr(const PlanCtx& c) {
  const std::string m = c.node.attr_string("std_mode", "biased_var_eps");
  if (m == "biased_var_eps") return StdMode::BiasedVarEps;
  if (m == "unbiased_std_eps") return StdMode::UnbiasedStdEps;
  c.fail("std_mode must be biased_var_eps or unbiased_std_eps, got '" + m + "'");
}

}  // namespace normrt
