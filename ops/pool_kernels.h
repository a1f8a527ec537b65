// The separable pooling kernels (pool_separable.h), one table per ISA
// (pool_kernels_impl.hpp built in one translation unit per ISA), handed to
// MaxPool and AveragePool through the session's KernelSet (ops/kernel_set.h).
// Their reference is pool.cpp's window walk (fp64 sums); the tests run every
// table against it.
#pragma once
#include <cstdint>

namespace normrt {

// Floats past the last one used that across, across2 and flat may read from
// their scratch buffers (m, even, odd): a whole vector at a row's end.
inline constexpr int64_t kPoolReadSlack = 16;

// The steps of one reduction, op = max (v > acc ? v : acc: NaN in X never
// wins, as in the window walk; the identity is lowest()) or + (the identity 0).
struct PoolSteps {
  // Down: dst[i] = op over t < n of src[t][i], i < len (n = 0: the identity).
  // Reads only src[t][0 … len).
  void (*down)(const float* const* src, int64_t n, float* dst, int64_t len);
  // Down with the columns split: even[i] = op over t of src[t][2i] for 2i < len,
  // odd[i] = op over t of src[t][2i + 1] for 2i + 1 < len.
  void (*down2)(const float* const* src, int64_t n, float* even, float* odd, int64_t len);
  // Across at stride 1: y[j] = op over t < k of m[j + t], j < n, then (inv
  // not null) y[j] ·= row_inv · inv[j]. Reads up to kPoolReadSlack floats past m[n + k − 2].
  void (*across)(const float* m, int64_t k, float* y, int64_t n, const float* inv, float row_inv);
  // Across at stride 2 from down2's split columns, m[2i] = even[i] and
  // m[2i + 1] = odd[i]: y[j] = op over t < k of m[2j + t], scaled as across.
  // Reads up to kPoolReadSlack floats past the last even and odd used.
  void (*across2)(const float* even, const float* odd, int64_t k, float* y, int64_t n, const float* inv, float row_inv);
  // Masked flat run over periods of P floats (a row: S = 1; a plane of rows
  // of S floats: S = row width): y[q] = op over the taps t < k whose position
  // u = (p0 + q) mod P + (t − pad)·S lies in [0, P) of src[q + (t − pad)·S],
  // q < n, then (inv not null) y[q] ·= inv[q]. It reads src[q + (t − pad)·S]
  // for every q < n and t < k (a masked tap's value, NaN included, is
  // dropped); y and src never overlap. p0 < P < 2^24.
  void (*flat)(const float* src, int64_t P, int64_t S, int64_t k, int64_t pad, int64_t p0, float* y, int64_t n,
               const float* inv);
};

struct PoolKernels {
  const char* isa;
  int lanes;  // floats per vector
  PoolSteps max, sum;
};

const PoolKernels* pool_kernels_sse2();
const PoolKernels* pool_kernels_avx2();
const PoolKernels* pool_kernels_avx512();

}  // namespace normrt
