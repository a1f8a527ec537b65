// avx2 instantiation of the depthwise kernels (compiled with this ISA's flags only).
#include "depthwise_kernels_impl.hpp"

namespace normrt {
const DepthwiseKernels* depthwise_kernels_avx2() {
  static const DepthwiseKernels k = DepthwiseImpl<xsimd::fma3<xsimd::avx2>>::table("avx2");
  return &k;
}
}  // namespace normrt
