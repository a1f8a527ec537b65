// avx512 instantiation of the GEMM register tile (compiled with this ISA's flags only):
// 8 rows × 2 vectors, 16 accumulators, as many as two 512-bit FMA pipes keep
// busy at their latency (6 rows, 12 accumulators, leave them waiting).
#include "gemm_kernels_impl.hpp"

namespace normrt {
namespace linalg {
const GemmKernels* gemm_kernels_avx512() {
  static const GemmKernels k = GemmImpl<xsimd::avx512bw, 8>::table("avx512");
  return &k;
}
const GemmKernels* gemm_kernels_avx512_4rows() {
  static const GemmKernels k = GemmImpl<xsimd::avx512bw, 4>::table("avx512");
  return &k;
}
}  // namespace linalg
}  // namespace normrt
