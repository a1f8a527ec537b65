// sse2 instantiation of the normalization row kernels (compiled with -msse2).
#include "norm_kernels_impl.hpp"

namespace normrt {
const NormKernels* norm_kernels_sse2() {
  static const NormKernels k = NormImpl<xsimd::sse2>::table("sse2");
  return &k;
}
}  // namespace normrt
