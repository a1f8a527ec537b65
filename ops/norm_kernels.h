// Vectorised row kernels shared by the normalization ops, one table per ISA.
// Each ISA's table is built from norm_kernels_impl.hpp in its own translation
// unit (compiled with that ISA's flags); norm_kernels() picks the best table
// the CPU runs, or the one NORMRT_ISA=sse2|avx2|avx512 names.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace normrt {

// Statistics of one row. The mean is shift + delta: `shift` is the row's first
// element, so x - shift is exact for values near it and delta is small and
// accurately represented even when |mean| >> std (rows like 1e4 + N(0,1)).
struct RowMoments {
  float shift = 0;
  float delta = 0;
  float var = 0;  // population variance, centred
  double mean() const { return static_cast<double>(shift) + static_cast<double>(delta); }
};

struct NormKernels {
  const char* isa;
  // Two passes over x: delta = mean(x - shift); then var from d = x - shift - delta
  // with the compensated form var = (Σd² - (Σd)²/n)/n, and delta += Σd/n.
  RowMoments (*moments)(const float* x, size_t n);
  // One pass: y = ((x - shift) - delta) * inv * scale[i] + bias[i] (bias may be null).
  void (*normalize)(const float* x, float* y, size_t n, RowMoments m, float inv, const float* scale, const float* bias);
  // One pass: y = ((x - shift) - delta) * a + b.
  void (*normalize_affine)(const float* x, float* y, size_t n, RowMoments m, float a, float b);
  // One pass: y = x * a + b.
  void (*scale_shift)(const float* x, float* y, size_t n, float a, float b);
};

const NormKernels& norm_kernels();                             // the active table
std::vector<const NormKernels*> available_norm_kernels();      // every table this CPU runs, best first
const NormKernels* find_norm_kernels(const std::string& isa);  // nullptr if unknown or not runnable here

// Per-ISA tables (defined in norm_kernels_<isa>.cpp).
const NormKernels* norm_kernels_sse2();
const NormKernels* norm_kernels_avx2();
const NormKernels* norm_kernels_avx512();

}  // namespace normrt
