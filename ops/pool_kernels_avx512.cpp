// avx512 instantiation of the separable pooling kernels (compiled with this ISA's flags only).
#include "pool_kernels_impl.hpp"

namespace normrt {
const PoolKernels* pool_kernels_avx512() {
  static const PoolKernels k = pool_table<xsimd::avx512bw>("avx512");
  return &k;
}
}  // namespace normrt
