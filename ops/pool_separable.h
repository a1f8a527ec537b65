// Float MaxPool / AveragePool over 1-D and 2-D windows without dilation,
// separably: a window's maximum (sum) is the maximum (sum) over its columns of
// the maximum (sum) down each column. Any kernel, stride, padding, ceil_mode;
// pool.cpp's window walk stays the reference (and takes dilation, 3-D windows,
// Indices and the other dtypes). The steps run at the session ISA's vector
// width (pool_kernels.h); this file plans them and walks the planes.
#pragma once
#include <cstdint>
#include <vector>

#include "pool_kernels.h"
#include "spatial.h"

namespace normrt {

struct SeparablePool {
  Window w;
  bool is_max = true;
  // Same-size stride 1 (pads sum to k − 1 on both axes): planes are pooled in
  // flat blocks of whole planes (or of rows, for a plane larger than a block),
  // down and across as masked runs over all their rows at once.
  bool flat = false;
  int64_t flat_planes = 1;  // planes in a flat block (1: blocks of flat_rows rows)
  int64_t flat_rows = 1;    // rows in a flat block
  // Average: 1/count per output row (axis 1) and per output column (axis 2);
  // count = taps inside X, or inside the padded extent with count_include_pad.
  std::vector<float> inv_rows, inv_cols;
  // Average, flat: inv_rows[r]·inv_cols[c] at r·in2 + c, for flat_planes planes.
  std::vector<float> inv_flat;
  // By rows: floats per output row's buffer, rows made down before across.
  int64_t row_floats = 0, group = 1;
  int64_t buffer_floats = 0;  // scratch per thread
};

// Whether the float fast path takes this window (2-D or 1-D, undilated).
bool separable_pool_applies(const Window& w);
SeparablePool make_separable_pool(const Window& w, bool is_max, bool include_pad);
// Planes [first, last) of x (w.in_size() floats each) into y (w.out_size() each)
// with the steps of K; buffer: p.buffer_floats floats of the caller's scratch.
void separable_pool_planes(const SeparablePool& p, const PoolKernels& K, const float* x, float* y, int64_t first,
                           int64_t last, float* buffer);

}  // namespace normrt
