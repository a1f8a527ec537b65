// sse2 instantiation of the GEMM register tile (compiled with this ISA's flags only).
#include "gemm_kernels_impl.hpp"

namespace normrt {
namespace linalg {
const GemmKernels* gemm_kernels_sse2() {
  static const GemmKernels k = GemmImpl<xsimd::sse2>::table("sse2");
  return &k;
}
const GemmKernels* gemm_kernels_sse2_4rows() {
  static const GemmKernels k = GemmImpl<xsimd::sse2, 4>::table("sse2");
  return &k;
}
}  // namespace linalg
}  // namespace normrt
