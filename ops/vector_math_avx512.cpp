// avx512 instantiation of the vector math (compiled with this ISA's flags only).
#include "vector_math_impl.hpp"

namespace normrt {
const VectorMath* vector_math_avx512() {
  static const VectorMath k = VectorMathImpl<xsimd::avx512bw>::table("avx512");
  return &k;
}
}  // namespace normrt
