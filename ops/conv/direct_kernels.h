// The direct convolution kernels for few input channels (Conv's direct-rows
// path: the 3-channel stems of image networks), one table per ISA
// (direct_kernels_impl.hpp built in one translation unit per ISA), handed to
// Conv through the session's KernelSet (ops/kernel_set.h). Their scalar
// reference is direct_kernels_reference(); Conv's plain loop is conv_reference.h.
#pragma once
#include <cstdint>

namespace normrt {

// Floats past the last input a row of outputs uses that `rows` may read (its
// last outputs are a whole vector; those sums are dropped).
inline constexpr int64_t kDirectReadSlack = 16;

struct DirectConvKernels {
  const char* isa;
  int lanes;    // floats per vector (1: the reference)
  int co_tile;  // output channels per call: w holds taps × co_tile weights, bias co_tile values
  // Rows of outputs for the output channels j < co (co ≤ co_tile) of a direct convolution:
  //   y[j·y_plane + r·n + i] = clamp(bias[j] + Σ_{t < taps} w[t·co_tile + j] · x[r·x_row + offs[t] + i]
  //                                  (+ z[j·y_plane + r·n + i]), lo, hi)
  // for r < rows, i < n (z may be nullptr; NaN stays NaN). It reads up to
  // kDirectReadSlack floats past the last x a sum uses.
  void (*rows)(int64_t rows, int64_t n, const float* x, int64_t x_row, int taps, const int64_t* offs, const float* w,
               const float* bias, int co, float lo, float hi, const float* z, float* y, int64_t y_plane);
  // An input row of n floats, padded by pb zeros before it (and zeros after), into its s stride
  // phases of len floats each: dst[p·len + j] = src[j·s + p − pb], 0 where that is outside [0, n).
  void (*split_row)(const float* src, int64_t n, int64_t pb, int64_t s, int64_t len, float* dst);
};

const DirectConvKernels* direct_kernels_sse2();
const DirectConvKernels* direct_kernels_avx2();
const DirectConvKernels* direct_kernels_avx512();
// The scalar reference table (isa "reference"): fp64 sums, co_tile 4.
const DirectConvKernels* direct_kernels_reference();

}  // namespace normrt
