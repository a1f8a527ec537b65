// avx2 instantiation of the separable pooling kernels (compiled with this ISA's flags only).
#include "pool_kernels_impl.hpp"

namespace normrt {
const PoolKernels* pool_kernels_avx2() {
  static const PoolKernels k = pool_table<xsimd::fma3<xsimd::avx2>>("avx2");
  return &k;
}
}  // namespace normrt
