#include "vector_math.h"

#include <xsimd/config/xsimd_arch.hpp>

namespace normrt {

const VectorMath& vector_math(const std::string& isa) {
  const auto a = xsimd::available_architectures();
  if (isa == "avx512" && a.avx512bw && a.fma3_avx2) return *vector_math_avx512();
  if ((isa == "avx2" || isa == "avx512") && a.fma3_avx2) return *vector_math_avx2();
  if (isa == "sse2") return *vector_math_sse2();
  if (a.avx512bw && a.fma3_avx2) return *vector_math_avx512();
  if (a.fma3_avx2) return *vector_math_avx2();
  return *vector_math_sse2();
}

}  // namespace normrt
