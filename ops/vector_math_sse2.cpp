// sse2 instantiation of the vector math (compiled with this ISA's flags only).
#include "vector_math_impl.hpp"

namespace normrt {
const VectorMath* vector_math_sse2() {
  static const VectorMath k = VectorMathImpl<xsimd::sse2>::table("sse2");
  return &k;
}
}  // namespace normrt
