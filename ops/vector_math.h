// Vectorised elementwise math for the activation and softmax hot paths,
// written once over xsimd (vector_math_impl.hpp) and built per ISA like the
// normalization kernels. Each function maps n floats x → y (y may be x).
#pragma once
#include <cstddef>
#include <string>

namespace normrt {

using MapFn = void (*)(const float* x, float* y, size_t n);

struct VectorMath {
  const char* isa;
  MapFn exp, erf, tanh, sigmoid, gelu, gelu_tanh, relu;
  // x·σ(x) (SiLU; 0 below x = −88) and x·max(0, min(1, x/6 + ½)) (HardSwish).
  MapFn silu, hard_swish;
  // One softmax row: y = exp(x − max) / Σ; log_softmax: y = x − max − log Σ.
  void (*softmax_row)(const float* x, float* y, size_t n);
  void (*log_softmax_row)(const float* x, float* y, size_t n);
  // In place: x = softmax(scale·x + add) (add: n values, or nullptr). The scale
  // and the add ride on the max pass: three passes over the row, as softmax_row.
  void (*softmax_scaled_row)(float* x, const float* add, float scale, size_t n);
};

// The per-ISA tables; a session reaches them through its KernelSet (kernel_set.h).
const VectorMath* vector_math_sse2();
const VectorMath* vector_math_avx2();
const VectorMath* vector_math_avx512();
// The scalar reference table (isa "reference"; vector_math_reference.cpp): each
// function in fp64 with the C library; the kernel tester compares every ISA's
// table with it.
const VectorMath* vector_math_reference();

}  // namespace normrt
