// sse2 instantiation of the Winograd transforms (compiled with this ISA's flags only).
#include "winograd_kernels_impl.hpp"

namespace normrt {
const WinogradKernels* winograd_kernels_sse2() {
  static const WinogradKernels k = WinogradImpl<xsimd::batch<float, xsimd::sse2>>::table("sse2");
  return &k;
}
}  // namespace normrt
