// avx2+fma instantiation of the normalization row kernels (compiled with -mavx2 -mfma).
#include "norm_kernels_impl.hpp"

namespace normrt {
const NormKernels* norm_kernels_avx2() {
  static const NormKernels k = NormImpl<xsimd::fma3<xsimd::avx2>>::table("avx2");
  return &k;
}
}  // namespace normrt
