// Float MaxPool / AveragePool over 1-D and 2-D windows without dilation,
// separably: a window's maximum (sum) is the maximum (sum) over its columns of
// the maximum (sum) down each column. Any kernel, stride, padding, ceil_mode;
// pool.cpp's window walk stays the reference (and takes dilation, 3-D windows,
// Indices and the other dtypes).
#pragma once
#include <cstdint>
#include <vector>

#include "spatial.h"

namespace normrt {

struct SeparablePool {
  Window w;
  bool is_max = true;
  // Same-size stride 1 (pads sum to k − 1 on both axes): the plane is pooled
  // flat, down then across, with only the border columns fixed up by row.
  bool flat = false;
  int64_t flat_planes = 1;  // planes pooled together by the flat path
  // Average: 1/count per output row (axis 1) and per output column (axis 2);
  // count = taps inside X, or inside the padded extent with count_include_pad.
  std::vector<float> inv_rows, inv_cols;
  int64_t buffer_floats = 0;  // scratch per thread
};

// Whether the float fast path takes this window (2-D or 1-D, undilated).
bool separable_pool_applies(const Window& w);
SeparablePool make_separable_pool(const Window& w, bool is_max, bool include_pad);
// Planes [first, last) of x (w.in_size() floats each) into y (w.out_size() each);
// buffer: p.buffer_floats floats of the caller's scratch.
void separable_pool_planes(const SeparablePool& p, const float* x, float* y, int64_t first, int64_t last,
                           float* buffer);

}  // namespace normrt
