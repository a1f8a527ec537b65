// avx512 instantiation of the depthwise kernels (compiled with this ISA's flags only).
#include "depthwise_kernels_impl.hpp"

namespace normrt {
const DepthwiseKernels* depthwise_kernels_avx512() {
  static const DepthwiseKernels k = DepthwiseImpl<xsimd::avx512bw>::table("avx512");
  return &k;
}
}  // namespace normrt
