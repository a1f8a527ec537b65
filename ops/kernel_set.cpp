// Builds one KernelSet per ISA path from the per-ISA tables (the paths: isa.h).
#include "kernel_set.h"

#include <cstdlib>

#include "isa.h"
#include "normrt/error.h"

namespace normrt {

namespace {
template <IsaLevel L>
const KernelSet* make_set() {
  static const KernelSet set = [] {
    if constexpr (L == IsaLevel::avx512)
      return KernelSet{"avx512",
                       norm_kernels_avx512(),
                       vector_math_avx512(),
                       linalg::gemm_kernels_avx512(),
                       linalg::gemm_kernels_avx512_4rows(),
                       depthwise_kernels_avx512(),
                       linalg::int8_gemm_kernels_avx512(),
                       winograd_kernels_avx512(),
                       direct_kernels_avx512(),
                       pool_kernels_avx512()};
    else if constexpr (L == IsaLevel::avx2)
      return KernelSet{"avx2",
                       norm_kernels_avx2(),
                       vector_math_avx2(),
                       linalg::gemm_kernels_avx2(),
                       linalg::gemm_kernels_avx2_4rows(),
                       depthwise_kernels_avx2(),
                       linalg::int8_gemm_kernels_avx2(),
                       winograd_kernels_avx2(),
                       direct_kernels_avx2(),
                       pool_kernels_avx2()};
    else
      return KernelSet{"sse2",
                       norm_kernels_sse2(),
                       vector_math_sse2(),
                       linalg::gemm_kernels_sse2(),
                       linalg::gemm_kernels_sse2_4rows(),
                       depthwise_kernels_sse2(),
                       linalg::int8_gemm_kernels_reference(4, 8),
                       winograd_kernels_sse2(),
                       direct_kernels_sse2(),
                       pool_kernels_sse2()};
  }();
  return &set;
}

[[noreturn]] void not_runnable(const std::string& what) {
  throw Error(ErrorCode::InvalidArgument, what + " is not a path this CPU runs (choose sse2, avx2 or avx512)");
}
}  // namespace

const linalg::GemmKernels& KernelSet::gemm_for(int64_t M) const {
  const auto padded = [M](int64_t r) { return (M + r - 1) / r * r; };
  // The 4-row tile's 8 accumulators leave two 512-bit FMA pipes idle part of
  // the time (16 do not), so against the 8-row tile it must pad a quarter less.
  const int64_t percent = gemm->mr > 6 ? 75 : 90;
  return M > 0 && padded(4) * 100 <= padded(gemm->mr) * percent ? *gemm_4rows : *gemm;
}

std::vector<const KernelSet*> available_kernel_sets() {
  std::vector<const KernelSet*> v;
  // Only the runnable paths' getters are called: the others' tables hold code for instructions this CPU may lack.
  for (const std::string& isa : runnable_isas())
    v.push_back(&for_isa(isa, make_set<IsaLevel::sse2>, make_set<IsaLevel::avx2>, make_set<IsaLevel::avx512>));
  return v;
}

const KernelSet* find_kernel_set(const std::string& isa) {
  for (const KernelSet* k : available_kernel_sets())
    if (isa == k->isa) return k;
  return nullptr;
}

const KernelSet& default_kernel_set() {
  static const KernelSet* chosen = [] {
    const char* env = std::getenv("NORMRT_ISA");
    if (env && *env) {
      const KernelSet* k = find_kernel_set(env);
      if (!k) not_runnable(std::string("NORMRT_ISA=") + env);
      return k;
    }
    return available_kernel_sets().front();
  }();
  return *chosen;
}

const KernelSet& kernel_set_for(const std::string& isa) {
  if (isa.empty()) return default_kernel_set();
  const KernelSet* k = find_kernel_set(isa);
  if (!k) not_runnable("ISA '" + isa + "'");
  return *k;
}

}  // namespace normrt
