// avx512f instantiation of the normalization row kernels (compiled with -mavx512f -mavx512cd -mavx512dq -mavx512bw: the
// Skylake-X baseline; xsimd 8.1 needs avx512dq for its horizontal sum).
#include "norm_kernels_impl.hpp"

namespace normrt {
const NormKernels* norm_kernels_avx512() {
  static const NormKernels k = NormImpl<xsimd::avx512bw>::table("avx512");
  return &k;
}
}  // namespace normrt
