// avx2 instantiation of the GEMM register tile (compiled with this ISA's flags only).
#include "gemm_kernels_impl.hpp"

namespace normrt {
namespace linalg {
const GemmKernels* gemm_kernels_avx2() {
  static const GemmKernels k = GemmImpl<xsimd::fma3<xsimd::avx2>>::table("avx2");
  return &k;
}
const GemmKernels* gemm_kernels_avx2_4rows() {
  static const GemmKernels k = GemmImpl<xsimd::fma3<xsimd::avx2>, 4>::table("avx2");
  return &k;
}
}  // namespace linalg
}  // namespace normrt
