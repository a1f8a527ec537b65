// Planning helpers shared by the normalization ops that work on rows of the
// trailing dims [axis, rank): the row layout and the Scale/B layout.
#pragma once
#include "norm_kernels.h"
#include "op.h"

namespace normrt {

struct RowLayout {
  int64_t axis = 0;  // normalized, in [0, rank)
  int64_t rows = 1;  // product of dims before axis
  int64_t n = 1;     // product of dims from axis on
};
// Reads the `axis` attribute (default -1) and checks it against the shape.
RowLayout row_layout(const PlanCtx& c, const Shape& shape);

// Scale or B as a kernel reads it (float32): n values per row, shared by all
// rows (stride 0) when the tensor does not vary over the leading dims, else
// expanded to the whole of X (stride n). float16 tensors are widened.
struct RowParam {
  Tensor values;
  int64_t stride = 0;
  const float* data() const { return values.defined() ? values.data<float>() : nullptr; }
};
RowParam row_param(const Tensor& t, const Shape& x_shape, int64_t axis);

// Checks input i broadcasts to X and has X's dtype (if present).
void check_row_param_input(const PlanCtx& c, size_t i, const Shape& x_shape, DType x_dtype);

// The `epsilon` attribute (must be >= 0).
double epsilon_attr(const PlanCtx& c, float fallback);

// The `std_mode` attribute of the ai.normrt ops.
StdMode std_mode_attr(const PlanCtx& c);

}  // namespace normrt
