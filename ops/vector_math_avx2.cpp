// avx2 instantiation of the vector math (compiled with this ISA's flags only).
#include "vector_math_impl.hpp"

namespace normrt {
const VectorMath* vector_math_avx2() {
  static const VectorMath k = VectorMathImpl<xsimd::fma3<xsimd::avx2>>::table("avx2");
  return &k;
}
}  // namespace normrt
