// avx2 instantiation of the direct convolution kernel (compiled with this ISA's flags only):
// 2 output channels × up to 6 vectors of a row in registers.
#include "direct_kernels_impl.hpp"

namespace normrt {
const DirectConvKernels* direct_kernels_avx2() {
  static const DirectConvKernels k = DirectImpl<xsimd::avx2, 3, 4>::table("avx2");
  return &k;
}
}  // namespace normrt
