// avx512 instantiation of the direct convolution kernel (compiled with this ISA's flags only):
// 4 output channels × up to 6 vectors of a row in registers.
#include "direct_kernels_impl.hpp"

namespace normrt {
const DirectConvKernels* direct_kernels_avx512() {
  static const DirectConvKernels k = DirectImpl<xsimd::avx512bw, 6, 4>::table("avx512");
  return &k;
}
}  // namespace normrt
