// Vectorised row kernels shared by the normalization ops, one table per ISA.
// Each ISA's table is built from norm_kernels_impl.hpp in its own translation
// unit (compiled with that ISA's flags).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace normrt {

// Statistics of one row. The mean is shift + delta: `shift` is near the row's
// values (the mean of its first elements), so x - shift loses nothing and
// delta is small and accurately represented even when |mean| >> std (rows
// like 1e4 + N(0,1)).
struct RowMoments {
  float shift = 0;
  float delta = 0;
  float var = 0;  // population variance, centred
  double mean() const { return static_cast<double>(shift) + static_cast<double>(delta); }
};

// How σ is formed from a row's population variance (Xu et al. 2019 compare both):
//   BiasedVarEps:   σ = sqrt(var + eps)              (LayerNormalization, PyTorch, oneDNN)
//   UnbiasedStdEps: σ = sqrt(var · n/(n-1)) + eps    (the AdaNorm authors' released code;
//                   n = 1 gives σ = eps, so y = 0, not NaN)
enum class StdMode : int { BiasedVarEps = 0, UnbiasedStdEps = 1 };

struct NormKernels {
  const char* isa;
  // Mean and centred variance. One pass of shifted sums S = Σd, Q = Σd²
  // (d = x - shift; fp32 vector blocks added in fp64), var = Q/n - (S/n)².
  // Its relative error is the sums' error times 1 + delta²/var; when that
  // factor exceeds 4 (shift far from the mean) a second, centred pass
  // recomputes var = (Σe² - (Σe)²/n)/n with e = d - delta. So: 1 pass, rarely 2.
  RowMoments (*moments)(const float* x, size_t n);
  // One pass: y = ((x - shift) - delta) * inv * scale[i] + bias[i]; scale and
  // bias may be null (1 and 0).
  void (*normalize)(const float* x, float* y, size_t n, RowMoments m, float inv, const float* scale, const float* bias);
  // LayerNorm over `rows` rows of n: y = (x - mean) * inv * scale + bias with
  // inv = 1/σ (σ per StdMode); scale/bias advance by their stride per row and
  // may be null; mean/inv_std (optional) receive each row's statistics.
  // Software-pipelined: the shifted sums of row r+1 accumulate in the same
  // loop that writes row r, so computing statistics overlaps the stores.
  // Memory traffic: x read once from memory (the re-read hits L1), y written once.
  void (*layer_norm_rows)(const float* x, float* y, size_t rows, size_t n, const float* scale, size_t scale_stride,
                          const float* bias, size_t bias_stride, float eps, StdMode mode, float* mean, float* inv_std);
  // One pass: y = ((x - shift) - delta) * a + b.
  void (*normalize_affine)(const float* x, float* y, size_t n, RowMoments m, float a, float b);
  // One pass: y = x * a + b.
  void (*scale_shift)(const float* x, float* y, size_t n, float a, float b);
  // One pass: Σ x² (fp32 vector blocks added in fp64).
  double (*sum_squares)(const float* x, size_t n);
  // One pass: y = x * a * scale[i] (scale may be null).
  void (*scale_mul)(const float* x, float* y, size_t n, float a, const float* scale);
  // One pass: y = a + b (+ c[i] when c is not null).
  void (*add3)(const float* a, const float* b, const float* c, float* y, size_t n);
  // One pass: y[p*plane + i] = x[p*plane + i] * a[c] + b[c] for planes p in
  // [0, planes), c = (first_channel + p) % channels — BatchNorm inference
  // over N×C planes, the plane loop kept inside the ISA code for small planes.
  void (*scale_shift_planes)(const float* x, float* y, size_t planes, size_t plane, const float* a, const float* b,
                             size_t first_channel, size_t channels);
  // One pass: y = x (the memory-bandwidth yardstick of the benchmarks).
  void (*copy)(const float* x, float* y, size_t n);
  // One pass (AdaNorm, Xu et al. 2019): t = ((x - shift) - delta) * inv,
  // y = C * (1 - k t) * t.
  void (*adanorm)(const float* x, float* y, size_t n, RowMoments m, float inv, float k, float C);
};

// Per-ISA tables (defined in norm_kernels_<isa>.cpp); a session reaches them
// through its KernelSet (kernel_set.h).
const NormKernels* norm_kernels_sse2();
const NormKernels* norm_kernels_avx2();
const NormKernels* norm_kernels_avx512();
// The scalar reference table (isa "reference"; norm_kernels_reference.cpp):
// plain loops in fp64, RowMoments with the exact mean (shift = the mean
// rounded to float); the kernel tester compares every ISA's table with it.
const NormKernels* norm_kernels_reference();

}  // namespace normrt
