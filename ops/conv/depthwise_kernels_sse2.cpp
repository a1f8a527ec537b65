// sse2 instantiation of the depthwise kernels (compiled with this ISA's flags only).
#include "depthwise_kernels_impl.hpp"

namespace normrt {
const DepthwiseKernels* depthwise_kernels_sse2() {
  static const DepthwiseKernels k = DepthwiseImpl<xsimd::sse2>::table("sse2");
  return &k;
}
}  // namespace normrt
