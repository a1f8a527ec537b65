// sse2 instantiation of the direct convolution kernel (compiled with this ISA's flags only):
// 2 output channels × up to 6 vectors of a row in registers.
#include "direct_kernels_impl.hpp"

namespace normrt {
const DirectConvKernels* direct_kernels_sse2() {
  static const DirectConvKernels k = DirectImpl<xsimd::sse2, 2, 6>::table("sse2");
  return &k;
}
}  // namespace normrt
