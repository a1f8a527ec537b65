// Picks the normalization kernel table at run time. Dispatches on avx512f,
// avx2+fma and sse2 only: xsimd 8.1 mis-detects plain AVX on some AMD CPUs.
#include "norm_kernels.h"

#include <cstdlib>
#include <xsimd/config/xsimd_arch.hpp>

#include "normrt/error.h"

namespace normrt {

std::vector<const NormKernels*> available_norm_kernels() {
  auto a = xsimd::available_architectures();
  std::vector<const NormKernels*> v;
  if (a.avx512bw && a.fma3_avx2) v.push_back(norm_kernels_avx512());
  if (a.fma3_avx2) v.push_back(norm_kernels_avx2());
  v.push_back(norm_kernels_sse2());  // x86-64 baseline
  return v;
}

const NormKernels* find_norm_kernels(const std::string& isa) {
  for (const NormKernels* k : available_norm_kernels())
    if (isa == k->isa) return k;
  return nullptr;
}

const NormKernels& norm_kernels() {
  static const NormKernels* chosen = [] {
    const char* env = std::getenv("NORMRT_ISA");
    if (env && *env) {
      const NormKernels* k = find_norm_kernels(env);
      if (!k)
        throw Error(ErrorCode::InvalidArgument,
                    std::string("NORMRT_ISA=") + env + " is not a path this CPU runs (choose sse2, avx2 or avx512)");
      return k;
    }
    return available_norm_kernels().front();
  }();
  return *chosen;
}

}  // namespace normrt
