// The depthwise convolution kernels, one table per ISA (depthwise_kernels_impl.hpp
// built in one translation unit per ISA), handed to Conv through the session's
// KernelSet (ops/kernel_set.h). Their scalar reference is the table
// depthwise_kernels_reference() (depthwise_kernels_reference.cpp); Conv's
// plain loop is conv_reference.h.
#pragma once
#include <cstdint>

namespace normrt {

// Floats past a plane that dw_rows may read (a row's last outputs as one whole vector).
inline constexpr int64_t kDepthwiseReadSlack = 16;

struct DepthwiseKernels {
  const char* isa;
  int lanes;  // floats per vector (1: the reference)
  // One output position of a channels-last depthwise convolution:
  // y[c] = bias[c] + Σ_t w[t][c]·x[t][c] for c < C over the taps t < taps
  // that fall inside the input (bias may be nullptr).
  void (*dw_point)(int64_t C, int taps, const float* const* x, const float* const* w, const float* bias, float* y);
  // Output rows of a depthwise convolution on a channel plane: y[r·n + i] =
  // clamp(bias + Σ_t w[t]·x[r·x_row + offs[t] + i], lo, hi) for r < rows, i < n (NaN stays NaN).
  // It may read up to kDepthwiseReadSlack floats past the last x it uses (their sums are dropped).
  void (*dw_rows)(int64_t rows, int64_t n, int64_t x_row, int taps, const float* x, const int64_t* offs, const float* w,
                  float bias, float lo, float hi, float* y);
  // A depthwise 3×3 convolution, stride 2, padded by 1 before each axis, on one
  // in1×in2 channel plane read in place: y (out1×out2) = clamp(bias + Σ taps);
  // nullptr where the ISA has none (the padded stride-phase copy serves then).
  void (*dw3x3s2)(const float* x, int64_t in1, int64_t in2, int64_t out1, int64_t out2, const float* w, float bias,
                  float lo, float hi, float* y);
  // A depthwise 3×3 convolution, stride 1, padded by 1 on each side, on one
  // in1×in2 channel plane read in place: y (in1×in2) = clamp(bias + Σ taps),
  // x zero outside; it reads nothing outside the plane. nullptr where the ISA
  // has none (sse2: depthwise-flat serves).
  void (*dw3x3s1)(const float* x, int64_t in1, int64_t in2, const float* w, float bias, float lo, float hi, float* y);
  // A stride-1 depthwise convolution whose output rows are as wide as the
  // input rows (n columns; pl + pr = (kw − 1)·d2), the plane taken as one
  // flat run of count outputs: y[q] = clamp(bias + Σ_{k1 < kh, k2 < kw}
  // w[k1·kw + k2]·x[q + k1·tap_row + k2·d2 − pl], lo, hi) for q < count, where
  // a tap whose column q mod n + k2·d2 − pl falls outside [0, n) adds nothing
  // (its lane is dropped, so whatever it read, NaN included, is ignored). It
  // reads from x − pl up to kDepthwiseReadSlack floats past the last x a sum uses.
  void (*dw_flat)(int64_t count, int64_t n, int kh, int kw, int64_t tap_row, int64_t d2, int64_t pl, const float* x,
                  const float* w, float bias, float lo, float hi, float* y);
};

const DepthwiseKernels* depthwise_kernels_sse2();
const DepthwiseKernels* depthwise_kernels_avx2();
const DepthwiseKernels* depthwise_kernels_avx512();
// The scalar reference table (isa "reference"): fp64 sums, dw3x3s2 included.
const DepthwiseKernels* depthwise_kernels_reference();

}  // namespace normrt
