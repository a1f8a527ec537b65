// avx512 instantiation of the Winograd transforms (compiled with this ISA's flags only).
#include "winograd_kernels_impl.hpp"

namespace normrt {
const WinogradKernels* winograd_kernels_avx512() {
  static const WinogradKernels k =
      WinogradImpl<xsimd::batch<float, xsimd::avx512bw>, xsimd::batch<float, xsimd::fma3<xsimd::avx2>>>::table(
          "avx512");
  return &k;
}
}  // namespace normrt
