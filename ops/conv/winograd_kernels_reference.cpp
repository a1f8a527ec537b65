// The scalar Winograd transforms (winograd_kernels.h): the same formulas one
// tile at a time, compiled at the library's baseline flags.
#include "winograd_kernels_impl.hpp"

namespace normrt {
const WinogradKernels* winograd_kernels_reference() {
  static const WinogradKernels k = WinogradImpl<float>::table("reference");
  return &k;
}
}  // namespace normrt
