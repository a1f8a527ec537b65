// Picks the normalization kernel table at run time (the paths: isa.h).
#include "norm_kernels.h"

#include <cstdlib>

#include "isa.h"
#include "normrt/error.h"

namespace normrt {

std::vector<const NormKernels*> available_norm_kernels() {
  std::vector<const NormKernels*> v;
  for (const std::string& isa : runnable_isas())
    v.push_back(&for_isa(isa, norm_kernels_sse2, norm_kernels_avx2, norm_kernels_avx512));
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
