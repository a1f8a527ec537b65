#include "vector_math.h"

#include "isa.h"

namespace normrt {

const VectorMath& vector_math(const std::string& isa) {
  return for_isa(isa, vector_math_sse2, vector_math_avx2, vector_math_avx512);
}

}  // namespace normrt
