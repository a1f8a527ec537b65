// sse2 instantiation of the separable pooling kernels (compiled with this ISA's flags only).
#include "pool_kernels_impl.hpp"

namespace normrt {
const PoolKernels* pool_kernels_sse2() {
  static const PoolKernels k = pool_table<xsimd::sse2>("sse2");
  return &k;
}
}  // namespace normrt
