// avx2 instantiation of the Winograd transforms (compiled with this ISA's flags only).
#include "winograd_kernels_impl.hpp"

namespace normrt {
const WinogradKernels* winograd_kernels_avx2() {
  static const WinogradKernels k =
      WinogradImpl<xsimd::batch<float, xsimd::fma3<xsimd::avx2>>, xsimd::batch<float, xsimd::sse2>>::table("avx2");
  return &k;
}
}  // namespace normrt
